-- a module for require.lua
local M = {}
M.loaded_count = (M.loaded_count or 0) + 1
local Shape = {}
Shape.__index = Shape
function M.square(side) return setmetatable({kind = "square", w = side, h = side}, Shape) end
function M.rect(w, h) return setmetatable({kind = "rect", w = w, h = h}, Shape) end
function Shape:area() return self.w * self.h end
M.name = ...
return M
