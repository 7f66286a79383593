-- text processing with patterns: words, frequencies, formatting
local text = [[
It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of
incredulity, it was the season of Light, it was the season of Darkness, it was
the spring of hope, it was the winter of despair.
]]
local freq = {}
local nwords = 0
for word in text:gmatch("%a+") do
  word = word:lower()
  freq[word] = (freq[word] or 0) + 1
  nwords = nwords + 1
end
local words = {}
for w in pairs(freq) do words[#words + 1] = w end
table.sort(words, function(a, b)
  if freq[a] ~= freq[b] then return freq[a] > freq[b] end
  return a < b
end)
print("words", nwords, "distinct", #words)
for i = 1, 8 do print(string.format("%-8s %3d", words[i], freq[words[i]])) end
-- capitalise every word, count replacements
local caps, n = text:gsub("(%a)(%a*)", function(a, b) return a:upper() .. b end)
print(n, caps:sub(1, 40))
-- lines and their lengths
local ln = 0
for line in text:gmatch("[^\n]+") do
  ln = ln + 1
  print(ln, #line, line:match("^(%a+)"), line:match("(%a+)[%p]*$"))
end
-- key=value parsing
local config = "name = metajit; level=3 ; mode= fast;empty=;  pi = 3.14"
local kv = {}
for k, v in config:gmatch("%s*(%w+)%s*=%s*([^;]-)%s*;?") do kv[#kv + 1] = k .. "->[" .. v .. "]" end
print(table.concat(kv, " "))
print(("hello world from lua"):gsub("(%w+) (%w+)", "%2 %1"))
print(string.gsub("abc", "", "-"))
print(("  trim me  "):match("^%s*(.-)%s*$") .. "|")
print(("THE (quick) fox"):find("%((%a+)%)"))
print(("f(a(b)c)d"):match("%b()"))
print(("THE quick"):gsub("%f[%a]%a+", function(w) return #w end))
local dates = "2024-01-15, 1999-12-31 and 2000-02-29"
for y, m, d in dates:gmatch("(%d+)-(%d+)-(%d+)") do io.write(d, "/", m, "/", y, " ") end
print()
