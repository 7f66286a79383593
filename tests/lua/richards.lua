-- a Richards-style task scheduler: objects, metatables, inheritance, method calls
local Task = {}
Task.__index = Task

function Task.new(id, priority, work)
  return setmetatable({id = id, priority = priority, work = work, done = 0,
                       state = "ready"}, Task)
end

function Task:run(scheduler)
  self.done = self.done + 1
  return self.work(self, scheduler)
end

local DeviceTask = setmetatable({}, {__index = Task})
DeviceTask.__index = DeviceTask
function DeviceTask.new(id, priority)
  local t = Task.new(id, priority, function(self, s) s.io = s.io + 1; return "wait" end)
  return setmetatable(t, DeviceTask)
end
function DeviceTask:describe() return "device " .. self.id end
function Task:describe() return "task " .. self.id end

local Scheduler = {}
Scheduler.__index = Scheduler
function Scheduler.new()
  return setmetatable({tasks = {}, io = 0, ticks = 0, log = {}}, Scheduler)
end
function Scheduler:add(task) self.tasks[#self.tasks + 1] = task end
function Scheduler:schedule(rounds)
  for r = 1, rounds do
    table.sort(self.tasks, function(a, b)
      if a.priority ~= b.priority then return a.priority > b.priority end
      return a.id < b.id
    end)
    for _, t in ipairs(self.tasks) do
      local result = t:run(self)
      self.ticks = self.ticks + 1
      if result == "lower" then t.priority = t.priority - 1 end
      if r == rounds then self.log[#self.log + 1] = t:describe() .. "=" .. result end
    end
  end
end

local s = Scheduler.new()
for i = 1, 6 do
  s:add(Task.new(i, i % 3, function(self, sch)
    if self.done % 4 == 0 then return "lower" end
    return "ok"
  end))
end
s:add(DeviceTask.new(7, 5))
s:add(DeviceTask.new(8, 1))
s:schedule(60)
print(s.ticks, s.io)
print(table.concat(s.log, ", "))
for _, t in ipairs(s.tasks) do io.write(t.id, ":", t.priority, ":", t.done, " ") end
print()
print(getmetatable(s.tasks[1]) == Task or getmetatable(s.tasks[1]) == DeviceTask)
local checksum = 0
for round = 1, 100 do
  for _, t in ipairs(s.tasks) do checksum = (checksum * 31 + t.id * t.done + round) % 1000003 end
end
print("checksum", checksum)
