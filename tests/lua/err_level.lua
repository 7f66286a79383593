-- error with level 2 names the caller's line
local function check(v)
  if type(v) ~= "number" then error("expected a number, got " .. type(v), 2) end
  return v
end
local s = 0
for i = 1, 60 do s = s + check(i) end
print(s)
check("oops")
