"""The math library; ``math.random`` is lua5.4's xoshiro256** (lrandom)."""
from __future__ import annotations

import math

from metajit.examples.lua import lnumbers, runtime
from metajit.examples.lua.libutil import (arg, check_any, check_integer, check_number,
                                          register)
from metajit.examples.lua.objects import LuaArgError, LuaTable


def safe(fn, x):
    try:
        return fn(x)
    except ValueError:
        return -math.nan
    except OverflowError:
        return math.inf


def m_floor(state, args):
    return [lnumbers.math_floor(check_number(args, 1))]


def m_ceil(state, args):
    return [lnumbers.math_ceil(check_number(args, 1))]


def m_abs(state, args):
    return [lnumbers.math_abs(check_number(args, 1))]


def m_sqrt(state, args):
    x = float(check_number(args, 1))
    return [math.sqrt(x) if x >= 0 else (x if x != x else -math.nan)]


def m_exp(state, args):
    return [safe(math.exp, float(check_number(args, 1)))]


def m_log(state, args):
    x = float(check_number(args, 1))
    base = arg(args, 2)

    def ln(v):
        if v == 0.0:
            return -math.inf
        if v < 0:
            return -math.nan
        if v != v or v == math.inf:
            return v
        return math.log(v)
    if base is None:
        return [ln(x)]
    b = float(check_number(args, 2))
    if b == 2.0:
        return [math.log2(x) if x > 0 and x != math.inf else ln(x)]
    if b == 10.0:
        return [math.log10(x) if x > 0 and x != math.inf else ln(x)]
    return [ln(x) / ln(b) if ln(b) != 0 else lnumbers.float_div(ln(x), ln(b))]


def m_trig(fn):
    def wrapped(state, args):
        return [safe(fn, float(check_number(args, 1)))]
    return wrapped


def m_atan(state, args):
    y = float(check_number(args, 1))
    x = float(check_number(args, 2)) if arg(args, 2) is not None else 1.0
    return [math.atan2(y, x)]


def m_fmod(state, args):
    a = check_number(args, 1)
    b = check_number(args, 2)
    if type(a) is int and type(b) is int and b == 0:
        raise LuaArgError(2, "zero")
    return [lnumbers.math_fmod(a, b)]


def m_modf(state, args):
    x = check_number(args, 1)
    if type(x) is int:
        return [x, 0.0]
    if x != x:
        return [x, x]
    ip = float(math.ceil(x)) if x < 0 else (float(math.floor(x)) if x != math.inf else x)
    if x == -math.inf:
        ip = x
    as_int = lnumbers.float_to_integer(ip)
    return [ip if as_int is None else as_int, 0.0 if x == ip else x - ip]


def m_tointeger(state, args):
    v = arg(args, 1)
    if type(v) is int:
        return [v]
    if type(v) is float:
        return [lnumbers.float_to_integer(v)]
    if type(v) is bytes:
        n = lnumbers.str2number(v)
        if n is None:
            return [None]
        return [n if type(n) is int else lnumbers.float_to_integer(n)]
    check_any(args, 1)
    return [None]


def m_type(state, args):
    check_any(args, 1)
    v = args[0]
    if type(v) is int:
        return [b"integer"]
    if type(v) is float:
        return [b"float"]
    return [None]


def m_ult(state, args):
    return [lnumbers.math_ult(check_integer(args, 1), check_integer(args, 2))]


def extreme(args: list, larger: bool):
    if not args:
        raise LuaArgError(1, "value expected")
    best = check_number(args, 1)
    for i in range(2, len(args) + 1):
        v = check_number(args, i)
        if (best < v) if larger else (v < best):
            best = v
    return [best]


def m_max(state, args):
    return extreme(args, True)


def m_min(state, args):
    return extreme(args, False)


def m_random(state, args):
    return [state.random.random(args, typename=runtime.type_name)]


def m_randomseed(state, args):
    return list(state.random.randomseed(args, typename=runtime.type_name))


def m_deg(state, args):
    return [float(check_number(args, 1)) * (180.0 / math.pi)]


def m_rad(state, args):
    return [float(check_number(args, 1)) * (math.pi / 180.0)]


def m_pow(state, args):
    return [lnumbers.float_pow(float(check_number(args, 1)), float(check_number(args, 2)))]


def m_log10(state, args):
    x = float(check_number(args, 1))
    return [m_log(state, [x, 10.0])[0]]


def m_frexp(state, args):
    x = float(check_number(args, 1))
    if x != x or x in (math.inf, -math.inf) or x == 0.0:
        return [x, 0]
    m, e = math.frexp(x)
    return [m, e]


def m_ldexp(state, args):
    x = float(check_number(args, 1))
    e = check_integer(args, 2)
    try:
        return [math.ldexp(x, max(min(e, 100000), -100000))]
    except OverflowError:
        return [math.copysign(math.inf, x)]


def open_math(state) -> LuaTable:
    m = LuaTable()
    register(m, "math.", {
        "floor": m_floor, "ceil": m_ceil, "abs": m_abs, "sqrt": m_sqrt, "exp": m_exp,
        "log": m_log, "sin": m_trig(math.sin), "cos": m_trig(math.cos),
        "tan": m_trig(math.tan), "asin": m_trig(math.asin), "acos": m_trig(math.acos),
        "atan": m_atan, "fmod": m_fmod, "modf": m_modf, "tointeger": m_tointeger,
        "type": m_type, "ult": m_ult, "max": m_max, "min": m_min, "random": m_random,
        "randomseed": m_randomseed, "deg": m_deg, "rad": m_rad,
        # lua5.4 as Debian builds it keeps 5.3's compatibility functions
        "atan2": m_atan, "pow": m_pow, "log10": m_log10, "frexp": m_frexp,
        "ldexp": m_ldexp, "cosh": m_trig(math.cosh), "sinh": m_trig(math.sinh),
        "tanh": m_trig(math.tanh),
    })
    m.set(b"pi", math.pi)
    m.set(b"huge", math.inf)
    m.set(b"maxinteger", (1 << 63) - 1)
    m.set(b"mininteger", -(1 << 63))
    return m
