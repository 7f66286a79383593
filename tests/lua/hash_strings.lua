-- hash tables keyed by strings and mixed keys
local t = {}
for i = 1, 500 do t["key" .. i] = i end
local sum = 0
for i = 1, 500, 7 do sum = sum + t["key" .. i] end
print(sum, t.key1, t.key500, t.key501)
local counts = {}
local text = ("abracadabra"):rep(30)
for i = 1, #text do
  local c = text:sub(i, i)
  counts[c] = (counts[c] or 0) + 1
end
local letters = {}
for k, v in pairs(counts) do letters[#letters + 1] = k .. "=" .. v end
table.sort(letters)
print(table.concat(letters, " "))
local mixed = {}
mixed[1] = "one"; mixed["1"] = "string one"; mixed[1.5] = "float"; mixed[true] = "yes"
print(mixed[1], mixed["1"], mixed[1.5], mixed[true], mixed[false])
for i = 1, 500 do t["key" .. i] = nil end
print(next(t))
local set = {}
for w in ("the cat and the dog and the bird"):gmatch("%a+") do set[w] = true end
local uniq = {}
for w in pairs(set) do uniq[#uniq + 1] = w end
table.sort(uniq)
print(#uniq, table.concat(uniq, ","))
