-- assorted semantics: evaluation order, scoping, precedence, varargs
local function f() return {m = function(self, x) return x * 2 end} end
print(f():m(21), ("%d-%s"):format(5, "x"), #{(f())})
local t = {a = {b = {}}}
local function g() t.a.b.c = 5; return 7 end
t.a.b.c, t.x = g(), 3
print(t.a.b.c, t.x)
local i = 1
local arr = {}
i, arr[i] = i + 1, "first"
print(i, arr[1], arr[2])
local x, y = 1, 2
x, y = y, x
print(x, y)
local fns = {}
local k = 0
repeat
  local v = k
  fns[#fns + 1] = function() return v end
  k = k + 1
until v >= 3
print(#fns, fns[1](), fns[4]())
local function outer()
  local a = 1
  local function mid()
    local function inner() a = a + 1; return a end
    return inner
  end
  local h = mid()
  a = 10
  return h
end
local h = outer()
print(h(), h())
local function va(...) local t = {..., "end"} return #t, t[1] end
print(va(1, 2, 3))
local function va2(...) return {n = select("#", ...), ...} end
local r = va2(nil, nil)
print(r.n, #r)
print((("a"):rep(3)):upper(), #"x" + 1, -2 ^ 2, not nil == true, 2 ^ 3 ^ 2, 1 .. 2 .. 3)
print(1 < 2 == true, "a" .. "b" == "ab", 5 // 2 * 2 + 5 % 2, -3 % 5, 7 - -3)
local obj = {n = 0}
function obj.inc(self) self.n = self.n + 1 return self end
obj:inc():inc()
print(obj.n)
local s = 0
for _, v in ipairs({10, 20, 30}) do s = s + v end
for k2, v in pairs({x = 1}) do s = s + v end
print(s)
local mt = {__index = function(t, k) return k .. "!" end}
local p = setmetatable({}, mt)
print(p.hello, p[1], rawget(p, "hello"))
print(select(-1, 1, 2, 3), select(2, "a", "b"))
local a1, a2 = (function() return 1, 2 end)()
print(a1, a2)
print(type(nil), type(print), type({}), type(""), type(1), type(true))
local longstr = [==[
line1
]]
]==]
print(longstr)
local acc = 0
for n = 1, 100 do acc = acc + (n % 3 == 0 and n or -1) end
print(acc)
