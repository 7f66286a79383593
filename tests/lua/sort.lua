-- table.sort: default order, comparators, strings, many equal keys
local nums = {5, 2, 8, 1, 9, 3, 7, 4, 6, 0}
table.sort(nums)
print(table.concat(nums, " "))
table.sort(nums, function(a, b) return a > b end)
print(table.concat(nums, " "))
local words = {"pear", "apple", "fig", "banana", "cherry", "date"}
table.sort(words)
print(table.concat(words, " "))
table.sort(words, function(a, b) return #a < #b end)
print(table.concat(words, " "))
local recs = {}
for i = 1, 60 do recs[i] = {key = (i * 37) % 7, id = i} end
table.sort(recs, function(a, b) return a.key < b.key end)
local out = {}
for i = 1, 60 do out[i] = recs[i].key .. ":" .. recs[i].id end
print(table.concat(out, " "))
local big = {}
local x = 12345
for i = 1, 500 do x = (x * 1103515245 + 12345) % 2147483648; big[i] = x % 1000 end
table.sort(big)
local sorted = true
for i = 2, #big do if big[i - 1] > big[i] then sorted = false end end
print(sorted, big[1], big[250], big[500])
local mixed = {3.5, 1, 2.25, -1, 10}
table.sort(mixed)
print(table.concat(mixed, " "))
print(pcall(table.sort, {1, "x", 2}))
print(pcall(table.sort, {3, 1, 2}, function(a, b) return true end))
local one = {1}
table.sort(one)
print(one[1])
