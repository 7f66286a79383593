-- os.exit with a status ends the program at once
local s = 0
for i = 1, 100 do s = s + i end
print(s)
io.write("buffered output is flushed\n")
os.exit(3)
print("never")
