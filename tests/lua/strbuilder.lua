-- building strings: concatenation in loops, table.concat, string.rep
local s = ""
for i = 1, 200 do s = s .. (i % 10) end
print(#s, s:sub(1, 25))
local buf = {}
for i = 1, 500 do buf[#buf + 1] = string.format("%d,", i * i) end
local joined = table.concat(buf)
print(#joined, joined:sub(-20))
local lines = {}
for row = 1, 5 do
  local cells = {}
  for col = 1, 5 do cells[col] = string.format("%3d", row * col) end
  lines[row] = table.concat(cells, " |")
end
print(table.concat(lines, "\n"))
local pyramid = {}
for i = 1, 6 do pyramid[i] = (" "):rep(6 - i) .. ("*"):rep(2 * i - 1) end
print(table.concat(pyramid, "\n"))
local n = 0
for i = 1, 100 do n = n + #(tostring(i) .. "-" .. i * 1.5) end
print(n)
