"""The semantics of Lua's operations on values: metatables and metamethods,
coercions, arithmetic, comparison, concatenation, length, indexing, calls.

The fast paths (int and float arithmetic, plain table reads) sit in the portal
(vm.py); these are the general cases it falls back to.  Errors are raised as
``LuaLibError`` (a message that gets the position of the running line) or
``LuaOpError`` (an operation on a bad value: the VM adds the variable's name as
lua5.4 does, ``(local 'x')``).
"""
from __future__ import annotations

from metajit import dont_look_inside

from metajit.examples.lua import lnumbers
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.objects import Builtin, LuaFunction, LuaTable, LuaUserdata

MAXTAGLOOP = 2000


class LuaOpError(Exception):
    """'attempt to VERB a TYPE value': ``operand`` says which operand of the
    running instruction holds the value ('a', 'b', 'c', or None)."""

    def __init__(self, verb: str, value, operand):
        Exception.__init__(self, verb)
        self.verb = verb
        self.value = value
        self.operand = operand


class LuaNoIntegerError(Exception):
    """'number has no integer representation' in a bitwise operation; ``operand``
    names the culprit as in LuaOpError (lua5.4 adds its variable name)."""

    def __init__(self, operand):
        Exception.__init__(self, operand)
        self.operand = operand


def check_bitwise_operands(a, b, unary: bool) -> None:
    """Both are numbers: raise LuaNoIntegerError unless both have integer values."""
    if to_integer(a) is None:
        raise LuaNoIntegerError("b")
    if not unary and to_integer(b) is None:
        raise LuaNoIntegerError("c")


def type_name(v) -> str:
    if v is None:
        return "nil"
    t = type(v)
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is bytes:
        return "string"
    if t is LuaTable:
        return "table"
    if t is LuaFunction or t is Builtin:
        return "function"
    return "userdata"


def truthy(v) -> bool:
    return v is not None and v is not False


# -- metatables ---------------------------------------------------------------------------

def get_metatable(state, v):
    t = type(v)
    if t is LuaTable:
        return v.metatable
    if t is bytes:
        return state.string_meta
    if t is LuaUserdata:
        return v.metatable
    return None


def get_metamethod(state, v, event: bytes):
    mt = get_metatable(state, v)
    if mt is None:
        return None
    return mt.get_str(event)


# -- numbers --------------------------------------------------------------------------------

def to_number(v):
    """The number for a number or a numeric string (Lua's cvt2num), else None."""
    t = type(v)
    if t is int or t is float:
        return v
    if t is bytes:
        return lnumbers.str2number(v)
    return None


def to_integer(v):
    """The integer value of a number or numeric string with one, else None."""
    t = type(v)
    if t is int:
        return v
    if t is float:
        return lnumbers.float_to_integer(v)
    if t is bytes:
        n = lnumbers.str2number(v)
        return None if n is None else to_integer(n)
    return None


# operator -> (metamethod event, the word lua5.4's string arithmetic errors use)
ARITH_EVENTS = {
    "+": (b"__add", "add"), "-": (b"__sub", "sub"), "*": (b"__mul", "mul"),
    "/": (b"__div", "div"), "%": (b"__mod", "mod"), "^": (b"__pow", "pow"),
    "//": (b"__idiv", "idiv"), "&": (b"__band", "band"), "|": (b"__bor", "bor"),
    "~": (b"__bxor", "bxor"), "<<": (b"__shl", "shl"), ">>": (b"__shr", "shr"),
    "unm": (b"__unm", "unm"), "bnot": (b"__bnot", "bnot"),
}
BITWISE = frozenset(["&", "|", "~", "<<", ">>", "bnot"])


def arith_numbers(op: str, a, b):
    """``a op b`` for two numbers (ints or floats) as Lua computes it."""
    if op == "unm":
        return lnumbers.unm(a)
    if op == "bnot":
        return lnumbers.bnot(a)
    return lnumbers.arith(op, a, b)


@dont_look_inside
def arith(state, op: str, a, b):
    """``a op b`` for any values: numbers, numeric strings (as the string
    metamethods of lua5.4 do it), or a metamethod of either operand."""
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if op in BITWISE:
            check_bitwise_operands(a, b, False)
        return arith_numbers(op, a, b)
    event, word = ARITH_EVENTS[op]
    if op not in BITWISE and (ta is bytes or tb is bytes):
        h = get_metamethod(state, a, event) if ta is not bytes else None
        if h is None and tb is not bytes:
            h = get_metamethod(state, b, event)
        if h is None or ta is bytes:
            # the string library's arithmetic metamethod
            x = to_number(a)
            y = to_number(b)
            if x is not None and y is not None:
                return arith_numbers(op, x, y)
            h2 = get_metamethod(state, b, event) if tb is not bytes else None
            if h2 is None:
                raise LuaLibError("attempt to %s a '%s' with a '%s'" % (
                    word, type_name(a), type_name(b)))
            h = h2
        return first(call_function(state, h, [a, b]))
    h = get_metamethod(state, a, event)
    if h is None:
        h = get_metamethod(state, b, event)
    if h is not None:
        return first(call_function(state, h, [a, b]))
    if op in BITWISE:
        bad_is_b = ta is int or ta is float
        raise LuaOpError("perform bitwise operation on", b if bad_is_b else a,
                         "c" if bad_is_b else "b")
    bad_is_b = to_number(a) is not None
    raise LuaOpError("perform arithmetic on", b if bad_is_b else a, "c" if bad_is_b else "b")


@dont_look_inside
def unary_arith(state, op: str, a):
    t = type(a)
    if t is int or t is float:
        if op == "bnot":
            check_bitwise_operands(a, a, True)
        return arith_numbers(op, a, a)
    if op == "unm" and t is bytes:
        x = to_number(a)
        if x is not None:
            return arith_numbers("unm", x, x)
    event = ARITH_EVENTS[op][0]
    h = get_metamethod(state, a, event)
    if h is not None:
        return first(call_function(state, h, [a, a]))
    if op == "unm" and t is bytes:
        raise LuaLibError("attempt to unm a 'string' with a 'string'")
    raise LuaOpError("perform bitwise operation on" if op == "bnot" else
                     "perform arithmetic on", a, "b")


def first(results: list):
    return results[0] if results else None


# -- comparison -----------------------------------------------------------------------------

def raw_equal(a, b) -> bool:
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b           # exact across int/float; NaN is not equal to itself
    if ta is bytes and tb is bytes:
        return a == b
    return a is b


@dont_look_inside
def equals(state, a, b) -> bool:
    if raw_equal(a, b):
        return True
    if type(a) is LuaTable and type(b) is LuaTable:
        h = get_metamethod(state, a, b"__eq")
        if h is None:
            h = get_metamethod(state, b, b"__eq")
        if h is not None:
            return truthy(first(call_function(state, h, [a, b])))
    return False


def compare_error(a, b):
    ta = type_name(a)
    tb = type_name(b)
    if ta == tb:
        return LuaLibError("attempt to compare two %s values" % ta)
    return LuaLibError("attempt to compare %s with %s" % (ta, tb))


def order(state, a, b, strict: bool) -> bool:
    """``a < b`` (strict) or ``a <= b``: numbers, strings, or ``__lt``/``__le``."""
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float) or \
            (ta is bytes and tb is bytes):
        return a < b if strict else a <= b
    event = b"__lt" if strict else b"__le"
    h = get_metamethod(state, a, event)
    if h is None:
        h = get_metamethod(state, b, event)
    if h is None:
        if not strict:
            # lua5.4 (LUA_COMPAT_LT_LE) still reads a <= b as not (b < a)
            h = get_metamethod(state, b, b"__lt")
            if h is None:
                h = get_metamethod(state, a, b"__lt")
            if h is not None:
                return not truthy(first(call_function(state, h, [b, a])))
        raise compare_error(a, b)
    return truthy(first(call_function(state, h, [a, b])))


@dont_look_inside
def less_than(state, a, b) -> bool:
    return order(state, a, b, True)


@dont_look_inside
def less_equal(state, a, b) -> bool:
    return order(state, a, b, False)


# -- strings, length ----------------------------------------------------------------------------

@dont_look_inside
def concat_pair(state, a, b, operand_a: str, operand_b: str):
    ta = type(a)
    tb = type(b)
    if (ta is bytes or ta is int or ta is float) and (tb is bytes or tb is int or tb is float):
        x = a if ta is bytes else lnumbers.tostring_number(a)
        y = b if tb is bytes else lnumbers.tostring_number(b)
        return x + y
    h = get_metamethod(state, a, b"__concat")
    if h is None:
        h = get_metamethod(state, b, b"__concat")
    if h is not None:
        return first(call_function(state, h, [a, b]))
    if ta is bytes or ta is int or ta is float:
        raise LuaOpError("concatenate", b, operand_b)
    raise LuaOpError("concatenate", a, operand_a)


@dont_look_inside
def length(state, v):
    t = type(v)
    if t is bytes:
        return len(v)
    h = get_metamethod(state, v, b"__len")
    if h is not None:
        return first(call_function(state, h, [v]))
    if t is LuaTable:
        return v.length()
    raise LuaOpError("get length of", v, "b")


@dont_look_inside
def tostring(state, v) -> bytes:
    t = type(v)
    if t is bytes:
        return v
    if t is int or t is float:
        return lnumbers.tostring_number(v)
    if v is None:
        return b"nil"
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    mt = get_metatable(state, v)
    if mt is not None:
        h = mt.get_str(b"__tostring")
        if h is not None:
            r = first(call_function(state, h, [v]))
            if type(r) is not bytes:
                if type(r) is int or type(r) is float:
                    return lnumbers.tostring_number(r)
                raise LuaLibError("'__tostring' must return a string")
            return r
        name = mt.get_str(b"__name")
        if type(name) is bytes:
            return b"%s: 0x%x" % (name, id(v))
    return b"%s: 0x%x" % (type_name(v).encode(), id(v))


# -- indexing ---------------------------------------------------------------------------------

@dont_look_inside
def index(state, obj, key, operand):
    """``obj[key]`` with ``__index``."""
    for _ in range(MAXTAGLOOP):
        if type(obj) is LuaTable:
            v = obj.get(key)
            if v is not None:
                return v
            mt = obj.metatable
            if mt is None:
                return None
            h = mt.get_str(b"__index")
            if h is None:
                return None
        else:
            h = get_metamethod(state, obj, b"__index")
            if h is None:
                if operand is None:
                    raise LuaLibError("attempt to index a %s value" % type_name(obj))
                raise LuaOpError("index", obj, operand)
        if type(h) is LuaFunction or type(h) is Builtin:
            return first(call_function(state, h, [obj, key]))
        obj = h
        operand = None
    raise LuaLibError("'__index' chain too long; possible loop")


def check_key(key) -> None:
    if key is None:
        raise LuaLibError("table index is nil")
    if type(key) is float and key != key:
        raise LuaLibError("table index is NaN")


@dont_look_inside
def setindex(state, obj, key, value, operand) -> None:
    """``obj[key] = value`` with ``__newindex``."""
    for _ in range(MAXTAGLOOP):
        if type(obj) is LuaTable:
            mt = obj.metatable
            if mt is None:
                check_key(key)
                obj.set(key, value)
                return
            h = mt.get_str(b"__newindex")
            if h is None or obj.get(key) is not None:
                check_key(key)
                obj.set(key, value)
                return
        else:
            h = get_metamethod(state, obj, b"__newindex")
            if h is None:
                if operand is None:
                    raise LuaLibError("attempt to index a %s value" % type_name(obj))
                raise LuaOpError("index", obj, operand)
        if type(h) is LuaFunction or type(h) is Builtin:
            call_function(state, h, [obj, key, value])
            return
        obj = h
        operand = None
    raise LuaLibError("'__newindex' chain too long; possible loop")


# -- calls from Python --------------------------------------------------------------------------

def call_function(state, fn, args: list) -> list:
    """Call a Lua value from Python (a library function, a metamethod): the
    callee runs in a nested portal, counted against the C-stack limit."""
    return state.call(fn, args)
