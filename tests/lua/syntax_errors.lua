-- syntax error messages through load
local cases = {
  "x = = 1", "local 1 = 2", "f(", "a.b.c", "x = {1, 2", "if x then else", "while true", "for i = 1, 2",
  "function f(a,) end", "function f(...,a) end", "return 1,", "x = 1 2", "local t = {[1] 2}",
  "x = a..", "goto 5", "::1::", "local function 1() end", "x = not", "x = #", "a, b", "a + 1 = 2",
  "x = \"abc\ndef\"", "x = '\\400'", "x = '\\xZZ'", "x = '\\u{110000000}'", "x = 0x", "x = 1e+",
  "x = 3..4", "repeat x = 1", "do end end", "(f)", "x.y:z", "return;;", "local x <const> = 1; x = 2",
  "break", "::l:: ::l::", "goto l; local a; ::l:: print(a)", "x = function() return end + 1",
  "x = ...", "function f() x = ... end", "x = [==[ ]=]", "--[==[ ]]", "x = 1 // ", "elseif",
  "x = {f = }", "x = y[]", "local a.b = 1", "f{}{}", "a = b = c",
}
for _, c in ipairs(cases) do
  local f, err = load(c)
  print(err or "ok")
end
