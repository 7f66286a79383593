-- string basics: length in bytes, sub, byte/char, case, rep, reverse, escapes
local s = "Hello, World"
print(#s, s:len(), s:upper(), s:lower(), s:reverse())
print(s:sub(1, 5), s:sub(-5), s:sub(-5, -2), s:sub(8), s:sub(0), s:sub(20), s:sub(5, 2))
print(s:byte(1), s:byte(-1), s:byte(1, 3))
print(string.char(72, 105, 33), string.char())
print(("ab"):rep(3), ("ab"):rep(3, ","), ("x"):rep(0), ("x"):rep(-1))
print("tab\tnew\\nline", "quote\"s", 'single\'s', "\65\066\x43\u{44}", "\z
      continued")
print(#"\u{7FF}", #"\u{FFFF}", #"\u{10FFFF}", #"\0abc", ("\0x"):byte(1))
local long = [[
first line
second "quoted" line]]
print(long, #long)
print([==[with ]] inside]==])
print("a" < "b", "abc" < "abd", "Z" < "a", "" < "a", "abc" < "ab", "10" < "9")
print("abc" == "abc", "a" .. "b" == "ab", 1 .. 2, 1.5 .. "", -0.0 .. "")
local parts = {}
for i = 1, 300 do parts[#parts + 1] = string.char(65 + i % 26) end
local joined = table.concat(parts)
print(#joined, joined:sub(1, 30), joined:byte(300))
local count = 0
for i = 1, #joined do if joined:sub(i, i) == "A" then count = count + 1 end end
print(count)
print(("%d items"):format(3), ("x"):byte(), ("é"):len())
print(tostring(nil), tostring(true), tostring(12), tostring("s"), tonumber("  12  "), tonumber("12a"))
print(tonumber("ff", 16), tonumber("777", 8), tonumber("zz", 36), tonumber("102", 2), tonumber("1e2"), tonumber(""))
print(tonumber("0x"), tonumber("1 2"), tonumber("-0x10"), tonumber(".5"), tonumber("5."), tonumber("inf"), tonumber("nan"))
