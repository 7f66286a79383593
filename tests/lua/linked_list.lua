-- linked lists and queues built from tables
local list = nil
for i = 1, 100 do list = {value = i, next = list} end
local sum, len = 0, 0
local node = list
while node do sum = sum + node.value; len = len + 1; node = node.next end
print(sum, len)
local function reverse(l)
  local r = nil
  while l do r = {value = l.value, next = r}; l = l.next end
  return r
end
local rev = reverse(list)
print(rev.value, rev.next.value, list.value)
local Queue = {}
Queue.__index = Queue
function Queue.new() return setmetatable({first = 1, last = 0, items = {}}, Queue) end
function Queue:push(v) self.last = self.last + 1; self.items[self.last] = v end
function Queue:pop()
  if self.first > self.last then return nil end
  local v = self.items[self.first]
  self.items[self.first] = nil
  self.first = self.first + 1
  return v
end
local q = Queue.new()
for i = 1, 200 do q:push(i) end
local total = 0
for _ = 1, 150 do total = total + q:pop() end
print(total, q.last - q.first + 1)
-- a doubly linked list with removal
local head = {}
head.next, head.prev = head, head
local function insert(after, v) local n = {v = v, prev = after, next = after.next}; after.next.prev = n; after.next = n; return n end
local nodes = {}
for i = 1, 20 do nodes[i] = insert(head.prev, i) end
for i = 2, 20, 2 do local n = nodes[i]; n.prev.next = n.next; n.next.prev = n.prev end
local vals = {}
local p = head.next
while p ~= head do vals[#vals + 1] = p.v; p = p.next end
print(table.concat(vals, " "))
