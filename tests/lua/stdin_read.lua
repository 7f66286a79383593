-- reading standard input: lines and numbers
local first = io.read()
print("first:", first)
local n1, n2 = io.read("n", "n")
print("numbers:", n1, n2, math.type(n1), math.type(n2))
local rest_of_line = io.read("l")
print("rest:", rest_of_line)
local count, total = 0, 0
for line in io.lines() do
  count = count + 1
  for num in line:gmatch("%d+") do total = total + tonumber(num) end
end
print(count, total)
print(io.read(), io.read("a"))
