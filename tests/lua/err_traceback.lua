-- an uncaught error deep in calls: its traceback names methods, metamethods, tail calls
local Account = {}
Account.__index = Account
function Account.new(b) return setmetatable({balance = b}, Account) end
local function check(v) if v < 0 then error("overdrawn by " .. -v) end return v end
local function settle(v) return check(v) end
function Account:withdraw(n)
  local total = 0
  for i = 1, 50 do total = total + i end
  self.balance = settle(self.balance - n)
  return self
end
local limits = setmetatable({}, {__index = function(_, who) return Account.new(10):withdraw(25) end})
print(Account.new(100):withdraw(30).balance)
print(limits.alice)
