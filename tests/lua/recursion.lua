-- deep non-tail recursion works; too deep is a 'stack overflow' error
local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
print(depth(10000))
print(depth(150000))
local function inf(n) return 1 + inf(n + 1) end
local ok, err = pcall(inf, 1)
print(ok, err)
-- the stack is usable again afterwards
print(depth(1000))
-- recursion through pcall stops at the C stack limit
local function viapcall(n)
  local ok2, v = pcall(viapcall, n + 1)
  if ok2 then return v end
  return n
end
local reached = viapcall(1)
print(reached > 150 and reached < 220)
local function ack(m, n)
  if m == 0 then return n + 1 end
  if n == 0 then return ack(m - 1, 1) end
  return ack(m - 1, ack(m, n - 1))
end
print(ack(2, 3), ack(3, 3))
local levels = 0
for i = 1, 200 do levels = levels + depth(i % 5) end
print(levels)
