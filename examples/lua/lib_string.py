"""The string library and the string metatable (so that ``s:upper()`` works)."""
from __future__ import annotations

import re

from metajit.examples.lua import lformat, lpatterns, runtime
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.libutil import (arg, check_integer, check_string, opt_integer,
                                          register, type_error)
from metajit.examples.lua.objects import Builtin, LuaArgError, LuaFunction, LuaTable

MAXSIZE = 0x7FFFFFFF
BAD_ARGUMENT = re.compile(r"^bad argument #(\d+) to '[^']*' \((.*)\)$", re.S)


def str_range(length: int, i: int, j: int):
    """lua5.4's posrelat for string.sub/byte: 0-based start and end (exclusive)."""
    if i < 0:
        i = max(length + i + 1, 1)
    elif i == 0:
        i = 1
    if j < 0:
        j = length + j + 1
    elif j > length:
        j = length
    return i - 1, j


def s_len(state, args):
    return [len(check_string(args, 1))]


def s_sub(state, args):
    s = check_string(args, 1)
    i = opt_integer(args, 2, 1)
    j = opt_integer(args, 3, -1)
    start, end = str_range(len(s), i, j)
    if start >= end:
        return [b""]
    return [s[start:end]]


def s_upper(state, args):
    return [check_string(args, 1).upper()]


def s_lower(state, args):
    return [check_string(args, 1).lower()]


def s_rep(state, args):
    s = check_string(args, 1)
    n = check_integer(args, 2)
    sep = arg(args, 3)
    sep = b"" if sep is None else check_string(args, 3)
    if n <= 0:
        return [b""]
    total = len(s) * n + len(sep) * (n - 1)
    if total > MAXSIZE:
        raise LuaLibError("resulting string too large")
    if sep:
        return [sep.join([s] * n)]
    return [s * n]


def s_reverse(state, args):
    return [check_string(args, 1)[::-1]]


def s_byte(state, args):
    s = check_string(args, 1)
    i = opt_integer(args, 2, 1)
    j = opt_integer(args, 3, i)
    start, end = str_range(len(s), i, j)
    return list(s[start:end]) if start < end else []


def s_char(state, args):
    out = bytearray()
    for i in range(1, len(args) + 1):
        c = check_integer(args, i)
        if not 0 <= c <= 255:
            raise LuaArgError(i, "value out of range")
        out.append(c)
    return [bytes(out)]


def s_format(state, args):
    fmt = check_string(args, 1)
    # a call from Lua code names the function as the call site does, one from a
    # library function (pcall) by its global name, as lua5.4 does
    fname = "format" if state.called_from_lua else "string.format"
    try:
        return [lformat.format(fmt, args[1:], lambda v: runtime.tostring(state, v),
                               runtime.type_name, fname)]
    except LuaLibError as exc:
        # an argument error goes through the VM, which names the function as
        # the call site does (a method call counts arguments from the receiver)
        m = BAD_ARGUMENT.match(str(exc.args[0]))
        if m is None or not state.called_from_lua:
            raise
        raise LuaArgError(int(m.group(1)), m.group(2))


def pattern_args(args):
    s = check_string(args, 1)
    p = check_string(args, 2)
    init = opt_integer(args, 3, 1)
    return s, p, init


def s_find(state, args):
    s, p, init = pattern_args(args)
    plain = arg(args, 4)
    r = lpatterns.find(s, p, init, plain is not None and plain is not False)
    if r is None:
        return [None]
    return list(r)


def s_match(state, args):
    s, p, init = pattern_args(args)
    r = lpatterns.match(s, p, init)
    if r is None:
        return [None]
    return list(r)


def s_gmatch(state, args):
    s = check_string(args, 1)
    p = check_string(args, 2)
    init = opt_integer(args, 3, 1)
    it = lpatterns.gmatch(s, p, init)

    def step(state, args):
        r = next(it, None)
        if r is None:
            return []
        return list(r)
    return [Builtin("gmatch_iterator", step)]


def s_gsub(state, args):
    s = check_string(args, 1)
    p = check_string(args, 2)
    repl = arg(args, 3)
    max_n = arg(args, 4)
    if max_n is not None:
        max_n = check_integer(args, 4)
    t = type(repl)
    if t is bytes:
        r = repl
    elif t is int or t is float:
        r = runtime.lnumbers.tostring_number(repl)
    elif t is LuaTable:
        def r(captures):
            return lookup_value(state, runtime.index(state, repl, captures[0], None))
    elif t is LuaFunction or t is Builtin:
        def r(captures):
            results = state.call(repl, list(captures))
            return lookup_value(state, results[0] if results else None)
    else:
        raise type_error(args, 3, "string/function/table")
    result, n = lpatterns.gsub(s, p, r, max_n, runtime.type_name)
    return [result, n]


def lookup_value(state, v):
    t = type(v)
    if v is None or v is False or t is bytes:
        return v
    if t is int or t is float:
        return runtime.lnumbers.tostring_number(v)
    raise LuaLibError("invalid replacement value (a %s)" % runtime.type_name(v))


def open_string(state) -> LuaTable:
    string = LuaTable()
    register(string, "string.", {
        "len": s_len, "sub": s_sub, "upper": s_upper, "lower": s_lower, "rep": s_rep,
        "reverse": s_reverse, "byte": s_byte, "char": s_char, "format": s_format,
        "find": s_find, "match": s_match, "gmatch": s_gmatch, "gsub": s_gsub,
    })
    meta = LuaTable()
    meta.set(b"__index", string)
    state.string_meta = meta
    return string
