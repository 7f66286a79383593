-- proper tail calls: deep tail recursion does not grow the stack
local function loop(n, acc)
  if n == 0 then return acc end
  return loop(n - 1, acc + n)
end
print(loop(100000, 0))
local even, odd
function even(n) if n == 0 then return true end return odd(n - 1) end
function odd(n) if n == 0 then return false end return even(n - 1) end
print(even(100001), odd(100001))
local function count_down(n) if n > 0 then return count_down(n - 1) end return "done" end
print(count_down(300000))
-- a tail call to a built-in and through a callable table
local function to_string(v) return tostring(v) end
print(to_string(42))
local callable = setmetatable({}, {__call = function(self, n) return n * 2 end})
local function via(n) return callable(n) end
print(via(21))
local function tail_vararg(...) return select("#", ...) end
local function fwd(...) return tail_vararg(...) end
print(fwd(1, 2, nil))
local total = 0
for i = 1, 200 do total = total + loop(i % 4, 0) end
print(total)
