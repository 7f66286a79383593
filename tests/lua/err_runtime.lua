-- an uncaught runtime error: message on stderr, status 1, output before it kept
print("before")
local t = {}
for i = 1, 50 do t[i] = i end
local function f(x) return x.field.sub end
print(f(t))
print("never")
