-- integers and floats: conversions, division, modulo, overflow, comparisons
print(7 // 2, -7 // 2, 7 // -2, 7.0 // 2, -7.5 // 2, 1.0 // 0.1, 1 // 0.1)
print(7 % 3, -7 % 3, 7 % -3, -7 % -3, 7.5 % 2, -7.5 % 2, 5.3 % 1)
print(3 / 2, 4 / 2, 1 / 3, 2^10, 2^0.5, (-8)^(1/3))
print(math.maxinteger + 1 == math.mininteger, math.mininteger - 1 == math.maxinteger)
print(math.maxinteger * 2, math.mininteger * -1, -math.mininteger)
print(math.mininteger // -1, math.mininteger % -1)
print(1 == 1.0, math.type(1), math.type(1.0), math.type("1"), 2^53 == 2^53 + 1)
print(math.maxinteger + 0.0 == math.maxinteger, math.maxinteger < math.maxinteger + 0.0)
print(1 < 1.5, 2 > 1.5, -1 < -0.5, 3 <= 3.0, math.huge > math.maxinteger)
print(0.1 + 0.2, 0.1 + 0.2 == 0.3, 100 * 1.1, 1e15 + 0.3)
print(pcall(function() return 1 // 0 end))
print(pcall(function() return 1 % 0 end))
print(1 // 0.0, -1 // 0.0, 0/0 ~= 0/0, 1 % math.huge, -1 % math.huge)
print(3 | 0, math.tointeger(3.0), math.tointeger(3.5), math.tointeger("8"))
print(10 // 3 * 3 + 10 % 3, -10 // 3 * 3 + -10 % 3)
local s = 0
for i = 1, 500 do s = s + i / 7 - i // 7 end
print(s)
local m = 1
for i = 1, 70 do m = m * 3 end
print(m)
print(string.format("%.3f", 2/3), -0.0 == 0.0, 1/(-0.0))
local nan = 0/0
print(nan == nan, nan ~= nan, rawequal(nan, nan), rawequal(1, 1.0), 1 == true)
