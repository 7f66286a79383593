-- __index and __newindex: tables, functions, chains, rawget/rawset
local defaults = {color = "red", size = 10}
local obj = setmetatable({}, {__index = defaults})
print(obj.color, obj.size, obj.missing, rawget(obj, "color"))
obj.color = "blue"
print(obj.color, defaults.color)
local calls = {}
local lazy = setmetatable({}, {__index = function(t, k)
  calls[#calls + 1] = k
  local v = k .. "!"
  rawset(t, k, v)
  return v
end})
print(lazy.a, lazy.b, lazy.a, #calls)
local log = {}
local guarded = setmetatable({}, {__newindex = function(t, k, v)
  log[#log + 1] = tostring(k) .. "=" .. tostring(v)
  rawset(t, k, v * 2)
end})
guarded.x = 1
guarded.x = 5           -- exists now: no __newindex
guarded.y = 2
print(guarded.x, guarded.y, table.concat(log, ","))
local store = {}
local proxy = setmetatable({}, {__index = store, __newindex = store})
proxy.k = "v"
print(rawget(proxy, "k"), store.k, proxy.k)
-- a chain of three levels
local A = {a = 1}
local B = setmetatable({b = 2}, {__index = A})
local C = setmetatable({c = 3}, {__index = B})
local sum = 0
for _ = 1, 100 do sum = sum + C.a + C.b + C.c end
print(sum)
-- integer keys through __index
local arr = setmetatable({}, {__index = function(t, i) return i * i end})
print(arr[1], arr[12])
-- class-style inheritance
local Base = {}
Base.__index = Base
function Base.new(n) return setmetatable({n = n}, Base) end
function Base:get() return self.n end
function Base:name() return "base" end
local Derived = setmetatable({}, {__index = Base})
Derived.__index = Derived
function Derived.new(n) local o = Base.new(n) return setmetatable(o, Derived) end
function Derived:name() return "derived:" .. Base.name(self) end
local d = Derived.new(7)
print(d:get(), d:name(), getmetatable(d) == Derived)
-- __metatable protects the metatable
local prot = setmetatable({}, {__metatable = "locked"})
print(getmetatable(prot), pcall(setmetatable, prot, {}))
print(rawequal(obj, obj), rawequal(obj, {}), rawlen({1, 2, 3}), rawlen("abcd"))
