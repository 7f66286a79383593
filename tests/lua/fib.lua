-- recursive and iterative Fibonacci, integer and float
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function fib_iter(n)
  local a, b = 0, 1
  for _ = 1, n do
    a, b = b, a + b
  end
  return a
end

for i = 0, 20, 4 do
  print(i, fib(i), fib_iter(i))
end
print(fib_iter(90))
print(fib_iter(100))   -- wraps around like 64-bit integers
local x, y = 0.0, 1.0
for _ = 1, 100 do x, y = y, x + y end
print(x)
