-- a syntax error in the main chunk
local x = 1
for i = 1, 10 do
  x = x + i
print(x)
