-- errors inside metamethods, iterators and sort comparators are caught by pcall
local bad = setmetatable({}, {__index = function(t, k) error("no field " .. k) end})
print(pcall(function() return bad.x end))
local adder = setmetatable({}, {__add = function(a, b) error({code = 7}) end})
local ok, e = pcall(function() return adder + 1 end)
print(ok, type(e), e.code)
print(pcall(table.sort, {3, 2, 1}, function(a, b) error("cmp failed", 0) end))
local function iter() error("iterator failed", 0) end
print(pcall(function() for x in iter do end end))
print(pcall(string.gsub, "abc", "%w", function(c) error("in gsub " .. c, 0) end))
print(pcall(tostring, setmetatable({}, {__tostring = function() return 42 end})))
local caught = 0
for i = 1, 100 do
  local ok2 = pcall(function() return bad[i] end)
  if not ok2 then caught = caught + 1 end
end
print(caught)
local depth = 0
local deep = setmetatable({}, {__index = function(t, k) depth = depth + 1; return t[k] end})
local ok3, msg = pcall(function() return deep.x end)
print(ok3, msg:match("stack overflow") ~= nil, depth > 100 and depth < 250)
