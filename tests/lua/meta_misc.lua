-- more metamethods: __call with extra arguments, __concat, __len, __unm, __newindex chains, string methods
function string.shout(s) return s:upper() .. "!" end
print(("hi"):shout(), getmetatable("").__index == string)
local C = setmetatable({}, {__call = function(self, a, b, ...) return a, b, select("#", ...) end})
print(C(1, 2, 3, 4))
local V = setmetatable({}, {__concat = function(a, b) return "cat" end})
print(V .. 1, 1 .. V, "s" .. V)
local L = setmetatable({}, {__len = function(t) return "len" end})
print(#L)
local U = setmetatable({}, {__unm = function(a) return "neg" end, __bnot = function() return "bnot" end})
print(-U, ~U)
local chain = setmetatable({}, {__newindex = setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v * 10) end})})
chain.x = 5
print(rawget(chain, "x"), getmetatable(chain).__newindex.x)
local E1 = setmetatable({}, {__eq = function() return true end})
print(E1 == setmetatable({}, {}), setmetatable({}, {}) == E1, E1 == "x")
local cmp = setmetatable({}, {__lt = function(a, b) return true end, __le = function() return false end})
print(cmp < 1, 1 < cmp, cmp <= 1, cmp > 1, cmp >= 1)
local named = setmetatable({}, {__name = "Point", __tostring = nil})
print((tostring(named):gsub("0x%x+", "ADDR")))
print(pcall(setmetatable, {}, {}), type(getmetatable(setmetatable({}, {__metatable = false}))))
local idx = setmetatable({}, {__index = "string value"})
print(type(select(2, pcall(function() return idx.len end))))
local mt = {__index = function(t, k) return k * 2 end}
local nums = setmetatable({}, mt)
local s = 0
for i = 1, 50 do s = s + nums[i] end
print(s)
local calls = 0
local counted = setmetatable({}, {__index = function(t, k) calls = calls + 1 return nil end})
for i = 1, 20 do local _ = counted[i] end
print(calls)
print(rawequal(string, getmetatable("").__index), #getmetatable("").__index.format("%5d", 1))
