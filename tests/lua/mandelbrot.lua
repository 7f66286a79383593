-- ASCII Mandelbrot set
local w, h, iter = 60, 24, 50
local chars = " .:-=+*#%@"
for y = 0, h - 1 do
  local line = {}
  local ci = (y / h) * 2.4 - 1.2
  for x = 0, w - 1 do
    local cr = (x / w) * 3.2 - 2.2
    local zr, zi, n = 0.0, 0.0, 0
    while n < iter and zr * zr + zi * zi < 4.0 do
      zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
      n = n + 1
    end
    local idx = n == iter and #chars or (n % (#chars - 1)) + 1
    line[#line + 1] = chars:sub(idx, idx)
  end
  print(table.concat(line))
end
-- the AWFY-style bit-packed checksum
local function mandel(size)
  local sum, byte_acc, bit_num = 0, 0, 0
  for y = 0, size - 1 do
    local ci = (2.0 * y / size) - 1.0
    for x = 0, size - 1 do
      local zr, zrzr, zi, zizi = 0.0, 0.0, 0.0, 0.0
      local cr = (2.0 * x / size) - 1.5
      local z, escape = 0, 0
      while z < 50 do
        zi = 2.0 * zr * zi + ci
        zr = zrzr - zizi + cr
        zizi = zi * zi
        zrzr = zr * zr
        if zizi + zrzr > 4.0 then escape = 1; break end
        z = z + 1
      end
      byte_acc = (byte_acc << 1) | escape
      bit_num = bit_num + 1
      if bit_num == 8 then
        sum = sum ~ byte_acc
        byte_acc, bit_num = 0, 0
      elseif x == size - 1 then
        byte_acc = byte_acc << (8 - bit_num)
        sum = sum ~ byte_acc
        byte_acc, bit_num = 0, 0
      end
    end
  end
  return sum
end
print(mandel(40))
