-- metamethods: arithmetic, comparison, concat, len, call, tostring, eq
local V = {}
V.__index = V
local function vec(x, y) return setmetatable({x = x, y = y}, V) end
V.__add = function(a, b) return vec(a.x + b.x, a.y + b.y) end
V.__sub = function(a, b) return vec(a.x - b.x, a.y - b.y) end
V.__mul = function(a, b)
  if type(a) == "number" then return vec(a * b.x, a * b.y) end
  if type(b) == "number" then return vec(a.x * b, a.y * b) end
  return a.x * b.x + a.y * b.y
end
V.__div = function(a, s) return vec(a.x / s, a.y / s) end
V.__mod = function(a, s) return vec(a.x % s, a.y % s) end
V.__idiv = function(a, s) return vec(a.x // s, a.y // s) end
V.__pow = function(a, n) return vec(a.x ^ n, a.y ^ n) end
V.__unm = function(a) return vec(-a.x, -a.y) end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
V.__lt = function(a, b) return a.x * a.x + a.y * a.y < b.x * b.x + b.y * b.y end
V.__le = function(a, b) return a.x * a.x + a.y * a.y <= b.x * b.x + b.y * b.y end
V.__len = function(a) return math.sqrt(a.x * a.x + a.y * a.y) end
V.__tostring = function(a) return "(" .. a.x .. ", " .. a.y .. ")" end
V.__concat = function(a, b) return tostring(a) .. tostring(b) end
V.__call = function(a, k) return a[k] end
V.__band = function(a, b) return vec(a.x & b.x, a.y & b.y) end
V.__shl = function(a, n) return vec(a.x << n, a.y << n) end
V.__bnot = function(a) return vec(~a.x, ~a.y) end
local a, b = vec(3, 4), vec(1, 2)
print(tostring(a + b), tostring(a - b), a * b, tostring(2 * a), tostring(a * 2))
print(tostring(a / 2), tostring(a % 2), tostring(a // 2), tostring(a ^ 2), tostring(-a))
print(a == vec(3, 4), a ~= b, a == b, b < a, a <= a, a > b, a >= b)
print(#a, a .. b, a .. "!", "v=" .. a, a("x"), a("y"))
print(tostring(a & vec(1, 7)), tostring(b << 2), tostring(~b))
local acc = vec(0, 0)
for i = 1, 100 do acc = acc + vec(i, -i) end
print(tostring(acc))
-- __eq is not called for the same object or different types
local calls = 0
local E = {__eq = function() calls = calls + 1; return true end}
local e1, e2 = setmetatable({}, E), setmetatable({}, E)
print(e1 == e2, e1 == e1, e1 == 1, calls)
-- __lt with mixed operands
local N = {__lt = function(x, y)
  local vx = type(x) == "table" and x.v or x
  local vy = type(y) == "table" and y.v or y
  return vx < vy end}
local n5 = setmetatable({v = 5}, N)
print(n5 < 6, 4 < n5, pcall(function() return n5 <= 6 end))
-- __index on strings is the string table
print(("x"):rep(3), #("abc"):upper())
-- __name in tostring
local named = setmetatable({}, {__name = "MyType"})
print((tostring(named):gsub("0x%x+", "ADDR")))
