-- a JSON encoder and parser; round trip and re-encode
local function encode(v, out)
  local t = type(v)
  if t == "table" then
    if #v > 0 or next(v) == nil then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        encode(k, out)
        out[#out + 1] = ":"
        encode(v[k], out)
      end
      out[#out + 1] = "}"
    end
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
      local map = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\t'] = '\\t'}
      return map[c] or string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "number" then
    if math.type(v) == "integer" then out[#out + 1] = tostring(v)
    else out[#out + 1] = string.format("%.14g", v) end
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  else out[#out + 1] = "null" end
  return out
end

local function tojson(v) return table.concat(encode(v, {})) end

local Parser = {}
Parser.__index = Parser
function Parser.new(s) return setmetatable({s = s, i = 1}, Parser) end
function Parser:skip() self.i = self.s:find("[^ \t\r\n]", self.i) or #self.s + 1 end
function Parser:peek() self:skip(); return self.s:sub(self.i, self.i) end
function Parser:value()
  local c = self:peek()
  if c == "{" then
    self.i = self.i + 1
    local obj = {}
    if self:peek() == "}" then self.i = self.i + 1; return obj end
    repeat
      local k = self:value()
      assert(self:peek() == ":", "colon expected at " .. self.i)
      self.i = self.i + 1
      obj[k] = self:value()
      local sep = self:peek()
      self.i = self.i + 1
    until sep == "}"
    return obj
  elseif c == "[" then
    self.i = self.i + 1
    local arr = {}
    if self:peek() == "]" then self.i = self.i + 1; return arr end
    repeat
      arr[#arr + 1] = self:value()
      local sep = self:peek()
      self.i = self.i + 1
    until sep == "]"
    return arr
  elseif c == '"' then
    local j = self.i + 1
    local buf = {}
    while true do
      local ch = self.s:sub(j, j)
      if ch == '"' then break end
      if ch == "\\" then
        local e = self.s:sub(j + 1, j + 1)
        if e == "u" then
          buf[#buf + 1] = string.char(tonumber(self.s:sub(j + 2, j + 5), 16))
          j = j + 6
        else
          buf[#buf + 1] = ({n = "\n", t = "\t"})[e] or e
          j = j + 2
        end
      else
        buf[#buf + 1] = ch
        j = j + 1
      end
    end
    self.i = j + 1
    return table.concat(buf)
  else
    local lit = self.s:match("^[%w%.%-+]+", self.i)
    self.i = self.i + #lit
    if lit == "true" then return true elseif lit == "false" then return false
    elseif lit == "null" then return nil end
    return math.tointeger(tonumber(lit)) or tonumber(lit)
  end
end

local doc = {name = "metajit", version = 5, ratio = 0.25, tags = {"jit", "lua", "trace"},
             nested = {deep = {deeper = {1, 2, {3, "x\ny"}}}, flag = true, off = false},
             quote = 'say "hi"\\', ctrl = "\1\2"}
local s = tojson(doc)
print(s)
local back = Parser.new(s):value()
print(tojson(back) == s)
print(back.nested.deep.deeper[3][2], back.ratio, back.version, math.type(back.version))
-- a bigger document built in a loop
local items = {}
for i = 1, 200 do items[i] = {id = i, name = "item" .. i, score = i * 1.5, even = i % 2 == 0} end
local big = tojson(items)
print(#big, big:sub(1, 60))
local parsed = Parser.new(big):value()
local total = 0
for _, it in ipairs(parsed) do total = total + it.score end
print(#parsed, total, parsed[200].name)
