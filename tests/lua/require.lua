-- require through package.path, package.loaded, and a missing module
local shapes = require("m_shapes")
local again = require("m_shapes")
print(shapes == again, shapes.name, package.loaded.m_shapes == shapes)
local total = 0
for i = 1, 100 do total = total + shapes.square(i % 5):area() + shapes.rect(i, 2):area() end
print(total)
print(require("m_counter"), require("m_counter"), counter_module_runs)
local ok, err = pcall(require, "no_such_module_xyz")
print(ok, (err:gsub("\n.*", "")))
print(select(2, err:gsub("no file", "")) > 0)
local ok2, socket = pcall(require, "socket")
print(ok2)
print(type(package.path), package.path:find("./?.lua", 1, true) ~= nil, package.loaded.string == string)
package.preload.virtual = function(name) return {name = name} end
print(require("virtual").name)
