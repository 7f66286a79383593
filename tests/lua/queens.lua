-- n queens: count all solutions, print the first one
local function solve(n)
  local cols, d1, d2, pos = {}, {}, {}, {}
  local count, first = 0, nil
  local function place(row)
    if row > n then
      count = count + 1
      if not first then first = table.concat(pos, " ") end
      return
    end
    for c = 1, n do
      if not cols[c] and not d1[row + c] and not d2[row - c + n] then
        cols[c], d1[row + c], d2[row - c + n] = true, true, true
        pos[row] = c
        place(row + 1)
        cols[c], d1[row + c], d2[row - c + n] = false, false, false
      end
    end
  end
  place(1)
  return count, first
end
for n = 4, 7 do print(n, solve(n)) end
-- check a board position by position
local board = {2, 4, 1, 3}
local ok = true
for i = 1, #board do
  for j = i + 1, #board do
    if board[i] == board[j] or math.abs(board[i] - board[j]) == j - i then ok = false end
  end
end
print("valid", ok)
local placements = 0
for n = 1, 200 do placements = placements + (n % 8 == 0 and 1 or 0) end
print(placements)
