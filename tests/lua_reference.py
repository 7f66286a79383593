"""Running the reference lua5.4 on a batch of cases, and one text form for values.

A test builds one Lua script (the prelude below, then one line per case), runs it in a
single lua5.4 process and compares each output line with ``encode(...)`` of our result.
The form: ``i<int>``, ``f<tostring>/<IEEE bits in hex>``, ``s<hex bytes>``, ``nil``,
``true``/``false``, several values joined by ``,``; an error is ``e<message>`` with the
``file:line:`` prefix removed."""
import shutil
import struct
import subprocess

import pytest
from hypothesis import given, settings

from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.lnumbers import tostring_float

LUA = shutil.which("lua5.4")
needs_lua = pytest.mark.skipif(LUA is None, reason="the reference lua5.4 is not installed")

PRELUDE = r'''
local function bits(x) return string.format("%016x", string.unpack("<i8", string.pack("<d", x))) end
local function F(h) return (string.unpack("<d", string.pack("<i8", tonumber(h, 16)))) end
local function hexs(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function enc1(v)
  local t = math.type(v)
  if t == "integer" then return "i" .. tostring(v) end
  if t == "float" then return "f" .. tostring(v) .. "/" .. bits(v) end
  if type(v) == "string" then return "s" .. hexs(v) end
  return tostring(v)
end
local function enc(ok, ...)
  if not ok then return "e" .. (tostring((...)):gsub("^[^:]*:%d+: ", "")) end
  local t = table.pack(...)
  local parts = {}
  for i = 1, t.n do parts[i] = enc1(t[i]) end
  return table.concat(parts, ",")
end
local function show(...) print(enc(...)) end
'''


def lua_literal(v):
    """Lua source text for a Python value (floats bit-exact, strings as \\ddd)."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "math.mininteger" if v == -2**63 else "(%d)" % v
    if isinstance(v, float):
        return "F('%x')" % struct.unpack("<Q", struct.pack("<d", v))[0]
    return '"' + "".join("\\%d" % c for c in v) + '"'


def encode1(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "i%d" % v
    if isinstance(v, float):
        bits = struct.unpack("<Q", struct.pack("<d", v))[0]
        return "f%s/%016x" % (tostring_float(v).decode(), bits)
    return "s" + bytes(v).hex()


def encode(*values):
    return ",".join(encode1(v) for v in values)


def outcome(fn, *args):
    """``encode`` of ``fn(*args)`` (a tuple result gives several values), or ``e<msg>``."""
    try:
        result = fn(*args)
    except LuaLibError as e:
        return "e" + e.args[0]
    return encode(*result) if isinstance(result, tuple) else encode(result)


def run_lua(body):
    """Output lines of the prelude plus ``body`` run by one lua5.4 process."""
    r = subprocess.run([LUA, "-"], input=(PRELUDE + body).encode("latin-1"),
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode("latin-1")
    return r.stdout.decode("latin-1").split("\n")[:-1]


def gather(strategy, n):
    """``n`` examples drawn by hypothesis from ``strategy`` (for one batched run)."""
    cases = []

    @settings(max_examples=n, database=None, deadline=None)
    @given(strategy)
    def draw(case):
        cases.append(case)

    draw()
    return cases


def compare(cases, lua_line, ours, prefix="", lines_per_case=1):
    """Run ``prefix`` then ``lua_line(case)`` for every case in one lua5.4 process;
    return the cases where lua5.4's output differs from ``ours(case)`` (its
    ``lines_per_case`` lines joined by newlines) as (case, lua, ours)."""
    lines = run_lua(prefix + "".join(lua_line(c) + "\n" for c in cases))
    assert len(lines) == len(cases) * lines_per_case
    k = lines_per_case
    wants = ["\n".join(lines[i * k:(i + 1) * k]) for i in range(len(cases))]
    return [(c, want, got) for c, want in zip(cases, wants)
            for got in [ours(c)] if got != want]
