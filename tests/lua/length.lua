-- the length operator on strings and sequences, __len
print(#"", #"abc", #"\0\0", #{}, #{1, 2, 3}, #{n = 1})
local t = {}
for i = 1, 100 do t[i] = i end
print(#t)
t[#t] = nil
print(#t)
t[#t + 1] = "x"
print(#t, t[#t])
local s = {}
for i = 1, 50 do s[#s + 1] = i * 2 end
while #s > 10 do s[#s] = nil end
print(#s, s[10])
local L = setmetatable({}, {__len = function() return 42 end})
print(#L)
local str_len = 0
for i = 1, 100 do str_len = str_len + #tostring(i) end
print(str_len)
local grow = {}
for i = 1, 10 do grow[i] = i end
grow[11] = 11
grow[12] = 12
print(#grow)
local fromhash = {}
fromhash[3] = 3; fromhash[2] = 2; fromhash[1] = 1
print(#fromhash)
