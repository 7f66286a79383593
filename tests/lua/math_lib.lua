-- the math library
print(math.floor(3.7), math.floor(-3.7), math.ceil(3.2), math.ceil(-3.2), math.floor(5))
print(math.type(math.floor(3.7)), math.floor(2^70), math.ceil(-0.5))
print(math.abs(-5), math.abs(5.5), math.abs(math.mininteger), math.abs(-0.0))
print(math.max(3, 9, 2), math.min(3, 9, 2), math.max(1.5, 2), math.min(-1, -1.5), math.max(3))
print(math.sqrt(16), math.sqrt(2), math.sqrt(-1) ~= math.sqrt(-1))
print(math.fmod(7, 3), math.fmod(-7, 3), math.fmod(7, -3), math.fmod(7.5, 2), math.fmod(-6, 4))
print(math.modf(3.7), math.modf(-3.7), math.modf(5), math.modf(math.huge))
print(math.tointeger(5.0), math.tointeger(5.5), math.tointeger("5"), math.tointeger({}))
print(math.ult(1, 2), math.ult(-1, 2), math.ult(2, -1))
print(math.exp(0), math.log(1), math.log(8, 2), math.log(100, 10), math.log(27, 3))
print(string.format("%.6f %.6f %.6f", math.sin(1), math.cos(1), math.tan(1)))
print(string.format("%.6f %.6f %.6f %.6f", math.asin(0.5), math.acos(0.5), math.atan(1), math.atan(1, -1)))
print(math.pi, math.huge, -math.huge, math.maxinteger, math.mininteger)
print(pcall(math.floor, "x"), pcall(math.fmod, 1, 0))
print(math.fmod(1, 0.0) ~= math.fmod(1, 0.0), math.max(0, -0.0))
local acc = 0
for i = 1, 300 do acc = acc + math.floor(math.sqrt(i)) + math.abs(i - 150) end
print(acc)
