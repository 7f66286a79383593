-- classes with inheritance, super calls, class methods and tostring
local Animal = {}
Animal.__index = Animal
function Animal.new(name, sound) local self = setmetatable({}, Animal); self.name = name; self.sound = sound; return self end
function Animal:speak() return self.name .. " says " .. self.sound end
function Animal:kind() return "animal" end
Animal.__tostring = function(a) return "Animal(" .. a.name .. ")" end
local Dog = setmetatable({}, {__index = Animal})
Dog.__index = Dog
Dog.__tostring = Animal.__tostring
function Dog.new(name) local self = Animal.new(name, "woof"); return setmetatable(self, Dog) end
function Dog:kind() return "dog, an " .. Animal.kind(self) end
function Dog:fetch(n) local s = 0; for i = 1, n do s = s + i end; return s end
local d = Dog.new("Rex")
print(d:speak(), d:kind(), tostring(d), d:fetch(100))
local zoo = {}
for i = 1, 50 do zoo[i] = (i % 2 == 0) and Dog.new("d" .. i) or Animal.new("a" .. i, "hm") end
local dogs, talk = 0, 0
for _, a in ipairs(zoo) do
  if getmetatable(a) == Dog then dogs = dogs + 1 end
  talk = talk + #a:speak()
end
print(dogs, talk)
-- a class with a counter shared through the class table
local Counter = {instances = 0}
Counter.__index = Counter
function Counter.new() Counter.instances = Counter.instances + 1; return setmetatable({n = 0}, Counter) end
function Counter:inc(by) self.n = self.n + (by or 1); return self end
local c = Counter.new():inc():inc(5):inc()
Counter.new()
print(c.n, Counter.instances, c.instances)
-- privacy with closures
local function Account(balance)
  local self = {}
  function self.deposit(v) balance = balance + v end
  function self.balance() return balance end
  return self
end
local acc = Account(100)
for i = 1, 10 do acc.deposit(i) end
print(acc.balance(), acc.balance == nil)
