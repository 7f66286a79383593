-- os functions whose results are checked by type (their values vary)
print(type(os.time()), type(os.clock()), math.type(os.time()))
print(type(os.getenv("HOME")), os.getenv("METAJIT_SURELY_UNSET_VARIABLE"))
print(os.time({year = 2020, month = 1, day = 1, hour = 0}) - os.time({year = 2019, month = 12, day = 31, hour = 0}))
local t0 = os.clock()
local x = 0
for i = 1, 2000 do x = x + i end
print(os.clock() >= t0, x)
print(type(os.date("%Y")), os.date("!%Y-%m-%d %H:%M:%S", 86400 * 365))
print(_VERSION)
