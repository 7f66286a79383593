-- string <-> number coercions
print("10" + 5, "3.5" * 2, 10 .. "", 1.5 .. "|", "2" ^ 2, -"3", "0x10" * 1, " 7 " + 0)
print(10 == "10", "abc" < "abd", pcall(function() return 1 < "2" end))
print(math.type("10" + 0), math.type("10.0" + 0), math.type("1e1" + 0), "10" // "3", "7" % "4")
print(pcall(function() return "a" + 1 end))
print(pcall(function() return {} .. "" end))
print(tostring(1e300 * 1e300), tostring(-1e300 * 1e300), 2^1024)
print(tonumber("10"), tonumber("10.5"), tonumber("  0x1A  "), tonumber("1e"), tonumber(nil))
print(tonumber("10", 2), tonumber("zz", 36), tonumber("8", 8), tonumber(" 11 ", 2))
print(pcall(tonumber, "10", 99), pcall(tonumber, 10, 16))
local total = 0
for i = 1, 200 do total = total + ("" .. i) * 1 end
print(total)
print(#(12345 .. ""), (3 .. 4) + 1, "5" .. 5 == "55")
