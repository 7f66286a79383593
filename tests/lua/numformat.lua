-- how numbers print: %.14g, .0 for integral floats, inf, nan, -0.0
print(1, 1.0, -1.5, 100, 1e100, 1e15, 1e16, 123456789012, 1234567890123456789)
print(0.1, 1/3, 2^63, -2^63, 2^-1074, 1.7976931348623157e308)
print(1/0, -1/0, 0/0, -(0/0), -0.0, 0.0)
print(3.14159265358979, 100.0, 1e14, 1e-5, 123e-7, 5e-324)
print(0x10, 0xff, 0x1p4, 0x.8, 0xA.8p1, 1e2, .5, 3., 0x7fffffffffffffff)
print(9007199254740993, 2^53 + 1, 12345678901234567890)
print(tostring(10 / 2), 10 // 2, 2^2, 7 // 1.0)
print(string.format("%5.1f|%-6d|%06.2f|%x|%X|%o|%e|%g|%g", 3.14159, 42, 3.14159, 255, 255, 8, 12345.678, 0.0001, 1e20))
print(math.pi, -math.pi, math.huge, -math.huge)
local t = {}
for i = 1, 12 do t[#t + 1] = tostring(10.0 ^ i) end
print(table.concat(t, " "))
local u = {}
for i = 1, 12 do u[#u + 1] = tostring(1 / (2 ^ i)) end
print(table.concat(u, " "))
print(255 // 1, 255 / 1, -7 // 2.0, 8 | 0, "10" + 0, "0x10" + 0, "1e1" + 0, " 5 " * 2)
