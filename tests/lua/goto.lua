-- goto: continue, breaking out of nested loops, backward jumps
local odd = {}
for i = 1, 20 do
  if i % 2 == 0 then goto continue end
  odd[#odd + 1] = i
  ::continue::
end
print(table.concat(odd, " "))
local found
for i = 1, 10 do
  for j = 1, 10 do
    if i * j == 42 then found = i .. "x" .. j; goto done end
  end
end
::done::
print(found)
local n = 0
::again::
n = n + 1
if n < 100 then goto again end
print(n)
-- closures made in a goto loop capture fresh locals
local fns = {}
do
  local i = 1
  ::top::
  local v = i * 2
  fns[#fns + 1] = function() return v end
  i = i + 1
  if i <= 3 then goto top end
end
print(fns[1](), fns[2](), fns[3]())
print(load("goto nowhere"))
print(load("do local x ::l:: end goto l"))
print(load("goto f; local x; ::f:: print(x)"))
print(load("::a:: ::a::"))
