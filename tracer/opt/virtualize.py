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

A snapshot entry made by ``box_int``/``box_bool``/``box_float`` becomes the number
it boxes (resume makes the same Python object of it), so that the box is made only
where something else needs it.

Across the loop's label.  In the body round (``unroll.py``), a virtual the
preamble's jump passes (once, and not read directly by the body) is passed as its
fields: the body's label takes one argument per field and the body starts with a
virtual made of them.  The body's jump must then pass a virtual of the same class
with the same fields, or ``LabelShapeMismatch`` has the round redone with that
argument passed as a real object.  Virtuals held in the fields of such an object
are forced (passed real).

Lists.  A ``call_r`` whose CallDescr ``builds`` lists (the tracer's list displays,
``[a, b]``) makes a virtual list of its arguments: ``getarrayitem_r`` and
``setarrayitem_r`` at a constant index in range and ``arraylen`` are answered from
it, snapshots get a ``Virtual(list)`` with its items, and forcing emits the call
with the current items (a virtual item is made after the list and stored into it).
A virtual list crosses the loop's label as its items, as an object does as its
fields (the body's jump must pass a list built the same way with as many items).
"""
from __future__ import annotations

from metajit.tracer.ir import (ArrayDescr, Box, CallDescr, Const, FieldDescr, Op, SizeDescr,
                               Snapshot, Value, Virtual)
from metajit.tracer.opt.base import ForwardPass, boxing_op, resolve
from metajit.tracer.opt.unroll import VIRTUAL_LABEL_ARGS, LabelShapeMismatch


class _VirtualObject:
    __slots__ = ("op", "fields")

    def __init__(self, op: Op):
        self.op = op                                   # the new_with_vtable not emitted
        self.fields: dict[FieldDescr, Value] = {}

    @property
    def cls(self) -> type:
        return self.op.descr.cls


class _VirtualList:
    """A list built by a ``call_r`` whose CallDescr ``builds`` lists, not emitted."""
    __slots__ = ("op", "items")
    cls = list

    def __init__(self, op: Op):
        self.op = op
        self.items: list[Value] = [resolve(a) for a in op.args[1:]]


LIST_DESCR = ArrayDescr("list", "r")


class VirtualizePass(ForwardPass):
    name = "virtualize"

    def setup(self) -> None:
        self.virtuals: dict[Box, _VirtualObject] = {}
        self.used_later = _used_after_last_label(self.trace.ops)
        self.label_shapes: dict[int, tuple] = {}    # from the preamble's jump
        self.body_shapes: dict[int, tuple] = {}     # what the body's jump must match

    def virtual(self, value: Value) -> _VirtualObject | None:
        value = resolve(value)
        return self.virtuals.get(value) if isinstance(value, Box) else None

    # -- escapes --
    def force(self, value: Value) -> None:
        """Make ``value`` real if it is virtual: emit its allocation and fields."""
        obj = self.virtual(value)
        if obj is None:
            return
        box = obj.op.result
        del self.virtuals[box]
        self.ctx.count("virtualize.forced")
        if isinstance(obj, _VirtualList):
            # built with its real items; the virtual ones are made and stored after
            # (they may lead back to the list)
            later = [i for i, item in enumerate(obj.items)
                     if self.virtual(item) is not None or resolve(item) is box]
            items = [Const("r", None) if i in later else resolve(item)
                     for i, item in enumerate(obj.items)]
            self.out.append(Op(obj.op.name, [obj.op.args[0]] + items, obj.op.descr, box))
            for i in later:
                self.force(obj.items[i])
                self.out.append(Op("setarrayitem_r", [box, Const("i", i),
                                                      resolve(obj.items[i])], LIST_DESCR))
            return
        self.out.append(obj.op)
        for descr, field in obj.fields.items():
            self.force(field)
            self.out.append(Op("setfield", [box, resolve(field)], descr))

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
            left_alone = self.ctx.loop_state.get(VIRTUAL_LABEL_ARGS)
            if left_alone is not None:
                self.label_shapes = self.pass_as_fields(op, None, left_alone)
        elif self.body_shapes:
            self.pass_as_fields(op, self.body_shapes, set())
        self.default(op)

    def pass_as_fields(self, jump: Op, shapes: dict | None, left_alone: set) -> dict:
        """Pass the virtual objects and lists among ``jump``'s arguments as their
        fields (items).  At the preamble's jump (``shapes`` None) any virtual passed
        once may be, unless its index is ``left_alone``; the shapes chosen are
        returned.  At the body's jump the arguments must have exactly ``shapes``, or
        the round is redone.  A shape is ``(the op that makes the object, its field
        descrs)`` for an object, ``(the op, the number of items)`` for a list."""
        args = jump.args
        if shapes is None:
            chosen = [k for k, a in enumerate(args) if self.virtual(a) is not None
                      and args.count(a) == 1 and k not in left_alone]
        else:
            chosen = list(shapes)
        for k in chosen:             # what the fields hold is passed as it is: real
            for field in _parts(self.virtual(args[k])):
                self.force(field)
        new_shapes: dict[int, tuple] = {}
        for k in chosen:
            obj = self.virtual(args[k])
            if obj is None or args.count(args[k]) != 1:
                if shapes is None:
                    continue
                raise LabelShapeMismatch(k)
            shape = _shape(obj)
            if shapes is not None and not _same_shape(shape, shapes[k]):
                raise LabelShapeMismatch(k)
            new_shapes[k] = shapes[k] if shapes is not None else shape
        new_args: list[Value] = []
        for k, arg in enumerate(args):
            if k in new_shapes:
                obj = self.virtuals.pop(arg)
                if isinstance(obj, _VirtualList):
                    new_args.extend(resolve(item) for item in obj.items)
                else:
                    new_args.extend(resolve(obj.fields[d]) for d in new_shapes[k][1])
                self.ctx.count("virtualize.label_fields")
            else:
                new_args.append(arg)
        jump.args = new_args
        return new_shapes

    def optimize_label(self, op: Op) -> None:
        self.virtuals.clear()     # what is left is never used after this label
        if self.label_shapes:
            # each label argument passed as fields: a virtual whose fields are new
            # label arguments
            new_args: list[Value] = []
            for k, arg in enumerate(op.args):
                if k not in self.label_shapes:
                    new_args.append(arg)
                    continue
                maker, keys = self.label_shapes[k]
                if isinstance(keys, int):           # a list of ``keys`` items
                    items = [Box("r") for _ in range(keys)]
                    obj = _VirtualList(Op(maker.name, [maker.args[0]] + items, maker.descr, arg))
                    new_args.extend(items)
                else:
                    obj = _VirtualObject(Op("new_with_vtable", [], maker.descr, arg))
                    for key in keys:
                        obj.fields[key] = Box("r")
                        new_args.append(obj.fields[key])
                self.virtuals[arg] = obj
            op.args = new_args
            self.body_shapes, self.label_shapes = self.label_shapes, {}
        self.default(op)

    def optimize_new_with_vtable(self, op: Op) -> None:
        if isinstance(op.descr, SizeDescr):
            self.virtuals[op.result] = _VirtualObject(op)
            self.ctx.count("virtualize.allocation")
        else:
            self.default(op)

    def optimize_setfield(self, op: Op) -> None:
        obj = self.virtual(op.args[0])
        if not isinstance(obj, _VirtualObject):
            self.default(op)
            return
        obj.fields.pop(op.descr, None)          # insertion order is assignment order
        obj.fields[op.descr] = resolve(op.args[1])
        self.ctx.count("virtualize.setfield")

    def optimize_getfield(self, op: Op) -> None:
        obj = self.virtual(op.args[0])
        if not isinstance(obj, _VirtualObject) or op.descr not in obj.fields:
            self.default(op)
            return
        self.replace(op.result, obj.fields[op.descr])
        self.ctx.count("virtualize.getfield")

    # -- lists --
    def optimize_call_r(self, op: Op) -> None:
        if isinstance(op.descr, CallDescr) and op.descr.builds == "list":
            self.virtuals[op.result] = _VirtualList(op)
            self.ctx.count("virtualize.list")
            return
        self.default(op)

    def list_item(self, op: Op) -> tuple[_VirtualList, int] | None:
        """The virtual list and constant in-range index ``op`` reads or writes."""
        obj = self.virtual(op.args[0])
        index = op.args[1]
        if (isinstance(obj, _VirtualList) and isinstance(index, Const)
                and 0 <= int(index.value) < len(obj.items)):
            return obj, int(index.value)
        return None

    def optimize_getarrayitem_r(self, op: Op) -> None:
        found = self.list_item(op)
        if found is None:
            self.default(op)
            return
        obj, index = found
        self.replace(op.result, obj.items[index])
        self.ctx.count("virtualize.getarrayitem")

    def optimize_setarrayitem_r(self, op: Op) -> None:
        found = self.list_item(op)
        if found is None:
            self.default(op)
            return
        obj, index = found
        obj.items[index] = resolve(op.args[2])
        self.ctx.count("virtualize.setarrayitem")

    def optimize_arraylen(self, op: Op) -> None:
        obj = self.virtual(op.args[0])
        if not isinstance(obj, _VirtualList):
            self.default(op)
            return
        self.replace(op.result, Const("i", len(obj.items)))
        self.ctx.count("virtualize.arraylen")

    def optimize_same_as_r(self, op: Op) -> None:
        if self.virtual(op.args[0]) is None:
            self.default(op)
        else:
            self.replace(op.result, op.args[0])

    # -- what is known of a virtual --
    def optimize_guard_class(self, op: Op) -> None:
        obj = self.virtual(op.args[0])
        cls = op.args[1]
        if obj is not None and isinstance(cls, Const) and cls.value is obj.cls:
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
        """``snapshot`` with a Virtual entry for each virtual object it reaches, and
        the number itself for a box of a number (resume makes the same Python
        object from it); a new Snapshot when anything changes (snapshots may be
        shared)."""
        if not any(self.virtual(box) is not None or _boxed(box) is not None
                   for box in snapshot.boxes()):
            return snapshot
        made: dict[int, Virtual] = {}     # id(virtual object) -> its entry

        def value_of(value: Value):
            boxing = _boxed(value)
            if boxing is not None:
                self.ctx.count("virtualize.snapshot_unboxed")
                number = resolve(boxing.args[0])
                return (number, True) if boxing.name == "box_bool" else number
            obj = self.virtual(value)
            if obj is None:
                return value
            copy = made.get(id(obj))
            if copy is None:
                if isinstance(obj, _VirtualList):
                    copy = made[id(obj)] = Virtual(LIST_DESCR)
                    copy.fields = {i: value_of(v) for i, v in enumerate(obj.items)}
                else:
                    copy = made[id(obj)] = Virtual(obj.op.descr)
                    copy.fields = {k: value_of(v) for k, v in obj.fields.items()}
            return copy

        return snapshot.map_entries(value_of)


def _parts(obj) -> list[Value]:
    """The values a virtual object's fields or a virtual list's items hold."""
    if obj is None:
        return []
    return list(obj.items) if isinstance(obj, _VirtualList) else list(obj.fields.values())


def _shape(obj) -> tuple:
    if isinstance(obj, _VirtualList):
        return (obj.op, len(obj.items))
    return (obj.op, list(obj.fields))


def _same_shape(a: tuple, b: tuple) -> bool:
    """Whether two shapes (see ``pass_as_fields``) make the same kind of object
    with the same fields, or lists of as many items built the same way."""
    (maker_a, keys_a), (maker_b, keys_b) = a, b
    if isinstance(keys_a, int) or isinstance(keys_b, int):
        return keys_a == keys_b and maker_a.descr is maker_b.descr
    return maker_a.descr is maker_b.descr and set(keys_a) == set(keys_b)


def _boxed(value: Value) -> Op | None:
    """The op that boxed ``value`` (of an int box of class ``int`` for box_int: a
    bool box stays as it is)."""
    op = boxing_op(value)
    if op is not None and op.name == "box_int" and \
            getattr(resolve(op.args[0]), "pyclass", int) is not int:
        return None
    return op


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
