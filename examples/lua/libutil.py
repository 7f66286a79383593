"""Argument checking for the library functions, worded as lauxlib words it.

A library function is ``fn(state, args) -> list``; ``args`` is a list of Lua
values.  A bad argument raises ``LuaArgError(n, 'number expected, got nil')``; the
VM completes it with the function's name as the call site names it.
"""
from __future__ import annotations

from metajit.examples.lua import lnumbers
from metajit.examples.lua.objects import Builtin, LuaArgError, LuaTable
from metajit.examples.lua.runtime import type_name


def arg(args: list, i: int):
    """Argument i (1-based), or None when absent."""
    return args[i - 1] if i <= len(args) else None


def typename_of_arg(args: list, i: int) -> str:
    return "no value" if i > len(args) else type_name(args[i - 1])


def type_error(args: list, i: int, expected: str) -> LuaArgError:
    return LuaArgError(i, "%s expected, got %s" % (expected, typename_of_arg(args, i)))


def check_any(args: list, i: int) -> None:
    if i > len(args):
        raise LuaArgError(i, "value expected")


def check_table(args: list, i: int) -> LuaTable:
    v = arg(args, i)
    if type(v) is not LuaTable:
        raise type_error(args, i, "table")
    return v


def check_integer(args: list, i: int) -> int:
    v = arg(args, i)
    if type(v) is int:
        return v
    if type(v) is float:
        n = lnumbers.float_to_integer(v)
        if n is None:
            raise LuaArgError(i, "number has no integer representation")
        return n
    if type(v) is bytes:
        n = lnumbers.str2number(v)
        if n is not None:
            if type(n) is int:
                return n
            m = lnumbers.float_to_integer(n)
            if m is None:
                raise LuaArgError(i, "number has no integer representation")
            return m
    raise type_error(args, i, "number")


def opt_integer(args: list, i: int, default: int) -> int:
    if arg(args, i) is None:
        return default
    return check_integer(args, i)


def check_number(args: list, i: int):
    v = arg(args, i)
    if type(v) is int or type(v) is float:
        return v
    if type(v) is bytes:
        n = lnumbers.str2number(v)
        if n is not None:
            return n
    raise type_error(args, i, "number")


def check_string(args: list, i: int) -> bytes:
    v = arg(args, i)
    if type(v) is bytes:
        return v
    if type(v) is int or type(v) is float:
        return lnumbers.tostring_number(v)
    raise type_error(args, i, "string")


def register(table: LuaTable, prefix: str, functions: dict) -> None:
    for name, fn in functions.items():
        table.set(name.encode(), Builtin(prefix + name, fn))
