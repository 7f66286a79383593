-- edge cases: long constructors, embedded zeros, negative zero keys, string ends
local t = {}
for i = 1, 120 do t[i] = i end
local big = {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60, x = 1, 61, 62}
print(#big, big[60], big[62], big.x)
local function many() return 1, 2, 3 end
local c = {many(), many()}
print(#c)
print(pcall(function() local n = 5; return n:foo() end))
print(pcall(function() return ("x").y.z end))
local s = string.rep("a", 10) .. "\0" .. "b"
print(#s, s:find("\0", 1, true), s:find("%z"), s:match("(%Z+)"))
print(select('#', load("return 1, 2, 3")()))
local deep = {}
local cur = deep
for i = 1, 100 do cur.next = {}; cur = cur.next end
print(#tostring(1e308 * 10), -0.0 == 0.0)
local a = {}
a[1.5] = 1; a[-0.0] = "negzero"
print(a[0], a[1.5])
print(string.format("%5s|%-5s|", 1, 2.5))
print(tostring(2^63 == math.maxinteger + 1.0), math.maxinteger // 1 | 0)
print(#{n = 1, [1] = "a", [2] = "b"}, next({}, nil))
goto skip
do print("skipped") end
::skip::
print(("abc"):sub(2, -2), ("abc"):sub(-100, 100), ("abc"):byte(10))
