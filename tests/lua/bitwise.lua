-- integer bitwise operators on 64 bits
print(0xFF & 0x0F, 0xF0 | 0x0F, 0xFF ~ 0x0F, ~0, ~5)
print(1 << 62, 1 << 63, 1 << 64, 1 << -1, -1 >> 1, -1 >> 63, -1 >> 64, 2 >> -1)
print(3.0 & 1, "bitwise on floats with integral values")
print(pcall(function() return 1.5 & 1 end))
print(math.mininteger >> 1, math.maxinteger << 1, -8 >> 1)
local h = 0
for i = 1, 300 do h = ((h << 5) ~ (h >> 3) ~ i) & 0xFFFFFFFF end
print(h)
local popcount = 0
for i = 0, 255 do
  local v, c = i, 0
  while v ~= 0 do c = c + (v & 1); v = v >> 1 end
  popcount = popcount + c
end
print(popcount)
print(0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x10000000000000000)
print(5 // 0.0, -5 // 0.0, 5 % -3, -5 % 3, 5.5 // 2)
