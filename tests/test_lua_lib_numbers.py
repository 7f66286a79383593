"""lnumbers against lua5.4: tables whose expected column was printed by lua5.4, and
hypothesis-drawn numbers, numerals and operations run through one lua5.4 process per
test."""
import math
import struct

import pytest
from hypothesis import strategies as st

from lua_reference import compare, encode, gather, lua_literal, needs_lua, outcome
from metajit.examples.lua import lnumbers as L
from metajit.examples.lua.lerrors import LuaLibError

NAN = L.DEFAULT_NAN  # 0/0 on x86-64: sign bit set, printed "-nan"
INF = math.inf

TOSTRING = [
    (0.0, b'0.0'),
    (-0.0, b'-0.0'),
    (1.0, b'1.0'),
    (-1.0, b'-1.0'),
    (0.1, b'0.1'),
    (0.3333333333333333, b'0.33333333333333'),
    (100.0, b'100.0'),
    (1000000000000000.0, b'1e+15'),
    (100000000000000.0, b'1e+14'),
    (123456789012345.0, b'1.2345678901234e+14'),
    (1e+16, b'1e+16'),
    (9.223372036854776e+18, b'9.2233720368548e+18'),
    (-9.223372036854776e+18, b'-9.2233720368548e+18'),
    (1e+100, b'1e+100'),
    (-1e-05, b'-1e-05'),
    (5e-324, b'4.9406564584125e-324'),
    (1.7976931348623157e+308, b'1.7976931348623e+308'),
    (INF, b'inf'),
    (-INF, b'-inf'),
    (NAN, b'-nan'),
    (-NAN, b'nan'),
    (3.14159265358979, b'3.1415926535898'),
    (12345678901234.5, b'12345678901234.0'),
    (0.000123, b'0.000123'),
    (0.0001, b'0.0001'),
    (99999999999999.9, b'1e+14'),
    (9007199254740992.0, b'9.007199254741e+15'),
]
STR2NUMBER = [
    (b'10', 'i10'),
    (b'  10  ', 'i10'),
    (b'-10', 'i-10'),
    (b'+10', 'i10'),
    (b'0x10', 'i16'),
    (b'0XfF', 'i255'),
    (b'-0x10', 'i-16'),
    (b'0x', 'nil'),
    (b'0x.', 'nil'),
    (b'1e', 'nil'),
    (b'1e+', 'nil'),
    (b'.5', 'f0.5/3fe0000000000000'),
    (b'5.', 'f5.0/4014000000000000'),
    (b'.', 'nil'),
    (b'0x.8', 'f0.5/3fe0000000000000'),
    (b'0x1p4', 'f16.0/4030000000000000'),
    (b'0x1P-1', 'f0.5/3fe0000000000000'),
    (b'0xA.8p1', 'f21.0/4035000000000000'),
    (b'1e400', 'finf/7ff0000000000000'),
    (b'-1e400', 'f-inf/fff0000000000000'),
    (b'1e-400', 'f0.0/0000000000000000'),
    (b'inf', 'nil'),
    (b'nan', 'nil'),
    (b'-inf', 'nil'),
    (b'0x1p99999', 'finf/7ff0000000000000'),
    (b'- 1', 'nil'),
    (b'1 0', 'nil'),
    (b'9223372036854775807', 'i9223372036854775807'),
    (b'9223372036854775808', 'f9.2233720368548e+18/43e0000000000000'),
    (b'-9223372036854775808', 'i-9223372036854775808'),
    (b'-9223372036854775809', 'f-9.2233720368548e+18/c3e0000000000000'),
    (b'0xffffffffffffffff', 'i-1'),
    (b'0x7fffffffffffffff', 'i9223372036854775807'),
    (b'0x10000000000000000', 'i0'),
    (b'1.5e3', 'f1500.0/4097700000000000'),
    (b'1E3', 'f1000.0/408f400000000000'),
    (b'\t\n12\x0b\x0c\r', 'i12'),
    (b'12a', 'nil'),
    (b'0b101', 'nil'),
    (b'00012', 'i12'),
    (b'1..2', 'nil'),
    (b'0x1.8p+1', 'f3.0/4008000000000000'),
    (b'1e+10', 'f10000000000.0/4202a05f20000000'),
    (b'3.14159265358979', 'f3.1415926535898/400921fb54442d11'),
    (b'\x00', 'nil'),
    (b'', 'nil'),
    (b'1\x00', 'nil'),
    (b'0x1p', 'nil'),
    (b'0x1.', 'f1.0/3ff0000000000000'),
    (b'-.5e-3', 'f-0.0005/bf40624dd2f1a9fc'),
    (b'1e5.5', 'nil'),
    (b'0x-1', 'nil'),
    (b'--1', 'nil'),
    (b'+-1', 'nil'),
    (b'1_000', 'nil'),
    (b'\xa01', 'nil'),
    (b'0x1P+1024', 'finf/7ff0000000000000'),
    (b'0x.0000000000000000000001p0', 'f3.2311742677853e-27/3a70000000000000'),
    (b'  0x1f  ', 'i31'),
    (b'4.9e-324', 'f4.9406564584125e-324/0000000000000001'),
    (b'2.4703282292062328e-324', 'f4.9406564584125e-324/0000000000000001'),
    (b'0x1.fffffffffffff8p1023', 'finf/7ff0000000000000'),
]
TONUMBER_BASE = [
    (b'z', 36, 'i35'),
    (b'-ff', 16, 'i-255'),
    (b' 11 ', 2, 'i3'),
    (b'1.0', 10, 'nil'),
    (b'ffffffffffffffffffff', 16, 'i-1'),
    (b'', 10, 'nil'),
    (b'7', 7, 'nil'),
    (b'6', 7, 'i6'),
    (b'  -', 10, 'nil'),
    (b'Zz', 36, 'i1295'),
    (b'1 1', 2, 'nil'),
    (b'+10', 3, 'i3'),
    (b'9223372036854775808', 10, 'i-9223372036854775808'),
    (b'1', 1, "ebad argument #2 to 'tonumber' (base out of range)"),
    (b'1', 37, "ebad argument #2 to 'tonumber' (base out of range)"),
    (b'0x10', 16, 'nil'),
    (b'10\x00', 10, 'nil'),
]
# (a, op, b, lua5.4's result of 'a op b'), drawn at random from edge values
ARITH = [
    (63, '^', -0.0, 'f1.0/3ff0000000000000'),
    (64, '^', 9.223372036854776e+18, 'finf/7ff0000000000000'),
    (0, '-', 2.0, 'f-2.0/c000000000000000'),
    (63, '*', INF, 'finf/7ff0000000000000'),
    (1, '<<', 9.223372036854776e+18, 'enumber has no integer representation'),
    (1, '%', 2.0, 'f1.0/3ff0000000000000'),
    (0.0, '&', 1.0, 'i0'),
    (-7.5, '^', 2.0, 'f56.25/404c200000000000'),
    (-INF, '>>', 1.0, 'enumber has no integer representation'),
    (NAN, '>>', 0.1, 'enumber has no integer representation'),
    (0.1, '*', -1, 'f-0.1/bfb999999999999a'),
    (1, '&', 1, 'i1'),
    (0, '~', 1.0, 'i1'),
    (2.0, '/', 1, 'f2.0/4000000000000000'),
    (-9223372036854775808, '~', 64, 'i-9223372036854775744'),
    (3.5, '/', 63, 'f0.055555555555556/3fac71c71c71c71c'),
    (0, '|', -7.5, 'enumber has no integer representation'),
    (0.0, '%', -INF, 'f0.0/0000000000000000'),
    (0.0, '<<', 64, 'i0'),
    (3.5, '/', 1.0, 'f3.5/400c000000000000'),
    (64, '>>', INF, 'enumber has no integer representation'),
    (64, '^', 9223372036854775807, 'finf/7ff0000000000000'),
    (64, '|', -9223372036854775808, 'i-9223372036854775744'),
    (1, '&', 0, 'i0'),
    (-64, '*', 63, 'i-4032'),
    (INF, '~', -64, 'enumber has no integer representation'),
    (9.223372036854776e+18, '~', 1, 'enumber has no integer representation'),
    (2.0, '^', 3, 'f8.0/4020000000000000'),
    (-1, '%', 0.1, 'f5.5511151231258e-17/3c90000000000000'),
    (NAN, '|', 3.5, 'enumber has no integer representation'),
    (7, '%', -64, 'i-57'),
    (-0.0, '/', -7, 'f0.0/0000000000000000'),
    (0.0, '^', 9223372036854775807, 'f0.0/0000000000000000'),
    (1.0, '~', -7, 'i-8'),
    (NAN, '|', -1, 'enumber has no integer representation'),
    (0.1, '^', 3, 'f0.001/3f50624dd2f1a9fd'),
    (-0.0, '|', 7, 'i7'),
    (7, '^', 1.0, 'f7.0/401c000000000000'),
    (0, '>>', 9223372036854775807, 'i0'),
    (0, '//', 2.0, 'f0.0/0000000000000000'),
    (64, '<<', 9223372036854775807, 'i0'),
    (9223372036854775807, '*', INF, 'finf/7ff0000000000000'),
    (-9223372036854775808, '%', INF, 'finf/7ff0000000000000'),
    (9223372036854775807, '&', 64, 'i64'),
    (9.223372036854776e+18, '/', -1, 'f-9.2233720368548e+18/c3e0000000000000'),
    (0, '>>', 0.1, 'enumber has no integer representation'),
    (NAN, '&', -1, 'enumber has no integer representation'),
    (9.223372036854776e+18, '~', 63, 'enumber has no integer representation'),
    (3, '&', -1, 'i3'),
    (-9223372036854775808, '+', -INF, 'f-inf/fff0000000000000'),
    (9223372036854775807, '^', 7, 'f5.6784275335594e+132/5b80000000000000'),
    (3.5, '>>', INF, 'enumber has no integer representation'),
    (64, '/', 9.223372036854776e+18, 'f6.9388939039072e-18/3c60000000000000'),
    (-0.0, '<<', 9223372036854775807, 'i0'),
    (3.5, '-', 0.0, 'f3.5/400c000000000000'),
    (7, '~', 64, 'i71'),
    (0, '-', -7.5, 'f7.5/401e000000000000'),
    (0.1, '&', 1.0, 'enumber has no integer representation'),
    (-0.0, '<<', -0.0, 'i0'),
    (-9223372036854775808, '&', 2.0, 'i0'),
    (-0.0, '>>', 64, 'i0'),
    (-7.5, '%', -9223372036854775808, 'f-7.5/c01e000000000000'),
    (0.0, '~', 9.223372036854776e+18, 'enumber has no integer representation'),
    (-64, '-', 1, 'i-65'),
    (-64, '*', NAN, 'f-nan/fff8000000000000'),
    (-64, '-', -1, 'i-63'),
    (7, '>>', 0, 'i7'),
    (NAN, '<<', -0.0, 'enumber has no integer representation'),
    (7, '-', -1, 'i8'),
    (0, '/', -1, 'f-0.0/8000000000000000'),
    (3.5, '*', 64, 'f224.0/406c000000000000'),
    (64, '+', 3, 'i67'),
    (1, '<<', -INF, 'enumber has no integer representation'),
    (0, '-', 1, 'i-1'),
    (-0.0, '|', -7.5, 'enumber has no integer representation'),
    (2.0, '>>', 7, 'i0'),
    (-7.5, '/', -1, 'f7.5/401e000000000000'),
    (-7, '//', INF, 'f-0.0/8000000000000000'),
    (INF, '|', 3, 'enumber has no integer representation'),
    (3.5, '//', -0.0, 'f-inf/fff0000000000000'),
    (1.0, '*', 0.1, 'f0.1/3fb999999999999a'),
    (-7.5, '*', -64, 'f480.0/407e000000000000'),
    (9223372036854775807, '>>', -1, 'i-2'),
    (-INF, '~', 3, 'enumber has no integer representation'),
    (9.223372036854776e+18, '/', -INF, 'f-0.0/8000000000000000'),
    (3.5, '+', INF, 'finf/7ff0000000000000'),
    (3, '//', -1, 'i-3'),
    (64, '>>', 3, 'i8'),
    (2.0, '/', 7, 'f0.28571428571429/3fd2492492492492'),
    (3.5, '~', 64, 'enumber has no integer representation'),
    (2.0, '%', 2.0, 'f0.0/0000000000000000'),
    (-9223372036854775808, '-', 3, 'i9223372036854775805'),
    (1.0, '&', -7.5, 'enumber has no integer representation'),
    (-0.0, '/', 63, 'f-0.0/8000000000000000'),
    (9223372036854775807, '%', 1, 'i0'),
    (9223372036854775807, '|', 0.0, 'i9223372036854775807'),
    (NAN, '>>', 7, 'enumber has no integer representation'),
    (-7.5, '-', 63, 'f-70.5/c051a00000000000'),
    (INF, '|', 0, 'enumber has no integer representation'),
    (-7, '/', -1, 'f7.0/401c000000000000'),
    (0, '//', 9.223372036854776e+18, 'f0.0/0000000000000000'),
    (-7.5, '/', -9223372036854775808, 'f8.1315162936413e-19/3c2e000000000000'),
    (64, '^', -INF, 'f0.0/0000000000000000'),
    (-7.5, '/', 1, 'f-7.5/c01e000000000000'),
    (3.5, '-', 1.0, 'f2.5/4004000000000000'),
    (9.223372036854776e+18, '/', -0.0, 'f-inf/fff0000000000000'),
    (0, '^', 3, 'f0.0/0000000000000000'),
    (63, '~', 9.223372036854776e+18, 'enumber has no integer representation'),
    (-7.5, '/', INF, 'f-0.0/8000000000000000'),
    (-0.0, '<<', -7.5, 'enumber has no integer representation'),
    (-7, '+', 7, 'i0'),
    (7, '|', INF, 'enumber has no integer representation'),
    (-1, '|', 1, 'i-1'),
    (-1, '<<', 9223372036854775807, 'i0'),
    (3, '<<', 0.0, 'i3'),
    (9223372036854775807, '-', 3.5, 'f9.2233720368548e+18/43e0000000000000'),
    (NAN, '*', 3, 'f-nan/fff8000000000000'),
    (-1, '^', 9223372036854775807, 'f1.0/3ff0000000000000'),
    (0.1, '%', -INF, 'f-inf/fff0000000000000'),
    (-64, '|', 3, 'i-61'),
]

# lua5.4's messages for the errors the operators raise
MATH_CASES = [
    (L.math_floor, 3.7, 3), (L.math_floor, -3.5, -4), (L.math_floor, 1e100, 1e100),
    (L.math_floor, 2.0**63, 2.0**63), (L.math_ceil, 3.2, 4), (L.math_ceil, -0.5, 0),
    (L.math_ceil, -2.0**63, -2**63), (L.math_floor, 5, 5),
    (L.math_abs, -2**63, -2**63), (L.math_abs, -0.0, 0.0),
    (L.math_tointeger, b"8", 8), (L.math_tointeger, 3.0, 3), (L.math_tointeger, b"x", None),
    (L.math_tointeger, 2.0**63, None), (L.math_tointeger, b" 8 ", 8),
    (L.math_tointeger, b"0x10", 16), (L.math_tointeger, b"8.0", 8),
    (L.math_type, 1, b"integer"), (L.math_type, 1.0, b"float"), (L.math_type, b"1", None),
]


@pytest.mark.parametrize("value, text", TOSTRING)
def test_tostring_float(value, text):
    assert L.tostring_number(value) == text


def test_tostring_integer():
    assert L.tostring_number(-2**63) == b"-9223372036854775808"
    assert L.tostring_number(0) == b"0"


@pytest.mark.parametrize("text, expected", STR2NUMBER)
def test_str2number(text, expected):
    assert outcome(L.str2number, text) == expected


@pytest.mark.parametrize("text, base, expected", TONUMBER_BASE)
def test_tonumber_base(text, base, expected):
    assert outcome(L.tonumber_base, text, base) == expected


@pytest.mark.parametrize("a, op, b, expected", ARITH)
def test_arith_table(a, op, b, expected):
    assert outcome(L.arith, op, a, b) == expected


@pytest.mark.parametrize("fn, arg, expected", MATH_CASES)
def test_math_helpers(fn, arg, expected):
    assert encode(fn(arg)) == encode(expected)


def test_integer_errors_and_wraparound():
    with pytest.raises(LuaLibError, match="^attempt to divide by zero$"):
        L.arith("//", 1, 0)
    with pytest.raises(LuaLibError, match="^attempt to perform 'n%0'$"):
        L.arith("%", 1, 0)
    with pytest.raises(LuaLibError, match="^number has no integer representation$"):
        L.bnot(1.5)
    assert L.arith("//", -2**63, -1) == -2**63
    assert L.arith("%", -2**63, -1) == 0
    assert L.arith("+", 2**63 - 1, 1) == -2**63
    assert L.unm(-2**63) == -2**63
    assert L.arith("//", 1.0, 0.1) == 10.0
    assert L.arith(">>", -1, 1) == 2**63 - 1
    assert L.arith(">>", 3, -2**63) == 0
    assert L.math_fmod(-6, 4) == -2 and L.math_fmod(-2**63, -1) == 0
    with pytest.raises(LuaLibError, match=r"^bad argument #2 to 'fmod' \(zero\)$"):
        L.math_fmod(5, 0)


def test_mixed_comparisons_are_exact():
    big = 2**63 - 1
    assert not L.eq(big + 0.0, big) and L.lt(big, big + 0.0)
    assert not L.eq(2**53 + 1, 2.0**53) and L.lt(2.0**53, 2**53 + 1)
    assert not L.lt(1, NAN) and not L.le(NAN, 1) and not L.eq(NAN, NAN)


def test_arg_integer():
    assert L.arg_integer(3.0) == 3 and L.arg_integer(b"0x10") == 16
    assert L.arg_integer(b"abc") is None and L.arg_integer(None) is None
    with pytest.raises(LuaLibError, match="no integer representation"):
        L.arg_integer(b"3.5")


# --- against lua5.4 --------------------------------------------------------

EDGE_INTS = [0, 1, -1, 2, 3, 63, 64, 65, -64, 2**53, 2**53 + 1, 2**63 - 1, -2**63, -2**63 + 1]
EDGE_FLOATS = [0.0, -0.0, 0.5, -0.5, 1.0, 2.0, 0.1, 2.0**53, 2.0**63, -2.0**63, 1e308,
               INF, -INF, NAN, -NAN, 5e-324]
ints = st.one_of(st.sampled_from(EDGE_INTS), st.integers(-2**63, 2**63 - 1),
                 st.integers(-100, 100))
floats = st.one_of(st.sampled_from(EDGE_FLOATS), st.floats(allow_nan=False),
                   st.floats(-100, 100).map(lambda f: round(f, 1)),
                   st.integers(-2**64, 2**64).map(float))
numbers = st.one_of(ints, floats)
OPS = ["+", "-", "*", "/", "%", "//", "^", "&", "|", "~", "<<", ">>"]


def _show_mismatches(bad):
    return "\n".join("%r: lua5.4 %s, ours %s" % row for row in bad[:20])


def _bits(f):
    return struct.unpack("<Q", struct.pack("<d", f))[0]


def _numbers_check(n):
    cases = gather(st.tuples(numbers, st.sampled_from(OPS), numbers), n)
    bad = compare(cases,
                  lambda c: "show(pcall(function() return %s %s %s end))"
                  % (lua_literal(c[0]), c[1], lua_literal(c[2])),
                  lambda c: outcome(L.arith, c[1], c[0], c[2]))
    assert not bad, _show_mismatches(bad)


@needs_lua
def test_arith_against_lua():
    _numbers_check(1500)


@needs_lua
@pytest.mark.slow
def test_arith_against_lua_deep():
    _numbers_check(20000)


@needs_lua
def test_unary_and_comparisons_against_lua():
    cases = gather(st.tuples(numbers, numbers), 600)
    bad = compare(cases,
                  lambda c: "show(pcall(function() return -{a}, ~{a}, {a} < {b}, {a} <= {b}, "
                  "{a} == {b} end))".format(a=lua_literal(c[0]), b=lua_literal(c[1])),
                  lambda c: outcome(lambda a, b: (L.unm(a), L.bnot(a), L.lt(a, b),
                                                  L.le(a, b), L.eq(a, b)), *c))
    assert not bad, _show_mismatches(bad)


@needs_lua
def test_float_printing_against_lua():
    cases = gather(floats, 1500)
    bad = compare(cases, lambda f: "print(tostring(%s))" % lua_literal(f),
                  lambda f: L.tostring_number(f).decode())
    assert not bad, _show_mismatches(bad)


SPACE = st.sampled_from([b"", b"", b" ", b"\t", b"\n ", b"\v\f\r"])
DIGITS = st.text("0123456789", max_size=22).map(str.encode)
HEXDIGITS = st.text("0123456789abcdefABCDEF", max_size=20).map(str.encode)


@st.composite
def numerals(draw):
    """Strings near Lua's numeral grammar: mostly valid, sometimes slightly off."""
    sign = draw(st.sampled_from([b"", b"", b"-", b"+", b"--"]))
    if draw(st.booleans()):
        body = draw(DIGITS) + draw(st.sampled_from([b"", b"", b".", b"."])) + draw(DIGITS)
        if draw(st.booleans()):
            body += draw(st.sampled_from([b"e", b"E", b"e+", b"e-"])) + draw(DIGITS)[:4]
    else:
        body = draw(st.sampled_from([b"0x", b"0X"])) + draw(HEXDIGITS)
        if draw(st.booleans()):
            body += b"." + draw(HEXDIGITS)
        if draw(st.booleans()):
            body += draw(st.sampled_from([b"p", b"P", b"p-", b"p+"])) + draw(DIGITS)[:5]
    junk = draw(st.sampled_from([b""] * 8 + [b"x", b"n", b"\0", b"1 2", b"."]))
    return draw(SPACE) + sign + body + junk + draw(SPACE)


@needs_lua
def test_str2number_against_lua():
    cases = gather(st.one_of(numerals(), st.binary(max_size=6)), 1500)
    bad = compare(cases, lambda s: "show(true, tonumber(%s))" % lua_literal(s),
                  lambda s: outcome(L.str2number, s))
    assert not bad, _show_mismatches(bad)


@needs_lua
def test_tonumber_base_against_lua():
    alnum = st.text("0123456789abcdefghijklmnopqrstuvwxyzXYZ +-", max_size=16).map(str.encode)
    cases = gather(st.tuples(alnum, st.integers(2, 36)), 800)
    bad = compare(cases, lambda c: "show(true, tonumber(%s, %d))" % (lua_literal(c[0]), c[1]),
                  lambda c: outcome(L.tonumber_base, *c))
    assert not bad, _show_mismatches(bad)


@needs_lua
def test_math_functions_against_lua():
    cases = gather(st.tuples(numbers, numbers), 600)
    bad = compare(cases,
                  lambda c: "show(pcall(function() local a, b = %s, %s return math.floor(a), "
                  "math.ceil(a), math.abs(a), math.tointeger(a), math.fmod(a, b), "
                  "math.ult(math.tointeger(a) or 0, math.tointeger(b) or 0) end))"
                  % (lua_literal(c[0]), lua_literal(c[1])),
                  lambda c: outcome(lambda a, b: (
                      L.math_floor(a), L.math_ceil(a), L.math_abs(a), L.math_tointeger(a),
                      L.math_fmod(a, b),
                      L.math_ult(L.math_tointeger(a) or 0, L.math_tointeger(b) or 0)), *c))
    assert not bad, _show_mismatches(bad)


def test_very_long_numerals():
    # lua5.4 gives: 12, inf, inf, 0.0, 8.0, math.mininteger
    assert L.str2number(b"0" * 5000 + b"12") == 12
    assert L.str2number(b"9" * 5000) == INF
    assert L.str2number(b"0x1p" + b"1" * 5000) == INF
    assert L.str2number(b"0x1p-" + b"1" * 5000) == 0.0
    assert L.str2number(b"0x1p" + b"0" * 5000 + b"3") == 8.0
    assert L.str2number(b"-" + b"0" * 30 + b"9223372036854775808") == -2**63
