-- multiple results: truncation and extension
local function three() return 1, 2, 3 end
local function none() end
local a, b, c, d = three()
print(a, b, c, d)
local x, y = three(), 10
print(x, y)
local t = {three(), three()}
print(#t, t[1], t[2], t[4])
local u = {three(), (three())}
print(#u)
print(three(), "end")
print((three()))
local p, q = none()
print(p, q)
print(none())
print(type((none())), select("#", none()), select("#", (none())))
local function swap(m, n) return n, m end
local s1, s2 = 1, 2
for _ = 1, 101 do s1, s2 = swap(s1, s2) end
print(s1, s2)
local function many(n) if n == 0 then return end return n, many(n - 1) end
print(many(5))
local r = {many(100)}
print(#r, r[1], r[100])
local function id(...) return ... end
print(id(id(id(1, 2), 3)))
