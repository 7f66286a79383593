-- to-be-closed variables and const locals
local log = {}
local function closer(name)
  return setmetatable({}, {__close = function(_, err) log[#log + 1] = name .. "(" .. tostring(err) .. ")" end})
end
do
  local a <close> = closer("a")
  local b <close> = closer("b")
  local c <const> = 42
  log[#log + 1] = "body" .. c
end
print(table.concat(log, " "))
log = {}
local function f()
  local x <close> = closer("x")
  return "ret"
end
print(f(), table.concat(log, " "))
log = {}
print(pcall(function()
  local y <close> = closer("y")
  error("boom")
end))
print(table.concat(log, " "))
log = {}
for i = 1, 3 do
  local z <close> = closer("z" .. i)
  if i == 2 then break end
end
print(table.concat(log, " "))
local nilclose <close> = nil
print(pcall(function() local bad <close> = {} end))
print(load("local c <const> = 1; c = 2"))
log = {}
local total = 0
for i = 1, 60 do
  local w <close> = closer("w")
  total = total + i
end
print(total, #log)
log = {}
do
  local a <close> = closer("a")
  do
    local b <close> = closer("b")
    goto out
  end
end
::out::
for i = 1, 3 do
  local c <close> = closer("c" .. i)
  if i == 2 then goto continue end
  log[#log + 1] = "body" .. i
  ::continue::
end
print(table.concat(log, " "))
