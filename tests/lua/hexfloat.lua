-- hexadecimal integers and floats
print(0x10, 0XfF, 0x0, 0xffffffffffffffff, 0x8000000000000000)
print(0x1p4, 0x1P-1, 0x.1, 0xA.8p0, 0x1.8p1, 0x10p-2, 0x.0p5)
print(tonumber("0x1p-2"), tonumber("0x1.fp10"), tonumber("-0x10"), tonumber("0x"), tonumber("0xg"))
print(string.format("%a", 0.1), string.format("%a", 1e300), string.format("%.3a", 1/3))
print(math.type(0x10), math.type(0x1p4), 0x7fffffffffffffff + 1 == math.mininteger)
local s = 0
for i = 0, 255 do s = s + tonumber(string.format("0x%x", i)) end
print(s)
