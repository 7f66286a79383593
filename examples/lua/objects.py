"""Lua values and the VM's own objects.

Lua values are: ``None`` (nil), ``True``/``False``, Python ``int`` (a Lua integer,
always in the signed 64-bit range), ``float``, ``bytes`` (a Lua string), and the
classes below: ``LuaTable``, ``LuaFunction`` (a closure over a ``Proto``) and
``Builtin`` (a function written in Python).  Because ``bool`` is a subclass of
``int`` in Python, the VM tests ``type(v) is int``, never ``isinstance``.

A table keeps an array part (keys 1..n) in typed storage while its values allow:
``array('q')`` for integers, ``array('d')`` for floats, a ``bytearray`` of 0s and 1s
for booleans, a list otherwise, and a hash part whose slots stay in insertion order,
so that ``next`` walks it with an index and assigning nil during a traversal is
safe, as Lua allows.
"""
from __future__ import annotations

from array import array

from metajit import dont_look_inside


class ArrayKind:
    """What a table's array part is stored in (a class, not module globals: the
    JIT reads a class's attributes as constants, a module's ints at run time)."""
    GENERIC = 0         # a list
    INT = 1             # array('q')
    FLOAT = 2           # array('d')
    BOOL = 3            # a bytearray: 1 is true, 0 false


class BoolKey:
    """A boolean used as a hash key (``True`` would collide with ``1`` in a dict)."""
    _immutable_ = True

    def __init__(self, value: bool):
        self.value = value


TRUE_KEY = BoolKey(True)
FALSE_KEY = BoolKey(False)


class LuaError(Exception):
    """A Lua error in flight; ``value`` is the error object (any Lua value) and
    ``traceback`` the 'stack traceback:' text when one was built."""

    def __init__(self, value, traceback=None):
        Exception.__init__(self, value)
        self.value = value
        self.traceback = traceback


class LuaArgError(Exception):
    """'bad argument #N to NAME (MESSAGE)': the VM fills in NAME from the call site."""

    def __init__(self, argn: int, message: str):
        Exception.__init__(self, message)
        self.argn = argn
        self.message = message


class Cell:
    """A local variable captured by a closure (an upvalue)."""
    value: object

    def __init__(self, value):
        self.value = value


class Proto:
    """A compiled function: the instructions (4 ints each: op, a, b, c), constants,
    nested prototypes, upvalue descriptions and debug information."""
    code: tuple
    consts: tuple
    protos: tuple
    numparams: int
    is_vararg: bool
    maxstack: int
    _immutable_fields_ = ["code[*]", "consts[*]", "protos[*]", "upval_instack[*]",
                          "upval_index[*]", "numparams", "is_vararg", "maxstack",
                          "lineinfo[*]", "source", "name"]

    def __init__(self, code, consts, protos, upval_instack, upval_index, upval_names,
                 numparams, is_vararg, maxstack, lineinfo, locvars, source,
                 linedefined, lastlinedefined, name):
        self.code = code
        self.consts = consts
        self.protos = protos
        self.upval_instack = upval_instack
        self.upval_index = upval_index
        self.upval_names = upval_names
        self.numparams = numparams
        self.is_vararg = is_vararg
        self.maxstack = maxstack
        self.lineinfo = lineinfo          # per instruction (index pc // 4)
        self.locvars = locvars            # (name, startpc, endpc, register)
        self.source = source
        self.linedefined = linedefined
        self.lastlinedefined = lastlinedefined
        self.name = name


class LuaFunction:
    """A Lua closure.  ``upvals`` is a tuple: the JIT knows that nothing writes
    its items (reading one needs no stores to lists done first)."""
    proto: Proto
    upvals: tuple
    _immutable_fields_ = ["proto", "upvals[*]"]

    def __init__(self, proto: Proto, upvals: tuple):
        self.proto = proto
        self.upvals = upvals


class Builtin:
    """A function written in Python: ``fn(state, args) -> list of results``."""
    _immutable_fields_ = ["name", "fn"]

    def __init__(self, name: str, fn):
        self.name = name
        self.fn = fn


class LuaUserdata:
    """A host object seen by Lua as userdata (the io library's files)."""

    def __init__(self, value, metatable):
        self.value = value
        self.metatable = metatable


def normalize_key(key):
    """The hash key for a Lua value: integral floats become ints, booleans BoolKeys."""
    t = type(key)
    if t is float:
        if key.is_integer() and -9.3e18 < key < 9.3e18:
            ik = int(key)
            if -(1 << 63) <= ik < (1 << 63):
                return ik
        return key
    if t is bool:
        return TRUE_KEY if key else FALSE_KEY
    return key


def denormalize_key(key):
    if type(key) is BoolKey:
        return key.value
    return key


class LuaTable:
    """A Lua table: ``arr`` holds keys 1..len(arr) (nil holes only in a generic
    list, never at its end), the hash part the other keys."""
    arr: object             # list, array('q'), array('d') or bytearray, as ``kind`` says
    kind: int
    hmap: object
    hkeys: object
    hvals: object
    hdead: int
    arr_max: int
    metatable: object

    def __init__(self):
        self.arr = []
        self.kind = ArrayKind.GENERIC
        self.hmap = None          # key -> slot in hkeys/hvals
        self.hkeys = None
        self.hvals = None
        self.hdead = 0            # slots whose value is nil
        self.arr_max = 0          # the array's length before it last shrank
        self.metatable = None

    # -- the array part ---------------------------------------------------------------
    def _generalize(self) -> None:
        if self.kind == ArrayKind.BOOL:
            self.arr = [b != 0 for b in self.arr]
            self.kind = ArrayKind.GENERIC
        elif self.kind != ArrayKind.GENERIC:
            self.arr = list(self.arr)
            self.kind = ArrayKind.GENERIC

    def _holds(self, value) -> bool:
        """Whether the array part's storage takes ``value`` (not nil) as it is."""
        kind = self.kind
        t = type(value)
        return kind == ArrayKind.GENERIC or (kind == ArrayKind.INT and t is int) or \
            (kind == ArrayKind.FLOAT and t is float) or (kind == ArrayKind.BOOL and t is bool)

    def _append(self, value) -> None:
        if not self.arr:
            t = type(value)
            if t is int:
                self.arr = array("q", [value])
                self.kind = ArrayKind.INT
            elif t is float:
                self.arr = array("d", [value])
                self.kind = ArrayKind.FLOAT
            elif t is bool:
                self.arr = bytearray([value])
                self.kind = ArrayKind.BOOL
            else:
                self.arr = [value]
                self.kind = ArrayKind.GENERIC
            return
        if not self._holds(value):
            self._generalize()
        self.arr.append(value)

    def _migrate(self) -> None:
        """Move keys n+1, n+2, ... from the hash part to the end of the array."""
        hmap = self.hmap
        while hmap:
            key = len(self.arr) + 1
            slot = hmap.get(key)
            if slot is None:
                return
            value = self.hvals[slot]
            if value is None:
                return
            self.hvals[slot] = None
            self.hdead += 1
            self._append(value)

    def get_int(self, key: int):
        arr = self.arr
        if 0 < key <= len(arr):
            if self.kind == ArrayKind.BOOL:
                # a branch, so that the trace knows which of the two objects it is
                if arr[key - 1]:
                    return True
                return False
            return arr[key - 1]
        if self.hmap is None:
            return None
        slot = self.hmap.get(key)
        if slot is None:
            return None
        return self.hvals[slot]

    def set_int(self, key: int, value) -> None:
        """The common case, a value of the storage's kind into the array part, is a
        store (traced as one); everything else goes to ``_set_int_general``."""
        arr = self.arr
        if 0 < key <= len(arr) and value is not None and self._holds(value):
            arr[key - 1] = value
            return
        self._set_int_general(key, value)

    @dont_look_inside
    def _set_int_general(self, key: int, value) -> None:
        arr = self.arr
        n = len(arr)
        if 0 < key <= n:
            if value is None:
                if key == n:
                    if n > self.arr_max:
                        self.arr_max = n
                    arr.pop()
                    if self.kind == ArrayKind.GENERIC:
                        while arr and arr[-1] is None:
                            arr.pop()
                    return
                self._generalize()
                self.arr[key - 1] = None
                return
            self._generalize()
            self.arr[key - 1] = value
            return
        if key == n + 1 and value is not None:
            if self.hmap is not None:
                slot = self.hmap.get(key)
                if slot is not None and self.hvals[slot] is not None:
                    self.hvals[slot] = None
                    self.hdead += 1
            self._append(value)
            if self.hmap:
                self._migrate()
            return
        self._hset(key, value)

    # -- the hash part ----------------------------------------------------------------
    def get_str(self, key):
        """The hash part's value for a normalized key (a string, usually)."""
        hmap = self.hmap
        if hmap is None:
            return None
        slot = hmap.get(key)
        if slot is None:
            return None
        return self.hvals[slot]

    def _hset(self, key, value) -> None:
        hmap = self.hmap
        if hmap is None:
            if value is None:
                return
            self.hmap = {key: 0}
            self.hkeys = [key]
            self.hvals = [value]
            return
        slot = hmap.get(key)
        if slot is not None:
            old = self.hvals[slot]
            if old is None and value is not None:
                self.hdead -= 1
            elif old is not None and value is None:
                self.hdead += 1
            self.hvals[slot] = value
            return
        if value is None:
            return
        if self.hdead > 8 and self.hdead * 2 > len(self.hkeys):
            self._compact()
        hmap[key] = len(self.hkeys)
        self.hkeys.append(key)
        self.hvals.append(value)

    def _compact(self) -> None:
        keys = []
        vals = []
        hmap = {}
        for i in range(len(self.hkeys)):
            v = self.hvals[i]
            if v is not None:
                hmap[self.hkeys[i]] = len(keys)
                keys.append(self.hkeys[i])
                vals.append(v)
        self.hmap = hmap
        self.hkeys = keys
        self.hvals = vals
        self.hdead = 0

    def get(self, key):
        """``t[key]`` without metamethods (rawget)."""
        t = type(key)
        if t is int:
            return self.get_int(key)
        if t is bytes:
            return self.get_str(key)
        if key is None:
            return None
        key = normalize_key(key)
        if type(key) is int:
            return self.get_int(key)
        return self.get_str(key)

    def set(self, key, value) -> None:
        """``t[key] = value`` without metamethods (rawset); the caller has checked
        that key is neither nil nor NaN."""
        t = type(key)
        if t is int:
            self.set_int(key, value)
            return
        if t is not bytes:
            key = normalize_key(key)
            if type(key) is int:
                self.set_int(key, value)
                return
        self._hset(key, value)

    def length(self) -> int:
        """The border ``#t`` (no metamethod)."""
        n = len(self.arr)
        if self.hmap is None:
            return n
        if self.get_int(n + 1) is None:
            return n
        j = n + 1
        while self.get_int(j + 1) is not None:
            j += 1
        return j

    def next(self, key):
        """(key, value) after ``key`` in traversal order, or None at the end;
        raises KeyError for a key that is not in the table."""
        arr = self.arr
        n = len(arr)
        if key is None:
            i = 0
        else:
            nk = normalize_key(key)
            slot = self.hmap.get(nk) if self.hmap is not None else None
            if slot is not None:
                return self._next_hash(slot + 1)
            if type(nk) is int and 1 <= nk <= max(n, self.arr_max):
                i = nk
                if i > n:
                    return self._next_hash(0)
            else:
                raise KeyError(key)
        while i < n:
            v = arr[i]
            if v is not None:
                return (i + 1, v != 0 if self.kind == ArrayKind.BOOL else v)
            i += 1
        return self._next_hash(0)

    def _next_hash(self, slot: int):
        hvals = self.hvals
        if hvals is None:
            return None
        while slot < len(hvals):
            v = hvals[slot]
            if v is not None:
                return (denormalize_key(self.hkeys[slot]), v)
            slot += 1
        return None

    def insert(self, pos: int, value) -> None:
        """table.insert(t, pos, v) on the array part, shifting up (raw)."""
        n = self.length()
        if n == len(self.arr) and 1 <= pos <= n + 1 and value is not None:
            if not self._holds(value) or not self.arr:
                if not self.arr:
                    self._append(value)
                    if self.hmap:
                        self._migrate()
                    return
                self._generalize()
            self.arr.insert(pos - 1, value)
            if self.hmap:
                self._migrate()
            return
        i = n
        while i >= pos:
            self.set_int(i + 1, self.get_int(i))
            i -= 1
        self.set_int(pos, value)
