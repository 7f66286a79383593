-- matrix multiplication and transposition
local function matrix(n, m, f)
  local a = {}
  for i = 1, n do
    local row = {}
    for j = 1, m do row[j] = f(i, j) end
    a[i] = row
  end
  return a
end
local function mul(a, b)
  local n, m, p = #a, #b, #b[1]
  local c = {}
  for i = 1, n do
    local ci, ai = {}, a[i]
    for j = 1, p do
      local s = 0
      for k = 1, m do s = s + ai[k] * b[k][j] end
      ci[j] = s
    end
    c[i] = ci
  end
  return c
end
local A = matrix(12, 12, function(i, j) return i + j end)
local B = matrix(12, 12, function(i, j) return (i - j) * 0.5 end)
local C = mul(A, B)
print(C[1][1], C[6][7], C[12][12])
local I = matrix(12, 12, function(i, j) return i == j and 1 or 0 end)
local D = mul(A, I)
local same = true
for i = 1, 12 do for j = 1, 12 do if D[i][j] ~= A[i][j] then same = false end end end
print(same)
local T = matrix(12, 12, function(i, j) return A[j][i] end)
print(T[2][5], A[5][2])
local trace = 0
for i = 1, 12 do trace = trace + C[i][i] end
print(trace)
