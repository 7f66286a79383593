-- load: strings, environments, syntax errors, reader functions
local f = load("return 1 + 2")
print(f())
local g = load("local a, b = ... return a * b")
print(g(6, 7))
print(load("syntax error here"))
print(load("return +", "=mychunk"))
local env = {x = 5}
local h = load("y = x * 2; return y", "chunk", "t", env)
print(h(), env.y, y)
local parts = {"return ", "'pieces'", nil}
local i = 0
print(load(function() i = i + 1; return parts[i] end)())
local counter = load("n = (n or 0) + 1 return n")
for _ = 1, 100 do counter() end
print(n)
print(pcall(load("error('in loaded chunk')")))
print(pcall(load("local t = nil; return t.x", "=named")))
local code = {}
for k = 1, 20 do code[#code + 1] = "s = s + " .. k end
local s_chunk = load("local s = 0\n" .. table.concat(code, "\n") .. "\nreturn s")
print(s_chunk())
print(load("x = ")) 
print(load("x = 'unfinished"))
print(load("for i = 1 do end"))
print(load("return 1 +* 2"))
print(load("local function end"))
print(load("if x then else elseif"))
print(load("x = }"))
print(load("return 0x"))
print(load("a = '\\q'"))
print(load("--[[ unfinished comment"))
print(load("return [[ unfinished long"))
