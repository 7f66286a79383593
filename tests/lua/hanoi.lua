-- towers of Hanoi with explicit stacks
local pegs = {{}, {}, {}}
local n = 10
for i = n, 1, -1 do pegs[1][#pegs[1] + 1] = i end
local moves = 0
local function move(from, to)
  local disk = table.remove(pegs[from])
  local top = pegs[to][#pegs[to]]
  assert(top == nil or top > disk, "illegal move")
  pegs[to][#pegs[to] + 1] = disk
  moves = moves + 1
end
local function solve(k, from, to, via)
  if k == 0 then return end
  solve(k - 1, from, via, to)
  move(from, to)
  solve(k - 1, via, to, from)
end
solve(n, 1, 3, 2)
print(moves, #pegs[1], #pegs[2], #pegs[3], table.concat(pegs[3], " "))
