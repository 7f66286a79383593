"""The table library; ``table.sort`` is lua5.4's own quicksort, so the order of
elements that compare equal is the reference's too."""
from __future__ import annotations

from metajit.examples.lua import runtime
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.libutil import (arg, check_integer, check_table, opt_integer,
                                          register, type_error)
from metajit.examples.lua.lib_base import lua_unpack
from metajit.examples.lua.objects import Builtin, LuaArgError, LuaFunction, LuaTable

RANLIMIT = 100


def length_of(state, t) -> int:
    if type(t) is LuaTable and t.metatable is None:
        return t.length()
    n = runtime.length(state, t)
    if type(n) is not int:
        raise LuaLibError("object length is not an integer")
    return n


def get(state, t, i):
    if type(t) is LuaTable and t.metatable is None:
        return t.get_int(i)
    return runtime.index(state, t, i, None)


def put(state, t, i, v):
    if type(t) is LuaTable and t.metatable is None:
        t.set_int(i, v)
    else:
        runtime.setindex(state, t, i, v, None)


def t_insert(state, args):
    t = check_table(args, 1)
    e = length_of(state, t) + 1
    if len(args) == 2:
        v = args[1]
        if t.metatable is None and e == len(t.arr) + 1:
            t.set_int(e, v)
        else:
            put(state, t, e, v)
        return []
    if len(args) != 3:
        raise LuaLibError("wrong number of arguments to 'insert'")
    pos = check_integer(args, 2)
    if not 1 <= pos <= e:
        raise LuaArgError(2, "position out of bounds")
    v = args[2]
    if t.metatable is None:
        t.insert(pos, v)
        return []
    i = e
    while i > pos:
        put(state, t, i, get(state, t, i - 1))
        i -= 1
    put(state, t, pos, v)
    return []


def t_remove(state, args):
    t = check_table(args, 1)
    size = length_of(state, t)
    pos = opt_integer(args, 2, size)
    if pos != size and not 1 <= pos <= size + 1:
        raise LuaArgError(1, "position out of bounds")     # sic: lua5.4.4 says #1
    if t.metatable is None and size == len(t.arr) and 1 <= pos <= size:
        v = t.get_int(pos)
        if pos == size:
            t.set_int(pos, None)
        else:
            del t.arr[pos - 1]
            while t.arr and t.arr[-1] is None:
                t.arr.pop()
        return [v]
    v = get(state, t, pos)
    while pos < size:
        put(state, t, pos, get(state, t, pos + 1))
        pos += 1
    put(state, t, pos, None)
    return [v]


def t_concat(state, args):
    t = check_table(args, 1)
    sep = arg(args, 2)
    if sep is None:
        sep = b""
    elif type(sep) is not bytes:
        if type(sep) is int or type(sep) is float:
            sep = runtime.lnumbers.tostring_number(sep)
        else:
            raise type_error(args, 2, "string")
    i = opt_integer(args, 3, 1)
    j = check_integer(args, 4) if arg(args, 4) is not None else length_of(state, t)
    parts = []
    k = i
    while k <= j:
        v = get(state, t, k)
        if type(v) is bytes:
            parts.append(v)
        elif type(v) is int or type(v) is float:
            parts.append(runtime.lnumbers.tostring_number(v))
        else:
            raise LuaLibError("invalid value (%s) at index %d in table for 'concat'" % (
                runtime.type_name(v), k))
        k += 1
    return [sep.join(parts)]


def t_pack(state, args):
    t = LuaTable()
    for i, v in enumerate(args):
        t.set_int(i + 1, v)
    t.set(b"n", len(args))
    return [t]


def t_move(state, args):
    a1 = check_table(args, 1)
    f = check_integer(args, 2)
    e = check_integer(args, 3)
    tpos = check_integer(args, 4)
    a2 = arg(args, 5)
    if a2 is None:
        a2 = a1
    elif type(a2) is not LuaTable:
        raise type_error(args, 5, "table")
    if e >= f:
        if not (f > 0 or e < (1 << 63) - 1 + f):
            raise LuaArgError(3, "too many elements to move")
        if tpos > (1 << 63) - 1 - (e - f) :
            raise LuaArgError(4, "destination wrap around")
        if tpos > e or tpos <= f or a1 is not a2:
            for i in range(e - f + 1):
                put(state, a2, tpos + i, get(state, a1, f + i))
        else:
            for i in range(e - f, -1, -1):
                put(state, a2, tpos + i, get(state, a1, f + i))
    return [a2]


class Sorter:
    """ltablib.c's auxsort over a Python list (a[1..n] at indices 1..n)."""

    def __init__(self, state, items: list, comp):
        self.state = state
        self.a = items
        self.comp = comp

    def less(self, x, y) -> bool:
        if self.comp is None:
            return runtime.less_than(self.state, x, y)
        r = self.state.call(self.comp, [x, y])
        return bool(r) and r[0] is not None and r[0] is not False

    def sort(self, lo: int, up: int, rnd: int) -> None:
        a = self.a
        while lo < up:
            if self.less(a[up], a[lo]):
                a[lo], a[up] = a[up], a[lo]
            if up - lo == 1:
                break
            if up - lo < RANLIMIT or rnd == 0:
                p = (lo + up) // 2
            else:
                r4 = (up - lo) // 4
                p = rnd % (r4 * 2) + (lo + r4)
            if self.less(a[p], a[lo]):
                a[p], a[lo] = a[lo], a[p]
            elif self.less(a[up], a[p]):
                a[p], a[up] = a[up], a[p]
            if up - lo == 2:
                break
            pivot = a[p]
            a[p], a[up - 1] = a[up - 1], a[p]
            p = self.partition(lo, up, pivot)
            if p - lo < up - p:
                self.sort(lo, p - 1, rnd)
                n = p - lo
                lo = p + 1
            else:
                self.sort(p + 1, up, rnd)
                n = up - p
                up = p - 1
            if (up - lo) // 128 > n:
                rnd = 0x5DEECE66D & 0x7FFFFFFF

    def partition(self, lo: int, up: int, pivot) -> int:
        a = self.a
        i = lo
        j = up - 1
        while True:
            i += 1
            while self.less(a[i], pivot):
                if i == up - 1:
                    raise LuaLibError("invalid order function for sorting")
                i += 1
            j -= 1
            while self.less(pivot, a[j]):
                if j < i:
                    raise LuaLibError("invalid order function for sorting")
                j -= 1
            if j < i:
                a[up - 1], a[i] = a[i], a[up - 1]
                return i
            a[i], a[j] = a[j], a[i]


def t_sort(state, args):
    t = check_table(args, 1)
    n = length_of(state, t)
    if n > 1:
        if n >= 0x7FFFFFFF:
            raise LuaArgError(1, "array too big")
        comp = arg(args, 2)
        if comp is not None and type(comp) is not LuaFunction and type(comp) is not Builtin:
            raise type_error(args, 2, "function")
        items = [None] + [get(state, t, i) for i in range(1, n + 1)]
        sorter = Sorter(state, items, comp)
        try:
            sorter.sort(1, n, 0)
        finally:
            for i in range(1, n + 1):
                put(state, t, i, items[i])
    return []


def open_table(state) -> LuaTable:
    table = LuaTable()
    register(table, "table.", {
        "insert": t_insert, "remove": t_remove, "concat": t_concat, "pack": t_pack,
        "unpack": lua_unpack, "move": t_move, "sort": t_sort,
    })
    return table
