-- string.find and string.match: plain and pattern, captures, anchors, classes
local s = "the quick brown fox jumps over the lazy dog"
print(s:find("quick"), s:find("the", 2), s:find("cat"), s:find(""), s:find("", 100))
print(s:find("o", -10), s:find("%s"), s:find(".", 1, true), ("a.b"):find(".", 1, true))
print(s:match("(%a+) (%a+)"), s:match("%a+", 5), s:match("^the"), s:match("^quick"))
print(s:match("(o)(.)(o)"), s:match("()fox()"), s:match("dog$"), s:match("do$"))
print(("key = value"):match("^(%w+)%s*=%s*(%w+)$"))
print(("[[nested]]"):match("%[(%b[])%]"), ("x = f(a, g(b))"):match("%b()"))
print(("THE (quick) fox"):find("%f[%a]%a+", 5))
print(("hello123world456"):match("%d+"), ("hello123world456"):match("%d+", 9))
print(("  x"):match("^%s*()"), ("abc"):match(".-"), ("abc"):match(".-$"), ("abc"):match("a*"))
print(("aaa"):match("a-b"), ("aaab"):match("a-b"), ("ab"):match("a?b"), ("b"):match("a?b"))
print(("x=1, y=22, z=333"):match("y=(%d+)"), ("%d"):match("%%d"), ("a+b"):match("a%+b"))
print(("CamelCaseString"):match("%u%l+", 2), ("tab\there"):match("%c"), ("a1_b2"):match("[%w_]+"))
print(("0x1F"):match("^0[xX](%x+)$"), ("abc"):match("[^a]+"), ("a-b"):match("[a%-]+"), ("]"):match("[]]"))
print(pcall(string.find, "a", "(%"), pcall(string.match, "a", "[a"))
print(pcall(string.match, "a", "%g("), pcall(string.find, "abc", "%1"))
local n = 0
for i = 1, 200 do if ("item" .. i):find("1") then n = n + 1 end end
print(n)
print(string.find("abc", "b", nil, nil), string.match("2024", "(%d%d)(%d%d)"))
