-- string.gmatch: iteration with and without captures
local words = {}
for w in ("one two  three\tfour"):gmatch("%S+") do words[#words + 1] = w end
print(#words, table.concat(words, "|"))
local pairs_ = {}
for k, v in ("a=1, b=22, c=333"):gmatch("(%w+)=(%w+)") do pairs_[#pairs_ + 1] = k .. ":" .. v end
print(table.concat(pairs_, " "))
local positions = {}
for p in ("banana"):gmatch("()a") do positions[#positions + 1] = p end
print(table.concat(positions, ","))
local empties = 0
for _ in ("abc"):gmatch("x*") do empties = empties + 1 end
print(empties)
local total = 0
for num in ("10 20 30 40 50 60 70 80 90 100"):rep(20):gmatch("%d+") do total = total + tonumber(num) end
print(total)
local csv = "name,age,city\nAnn,31,Oslo\nBo,25,Rome\n"
for line in csv:gmatch("([^\n]*)\n") do
  local fields = {}
  for f in (line .. ","):gmatch("([^,]*),") do fields[#fields + 1] = f end
  print(#fields, fields[1], fields[3])
end
local it = ("a1b2c3"):gmatch("%a(%d)")
print(it(), it(), it(), it())
