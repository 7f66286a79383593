-- scoping: shadowing, repeat-until sees body locals, blocks, globals
local x = 1
do local x = 2; print(x) end
print(x)
local i = 0
repeat
  local done = i >= 5
  i = i + 1
until done
print(i)
g_global = "global"
local function readg() return g_global end
print(readg(), _G.g_global, _ENV.g_global)
_G.g_other = 5
print(g_other)
local shadow = 10
local function f() local shadow = shadow + 1; return shadow end
print(f(), shadow)
for k = 1, 3 do local k = k * 10; io.write(k, " ") end
print()
local a, b, c = 1
print(a, b, c)
local d, e = 1, 2, 3
print(d, e)
local t = {}
t.x, t.y = 1, 2
local p, q = t.x, t.y
t.x, t.y = t.y, t.x
print(t.x, t.y, p, q)
local arr = {1, 2, 3}
local j = 1
j, arr[j] = j + 1, 20
print(j, arr[1], arr[2])
local sum = 0
for n = 1, 200 do local sq = n * n; if sq % 3 == 0 then sum = sum + sq end end
print(sum)
local _ENV = {print = print}
y_in_env = 5
print(y_in_env)
