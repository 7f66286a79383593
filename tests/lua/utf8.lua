-- the utf8 library
print(utf8.charpattern, utf8.char(72, 228, 8364, 128512), utf8.len("häll€"), utf8.len("\xff"), utf8.codepoint("häl", 1, -1))
for p, c in utf8.codes("aé€") do io.write(p, ":", c, " ") end print()
print(utf8.offset("aé€x", 3), utf8.offset("aé€x", -1), utf8.len("abc", 2), pcall(utf8.codepoint, "\xff"))
print(utf8.offset("aé€x", 0, 3), utf8.offset("aé€x", 10), utf8.len(""), utf8.char(), pcall(utf8.char, -1))
local n = 0
for _, c in utf8.codes(("añ€😀"):rep(50)) do n = n + c end
print(n, utf8.len(("añ€😀"):rep(50)))
for w in ("añb€c"):gmatch(utf8.charpattern) do io.write("[", w, "]") end print()
print(pcall(utf8.offset, "a€", 1, 3), utf8.codepoint("\u{7FFFFFFF}", 1, 1, true), pcall(utf8.len, "abc", 5))
