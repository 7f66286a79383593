-- binary trees (Benchmarks Game), small depth
local function bottomUp(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return {bottomUp(depth), bottomUp(depth)}
end
local function itemCheck(tree)
  if tree[1] then return 1 + itemCheck(tree[1]) + itemCheck(tree[2]) end
  return 1
end
local N = 8
local maxdepth = N
local stretch = maxdepth + 1
print("stretch tree of depth " .. stretch .. "\t check: " .. itemCheck(bottomUp(stretch)))
local longlived = bottomUp(maxdepth)
for depth = 4, maxdepth, 2 do
  local iters = 2 ^ (maxdepth - depth + 4)
  local check = 0
  for _ = 1, iters do check = check + itemCheck(bottomUp(depth)) end
  print(string.format("%d\t trees of depth %d\t check: %d", iters, depth, check))
end
print("long lived tree of depth " .. maxdepth .. "\t check: " .. itemCheck(longlived))
local nodes = 0
local stack = {bottomUp(6)}
while #stack > 0 do
  local t = table.remove(stack)
  nodes = nodes + 1
  if t[1] then stack[#stack + 1] = t[1]; stack[#stack + 1] = t[2] end
end
print("nodes", nodes)
