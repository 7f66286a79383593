-- numeric for, while, repeat, break, nested loops
local total = 0
for i = 1, 100 do total = total + i end
print("sum", total)
for i = 10, 1, -3 do io.write(i, " ") end
print()
for i = 1, 0 do print("never") end
for x = 0.5, 2.5, 0.5 do io.write(x, " ") end
print()
for i = 3, 1 do print("never") end
local n = 0
while n < 50 do
  n = n + 3
  if n % 7 == 0 then break end
end
print("while", n)
local k = 0
repeat
  k = k + 1
until k * k > 200
print("repeat", k)
local count = 0
for i = 1, 20 do
  for j = 1, 20 do
    if (i + j) % 3 == 0 then count = count + 1 end
  end
end
print("nested", count)
-- the loop variable is a copy: changing it does not change the iteration
local seen = {}
for i = 1, 5 do
  local j = i
  i = i * 10
  seen[#seen + 1] = j .. ":" .. i
end
print(table.concat(seen, " "))
-- limits are evaluated once
local limit = 5
local iters = 0
for i = 1, limit do limit = limit + 1; iters = iters + 1 end
print("iters", iters, limit)
for i = math.maxinteger - 2, math.maxinteger do io.write(i, " ") end
print()
for i = math.mininteger, math.mininteger + 2 do io.write(i, " ") end
print()
for i = 1, 3.7 do io.write(i, " ") end
print()
for i = 3, 1.2, -1 do io.write(i, " ") end
print()
local f = 0
for i = 1, 2, 0.25 do f = f + i end
print("float loop", f)
