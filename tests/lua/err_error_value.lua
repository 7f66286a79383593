-- an uncaught error with a table value with __tostring, raised from a loop
local n = 0
for i = 1, 100 do n = n + i end
print(n)
error(setmetatable({}, {__tostring = function() return "custom error object" end}))
