"""Heap caching: loads the trace already knows the answer to are removed.

One forward walk keeps a cache of what the heap is known to hold at this point of
the trace:

- fields: ``(object, FieldDescr) -> value``, from a ``getfield`` (what was read) or a
  ``setfield`` (what was written);
- array items: ``(array, index, ArrayDescr) -> value``, from ``getarrayitem_*`` and
  ``setarrayitem_*``; the index is named by its form ``(base box, offset)``
  through ``int_add``/``int_sub`` of constants (``i + 1 + 3`` is ``i + 4``), or
  ``(None, value)`` for a constant;
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

Delayed stores.  A ``setfield`` is not emitted where it stands but kept pending (a
later store to the same object and field replaces it: ``heap_store_coalesced``),
and emitted, in program order, just before what could observe it: a load of a
field of that name that the cache cannot answer (the object may be another box's),
a residual call whose effect information says it may read or write that field (all
of them for a call that may do anything), an op with an unknown side effect, and
the end of the trace or a label.  A guard on the way gets the pending stores in its
snapshot (``heap_store_past_guard``): when it fails, resume does them before the
interpreter goes on.  Stores to quasi-immutable fields and to ``__class__`` are
never delayed (their effect is tested at once).  A store to a list's item waits
the same way (``store(p0, list[i1]=p2)`` in a snapshot), and so does one to a
buffer's (bytearray, array, numpy: the recorder guarded the value's range before
the store, so writing it back later cannot fail): a later store to the same item
replaces it, and it is emitted before a load or a store of an item that may be the
same (another array of that storage that may be this one, an index not provably
different), before a call that may read or write items, and at the end
(``store_may_wait`` in base.py says which stores wait).  Fields a class lists in
``_virtualizable_`` are seen by residual code only on an object passed to it: a
call that may read anything still leaves their stores pending and their cached
values known on every other object.

Across the loop's label.  For a field the body's label carries (``export_loads``
in unroll.py made the field's value at the start of the body a label argument, and
the body's jump passes the value the field has there), the store pending at the
body's jump is not emitted (``heap_store_carried``): at the body's label the store
of the label argument is pending again, so memory is brought up to date at the
first point of the next iteration that could look, by a guard's snapshot when one
fails, or never while the loop runs.  A frame's fields then live in registers.
Each later round sees the label's pending store again; the stores a guard's
snapshot got in an earlier round come after it (an earlier round saw the store
ops this one no longer has), so the last one wins as before.  Array items the label
carries work the same way: an interpreter's registers in a list, a tape cell, live in
registers.  A constant that the preamble's jump stores into a field or an item (a
frame's ``pc``, a register set to ``True``) is in memory when the body starts; when
the body's jump would store the same constant and nothing in the body stored that
location (or one that may be it) or may have written it (a call), the store is
dropped (``heap_store_unchanged``).

What it may not touch: every other op stays where it is, in order; only loads are
dropped and field and item stores moved later (stores to immutable arrays stay).
"""
from __future__ import annotations

from metajit.tracer.ir import (ArrayDescr, Box, CallDescr, Const, DelayedStore, FieldDescr,
                               Flag, Op, Value)
from metajit.tracer.opt.base import BOX_OPS, ForwardPass, resolve, store_may_wait
from metajit.tracer.opt.unroll import CARRIED_FIELDS

ITEMS = "[]"        # the name a CallDescr's reads/writes gives to array items and lengths

# How a store reads back: object storages keep the very object; these buffers give
# back a float64 unchanged, or an int of class int (``True`` reads back as ``1``).
_OBJECT_STORAGES = frozenset({"list", "tuple"})
_EXACT_FLOAT_STORAGES = frozenset({"array:d", "numpy:float64"})
_EXACT_INT_STORAGES = frozenset({"bytearray", "numpy:int64"} |
                                {f"array:{code}" for code in "bBhHiIlLqQ"})


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
        # stores not emitted yet, in program order: (object, FieldDescr) or
        # (array, ArrayDescr, index form) -> the setfield / setarrayitem_* op
        self.pending: dict[tuple, Op] = {}
        self.carried_at: Op | None = None          # the body's label, when it carries fields
        self.carried: dict[int, tuple] = {}        # label arg index -> its pending key
        # fields memory holds a known constant in, since the preamble's jump
        # stored it: (object, descr) -> the Const (see optimize_jump)
        self.clean: dict[tuple, Const] = {}

    def default(self, op: Op) -> None:
        spec = op.spec
        if spec.has(Flag.CALL):
            self.call_effects(op)
        elif spec.has(Flag.SIDE_EFFECT) and op.name not in ("setarrayitem_i", "setarrayitem_f",
                                                           "setarrayitem_r"):
            self.flush(None)
            self.forget_all(keep_immutable=False)
            self.forget_clean(None)
        if spec.has(Flag.FINAL):
            self.flush(None)
        if op.is_guard():
            self.delay_past(op)
        self.emit(op)

    # -- delayed stores ------------------------------------------------------------

    @staticmethod
    def unseen(obj: Value, passed: frozenset) -> bool:
        """A virtualizable ``obj`` is none of the objects a call is given
        (``passed``).  By the contract of ``_virtualizable_`` residual code reaches
        such an object only through a reference it is passed, so identity decides
        (another box that may hold the same object does not count)."""
        return obj not in passed

    def flush(self, name: str | None, passed: frozenset | None = None) -> None:
        """Emit the delayed stores of the fields called ``name`` (of array items for
        ``ITEMS``, all for None), in program order; with ``passed`` (what a
        residual call is given), those of virtualizable fields only on the objects
        passed."""
        for key, op in list(self.pending.items()):
            descr = key[1]
            if passed is not None and getattr(descr, "virtualizable", False) \
                    and self.unseen(key[0], passed):
                continue
            if name is None or _store_name(key) == name:
                self.emit_pending(key)

    def flush_items(self, array: Value, form: tuple, descr: ArrayDescr, keep=None) -> None:
        """Emit the delayed item stores that may write ``array[index]``, ``form``
        being the index's form (all but the one whose key is ``keep``)."""
        for key in list(self.pending):
            if len(key) == 3 and key != keep and key[1].storage == descr.storage \
                    and not self.distinct(key[0], array) \
                    and not _indices_differ(key[2], form):
                self.emit_pending(key)

    def emit_pending(self, key: tuple) -> None:
        op = self.pending.pop(key)
        op.args = [resolve(a) for a in op.args]
        self.forget_clean(_store_name(key), key[0], key[2] if len(key) == 3 else None)
        self.emit(op)

    def forget_clean(self, name: str | None, obj: Value | None = None,
                     form: tuple | None = None) -> None:
        """Memory may no longer hold the constants known for fields called
        ``name`` (items for ``ITEMS``, all for None), on objects that may be
        ``obj`` (any for None), at items whose index may be ``form``'s."""
        for key in [k for k in self.clean if (name is None or _store_name(k) == name)
                    and (obj is None or not self.distinct(k[0], obj))
                    and (form is None or not _indices_differ(k[2], form))]:
            del self.clean[key]

    def delay_past(self, guard: Op) -> None:
        """The guard's snapshot gets the stores still pending: resume does them."""
        if self.pending and guard.snapshot is not None:
            snapshot = guard.snapshot.map_entries(resolve)
            stores = [_delayed(op) for op in self.pending.values()] + snapshot.stores
            # a store that a later one to the same location overwrites goes
            last = {_location(store): n for n, store in enumerate(stores)}
            snapshot.stores = [store for n, store in enumerate(stores)
                               if last[_location(store)] == n]
            guard.snapshot = snapshot
            self.ctx.count("heap_store_past_guard")

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
        reads = descr.reads if isinstance(descr, CallDescr) else None
        writes = descr.writes if isinstance(descr, CallDescr) else None
        # a virtualizable's fields are seen by residual code only on an object it
        # is given: "passed" lists what the call may see them on
        passed = frozenset(resolve(a) for a in op.args[1:] if a.kind == "r")
        if reads is None or writes is None:
            self.flush(None, passed)
        else:
            for name in reads | writes:
                self.flush(name, passed)
        if writes is None:
            self.clean = {k: v for k, v in self.clean.items()
                          if len(k) == 2 and k[1].virtualizable and self.unseen(k[0], passed)}
            kept = {d: {o: v for o, v in cache.items() if self.unseen(o, passed)}
                    for d, cache in self.fields.items() if d.virtualizable}
            self.forget_all()
            for d, cache in kept.items():
                self.fields.setdefault(d, {}).update(cache)
            return
        for name in writes:
            if name == ITEMS:
                self.forget_arrays(keep_immutable=True)
            else:
                self.forget_fields(name, keep_immutable=True)
            self.forget_clean(name)

    # -- fields --------------------------------------------------------------------

    def optimize_getfield(self, op: Op) -> None:
        obj = op.arg(0)
        if self.load(op, self.fields.get(op.descr, {}).get(obj), "getfield"):
            return
        self.flush(op.descr.name)       # a delayed store to an object that may be obj
        self.emit(op)
        self.fields.setdefault(op.descr, {})[obj] = (op.result, "load")

    def optimize_setfield(self, op: Op) -> None:
        obj = op.arg(0)
        for descr, cache in self.fields.items():
            if descr.name == op.descr.name:
                for other in [o for o in cache if not self.distinct(o, obj)]:
                    del cache[other]
        if store_may_wait(op):
            key = (obj, op.descr)
            if self.pending.pop(key, None) is not None:
                self.ctx.count("heap_store_coalesced")
            self.pending[key] = op
        else:
            self.flush(op.descr.name)
            self.forget_clean(op.descr.name, obj)
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
        key = (op.arg(0), self.index_form(op.arg(1)))
        if self.load(op, self.items.get(op.descr, {}).get(key), "getarrayitem"):
            return
        self.flush_items(key[0], key[1], op.descr)
        self.emit(op)
        self.items.setdefault(op.descr, {})[key] = (op.result, "load")

    def setarrayitem(self, op: Op) -> None:
        array, form = op.arg(0), self.index_form(op.arg(1))
        for descr, cache in self.items.items():
            if descr is op.descr or descr.storage == op.descr.storage:
                for key in [k for k in cache if not self.distinct(k[0], array)
                            and not _indices_differ(k[1], form)]:
                    del cache[key]
        if store_may_wait(op):
            # emitted later, before anything that could see it; a pending store
            # to a location that may be this one goes first
            key = (array, op.descr, form)
            self.flush_items(array, form, op.descr, keep=key)
            if self.pending.pop(key, None) is not None:
                self.ctx.count("heap_store_coalesced")
            self.pending[key] = op
        else:
            self.flush_items(array, form, op.descr)
            self.forget_clean(ITEMS, array, form)
            self.emit(op)
        stored = self.stored(op.arg(2), op)
        if stored is not None:
            self.items.setdefault(op.descr, {})[(array, form)] = (stored, "store")

    def index_form(self, index: Value) -> tuple:
        """``(base, offset)``: the index is ``base + offset`` (base None: a constant).
        Items are named by it: two indices of one form are one value (the adds that
        made them may wrap, but both are in range), so they name the same item."""
        if isinstance(index, Const):
            return (None, int(index.value))
        return self.offsets.get(index, (index, 0))

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

    def optimize_jump(self, op: Op) -> None:
        last = self.trace.ops[-1]
        if op is last and self.carried_at is not None:
            # the jump passes the value of each field the label carries (that is
            # how export_loads made the argument): its store stays pending across
            # the label (see the docstring)
            for key in self.carried.values():
                if self.pending.pop(key, None) is not None:
                    self.ctx.count("heap_store_carried")
        if op is last and op is not self.trace.ops[0] and self.clean:
            # a constant the preamble's jump stored and nothing since changed
            for key, store in list(self.pending.items()):
                if resolve(store.args[-1]) == self.clean.get(key):
                    del self.pending[key]
                    self.ctx.count("heap_store_unchanged")
        elif op is not last and op.descr is last.descr:
            # the preamble's jump into the body: the constants it stores are in
            # memory when the body starts, and stay there while the body stores
            # none of those fields (the body's jump then need not store them)
            stored = {key: resolve(store.args[-1]) for key, store in self.pending.items()
                      if isinstance(resolve(store.args[-1]), Const)}
            self.default(op)
            self.clean = stored
            return
        self.default(op)

    def optimize_label(self, op: Op) -> None:
        self.flush(None)
        lengths = dict(self.lengths) if self._lengths_survive(op) else {}
        self.forget_all(keep_immutable=False)
        self.lengths.update(lengths)
        for arg in op.args:          # a body's label binds new boxes here
            if isinstance(arg, Box):
                self.born.setdefault(arg, self.position)
        self.emit(op)
        carried = self.ctx.loop_state.get(CARRIED_FIELDS)
        if carried and op.descr is self.trace.ops[-1].descr:
            # the fields the label carries: their value is the label argument, and
            # memory may not hold it yet (the body's jump did not store it)
            self.carried_at = op
            boxed = _boxed_after(self.trace.ops, op)
            for k, arg in enumerate(op.args):
                value = arg
                if arg not in carried and arg in boxed:    # unbox_label_args ran
                    value = boxed[arg].result
                if value not in carried:
                    continue
                name, args, descr = carried[value]
                args = [resolve(a) for a in args]
                if name == "arraylen":
                    self.lengths.setdefault(descr, {})[args[0]] = (value, "load")
                elif name != "getfield":
                    key = (args[0], self.index_form(args[1]))
                    self.items.setdefault(descr, {})[key] = (value, "load")
                    store = Op(f"setarrayitem_{value.kind}", [args[0], args[1], value],
                               descr)
                    if store_may_wait(store):
                        key = (args[0], descr, key[1])
                        self.carried[k] = key
                        self.pending[key] = store
                else:
                    self.fields.setdefault(descr, {})[args[0]] = (value, "load")
                    store = Op("setfield", [args[0], value], descr)
                    if store_may_wait(store):
                        key = (args[0], descr)
                        self.carried[k] = key
                        self.pending[key] = store

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


def _boxed_after(ops: list[Op], label: Op) -> dict[Box, Op]:
    """The ``box_*`` ops right after ``label`` that box one of its arguments."""
    start = next(i for i, o in enumerate(ops) if o is label) + 1
    args = {a for a in label.args if isinstance(a, Box)}
    boxed = {}
    for op in ops[start:]:
        if op.name not in BOX_OPS:
            break
        if resolve(op.args[0]) in args:
            boxed[resolve(op.args[0])] = op
    return boxed


def _store_name(key: tuple) -> str:
    """The name the effect information gives the location of a pending key."""
    return ITEMS if len(key) == 3 else key[1].name


def _delayed(op: Op) -> DelayedStore:
    """The pending store ``op`` as a snapshot's DelayedStore."""
    if op.name == "setfield":
        return DelayedStore(resolve(op.args[0]), op.descr, resolve(op.args[1]))
    return DelayedStore(resolve(op.args[0]), op.descr, resolve(op.args[2]),
                        resolve(op.args[1]))


def _location(store: DelayedStore) -> tuple:
    """Equal for two stores that write the same place."""
    index = store.index
    if index is not None:
        index = ("c", int(index.value)) if isinstance(index, Const) else ("b", id(index))
    return (id(store.obj), id(store.descr), index)


def register() -> None:
    # imported here: the pipeline imports this module while it is being loaded
    from metajit.tracer.opt.pipeline import register_pass
    register_pass("heap", HeapPass)
