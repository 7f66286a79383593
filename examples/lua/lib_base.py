"""The basic library (print, type, pcall, ...), load, and require/package."""
from __future__ import annotations

import os

from metajit.examples.lua import lnumbers, runtime
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.lexer import LuaSyntaxError
from metajit.examples.lua.libutil import (arg, check_any, check_integer, check_string,
                                          check_table, opt_integer, register, type_error)
from metajit.examples.lua.objects import (Builtin, LuaArgError, LuaError, LuaFunction,
                                          LuaTable)
from metajit.examples.lua.runtime import tostring, type_name

LUA_PATH_DEFAULT = (b"/usr/local/share/lua/5.4/?.lua;/usr/local/share/lua/5.4/?/init.lua;"
                    b"/usr/local/lib/lua/5.4/?.lua;/usr/local/lib/lua/5.4/?/init.lua;"
                    b"/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua;"
                    b"./?.lua;./?/init.lua")
LUA_CPATH_DEFAULT = (b"/usr/local/lib/lua/5.4/?.so;/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;"
                     b"/usr/lib/lua/5.4/?.so;/usr/local/lib/lua/5.4/loadall.so;./?.so")


def lua_print(state, args):
    parts = []
    for v in args:
        parts.append(tostring(state, v))
    state.out.write(b"\t".join(parts) + b"\n")
    return []


def lua_type(state, args):
    check_any(args, 1)
    return [type_name(args[0]).encode()]


def lua_tostring(state, args):
    check_any(args, 1)
    return [tostring(state, args[0])]


def lua_tonumber(state, args):
    if arg(args, 2) is None:
        check_any(args, 1)
        v = args[0]
        if type(v) is int or type(v) is float:
            return [v]
        if type(v) is bytes:
            return [lnumbers.str2number(v)]
        return [None]
    base = check_integer(args, 2)
    v = arg(args, 1)
    if type(v) is not bytes:
        raise type_error(args, 1, "string")
    if not 2 <= base <= 36:
        raise LuaArgError(2, "base out of range")
    return [lnumbers.tonumber_base(v, base)]


def ipairs_next(state, args):
    t = args[0]
    i = check_integer(args, 2) + 1
    if type(t) is LuaTable and t.metatable is None:
        v = t.get_int(i)
    else:
        v = runtime.index(state, t, i, None)
    if v is None:
        return [None]
    return [i, v]


IPAIRS_NEXT = Builtin("ipairs_iterator", ipairs_next)


def lua_ipairs(state, args):
    check_any(args, 1)
    return [IPAIRS_NEXT, args[0], 0]


def lua_next(state, args):
    t = check_table(args, 1)
    try:
        entry = t.next(arg(args, 2))
    except KeyError:
        # raised inside the C function in lua5.4: no position
        raise LuaError(b"invalid key to 'next'")
    if entry is None:
        return [None]
    return [entry[0], entry[1]]


NEXT = Builtin("next", lua_next)


def lua_pairs(state, args):
    check_any(args, 1)
    t = args[0]
    h = runtime.get_metamethod(state, t, b"__pairs")
    if h is not None:
        results = state.call(h, [t])
        return (results + [None, None, None])[:3]
    if type(t) is not LuaTable:
        raise type_error(args, 1, "table")
    return [NEXT, t, None]


def lua_select(state, args):
    n = arg(args, 1)
    if n == b"#":
        return [len(args) - 1]
    i = check_integer(args, 1)
    if i < 0:
        i = len(args) + i
        if i < 1:
            raise LuaArgError(1, "index out of range")
        return args[i:]
    if i == 0:
        raise LuaArgError(1, "index out of range")
    return args[i:]


def lua_rawget(state, args):
    t = check_table(args, 1)
    check_any(args, 2)
    return [t.get(args[1])]


def lua_rawset(state, args):
    t = check_table(args, 1)
    check_any(args, 2)
    check_any(args, 3)
    runtime.check_key(args[1])
    t.set(args[1], args[2])
    return [t]


def lua_rawequal(state, args):
    check_any(args, 1)
    check_any(args, 2)
    return [runtime.raw_equal(args[0], args[1])]


def lua_rawlen(state, args):
    v = arg(args, 1)
    if type(v) is LuaTable:
        return [v.length()]
    if type(v) is bytes:
        return [len(v)]
    raise LuaArgError(1, "table or string expected")


def lua_setmetatable(state, args):
    t = check_table(args, 1)
    mt = arg(args, 2)
    if mt is not None and type(mt) is not LuaTable:
        raise type_error(args, 2, "nil or table")
    if t.metatable is not None and t.metatable.get_str(b"__metatable") is not None:
        raise LuaLibError("cannot change a protected metatable")
    t.metatable = mt
    return [t]


def lua_getmetatable(state, args):
    check_any(args, 1)
    mt = runtime.get_metatable(state, args[0])
    if mt is None:
        return [None]
    protected = mt.get_str(b"__metatable")
    if protected is not None:
        return [protected]
    return [mt]


def lua_assert(state, args):
    check_any(args, 1)
    if args[0] is None or args[0] is False:
        if len(args) >= 2:
            raise LuaError(args[1])
        raise LuaLibError("assertion failed!")
    return args


def lua_error(state, args):
    value = arg(args, 1)
    level = opt_integer(args, 2, 1)
    if type(value) is bytes and level > 0:
        frame = call_level(state, level)
        if frame is not None:
            from metajit.examples.lua.vm import where
            value = where(frame).encode("latin-1") + b" " + value
    raise LuaError(value)


def call_level(state, level: int):
    """The Lua frame at ``level`` of the call stack seen from a library function
    (1: its caller), or None when that level is a library function or beyond the
    stack.  A library function sits below the caller when it was called from Python,
    and above every frame that was entered from Python (``is_entry``)."""
    levels = [] if state.called_from_lua else [None]
    frame = state.frame
    while frame is not None and len(levels) < level:
        levels.append(frame)
        if frame.is_entry:
            levels.append(None)
        frame = frame.caller
    return levels[level - 1] if level <= len(levels) else None


def lua_pcall(state, args):
    check_any(args, 1)
    frame = state.frame
    try:
        return [True] + state.call(args[0], args[1:])
    except LuaError as exc:
        state.frame = frame
        return [False, exc.value]


def lua_xpcall(state, args):
    handler = arg(args, 2)
    frame = state.frame
    try:
        return [True] + state.call(arg(args, 1), args[2:])
    except LuaError as exc:
        state.frame = frame
        try:
            return [False] + state.call(handler, [exc.value])[:1]
        except LuaError as again:
            return [False, again.value]


def lua_unpack(state, args):
    t = arg(args, 1)
    i = opt_integer(args, 2, 1)
    if arg(args, 3) is None:
        j = runtime.length(state, t) if not (type(t) is LuaTable and t.metatable is None) \
            else t.length()
    else:
        j = check_integer(args, 3)
    if i > j:
        return []
    if j - i >= 1000000:
        raise LuaLibError("too many results to unpack")
    if type(t) is LuaTable and t.metatable is None:
        return [t.get_int(k) for k in range(i, j + 1)]
    return [runtime.index(state, t, k, None) for k in range(i, j + 1)]


def lua_load(state, args):
    chunk = arg(args, 1)
    chunkname = arg(args, 2)
    mode = arg(args, 3)
    env = arg(args, 4)
    if type(chunk) is int or type(chunk) is float:
        chunk = lnumbers.tostring_number(chunk)
    if type(chunk) is bytes:
        source = chunk
        name = chunkname.decode("latin-1") if type(chunkname) is bytes else \
            chunk.decode("latin-1")
    elif type(chunk) is LuaFunction or type(chunk) is Builtin:
        pieces = []
        while True:
            piece = state.call(chunk, [])
            p = piece[0] if piece else None
            if p is None or p == b"":
                break
            if type(p) is not bytes:
                return [None, b"reader function must return a string"]
            pieces.append(p)
        source = b"".join(pieces)
        name = chunkname.decode("latin-1") if type(chunkname) is bytes else "=(load)"
    else:
        raise type_error(args, 1, "string")
    if source.startswith(b"\x1bLua"):
        return [None, b"attempt to load a binary chunk (mode is '%s')" % (mode or b"t")]
    try:
        fn = state.load(source, name, env if len(args) >= 4 else None)
    except LuaSyntaxError as exc:
        return [None, exc.message.encode("latin-1")]
    return [fn]


def lua_dofile(state, args):
    path = check_string(args, 1)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError:
        raise LuaLibError("cannot open %s" % path.decode("latin-1"))
    try:
        fn = state.load(source, "@" + path.decode("latin-1"))
    except LuaSyntaxError as exc:
        raise LuaError(exc.message.encode("latin-1"))
    return state.call(fn, [])


def lua_collectgarbage(state, args):
    opt = arg(args, 1) or b"collect"
    if opt == b"count":
        return [256.0, 0]
    if opt in (b"step", b"isrunning"):
        return [True]
    if opt in (b"incremental", b"generational"):
        return [b"incremental"]
    return [0]


# -- require -----------------------------------------------------------------------------------

def search_path(name: bytes, path: bytes):
    """The first readable file for module ``name`` along ``path``, and the list of
    tried names for the error message."""
    tried = []
    fname = name.replace(b".", b"/")
    for template in path.split(b";"):
        if not template:
            continue
        candidate = template.replace(b"?", fname)
        if os.path.isfile(candidate) and os.access(candidate, os.R_OK):
            return candidate, tried
        tried.append(b"\n\tno file '" + candidate + b"'")
    return None, tried


def lua_require(state, args):
    name = check_string(args, 1)
    loaded = state.loaded
    v = loaded.get(name)
    if v is not None and v is not False:
        return [v]
    package = state.globals.get(b"package")
    preload = package.get(b"preload") if type(package) is LuaTable else None
    if type(preload) is LuaTable:
        loader = preload.get(name)
        if loader is not None:
            result = state.call(loader, [name, b":preload:"])
            value = result[0] if result else None
            if value is None:
                value = loaded.get(name)
                if value is None:
                    value = True
            loaded.set(name, value)
            return [value, b":preload:"]
    path = package.get(b"path") if type(package) is LuaTable else None
    if type(path) is not bytes:
        raise LuaLibError("'package.path' must be a string")
    cpath = package.get(b"cpath")
    filename, tried = search_path(name, path)
    if filename is None:
        msg = b"module '" + name + b"' not found:\n\tno field package.preload['" + name + b"']"
        msg += b"".join(tried)
        if type(cpath) is bytes:
            msg += b"".join(search_path(name, cpath)[1])
            root = name.split(b".")[0]
            if root != name:
                msg += b"".join(search_path(root, cpath)[1])
        raise LuaLibError(msg.decode("latin-1"))
    with open(filename, "rb") as f:
        source = f.read()
    try:
        fn = state.load(source, "@" + filename.decode("latin-1"))
    except LuaSyntaxError as exc:
        raise LuaLibError("error loading module '%s' from file '%s':\n\t%s" % (
            name.decode("latin-1"), filename.decode("latin-1"), exc.message))
    result = state.call(fn, [name, filename])
    value = result[0] if result else None
    if value is not None:
        loaded.set(name, value)
    if loaded.get(name) is None:
        loaded.set(name, True)
    return [loaded.get(name), filename]


def open_base(state) -> None:
    g = state.globals
    register(g, "", {
        "print": lua_print, "type": lua_type, "tostring": lua_tostring,
        "tonumber": lua_tonumber, "ipairs": lua_ipairs, "pairs": lua_pairs,
        "select": lua_select, "rawget": lua_rawget, "rawset": lua_rawset,
        "rawequal": lua_rawequal, "rawlen": lua_rawlen, "setmetatable": lua_setmetatable,
        "getmetatable": lua_getmetatable, "assert": lua_assert, "error": lua_error,
        "pcall": lua_pcall, "xpcall": lua_xpcall, "load": lua_load, "dofile": lua_dofile,
        "collectgarbage": lua_collectgarbage, "require": lua_require,
    })
    g.set(b"next", NEXT)
    g.set(b"_G", g)
    g.set(b"_VERSION", b"Lua 5.4")
    package = LuaTable()
    package.set(b"path", os.environ.get("LUA_PATH_5_4", os.environ.get(
        "LUA_PATH", "")).encode() .replace(b";;", b";" + LUA_PATH_DEFAULT + b";")
        or LUA_PATH_DEFAULT)
    package.set(b"cpath", LUA_CPATH_DEFAULT)
    package.set(b"loaded", state.loaded)
    package.set(b"preload", LuaTable())
    package.set(b"config", b"/\n;\n?\n!\n-\n")
    g.set(b"package", package)
    state.loaded.set(b"_G", g)
    state.loaded.set(b"package", package)
