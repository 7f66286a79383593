-- closures: counters, shared upvalues, closures in loops
local function counter()
  local n = 0
  return function() n = n + 1; return n end, function() return n end
end
local inc, get = counter()
for _ = 1, 100 do inc() end
print(get())
local inc2 = counter()
print(inc2(), inc2(), get())

-- each iteration gets a fresh local
local fns = {}
for i = 1, 5 do fns[i] = function() return i * 10 end end
local out = {}
for i = 1, 5 do out[i] = fns[i]() end
print(table.concat(out, " "))

local gens = {}
for _, name in ipairs({"a", "b", "c"}) do
  local count = 0
  gens[#gens + 1] = function() count = count + 1; return name .. count end
end
print(gens[1](), gens[1](), gens[2](), gens[3](), gens[3]())

-- while loop locals are fresh too
local ws = {}
local k = 0
while k < 3 do
  k = k + 1
  local v = k * k
  ws[k] = function() v = v + 1; return v end
end
print(ws[1](), ws[1](), ws[2](), ws[3]())

-- three levels of nesting
local function outer(a)
  return function(b)
    return function(c)
      a = a + 1
      return a + b + c
    end
  end
end
local f = outer(100)(20)
print(f(3), f(3))

-- a shared upvalue between sibling closures
local function make()
  local x = 0
  local function add(d) x = x + d end
  local function read() return x end
  return add, read
end
local add, read = make()
for i = 1, 50 do add(i) end
print(read())

-- recursive local function
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
print(fact(20))
-- memoize with a closure
local function memo(fn)
  local cache = {}
  return function(n)
    local v = cache[n]
    if v == nil then v = fn(n); cache[n] = v end
    return v
  end
end
local slow_calls = 0
local sq = memo(function(n) slow_calls = slow_calls + 1; return n * n end)
local s = 0
for i = 1, 200 do s = s + sq(i % 10) end
print(s, slow_calls)
