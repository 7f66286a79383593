"""The trace IR: one declarative table of operations, and the values they act on.

Every operation exists once, in ``OPS``: its name, result kind, argument kinds and
flags.  The text form (``tracer.text``), the reference interpreter
(``backend.reference``), the Python-source backend and the passes all read this
table; adding an op means adding one entry here and giving it meaning in each
consumer (tests check that every consumer covers every op).

Kinds: ``i`` a 64-bit integer (a Python ``int`` or ``bool`` whose value fits in
64 bits), ``f`` a float, ``r`` a reference to any Python object, ``v`` no value.
Argument kind ``*`` means "any number of values of any kind" (calls, jumps).

Python semantics are kept exactly.  An operation that can leave 64 bits is a
``can_overflow`` op (``int_add_ovf`` ...); it is always followed at once by
``guard_no_overflow``, whose snapshot resumes *before* the operation, so that the
interpreter computes the exact big int.  Divisions are recorded behind a guard that
the divisor is non-zero; the ``INT64_MIN // -1`` case is the overflow of
``int_floordiv_ovf``.  Wrapping forms (``int_add`` ...) are what ``intmask``
records.
"""
from __future__ import annotations

import dataclasses
import enum
import itertools
import typing
from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def intmask(value: int) -> int:
    """Wrap a Python int to a signed 64-bit value."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value & (1 << 63) else value


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


class Flag(enum.Flag):
    NONE = 0
    PURE = enum.auto()          # no side effect, result depends on the arguments only
    GUARD = enum.auto()         # carries a snapshot; leaves the trace when it fails
    SIDE_EFFECT = enum.auto()   # writes memory or does I/O: never removed, never reordered
    CAN_RAISE = enum.auto()     # may raise a Python exception (calls)
    CAN_OVERFLOW = enum.auto()  # followed by guard_no_overflow / guard_overflow
    LOAD = enum.auto()          # reads mutable memory (heap ops)
    FINAL = enum.auto()         # ends the trace (jump, finish)
    CALL = enum.auto()          # a call with a CallDescr


@dataclasses.dataclass(frozen=True)
class OpSpec:
    name: str
    result: str                 # 'i', 'f', 'r' or 'v'
    args: tuple[str, ...]       # kinds of the arguments; ('*',) for variadic
    flags: Flag
    descr: str | None = None    # the descriptor class name this op takes, if any

    def has(self, flag: Flag) -> bool:
        return bool(self.flags & flag)

    @property
    def variadic(self) -> bool:
        return self.args == ("*",)


P, G, S, R, O, L, F, C = (Flag.PURE, Flag.GUARD, Flag.SIDE_EFFECT, Flag.CAN_RAISE,
                          Flag.CAN_OVERFLOW, Flag.LOAD, Flag.FINAL, Flag.CALL)
N = Flag.NONE

# name, result, args, flags, descr
_TABLE = [
    # --- integers, wrapping (what intmask records) ---------------------------------
    ("int_add", "i", "ii", P, None),
    ("int_sub", "i", "ii", P, None),
    ("int_mul", "i", "ii", P, None),
    ("int_and", "i", "ii", P, None),
    ("int_or", "i", "ii", P, None),
    ("int_xor", "i", "ii", P, None),
    ("int_lshift", "i", "ii", P, None),     # intmask(a << b), 0 <= b; b >= 64 gives 0
    ("int_rshift", "i", "ii", P, None),     # a >> b (arithmetic), 0 <= b; b >= 64 gives 0 or -1
    ("uint_rshift", "i", "ii", P, None),    # logical shift of the 64-bit pattern
    ("int_neg", "i", "i", P, None),         # intmask(-a)
    ("int_invert", "i", "i", P, None),      # ~a (never overflows)
    # --- integers, checked: Python's exact result or overflow ----------------------
    ("int_add_ovf", "i", "ii", P | O, None),
    ("int_sub_ovf", "i", "ii", P | O, None),
    ("int_mul_ovf", "i", "ii", P | O, None),
    ("int_lshift_ovf", "i", "ii", P | O, None),    # a << b, 0 <= b
    ("int_neg_ovf", "i", "i", P | O, None),
    ("int_abs_ovf", "i", "i", P | O, None),
    ("int_floordiv_ovf", "i", "ii", P | O, None),  # Python a // b; b != 0 guarded before
    ("int_mod_ovf", "i", "ii", P | O, None),       # Python a % b; b != 0 guarded before
    # --- integer comparisons and tests (result: a bool) ----------------------------
    ("int_lt", "i", "ii", P, None),
    ("int_le", "i", "ii", P, None),
    ("int_eq", "i", "ii", P, None),
    ("int_ne", "i", "ii", P, None),
    ("int_gt", "i", "ii", P, None),
    ("int_ge", "i", "ii", P, None),
    ("uint_lt", "i", "ii", P, None),
    ("uint_ge", "i", "ii", P, None),
    ("int_is_true", "i", "i", P, None),
    ("int_is_zero", "i", "i", P, None),
    ("int_to_bool", "i", "i", P, None),     # bool(a) kept as the class bool
    # --- floats --------------------------------------------------------------------
    ("float_add", "f", "ff", P, None),
    ("float_sub", "f", "ff", P, None),
    ("float_mul", "f", "ff", P, None),
    ("float_truediv", "f", "ff", P, None),  # b != 0.0 guarded before
    ("float_floordiv", "f", "ff", P, None),  # CPython's algorithm; b != 0.0 guarded before
    ("float_mod", "f", "ff", P, None),      # CPython's algorithm; b != 0.0 guarded before
    ("float_neg", "f", "f", P, None),
    ("float_abs", "f", "f", P, None),
    ("float_lt", "i", "ff", P, None),
    ("float_le", "i", "ff", P, None),
    ("float_eq", "i", "ff", P, None),
    ("float_ne", "i", "ff", P, None),
    ("float_gt", "i", "ff", P, None),
    ("float_ge", "i", "ff", P, None),
    ("float_is_true", "i", "f", P, None),
    # --- casts and boxes -----------------------------------------------------------
    ("cast_int_to_float", "f", "i", P, None),
    ("cast_float_to_int_ovf", "i", "f", P | O, None),  # int(f); overflow on nan, inf, > 64 bits
    ("box_int", "r", "i", P, None),         # the Python int of a
    ("box_bool", "r", "i", P, None),        # the Python bool of a
    ("box_float", "r", "f", P, None),
    ("unbox_int_ovf", "i", "r", P | O, None),  # an int (or bool) object; overflow if > 64 bits
    ("unbox_float", "f", "r", P, None),     # a float object (guard_class before)
    # --- references ----------------------------------------------------------------
    ("ptr_eq", "i", "rr", P, None),         # a is b
    ("ptr_ne", "i", "rr", P, None),         # a is not b
    ("same_as_i", "i", "i", P, None),
    ("same_as_f", "f", "f", P, None),
    ("same_as_r", "r", "r", P, None),
    # --- heap ----------------------------------------------------------------------
    ("getfield", "r", "r", L, "FieldDescr"),
    ("setfield", "v", "rr", S, "FieldDescr"),
    ("getarrayitem_i", "i", "ri", L, "ArrayDescr"),   # bytearray, array('q'), ... (index checked before)
    ("getarrayitem_f", "f", "ri", L, "ArrayDescr"),
    ("getarrayitem_r", "r", "ri", L, "ArrayDescr"),   # list items
    ("setarrayitem_i", "v", "rii", S, "ArrayDescr"),  # value range checked before
    ("setarrayitem_f", "v", "rif", S, "ArrayDescr"),
    ("setarrayitem_r", "v", "rir", S, "ArrayDescr"),
    ("arraylen", "i", "r", L, "ArrayDescr"),
    ("strlen", "i", "r", P, None),
    ("new_with_vtable", "r", "", S, "SizeDescr"),      # Cls.__new__(Cls), no __init__
    # --- calls (residual: the callee runs as plain Python) -------------------------
    ("call_i", "i", "*", S | R | C, "CallDescr"),
    ("call_f", "f", "*", S | R | C, "CallDescr"),
    ("call_r", "r", "*", S | R | C, "CallDescr"),
    ("call_n", "v", "*", S | R | C, "CallDescr"),
    ("call_pure_i", "i", "*", P | R | C, "CallDescr"),  # elidable
    ("call_pure_f", "f", "*", P | R | C, "CallDescr"),
    ("call_pure_r", "r", "*", P | R | C, "CallDescr"),
    # --- guards --------------------------------------------------------------------
    ("guard_true", "v", "i", G, None),
    ("guard_false", "v", "i", G, None),
    ("guard_value", "v", "**", G, None),     # guard_value(x, const): x of any kind
    ("guard_class", "v", "rr", G, None),     # type(x) is const class
    ("guard_nonnull", "v", "r", G, None),    # x is not None
    ("guard_isnull", "v", "r", G, None),     # x is None
    ("guard_no_overflow", "v", "", G, None),
    ("guard_overflow", "v", "", G, None),
    ("guard_no_exception", "v", "", G, None),
    ("guard_exception", "r", "r", G, None),  # the pending exception is of const class; returns it
    ("guard_not_invalidated", "v", "", G, None),
    # --- markers and control -------------------------------------------------------
    ("debug_merge_point", "v", "", N, "GreenKeyDescr"),
    ("label", "v", "*", N, "TargetDescr"),
    ("jump", "v", "*", F, "TargetDescr"),
    ("finish", "v", "*", F, "ExitDescr"),
]

OPS: dict[str, OpSpec] = {}
for _name, _result, _args, _flags, _descr in _TABLE:
    _argkinds = ("*",) if _args == "*" else (("?", "?") if _args == "**" else tuple(_args))
    OPS[_name] = OpSpec(_name, _result, _argkinds, _flags, _descr)
del _name, _result, _args, _flags, _descr, _argkinds

GUARDS = frozenset(n for n, s in OPS.items() if s.has(Flag.GUARD))
CALLS = {"i": "call_i", "f": "call_f", "r": "call_r", "v": "call_n"}
PURE_CALLS = {"i": "call_pure_i", "f": "call_pure_f", "r": "call_pure_r"}
GETARRAYITEM = {"i": "getarrayitem_i", "f": "getarrayitem_f", "r": "getarrayitem_r"}
SETARRAYITEM = {"i": "setarrayitem_i", "f": "setarrayitem_f", "r": "setarrayitem_r"}
SAME_AS = {"i": "same_as_i", "f": "same_as_f", "r": "same_as_r"}


# --- values ------------------------------------------------------------------------

class Value:
    """An SSA value: a Const or a Box.  ``kind`` is 'i', 'f' or 'r'."""
    __slots__ = ()
    kind: str

    def is_const(self) -> bool:
        return False


class Const(Value):
    """A constant with its Python value.  Equal when kind and value agree
    (ints and bools by value and class, floats by bit pattern, objects by identity)."""
    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: Any):
        self.kind = kind
        self.value = value

    def is_const(self) -> bool:
        return True

    def _key(self):
        v = self.value
        if self.kind == "f":
            import struct
            return ("f", struct.pack("<d", v))
        if self.kind == "i":
            return ("i", type(v), v)
        return ("r", id(v))

    def __eq__(self, other):
        return isinstance(other, Const) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"Const({self.kind}, {self.value!r})"


def const_int(v: int) -> Const:
    return Const("i", v)


def const_float(v: float) -> Const:
    return Const("f", v)


def const_ref(v: Any) -> Const:
    return Const("r", v)


class Box(Value):
    """A value computed by one operation or given as a trace input.

    ``pyclass`` is the Python class of an 'i' box's value (``int`` or ``bool``): it is
    fixed by the trace's structure, and snapshots use it so that ``True`` resumes as
    ``True``, never ``1``.  ``forwarded`` is the union-find link of the optimiser."""
    __slots__ = ("kind", "pyclass", "forwarded", "op", "name")

    _ids = itertools.count()

    def __init__(self, kind: str, pyclass: type | None = None, name: str | None = None):
        self.kind = kind
        if pyclass is None:
            pyclass = {"i": int, "f": float}.get(kind, object)
        self.pyclass = pyclass
        self.forwarded = None
        self.op = None      # the Op that defines it (None for inputs)
        self.name = name

    def find(self) -> Value:
        """Follow the union-find chain to the value this box now stands for."""
        value: Value = self
        while isinstance(value, Box) and value.forwarded is not None:
            value = value.forwarded
        return value

    def __repr__(self):
        return f"Box({self.kind}{'' if self.name is None else ' ' + self.name})"


# --- descriptors -------------------------------------------------------------------

@dataclasses.dataclass(eq=False)
class Descr:
    """Base of the named descriptors of heap ops, calls, labels and exits."""

    def describe(self) -> str:
        return repr(self)


@dataclasses.dataclass(eq=False)
class FieldDescr(Descr):
    owner: type          # the class the field was declared or first seen on
    name: str
    immutable: bool = False
    quasi_immutable: bool = False
    virtualizable: bool = False   # in the class's _virtualizable_: residual code sees it
                                  # only on an object passed to it

    def describe(self) -> str:
        return f"{self.owner.__qualname__}.{self.name}"


@dataclasses.dataclass(eq=False)
class ArrayDescr(Descr):
    """How an indexable object stores its items: 'list', 'bytearray',
    'array:<typecode>', 'numpy:<dtype>'; ``kind`` is the kind of an item."""
    storage: str
    kind: str
    immutable: bool = False

    def describe(self) -> str:
        return self.storage


@dataclasses.dataclass(eq=False)
class SizeDescr(Descr):
    cls: type

    def describe(self) -> str:
        return self.cls.__qualname__


class Effect(enum.Enum):
    NONE = "none"            # reads and writes nothing the trace can see (pure)
    READS = "reads"          # may read the heap, writes nothing
    ANY = "any"              # may read and write anything


@dataclasses.dataclass(eq=False)
class CallDescr(Descr):
    """A residual call: the callable is the first argument (a Const normally).
    ``reads``/``writes`` name the fields the callee may touch: a frozenset of
    FieldDescr names, or None for "anything".  ``builds`` is ``"list"`` for a
    callee that returns a new list of its arguments and does nothing else (the
    optimiser may then never build it)."""
    name: str
    result: str = "r"
    can_raise: bool = True
    elidable: bool = False
    reads: frozenset | None = None
    writes: frozenset | None = None
    builds: str | None = None

    def describe(self) -> str:
        return self.name


@dataclasses.dataclass(eq=False)
class GreenKeyDescr(Descr):
    text: str                # the driver's printable location

    def describe(self) -> str:
        return self.text


@dataclasses.dataclass(eq=False)
class TargetDescr(Descr):
    """A label a jump may go to: the start of a compiled loop."""
    name: str
    owner: Any = None        # the compiled loop / green key it belongs to

    def describe(self) -> str:
        return self.name


@dataclasses.dataclass(eq=False)
class ExitDescr(Descr):
    """Why a trace finishes: 'merge_point' (reached another green key without code),
    'return' (the portal returned), 'raise' (an exception left the portal)."""
    reason: str
    target: Any = None

    def describe(self) -> str:
        return self.reason


# --- snapshots ---------------------------------------------------------------------

@dataclasses.dataclass(eq=False)
class Virtual:
    """An object that the trace never allocated; resume builds it if a guard fails.
    ``fields`` maps a FieldDescr (or an index for arrays) to a snapshot entry."""
    descr: Descr             # SizeDescr for objects, ArrayDescr for arrays
    fields: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(eq=False)
class FrameSnapshot:
    """One interpreter frame at a guard: the jitcode and position to resume at,
    and the live values in the order the jitcode's liveness table gives them.
    An entry is a Value, a Virtual, or ``(Value, bool)`` when an int must come
    back as a bool."""
    code: Any                # the jitcode (has a ``name``)
    pc: int
    values: list
    exc_pending: bool = False  # resume re-raises the exception carried as a live value


class DelayedStore(typing.NamedTuple):
    """A write the optimiser delayed past a guard: ``obj.<descr.name> = value`` for
    a FieldDescr, ``obj[index] = value`` for an ArrayDescr (a list's item).  The
    parts are snapshot entries (a Value, a Virtual, or a bool pair)."""
    obj: Any
    descr: Descr
    value: Any
    index: Any = None

    def perform(self, decode) -> None:
        """Do the write, ``decode`` giving each entry's Python object."""
        if self.index is None:
            setattr(decode(self.obj), self.descr.name, decode(self.value))
        else:
            decode(self.obj)[decode(self.index)] = decode(self.value)


@dataclasses.dataclass(eq=False)
class Snapshot:
    """The frame stack at a guard, outermost (the portal) first.

    ``stores`` are the DelayedStores the optimiser moved past this guard, in
    program order; when the guard fails, resume performs them before the
    interpreter goes on."""
    frames: list[FrameSnapshot]
    stores: list = dataclasses.field(default_factory=list)

    def entries(self):
        """Every top-level entry: the frames' values, then the stores' objects and
        values."""
        for frame in self.frames:
            yield from frame.values
        for store in self.stores:
            yield store.obj
            if store.index is not None:
                yield store.index
            yield store.value

    def boxes(self):
        """Every SSA value the snapshot keeps alive (virtuals' fields included)."""
        seen: set[int] = set()

        def walk(entry):
            if isinstance(entry, tuple):
                entry = entry[0]
            if isinstance(entry, Virtual):
                if id(entry) in seen:
                    return
                seen.add(id(entry))
                for sub in entry.fields.values():
                    yield from walk(sub)
            elif isinstance(entry, Value):
                yield entry

        for entry in self.entries():
            yield from walk(entry)

    def map_entries(self, value_of) -> "Snapshot":
        """A copy where each entry that is a Value becomes ``value_of(value)`` (a
        Value, a Virtual, or a ``(value, True)`` pair), bool pairs and Virtuals
        copied around them (each Virtual once: sharing and cycles are kept)."""
        copies: dict[int, Virtual] = {}

        def entry(e):
            if isinstance(e, tuple):
                inner = entry(e[0])
                return inner if isinstance(inner, tuple) else (inner,) + tuple(e[1:])
            if isinstance(e, Virtual):
                copy = copies.get(id(e))
                if copy is None:
                    copy = copies[id(e)] = Virtual(e.descr)
                    copy.fields = {k: entry(v) for k, v in e.fields.items()}
                return copy
            return value_of(e)

        return Snapshot([FrameSnapshot(f.code, f.pc, [entry(e) for e in f.values],
                                       f.exc_pending) for f in self.frames],
                        [DelayedStore(entry(o), d, entry(v), None if i is None else entry(i))
                         for o, d, v, i in self.stores])


# --- operations and traces ---------------------------------------------------------

class Op:
    """One trace operation.  ``result`` is its Box (None for void ops).  ``fits``
    says that the optimiser proved the exact result of an int op lies in 64 bits
    (a backend need not wrap it); it is no part of the op's meaning."""
    __slots__ = ("name", "args", "descr", "result", "snapshot", "fits")

    def __init__(self, name: str, args: list[Value], descr: Descr | None = None,
                 result: Box | None = None, snapshot: Snapshot | None = None):
        self.name = name
        self.args = args
        self.descr = descr
        self.result = result
        self.snapshot = snapshot
        self.fits = False
        if result is not None:
            result.op = self

    @property
    def spec(self) -> OpSpec:
        return OPS[self.name]

    def is_guard(self) -> bool:
        return self.name in GUARDS

    def arg(self, n: int) -> Value:
        a = self.args[n]
        return a.find() if isinstance(a, Box) else a

    def __repr__(self):
        return f"Op({self.name}, {self.args}, {self.descr})"


class Trace:
    """A recorded or optimised trace: input boxes and a linear list of ops.

    ``consts`` names the object constants and descriptors for the text form."""

    def __init__(self, inputargs: list[Box], ops: list[Op] | None = None,
                 name: str = "trace"):
        self.inputargs = inputargs
        self.ops = ops if ops is not None else []
        self.name = name
        self.names: dict[int, str] = {}    # id(object or descr) -> its name in text
        self.objects: dict[str, Any] = {}  # name -> object or descr

    def name_of(self, obj: Any, hint: str) -> str:
        """Give ``obj`` (an object constant or a descriptor) a stable name."""
        key = id(obj)
        if key in self.names:
            return self.names[key]
        # Dots stay (``Frame.pc``); a name starts with a letter or '_' so that the
        # text form never mistakes it for a number.
        base = "".join(c if c.isalnum() or c in "_." else "_" for c in hint) or "obj"
        if not (base[0].isalpha() or base[0] == "_"):
            base = "_" + base
        name = base
        n = 1
        while name in self.objects:
            n += 1
            name = f"{base}_{n}"
        self.names[key] = name
        self.objects[name] = obj
        return name

    def guards(self):
        return [op for op in self.ops if op.is_guard()]

    def __len__(self):
        return len(self.ops)


def failargs(guard: Op) -> list[Box]:
    """The values a failing guard hands back: the distinct boxes its snapshot keeps
    alive, in snapshot order.  Every backend exits with exactly these, and resume
    reads them in this order."""
    out: list[Box] = []
    seen: set[int] = set()
    if guard.snapshot is not None:
        for value in guard.snapshot.boxes():
            if isinstance(value, Box):
                value = value.find()
            if isinstance(value, Box) and id(value) not in seen:
                seen.add(id(value))
                out.append(value)
    return out
