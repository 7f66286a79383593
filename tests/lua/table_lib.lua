-- table.insert, remove, concat, unpack, pack, move
local t = {}
for i = 1, 10 do table.insert(t, i) end
table.insert(t, 1, 0)
table.insert(t, 5, "five")
print(#t, table.concat(t, ","))
print(table.remove(t), table.remove(t, 1), table.remove(t, 4), #t)
print(table.concat(t, ", ", 2, 4), table.concat({}), table.concat({1, 2.5, "x"}, "-"))
print(pcall(table.concat, {1, {}, 3}))
print(pcall(table.insert, {}, 5, 1))
print(pcall(table.insert, {}, 1, 2, 3))
local e = {}
print(table.remove(e), #e, table.remove(e, 0), table.remove({1}, 2))
local m = table.move({1, 2, 3, 4, 5}, 2, 4, 1)
print(table.concat(m, ","))
local m2 = table.move({1, 2, 3}, 1, 3, 3)
print(table.concat(m2, ","))
local dst = table.move({1, 2, 3}, 1, 3, 2, {9})
print(table.concat(dst, ","))
local q = {}
for i = 1, 100 do q[#q + 1] = i end
local s = 0
while #q > 0 do s = s + table.remove(q, 1) end
print(s)
local stack = {}
for i = 1, 50 do stack[#stack + 1] = i * i end
local top = 0
for _ = 1, 25 do top = top + table.remove(stack) end
print(top, #stack)
local floats = {}
for i = 1, 20 do floats[i] = i / 4 end
table.insert(floats, 3, "mixed")
print(#floats, floats[3], floats[4], floats[21])
print(select("#", table.unpack({}, 1, 3)), table.unpack({1, 2}, -1, 1))
