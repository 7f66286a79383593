"""The utf8 library (lua5.4's lutf8lib: strict decoding, up to 0x7FFFFFFF with
``lax``)."""
from __future__ import annotations

from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.lexer import utf8_encode
from metajit.examples.lua.libutil import (arg, check_integer, check_string, opt_integer,
                                          register)
from metajit.examples.lua.objects import Builtin, LuaArgError, LuaTable

MAXUNICODE = 0x10FFFF
MAXUTF = 0x7FFFFFFF
LIMITS = (0xFFFFFFFF, 0x80, 0x800, 0x10000, 0x200000, 0x4000000)


def decode(s: bytes, i: int, strict: bool):
    """(code point, next index) of the sequence at 0-based ``i``, or None."""
    c = s[i]
    if c < 0x80:
        return c, i + 1
    res = 0
    count = 0
    while c & 0x40:
        count += 1
        if i + count >= len(s):
            return None
        cc = s[i + count]
        if cc & 0xC0 != 0x80:
            return None
        res = (res << 6) | (cc & 0x3F)
        c <<= 1
    res |= (c & 0x7F) << (count * 5)
    if count > 5 or res > MAXUTF or res < LIMITS[count]:  # (count checked first)
        return None
    if strict and (res > MAXUNICODE or 0xD800 <= res <= 0xDFFF):
        return None
    return res, i + count + 1


def u_char(state, args):
    out = bytearray()
    for i in range(1, len(args) + 1):
        code = check_integer(args, i)
        if not 0 <= code <= MAXUTF:
            raise LuaArgError(i, "value out of range")
        out += utf8_encode(code)
    return [bytes(out)]


def byte_range(length: int, i: int) -> int:
    """lua5.4's u_posrelat: a negative position counts from the end."""
    if i >= 0:
        return i
    if -i > length:
        return 0
    return length + i + 1


def u_codepoint(state, args):
    s = check_string(args, 1)
    i = byte_range(len(s), opt_integer(args, 2, 1))
    j = byte_range(len(s), opt_integer(args, 3, i))
    lax = arg(args, 4)
    if i < 1:
        raise LuaArgError(2, "out of bounds")
    if j > len(s):
        raise LuaArgError(3, "out of bounds")
    out = []
    pos = i - 1
    while pos < j:
        r = decode(s, pos, not lax)
        if r is None:
            raise LuaLibError("invalid UTF-8 code")
        out.append(r[0])
        pos = r[1]
    return out


def u_len(state, args):
    s = check_string(args, 1)
    i = byte_range(len(s), opt_integer(args, 2, 1))
    j = byte_range(len(s), opt_integer(args, 3, -1))
    lax = arg(args, 4)
    if not 1 <= i <= len(s) + 1:
        raise LuaArgError(2, "initial position out of bounds")
    if j > len(s):
        raise LuaArgError(3, "final position out of bounds")
    n = 0
    pos = i - 1
    while pos < j:
        r = decode(s, pos, not lax)
        if r is None:
            return [None, pos + 1]
        pos = r[1]
        n += 1
    return [n]


def is_cont(s: bytes, i: int) -> bool:
    return 0 <= i < len(s) and s[i] & 0xC0 == 0x80


def u_offset(state, args):
    s = check_string(args, 1)
    n = check_integer(args, 2)
    default = 1 if n >= 0 else len(s) + 1
    i = byte_range(len(s), opt_integer(args, 3, default)) - 1
    if not 0 <= i <= len(s):
        raise LuaArgError(3, "position out of bounds")
    if n == 0:
        while i > 0 and is_cont(s, i):
            i -= 1
        return [i + 1]
    if is_cont(s, i):
        raise LuaLibError("initial position is a continuation byte")
    if n < 0:
        while n < 0 and i > 0:
            i -= 1
            while i > 0 and is_cont(s, i):
                i -= 1
            n += 1
    else:
        n -= 1
        while n > 0 and i < len(s):
            i += 1
            while is_cont(s, i):
                i += 1
            n -= 1
    if n == 0:
        return [i + 1]
    return [None]


def u_codes(state, args):
    s = check_string(args, 1)
    lax = arg(args, 2)

    def step(state, iter_args):
        pos = check_integer(iter_args, 2)
        i = pos - 1 if pos > 0 else 0
        if pos > 0:
            i += 1
            while is_cont(s, i):
                i += 1
        if i >= len(s):
            return []
        r = decode(s, i, not lax)
        if r is None:
            raise LuaLibError("invalid UTF-8 code")
        return [i + 1, r[0]]
    return [Builtin("utf8.codes_iterator", step), s, 0]


def open_utf8(state) -> LuaTable:
    u = LuaTable()
    register(u, "utf8.", {"char": u_char, "codepoint": u_codepoint, "len": u_len,
                          "offset": u_offset, "codes": u_codes})
    u.set(b"charpattern", b"[\x00-\x7F\xC2-\xFD][\x80-\xBF]*")
    return u
