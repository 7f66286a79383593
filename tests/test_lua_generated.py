"""Random well-formed Lua programs: our VM against lua5.4 (when installed), and
the JIT off against the JIT on (always).

A program declares numeric, string and table locals and a helper function, runs a
counted loop (so that it gets hot) whose body mixes integer and float arithmetic,
bitwise operations, comparisons, string building, table stores and calls, and
prints its state at the end.  An operation may fail (an integer division by zero,
a float without an integer representation in a bitwise operation): then the error
message must match too."""
import os
import re
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lua_support import LUA, run_ours, run_reference

NUM_VARS = ["a", "b", "c"]
ARITH = ["+", "-", "*", "/", "//", "%", "^"]
BITWISE = ["&", "|", "~", "<<", ">>"]
COMPARE = ["<", "<=", ">", ">=", "==", "~="]


@st.composite
def num_literal(draw):
    if draw(st.booleans()):
        return str(draw(st.integers(-20, 20)))
    return repr(draw(st.sampled_from([0.5, 1.25, -2.5, 3.0, 0.1, 100.0, -0.75, 7.5])))


@st.composite
def num_expr(draw, depth=0):
    choice = draw(st.integers(0, 9 if depth < 2 else 3))
    if choice == 0:
        return draw(st.sampled_from(NUM_VARS))
    if choice == 1:
        return draw(num_literal())
    if choice == 2:
        return "i"
    if choice == 3:
        return "#s"
    if choice <= 6:
        op = draw(st.sampled_from(ARITH))
        return "(%s %s %s)" % (draw(num_expr(depth + 1)), op, draw(num_expr(depth + 1)))
    if choice == 7:
        op = draw(st.sampled_from(BITWISE))
        # bitwise operands: integers (a float operand may fail, identically)
        left = draw(st.sampled_from(["i", "#s", "(i * 3)", draw(num_expr(depth + 1))]))
        return "(%s %s %s)" % (left, op, draw(st.integers(0, 5)))
    if choice == 8:
        fn = draw(st.sampled_from(["math.floor", "math.abs", "f"]))
        if fn == "f":
            return "f(%s, %s)" % (draw(num_expr(depth + 1)), draw(num_expr(depth + 1)))
        return "%s(%s)" % (fn, draw(num_expr(depth + 1)))
    return "(t[%d] or %s)" % (draw(st.integers(1, 5)), draw(num_literal()))


@st.composite
def statement(draw, depth=0):
    choice = draw(st.integers(0, 10 if depth < 1 else 3))
    var = draw(st.sampled_from(NUM_VARS))
    if choice == 0:
        return "%s = %s" % (var, draw(num_expr()))
    if choice == 1:
        return "t[%d] = %s" % (draw(st.integers(1, 5)), draw(num_expr()))
    if choice == 2:
        return "if #s < 40 then s = s .. %s end" % draw(st.sampled_from(
            ['"x"', "i", var, '"-"', "math.type(%s) or \"\"" % var]))
    if choice == 3:
        return "%s = %s %% 1000" % (var, draw(num_expr()))
    if choice == 4:
        cond = "%s %s %s" % (draw(num_expr()), draw(st.sampled_from(COMPARE)), draw(num_expr()))
        return "if %s then %s else %s end" % (cond, draw(statement(depth + 1)),
                                             draw(statement(depth + 1)))
    if choice == 5:
        return "local k = 0 while k < %d do k = k + 1; %s end" % (
            draw(st.integers(1, 3)), draw(statement(depth + 1)))
    if choice == 6:
        return "for j = 1, %d do %s end" % (draw(st.integers(1, 3)), draw(statement(depth + 1)))
    if choice == 7:
        # a failing operation caught by pcall: the message must match too
        return "local ok, e = pcall(function() return %s end) %s = ok and %s or #tostring(e)" % (
            draw(num_expr()), var, var)
    if choice == 8:
        # string library calls on the string built so far
        return "if #s > 0 then %s = %s end" % (var, draw(st.sampled_from([
            "#s:upper()", "s:byte(1)", "#s:rep(2, ',')", "(s:find('x', 1, true) or 0)",
            "select(2, s:gsub('%a', '%%0'))", "#string.format('%5.2f|%d', i / 3, i)",
            "#s:sub(2, -2)"])))
    if choice == 9:
        # a closure over the loop's locals
        return "do local g = function(q) return q + %s end %s = g(%s) %% 997 end" % (
            draw(st.sampled_from(["i", var, "#s"])), var, draw(num_expr()))
    return "for _, v in ipairs({%s, %s}) do %s = %s + v end" % (
        draw(num_literal()), draw(num_literal()), var, var)


@st.composite
def lua_programs(draw):
    lines = ["local a, b, c = %s, %s, %s" % (draw(num_literal()), draw(num_literal()),
                                            draw(num_literal())),
             "local s = %s" % draw(st.sampled_from(['""', '"ab"', '"hello"'])),
             "local t = {}",
             "local function f(x, y) return (x %s y) %s %s end" % (
                 draw(st.sampled_from(ARITH)), draw(st.sampled_from(["+", "-", "*"])),
                 draw(num_literal())),
             "for i = 1, %d do" % draw(st.integers(12, 40))]
    for _ in range(draw(st.integers(1, 5))):
        lines.append("  " + draw(statement()))
    lines.append("end")
    lines.append("print(a, b, c, s, t[1], t[2], t[3], t[4], t[5])")   # no #t: t has holes
    return "\n".join(lines) + "\n"


def comparable(result):
    """lua5.4.4 reports an integer division or modulo by zero at a stale line (that
    of the last instruction that saved the pc, often the function's first line); we
    report the division's own line: compare those messages without the line."""
    out, err, status = result
    err = err.split("\n", 1)[0]        # the message (tracebacks show the stale line too)
    err = re.sub(r"^gen\.lua:\d+: (attempt to divide by zero|attempt to perform 'n%0')$",
                 r"gen.lua:?: \1", err)
    return out, err, status


def run_program(source, runner):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gen.lua")
        with open(path, "w") as f:
            f.write(source)
        return runner("gen.lua", cwd=tmp)


DEEP = os.environ.get("METAJIT_HYPOTHESIS") == "deep"


@pytest.mark.skipif(LUA is None, reason="lua5.4 is not installed")
@settings(deadline=None)
@given(lua_programs())
def test_generated_programs_match_lua54(jit, source):
    jit(enabled=False)
    ours = run_program(source, run_ours)
    ref = run_program(source, run_reference)
    assert comparable(ours) == comparable(ref), source


@settings(max_examples=400 if DEEP else 12, deadline=None)
@given(lua_programs())
def test_generated_programs_jit_on_equals_off(jit, source):
    jit(enabled=False)
    plain = run_program(source, run_ours)
    stats = jit(backend="python", threshold=5, bridge_threshold=3, trace_limit=8000)
    jitted = run_program(source, run_ours)
    assert jitted == plain, source
    if plain[2] == 0:       # the loop ran to the end: it was hot enough to trace
        assert stats.loops >= 1 or sum(stats.aborts.values()) >= 1, stats.summary()
