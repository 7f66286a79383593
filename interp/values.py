"""What the meta-interpreter holds in a register: a concrete value and its trace value.

``TV.value`` is the Python object the interpreter would hold; ``TV.box`` is what
the trace knows of it (a Const or a Box), or None for a virtual: an object the
trace has not allocated (a tuple built and taken apart inside the trace, the
iterator of a ``for`` loop over a range or a list), described by ``TV.virtual``.
Resume builds virtuals only when a guard fails (``materialize``).
"""
from __future__ import annotations

from typing import Any

from metajit.tracer.ir import ArrayDescr, Const, FieldDescr, SizeDescr, Value, fits_int64


class TV:
    __slots__ = ("value", "box", "virtual")

    def __init__(self, value: Any, box: Value | None, virtual: Any = None):
        self.value = value
        self.box = box
        self.virtual = virtual

    def is_const(self) -> bool:
        return self.box is not None and self.box.is_const()

    def __repr__(self):
        return f"TV({self.value!r}, {self.box or self.virtual})"


def kind_of(value: Any) -> str:
    """The trace kind a Python value is held in: 'i' for ints and bools that fit
    64 bits, 'f' for floats, 'r' for everything else."""
    t = type(value)
    if (t is int or t is bool) and fits_int64(value):
        return "i"
    if t is float:
        return "f"
    return "r"


def const_tv(value: Any) -> TV:
    return TV(value, Const(kind_of(value), value))


# --- virtuals: objects the trace never allocates -----------------------------------

class VTuple:
    """A tuple built in the trace; ``items`` are TVs."""
    __slots__ = ("items",)

    def __init__(self, items: list[TV]):
        self.items = items


class VRange:
    """``range(start, stop, step)`` not yet iterated."""
    __slots__ = ("start", "stop", "step")

    def __init__(self, start: TV, stop: TV, step: TV):
        self.start, self.stop, self.step = start, stop, step


class VRangeIter:
    """The iterator of ``for x in range(start, stop, step)``: next yields ``cur``."""
    __slots__ = ("cur", "stop", "step")

    def __init__(self, cur: TV, stop: TV, step: TV):
        self.cur, self.stop, self.step = cur, stop, step


class VListIter:
    """The iterator of ``for x in some_list``: next yields ``lst[index]``."""
    __slots__ = ("lst", "index")

    def __init__(self, lst: TV, index: TV):
        self.lst, self.index = lst, index


class RangeIterator:
    """Marker class naming the virtual range iterator in snapshots."""


class ListIterator:
    """Marker class naming the virtual list iterator in snapshots."""


class Range:
    """Marker class naming a virtual range in snapshots."""


TUPLE_DESCR = ArrayDescr("tuple", "r", immutable=True)
RANGE_DESCR = SizeDescr(Range)
RANGE_ITER_DESCR = SizeDescr(RangeIterator)
LIST_ITER_DESCR = SizeDescr(ListIterator)
# the virtuals that stand for builtin objects (built from all their fields at once)
MARKER_DESCRS = (TUPLE_DESCR, RANGE_DESCR, RANGE_ITER_DESCR, LIST_ITER_DESCR)

# The fields of the virtual range, range iterator and list iterator, as the trace IR
# wants a snapshot's Virtual keyed: by FieldDescr (``Range.start`` ...).
_VIRTUAL_FIELDS = {(owner, name): FieldDescr(owner, name)
                   for owner, names in ((Range, ("start", "stop", "step")),
                                        (RangeIterator, ("cur", "stop", "step")),
                                        (ListIterator, ("lst", "index")))
                   for name in names}


def virtual_field(owner: type, name: str) -> FieldDescr:
    """The field descriptor of field ``name`` of a virtual of marker class ``owner``."""
    return _VIRTUAL_FIELDS[owner, name]


def field_values(fields: dict) -> dict:
    """A Virtual's fields keyed by name (FieldDescr keys) or index (arrays)."""
    return {getattr(k, "name", k): v for k, v in fields.items()}


def materialize(descr, fields: dict) -> Any:
    """Build the builtin object a snapshot's Virtual of a marker descr stands for,
    from its fields' concrete values (keys: item indexes, field names or
    FieldDescrs).  Program objects and lists are built by resume itself (first
    empty, then filled: they may form cycles)."""
    fields = field_values(fields)
    if descr is TUPLE_DESCR:
        return tuple(fields[i] for i in range(len(fields)))
    if descr is RANGE_DESCR:
        return range(fields["start"], fields["stop"], fields["step"])
    if descr is RANGE_ITER_DESCR:
        return iter(range(fields["cur"], fields["stop"], fields["step"]))
    if descr is LIST_ITER_DESCR:
        it = iter(fields["lst"])
        it.__setstate__(fields["index"])
        return it
    raise TypeError(f"cannot materialize a virtual of {descr!r}")
