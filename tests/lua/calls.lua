-- many calls: functions, methods, calls through tables and upvalues
local function add(a, b) return a + b end
local function apply(f, x, y) return f(x, y) end
local ops = {add = add, mul = function(a, b) return a * b end}
local acc = 0
for i = 1, 300 do
  acc = add(acc, i)
  acc = apply(ops.add, acc, 1)
  acc = acc - ops.mul(1, 1)
end
print(acc)
local obj = {v = 0}
function obj:bump(n) self.v = self.v + n; return self end
for i = 1, 200 do obj:bump(i):bump(-1) end
print(obj.v)
local function compose(f, g) return function(...) return f(g(...)) end end
local inc = function(x) return x + 1 end
local dbl = function(x) return x * 2 end
local h = compose(inc, dbl)
local s = 0
for i = 1, 100 do s = s + h(i) end
print(s)
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
local fs = 0
for i = 1, 20 do fs = fs + fact(i) end
print(fs)
print(select("#", apply(function() end)), apply(string.rep, "ab", 3))
