-- sieve of Eratosthenes with a boolean table and with integer counts
local function sieve(n)
  local composite = {}
  for i = 1, n do composite[i] = false end
  local count = 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      for j = i * i, n, i do composite[j] = true end
    end
  end
  return count
end
print(sieve(100), sieve(1000), sieve(5000))
local primes = {}
local flags = {}
for i = 2, 200 do
  if not flags[i] then
    primes[#primes + 1] = i
    for j = i + i, 200, i do flags[j] = true end
  end
end
print(#primes, primes[1], primes[#primes], table.concat(primes, ",", 1, 10))
