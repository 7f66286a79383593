-- error values, levels, pcall and xpcall
print(pcall(error, "plain"))
print(pcall(error, "msg", 0))
print(pcall(function() error("with position") end))
print(pcall(function() error("level 2", 2) end))
local function thrower() error("from thrower", 2) end
local function caller() thrower() end
print(pcall(caller))
print(type(select(2, pcall(error, {code = 42}))), select(2, pcall(error, {code = 42})).code)
local ok, e = pcall(error, setmetatable({}, {__tostring = function() return "custom" end}))
print(ok, tostring(e))
print(pcall(error))
print(pcall(error, nil))
print(pcall(error, 12))
print(select("#", pcall(error)))
print(xpcall(function() error("bad") end, function(m) return "handled: " .. m end))
print(xpcall(function(a, b) return a + b end, print, 3, 4))
print(xpcall(function() local x = nil; return x.y end, function(m) return m:upper() end))
print(pcall(pcall, error, "nested"))
local ok2, inner = pcall(function()
  local ok3, msg = pcall(error, "inner")
  error("outer after " .. msg, 0)
end)
print(ok2, inner)
print(pcall(assert, false))
print(pcall(assert, nil, "assert message"))
print(pcall(assert, 1 == 1, "unused"))
print(select("#", assert(1, 2, 3)))
local count = 0
for i = 1, 150 do
  local ok4 = pcall(function() if i % 3 == 0 then error("x") end end)
  if not ok4 then count = count + 1 end
end
print(count)
print(pcall(nil))
print(pcall({}))
