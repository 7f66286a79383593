-- the arg table and the chunk's varargs
print(#arg, arg[1], arg[2], arg[3])
print(select("#", ...), ...)
local sum = 0
for i = 1, #arg do sum = sum + (tonumber(arg[i]) or 0) end
for i = 1, 100 do sum = sum + i end
print(sum)
print(type(arg[0]), arg[-1] ~= nil)
