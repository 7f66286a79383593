-- math.random with a fixed seed gives lua5.4's exact sequence
math.randomseed(42)
local r = {}
for i = 1, 10 do r[i] = math.random(1, 100) end
print(table.concat(r, " "))
print(math.random(), math.random(5), math.random(0))
math.randomseed(42)
print(math.random(1, 100) == r[1])
math.randomseed(7, 3)
local sum = 0
for _ = 1, 1000 do sum = sum + math.random(6) end
print(sum)
local f = 0
for _ = 1, 100 do f = f + math.random() end
print(string.format("%.10f", f))
print(math.random(math.mininteger, math.maxinteger))
print(pcall(math.random, 2, 1), pcall(math.random, 1, 2, 3))
