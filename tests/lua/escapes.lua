-- string escapes and long brackets
print("a\tb\\c\"d\'e")
print("\97\98\99", "\x41\x42", "\u{48}\u{49}", "\u{20AC}" == "\xE2\x82\xAC")
print("line1\
line2")
print("skip \z
       spaces", #"\z   ")
print([[no \n escapes]], [==[a]]b]=]c]==])
print(#[[
x]], #"\r\n", ("\0"):byte(), #"a\0b")
local all = {}
for i = 0, 255 do all[#all + 1] = string.char(i) end
local s = table.concat(all)
print(#s, s:byte(1), s:byte(256), s:sub(66, 70))
print(string.format("%q", "\1\2\0031\r\n\t\\\"x\255"))
local count = 0
for i = 1, #s do if s:sub(i, i):match("%p") then count = count + 1 end end
print(count)
