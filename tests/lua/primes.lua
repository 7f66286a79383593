-- prime factorisation and perfect numbers
local function factors(n)
  local out = {}
  local d = 2
  while d * d <= n do
    while n % d == 0 do out[#out + 1] = d; n = n // d end
    d = d + 1
  end
  if n > 1 then out[#out + 1] = n end
  return out
end
for _, n in ipairs({12, 97, 360, 1001, 65536, 999999, 600851475143}) do
  print(n, table.concat(factors(n), "*"))
end
local perfect = {}
for n = 2, 1000 do
  local s = 1
  local d = 2
  while d * d <= n do
    if n % d == 0 then s = s + d; if d * d ~= n then s = s + n // d end end
    d = d + 1
  end
  if s == n then perfect[#perfect + 1] = n end
end
print(table.concat(perfect, " "))
