"""Heap caching: loads the trace already knows the answer to are removed.

One forward walk keeps a cache of what the heap is known to hold at this point of
the trace:

- fields: ``(object, FieldDescr) -> value``, from a ``getfield`` (what was read) or a
  ``setfield`` (what was written);
- array items: ``(array, index, ArrayDescr) -> value``, from ``getarrayitem_*`` and
  ``setarrayitem_*``; the index is a box or a constant;
- array lengths: ``(array, ArrayDescr) -> length``, from ``arraylen``.

A load whose entry is cached is removed and its result replaced by the cached value.
The counters ``heap_getfield_from_load``, ``heap_getfield_from_store``,
``heap_getarrayitem_from_load``, ``heap_getarrayitem_from_store`` and
``heap_arraylen_from_load`` say how often, by kind of load and by where the value
came from (an earlier load, or forwarded from a store).

What it proves.  An entry stays valid until an op may write that location:

- ``setfield(q, d, v)`` may write the field of any object that is not provably
  distinct from ``q`` (both fresh ``new_with_vtable`` results, a fresh result and a
  box defined before its allocation or a constant, or two different constants);
  entries of descriptors with the same field name count as the same field.
- ``setarrayitem(q, j, v)`` may write the item of any array of the same storage that
  may be ``q``, at any index not provably different from ``j``; it never changes a
  length.  Indices of array ops are in range (``0 <= j < len``: the recorder's
  bounds guards come first, and a trace breaking that is invalid), so two indices
  differ when they are different constants, or the same box plus different
  constants (``i`` and ``int_add(i, 1)``, followed through ``int_add``/``int_sub``
  of constants).
- A residual call (``call_*``) writes what its CallDescr's ``writes`` names: None is
  anything mutable (lengths too: a list may grow), a frozenset names fields, with
  ``"[]"`` for array items and lengths.  ``call_pure_*`` writes nothing.  Entries of
  immutable descriptors (``FieldDescr.immutable``, ``ArrayDescr.immutable``) survive
  every call; quasi-immutable fields are treated as mutable.
- Guards, pure ops, ``new_with_vtable`` and markers write nothing.  A ``label`` is
  where a jump comes back: the cache starts empty there.  Any other op with a side
  effect empties the cache (a new op stays correct until it is taught here).

A store is forwarded to a later load only where reading back gives exactly what
was written: any value for fields and lists; for buffers, a float only where the
storage keeps a float64 unchanged, and an int of class ``int`` (``True`` stored
into a bytearray reads back as ``1``; a bool box, as the recorder marks it through
``Box.pyclass``, is not forwarded there).

What it may not touch: every store and every other op stays where it is, in order;
nothing is moved, only loads are dropped.  Delaying stores comes later and fits this
cache: a ``setfield`` would then record a pending store instead of emitting it, to be
emitted at a call whose ``reads`` may see it, when the value escapes, at the loop's
end, and by resume when a guard fails (each guard's snapshot would carry them).
"""
from __future__ import annotations

from metajit.tracer.ir import (ArrayDescr, Box, CallDescr, Const, FieldDescr, Flag, Op,
                               Value)
from metajit.tracer.opt.base import ForwardPass, resolve

ITEMS = "[]"        # the name a CallDescr's reads/writes gives to array items and lengths

# How a store reads back: object storages keep the very object; these buffers give
# back a float64 unchanged, or an int of class int (``True`` reads back as ``1``).
_OBJECT_STORAGES = frozenset({"list", "tuple"})
_EXACT_FLOAT_STORAGES = frozenset({"array:d", "numpy:float64"})
_EXACT_INT_STORAGES = frozenset({"bytearray", "numpy:int64"} |
                                {f"array:{code}" for code in "bBhHiIlLqQ"})


def _index_key(index: Value):
    """Equal keys name the same item: the same box, or constants of equal value."""
    return int(index.value) if isinstance(index, Const) else index


def _indices_differ(a: tuple, b: tuple) -> bool:
    """Two index forms ``(base, offset)`` (base a box, or None for a constant) that
    can never name the same item: the same base with different offsets."""
    return a[0] is b[0] and a[1] != b[1]


class HeapPass(ForwardPass):
    name = "heap"

    def setup(self) -> None:
        # descr -> {object or (array, index key): (value, "load" or "store")}
        self.fields: dict[FieldDescr, dict[Value, tuple]] = {}
        self.items: dict[ArrayDescr, dict[tuple, tuple]] = {}
        self.lengths: dict[ArrayDescr, dict[Value, tuple]] = {}
        # when each box was defined (walk position), and which were allocated here
        self.born: dict[Box, int] = {box: -1 for box in self.trace.inputargs}
        self.fresh: set[Box] = set()
        self.position = 0
        self.offsets: dict[Box, tuple] = {}    # box -> (base box, constant offset)

    def default(self, op: Op) -> None:
        spec = op.spec
        if spec.has(Flag.CALL):
            self.call_effects(op)
        elif spec.has(Flag.SIDE_EFFECT):
            self.forget_all(keep_immutable=False)
        self.emit(op)

    def emit(self, op: Op) -> None:
        if op.result is not None:
            self.born[op.result] = self.position
        self.position += 1
        super().emit(op)

    # -- aliasing ------------------------------------------------------------------

    def distinct(self, a: Value, b: Value) -> bool:
        """``a`` and ``b`` are provably different objects."""
        if a is b:
            return False
        if isinstance(a, Const) and isinstance(b, Const):
            return a != b
        return self._distinct_fresh(a, b) or self._distinct_fresh(b, a)

    def _distinct_fresh(self, new: Value, other: Value) -> bool:
        """``new`` was allocated in this trace after ``other`` existed."""
        if new not in self.fresh:
            return False
        if isinstance(other, Const) or other in self.fresh:
            return True
        born = self.born.get(other)
        return born is not None and born < self.born[new]

    # -- invalidation --------------------------------------------------------------

    def forget_fields(self, name: str | None, keep_immutable: bool) -> None:
        """Forget the fields called ``name`` (every field for None)."""
        for descr in list(self.fields):
            if (name is None or descr.name == name) and not (
                    keep_immutable and descr.immutable):
                del self.fields[descr]

    def forget_arrays(self, keep_immutable: bool) -> None:
        for cache in (self.items, self.lengths):
            for descr in list(cache):
                if not (keep_immutable and descr.immutable):
                    del cache[descr]

    def forget_all(self, keep_immutable: bool = True) -> None:
        self.forget_fields(None, keep_immutable)
        self.forget_arrays(keep_immutable)

    def call_effects(self, op: Op) -> None:
        if op.spec.has(Flag.PURE):     # call_pure_*: elidable, writes nothing
            return
        descr = op.descr
        writes = descr.writes if isinstance(descr, CallDescr) else None
        if writes is None:
            self.forget_all()
            return
        for name in writes:
            if name == ITEMS:
                self.forget_arrays(keep_immutable=True)
            else:
                self.forget_fields(name, keep_immutable=True)

    # -- fields --------------------------------------------------------------------

    def optimize_getfield(self, op: Op) -> None:
        obj = op.arg(0)
        if self.load(op, self.fields.get(op.descr, {}).get(obj), "getfield"):
            return
        self.emit(op)
        self.fields.setdefault(op.descr, {})[obj] = (op.result, "load")

    def optimize_setfield(self, op: Op) -> None:
        obj = op.arg(0)
        for descr, cache in self.fields.items():
            if descr.name == op.descr.name:
                for other in [o for o in cache if not self.distinct(o, obj)]:
                    del cache[other]
        self.emit(op)
        stored = self.stored(op.arg(1), op)
        if stored is not None:
            self.fields.setdefault(op.descr, {})[obj] = (stored, "store")

    # -- arrays --------------------------------------------------------------------

    def optimize_arraylen(self, op: Op) -> None:
        array = op.arg(0)
        if self.load(op, self.lengths.get(op.descr, {}).get(array), "arraylen"):
            return
        self.emit(op)
        self.lengths.setdefault(op.descr, {})[array] = (op.result, "load")

    def getarrayitem(self, op: Op) -> None:
        key = (op.arg(0), _index_key(op.arg(1)))
        if self.load(op, self.items.get(op.descr, {}).get(key), "getarrayitem"):
            return
        self.emit(op)
        self.items.setdefault(op.descr, {})[key] = (op.result, "load")

    def setarrayitem(self, op: Op) -> None:
        array, index = op.arg(0), _index_key(op.arg(1))
        form = self.index_form(index)
        for descr, cache in self.items.items():
            if descr is op.descr or descr.storage == op.descr.storage:
                for key in [k for k in cache if not self.distinct(k[0], array)
                            and not _indices_differ(self.index_form(k[1]), form)]:
                    del cache[key]
        self.emit(op)
        stored = self.stored(op.arg(2), op)
        if stored is not None:
            self.items.setdefault(op.descr, {})[(array, index)] = (stored, "store")

    def index_form(self, key) -> tuple:
        """``(base, offset)``: the index is ``base + offset`` (base None: a constant)."""
        if isinstance(key, int):
            return (None, key)
        return self.offsets.get(key, (key, 0))

    def optimize_int_add(self, op: Op) -> None:
        a, b = op.arg(0), op.arg(1)
        if isinstance(b, Const) and isinstance(a, Box):
            self.add_offset(op.result, a, int(b.value))
        elif isinstance(a, Const) and isinstance(b, Box):
            self.add_offset(op.result, b, int(a.value))
        self.emit(op)

    def optimize_int_sub(self, op: Op) -> None:
        a, b = op.arg(0), op.arg(1)
        if isinstance(b, Const) and isinstance(a, Box):
            self.add_offset(op.result, a, -int(b.value))
        self.emit(op)

    def add_offset(self, result: Box, base: Box, offset: int) -> None:
        """``result = base + offset``.  Even a wrapping add keeps two such values
        different when their offsets differ by less than 2**64 (offsets are kept
        small), whatever the base."""
        root, start = self.offsets.get(base, (base, 0))
        if abs(start + offset) < 1 << 32:
            self.offsets[result] = (root, start + offset)

    optimize_int_add_ovf = optimize_int_add
    optimize_int_sub_ovf = optimize_int_sub
    optimize_getarrayitem_i = optimize_getarrayitem_f = optimize_getarrayitem_r = getarrayitem
    optimize_setarrayitem_i = optimize_setarrayitem_f = optimize_setarrayitem_r = setarrayitem

    # -- values --------------------------------------------------------------------

    def load(self, op: Op, entry: tuple | None, what: str) -> bool:
        """Remove the load ``op`` when the cache ``entry`` (value, source) answers it."""
        if entry is None:
            return False
        value = resolve(entry[0])
        if value.kind != op.result.kind:
            return False
        self.ctx.count(f"heap_{what}_from_{entry[1]}")
        self.replace(op.result, value)
        return True

    def stored(self, value: Value, op: Op) -> Value | None:
        """What a load of the location the store ``op`` writes gives back, when that
        is exactly ``value`` (else None: the location is then simply unknown)."""
        storage = op.descr.storage if isinstance(op.descr, ArrayDescr) else None
        if storage is None or storage in _OBJECT_STORAGES:
            return value
        if value.kind == "f" and storage in _EXACT_FLOAT_STORAGES:
            return value
        if value.kind == "i" and storage in _EXACT_INT_STORAGES:
            if isinstance(value, Const):
                return Const("i", int(value.value))
            return value if value.pyclass is int else None
        return None

    # -- markers -------------------------------------------------------------------

    def optimize_label(self, op: Op) -> None:
        lengths = dict(self.lengths) if self._lengths_survive(op) else {}
        self.forget_all(keep_immutable=False)
        self.lengths.update(lengths)
        for arg in op.args:          # a body's label binds new boxes here
            if isinstance(arg, Box):
                self.born.setdefault(arg, self.position)
        self.emit(op)

    def _lengths_survive(self, label: Op) -> bool:
        """A label is also entered from the end of what follows it (the loop body).
        Array lengths known before it still hold there when nothing after it can
        change a length: no call that may write items, no unknown side effect."""
        ops = self.trace.ops
        start = next(i for i, o in enumerate(ops) if o is label)
        for op in ops[start + 1:]:
            spec = op.spec
            if spec.has(Flag.CALL):
                writes = op.descr.writes if isinstance(op.descr, CallDescr) else None
                if not spec.has(Flag.PURE) and (writes is None or ITEMS in writes):
                    return False
            elif spec.has(Flag.SIDE_EFFECT) and not op.name.startswith(("setfield",
                                                                        "setarrayitem")):
                return False
        return True

    def optimize_new_with_vtable(self, op: Op) -> None:
        self.emit(op)
        self.fresh.add(op.result)


def register() -> None:
    # imported here: the pipeline imports this module while it is being loaded
    from metajit.tracer.opt.pipeline import register_pass
    register_pass("heap", HeapPass)
