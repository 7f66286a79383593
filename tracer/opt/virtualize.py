"""Allocation removal: objects the trace creates and that do not escape are never
created.

``p = new_with_vtable(descr=C)`` makes ``p`` *virtual*: the op is not emitted, and
the pass keeps the object's fields itself (``FieldDescr -> value``), as the trace
sets them.  While ``p`` stays virtual:

- ``setfield(p, v)`` updates the kept field and is not emitted; ``getfield(p)`` is
  replaced by the kept value (``virtualize.getfield``);
- ``guard_class(p, C)`` and ``guard_nonnull(p)`` are known to pass and go;
  ``ptr_eq``/``ptr_ne`` with ``p`` on one side are known: a virtual is the very
  object only of itself (nothing else can reach an object that was never created);
- a guard's snapshot that names ``p`` gets a ``Virtual(C)`` entry with the fields
  as they are at that guard (nested virtuals too, cycles included, one entry per
  object per guard): resume creates the object only when that guard fails.

The object *escapes* where anything else sees it: an argument of a call, of a
``jump`` or ``finish``, the value stored into a field of a real object or into an
array, the object of a ``guard_value``, a ``getfield`` of a field the trace never
set.  Just before that op the pass *forces* it: it emits the ``new_with_vtable``
(defining the same box, so later uses need no change) and a ``setfield`` per kept
field, forcing the virtuals those fields hold first; from then on the object is
real.  A virtual is marked real before its fields are written, so cycles end.
A virtual the body of a peeled loop reads (directly: the preamble's boxes are in
scope there) is forced before the preamble's jump: the body's label is where every
iteration starts, and an object created before it is one object for all of them.

What it proves: an object no op outside the trace ever sees behaves the same
whether or not it exists, as long as every read of it gets what the last write put
there and resume rebuilds it with exactly those fields wherever the interpreter
would have seen it.  ``new_with_vtable`` is only recorded for classes whose
``__new__`` is ``object.__new__`` (creating one has no effect of its own).

What it does not do yet: virtual arrays, and virtuals carried across the loop's
label (an object the body creates and the next iteration reads is forced at the
jump).
"""
from __future__ import annotations

from metajit.tracer.ir import (Box, Const, FieldDescr, FrameSnapshot, Op, SizeDescr, Snapshot,
                               Value, Virtual)
from metajit.tracer.opt.base import ForwardPass, resolve


class _VirtualObject:
    __slots__ = ("op", "fields")

    def __init__(self, op: Op):
        self.op = op                                   # the new_with_vtable not emitted
        self.fields: dict[FieldDescr, Value] = {}


class VirtualizePass(ForwardPass):
    name = "virtualize"

    def setup(self) -> None:
        self.virtuals: dict[Box, _VirtualObject] = {}
        self.used_later = _used_after_last_label(self.trace.ops)

    def virtual(self, value: Value) -> _VirtualObject | None:
        value = resolve(value)
        return self.virtuals.get(value) if isinstance(value, Box) else None

    # -- escapes --
    def force(self, value: Value) -> None:
        """Make ``value`` real if it is virtual: emit its allocation and fields."""
        obj = self.virtual(value)
        if obj is None:
            return
        del self.virtuals[obj.op.result]
        self.ctx.count("virtualize.forced")
        self.out.append(obj.op)
        for descr, field in obj.fields.items():
            self.force(field)
            self.out.append(Op("setfield", [obj.op.result, resolve(field)], descr))

    def default(self, op: Op) -> None:
        for arg in op.args:
            self.force(arg)
        if op.snapshot is not None:
            op.snapshot = self.snapshot(op.snapshot)
        self.emit(op)

    def optimize_jump(self, op: Op) -> None:
        if op is not self.trace.ops[-1]:
            # the preamble's jump: what the body reads of the preamble must exist
            # before the body's label (one object for every iteration)
            for box in list(self.virtuals):
                if box in self.used_later:
                    self.force(box)
        self.default(op)

    def optimize_label(self, op: Op) -> None:
        self.virtuals.clear()     # what is left is never used after this label
        self.default(op)

    def optimize_new_with_vtable(self, op: Op) -> None:
        if isinstance(op.descr, SizeDescr):
            self.virtuals[op.result] = _VirtualObject(op)
            self.ctx.count("virtualize.allocation")
        else:
            self.default(op)

    def optimize_setfield(self, op: Op) -> None:
        obj = self.virtual(op.args[0])
        if obj is None:
            self.default(op)
            return
        obj.fields.pop(op.descr, None)          # insertion order is assignment order
        obj.fields[op.descr] = resolve(op.args[1])
        self.ctx.count("virtualize.setfield")

    def optimize_getfield(self, op: Op) -> None:
        obj = self.virtual(op.args[0])
        if obj is None or op.descr not in obj.fields:
            self.default(op)
            return
        self.replace(op.result, obj.fields[op.descr])
        self.ctx.count("virtualize.getfield")

    def optimize_same_as_r(self, op: Op) -> None:
        if self.virtual(op.args[0]) is None:
            self.default(op)
        else:
            self.replace(op.result, op.args[0])

    # -- what is known of a virtual --
    def optimize_guard_class(self, op: Op) -> None:
        obj = self.virtual(op.args[0])
        cls = op.args[1]
        if obj is not None and isinstance(cls, Const) and cls.value is obj.op.descr.cls:
            self.ctx.count("virtualize.guard_class")
            return
        self.default(op)

    def optimize_guard_nonnull(self, op: Op) -> None:
        if self.virtual(op.args[0]) is not None:
            self.ctx.count("virtualize.guard_nonnull")
            return
        self.default(op)

    def optimize_ptr_eq(self, op: Op) -> None:
        self.identity(op, True)

    def optimize_ptr_ne(self, op: Op) -> None:
        self.identity(op, False)

    def identity(self, op: Op, equal: bool) -> None:
        a, b = op.args
        if self.virtual(a) is None and self.virtual(b) is None:
            self.default(op)
            return
        same = a is b
        self.replace(op.result, Const("i", same if equal else not same))
        self.ctx.count("virtualize.identity")

    # -- snapshots --
    def snapshot(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with a Virtual entry for each virtual object it reaches
        (a new Snapshot when there is one: snapshots may be shared)."""
        if not any(self.virtual(box) is not None for box in snapshot.boxes()):
            return snapshot
        made: dict = {}     # id(virtual object or recorder's Virtual) -> its entry

        def entry(e):
            if isinstance(e, tuple):
                return (entry(e[0]),) + tuple(e[1:])
            if isinstance(e, Virtual):
                copy = made.get(id(e))
                if copy is None:
                    copy = made[id(e)] = Virtual(e.descr)
                    copy.fields = {k: entry(v) for k, v in e.fields.items()}
                return copy
            obj = self.virtual(e)
            if obj is None:
                return e
            copy = made.get(id(obj))
            if copy is None:
                copy = made[id(obj)] = Virtual(obj.op.descr)
                copy.fields = {k: entry(v) for k, v in obj.fields.items()}
            return copy

        return Snapshot([FrameSnapshot(f.code, f.pc, [entry(e) for e in f.values],
                                       f.exc_pending) for f in snapshot.frames])


def _used_after_last_label(ops: list[Op]) -> set[Box]:
    """The boxes that the ops after the trace's last label (if it is not the first
    op) read, snapshots included."""
    labels = [i for i, op in enumerate(ops) if op.name == "label"]
    used: set[Box] = set()
    if not labels or labels[-1] == 0:
        return used
    for op in ops[labels[-1]:]:
        values = list(op.args)
        if op.snapshot is not None:
            values.extend(op.snapshot.boxes())
        used.update(v for v in map(resolve, values) if isinstance(v, Box))
    return used


def register() -> None:
    from metajit.tracer.opt.pipeline import register_pass   # the pipeline imports this module
    register_pass(VirtualizePass.name, VirtualizePass, after="intbounds")
