-- Collatz sequences: integer arithmetic in tight loops
local best, bestn = 0, 0
for n = 1, 600 do
  local steps, x = 0, n
  while x ~= 1 do
    if x % 2 == 0 then x = x // 2 else x = 3 * x + 1 end
    steps = steps + 1
  end
  if steps > best then best, bestn = steps, n end
end
print(bestn, best)
local function gcd(a, b) while b ~= 0 do a, b = b, a % b end return a end
local g = 0
for i = 1, 300 do g = g + gcd(i * 7, 210) end
print(g)
local digits = 0
for i = 1, 1000 do
  local x = i * i
  while x > 0 do digits = digits + x % 10; x = x // 10 end
end
print(digits)
