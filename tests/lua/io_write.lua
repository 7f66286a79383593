-- io.write, io.stdout:write, chaining, numbers as io.write prints them
io.write("a", 1, " ", 2.5, " ", 3.0, " ", -0.0, "\n")
io.stdout:write("method ", 42, "\n"):write("chained\n")
local f = io.write("x")
print(f == io.stdout, io.type(io.stdout), io.type(42))
for i = 1, 100 do io.write(i % 10) end
io.write("\n")
print(pcall(io.write, {}))
io.write(1e100, " ", 2^63, " ", 1/0, "\n")
print(tostring(io.stdout):match("^file %(") ~= nil)
