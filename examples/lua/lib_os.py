"""The os and io libraries (the parts a program without C modules uses)."""
from __future__ import annotations

import os
import time

from metajit.examples.lua import lnumbers, runtime
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.libutil import (arg, check_integer, check_string, opt_integer,
                                          register, type_error)
from metajit.examples.lua.objects import Builtin, LuaArgError, LuaTable, LuaUserdata


class LuaExit(Exception):
    """os.exit: leave the program with ``status``."""

    def __init__(self, status: int):
        Exception.__init__(self, status)
        self.status = status


def os_clock(state, args):
    return [time.process_time()]


def os_time(state, args):
    t = arg(args, 1)
    if t is None:
        return [int(time.time())]
    if type(t) is not LuaTable:
        raise type_error(args, 1, "table")

    def field(name, default):
        v = t.get(name)
        if v is None:
            if default is None:
                raise LuaLibError("field '%s' missing in date table" % name.decode())
            return default
        n = runtime.to_integer(v)
        if n is None:
            raise LuaLibError("field '%s' is not an integer" % name.decode())
        return n
    tm = (field(b"year", None), field(b"month", None), field(b"day", None),
          field(b"hour", 12), field(b"min", 0), field(b"sec", 0), 0, 0, -1)
    return [int(time.mktime(tm))]


def os_getenv(state, args):
    name = check_string(args, 1)
    v = os.environ.get(name.decode("latin-1"))
    return [None if v is None else v.encode("utf-8", "surrogateescape")]


def os_exit(state, args):
    code = arg(args, 1)
    if code is None or code is True:
        status = 0
    elif code is False:
        status = 1
    else:
        status = check_integer(args, 1)
    state.out.flush()
    raise LuaExit(status)


def os_date(state, args):
    fmt = arg(args, 1)
    fmt = b"%c" if fmt is None else check_string(args, 1)
    t = opt_integer(args, 2, int(time.time()))
    utc = fmt.startswith(b"!")
    if utc:
        fmt = fmt[1:]
    tm = time.gmtime(t) if utc else time.localtime(t)
    if fmt.startswith(b"*t"):
        r = LuaTable()
        for key, value in ((b"year", tm.tm_year), (b"month", tm.tm_mon), (b"day", tm.tm_mday),
                           (b"hour", tm.tm_hour), (b"min", tm.tm_min), (b"sec", tm.tm_sec),
                           (b"wday", (tm.tm_wday + 1) % 7 + 1), (b"yday", tm.tm_yday)):
            r.set(key, value)
        r.set(b"isdst", bool(tm.tm_isdst))
        return [r]
    return [time.strftime(fmt.decode("latin-1"), tm).encode("latin-1")]


def os_difftime(state, args):
    return [float(check_integer(args, 1) - opt_integer(args, 2, 0))]


def os_remove(state, args):
    name = check_string(args, 1)
    try:
        os.remove(name)
    except OSError as exc:
        return [None, b"%s: %s" % (name, (exc.strerror or "error").encode()), exc.errno]
    return [True]


def os_rename(state, args):
    a = check_string(args, 1)
    b = check_string(args, 2)
    try:
        os.rename(a, b)
    except OSError as exc:
        return [None, b"%s: %s" % (a, (exc.strerror or "error").encode()), exc.errno]
    return [True]


# -- io -----------------------------------------------------------------------------------------

def number_text(v) -> bytes:
    """A number as io.write prints it: floats with plain ``%.14g`` (no ``.0``)."""
    s = lnumbers.tostring_number(v)
    if type(v) is float and s.endswith(b".0"):
        return s[:-2]
    return s


def write_values(sink, args: list, first: int) -> None:
    for i in range(first, len(args)):
        v = args[i]
        if type(v) is bytes:
            sink(v)
        elif type(v) is int or type(v) is float:
            sink(number_text(v))
        else:
            raise type_error(args, i + 1, "string")


def io_write(state, args):
    write_values(state.out.write, args, 0)
    return [state.stdout_file]


def read_number(state):
    """io.read('n'): a numeral from the input, as lua5.4's read_number accepts it."""
    inp = state.inp
    buf = bytearray()
    c = inp.read(1)
    while c and c in b" \t\n\r\f\v":
        c = inp.read(1)
    while c and c not in b" \t\n\r\f\v" and len(buf) < 200:
        buf += c
        c = inp.read(1)
    if c:
        inp.unread(c)
    return lnumbers.str2number(bytes(buf)) if buf else None


def read_formats(state, args, first: int):
    inp = state.inp
    state.out.flush()
    results = []
    formats = args[first:] or [b"l"]
    for i, fmt in enumerate(formats):
        if type(fmt) is int:
            data = inp.read(fmt) if fmt > 0 else (b"" if inp.peek() else None)
            results.append(data if data else (b"" if fmt == 0 and data == b"" else None))
            if not data and fmt > 0:
                break
            continue
        if type(fmt) is not bytes:
            raise type_error(args, first + i + 1, "string")
        f = fmt.lstrip(b"*")[:1]
        if f == b"n":
            v = read_number(state)
            results.append(v)
            if v is None:
                break
        elif f == b"l" or f == b"L":
            line = inp.readline()
            if not line:
                results.append(None)
                break
            if f == b"l" and line.endswith(b"\n"):
                line = line[:-1]
            results.append(line)
        elif f == b"a":
            results.append(inp.read())
        else:
            raise LuaArgError(first + i + 1, "invalid format")
    return results


def io_read(state, args):
    return read_formats(state, args, 0)


def io_lines(state, args):
    if arg(args, 1) is not None:
        name = check_string(args, 1)
        try:
            with open(name, "rb") as f:
                lines = f.read().split(b"\n")
        except OSError as exc:
            raise LuaLibError("%s: %s" % (name.decode("latin-1"), exc.strerror))
        if lines and lines[-1] == b"":
            lines.pop()
        position = [0]

        def next_line(state, _args):
            if position[0] >= len(lines):
                return [None]
            position[0] += 1
            return [lines[position[0] - 1]]
        return [Builtin("lines_iterator", next_line)]

    def next_stdin_line(state, _args):
        return read_formats(state, [b"l"], 0)
    return [Builtin("lines_iterator", next_stdin_line)]


def file_write(state, args):
    f = args[0] if args else None
    if type(f) is not LuaUserdata:
        raise type_error(args, 1, "FILE*")
    write_values(f.value, args, 1)
    return [f]


def file_read(state, args):
    return read_formats(state, args, 1)


def file_lines(state, args):
    return io_lines(state, [])


def file_flush(state, args):
    state.out.flush()
    return [args[0] if args else None]


def file_close(state, args):
    return [True]


def file_setvbuf(state, args):
    return [True]


def file_tostring(state, args):
    return [b"file (0x%x)" % id(args[0])]


def io_type(state, args):
    v = arg(args, 1)
    if type(v) is LuaUserdata and v.metatable is not None \
            and v.metatable.get_str(b"__name") == b"FILE*":
        return [b"file"]
    return [None]


def open_io(state) -> LuaTable:
    io = LuaTable()
    register(io, "io.", {"write": io_write, "read": io_read, "lines": io_lines,
                         "type": io_type})
    methods = LuaTable()
    register(methods, "", {"write": file_write, "read": file_read, "lines": file_lines,
                           "flush": file_flush, "close": file_close,
                           "setvbuf": file_setvbuf})
    meta = LuaTable()
    meta.set(b"__index", methods)
    meta.set(b"__name", b"FILE*")
    meta.set(b"__tostring", Builtin("tostring", file_tostring))

    def write_stderr(data):
        import sys
        state.out.flush()
        sys.stderr.buffer.write(data) if hasattr(sys.stderr, "buffer") else \
            sys.stderr.write(data.decode("latin-1"))
        sys.stderr.flush()
    stdout = LuaUserdata(state.out.write, meta)
    stderr = LuaUserdata(write_stderr, meta)
    stdin = LuaUserdata(None, meta)
    state.stdout_file = stdout
    io.set(b"stdout", stdout)
    io.set(b"stderr", stderr)
    io.set(b"stdin", stdin)
    return io


def open_os(state) -> LuaTable:
    o = LuaTable()
    register(o, "os.", {"clock": os_clock, "time": os_time, "getenv": os_getenv,
                        "exit": os_exit, "date": os_date, "remove": os_remove,
                        "difftime": os_difftime,
                        "rename": os_rename})
    return o
