-- varargs: select, table.pack/unpack, ... in calls, returns and constructors
local function count(...) return select("#", ...) end
print(count(), count(nil), count(1, nil, 3), count(nil, nil))
local function pass(...) return ... end
print(pass(1, 2, 3))
print((pass(1, 2, 3)))
local function second(...) local _, b = ... return b end
print(second("a", "b", "c"))
print(select(2, "a", "b", "c"), select(-1, "a", "b", "c"), select(-2, "a", "b", "c"))
local t = table.pack(1, nil, 3, nil)
print(t.n, t[1], t[2], t[3], t[4])
print(table.unpack({1, 2, 3}))
print(table.unpack({1, 2, 3}, 2))
print(table.unpack({1, 2, 3}, 2, 5))
local function sum(...)
  local s = 0
  for i = 1, select("#", ...) do s = s + (select(i, ...) or 0) end
  return s
end
local acc = 0
for i = 1, 200 do acc = acc + sum(i, i, nil, 1) end
print(acc)
local function tail(...) return select("#", ...), ... end
print(tail(pass()))
print(({pass(1, 2, 3)})[3], #{pass(1, 2, 3)}, #{pass(1, 2, 3), 10}, #{10, pass(1, 2, 3)})
local function varfirst(a, ...)
  local rest = {...}
  return a, #rest, rest[#rest]
end
print(varfirst(1), varfirst(1, 2, 3, 4))
print(pcall(select, 0, 1))
print(string.format("%d-%d-%d", pass(7, 8, 9)))
local packed = table.pack(pass())
print(packed.n)
