-- pairs, next and ipairs (hash order is unspecified: keys are sorted before printing)
local t = {10, 20, 30, x = 1, y = 2, [3.5] = "f", [true] = "b"}
local keys = {}
for k in pairs(t) do keys[#keys + 1] = tostring(k) end
table.sort(keys)
print(#keys, table.concat(keys, " "))
local isum = 0
for i, v in ipairs({5, 6, 7, nil, 9}) do isum = isum + i * v end
print(isum)
print(next({}), next({7}), type(next))
-- clearing fields during traversal is allowed
local big = {}
for i = 1, 100 do big["k" .. i] = i end
for k, v in pairs(big) do if v % 2 == 0 then big[k] = nil end end
local left = 0
for _, v in pairs(big) do left = left + v end
print(left)
-- __pairs
local proxy = setmetatable({}, {__pairs = function(self)
  local i = 0
  return function() i = i + 1; if i <= 3 then return i, i * i end end, self, nil
end})
local got = {}
for k, v in pairs(proxy) do got[#got + 1] = k .. "=" .. v end
print(table.concat(got, " "))
-- ipairs respects __index
local arr = setmetatable({}, {__index = function(_, i) if i <= 4 then return i * 10 end end})
local seen = {}
for i, v in ipairs(arr) do seen[#seen + 1] = v end
print(table.concat(seen, ","))
-- integer and float keys are the same key
local n = {}
n[1] = "int"; n[1.0] = "float"; n[2^53] = "big"
print(n[1], n[2^53], math.type((next({[1.0] = "x"}))))
local count = 0
for k, v in next, {a = 1, b = 2, c = 3} do count = count + v end
print(count)
local arrsum = 0
local data = {}
for i = 1, 300 do data[i] = i end
for _, v in ipairs(data) do arrsum = arrsum + v end
for k, v in pairs(data) do arrsum = arrsum + k end
print(arrsum)
