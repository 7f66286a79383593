"""Loop peeling: the loop becomes a preamble (one iteration) and a body.

``label(I, T0); ops; jump(J, T0)`` becomes::

    label(I, T0); ops; jump(J_v, T1)          # the preamble: the first iteration
    label(B, T1); ops'; jump(J_v', T1)        # the body: every later iteration

where ``ops'`` is a copy of ``ops`` (fresh boxes, snapshots copied) in which each
input that the loop carries unchanged (``J[k] is I[k]``) stays the preamble's box
and each other input is a fresh label argument.  Running the passes over the peeled
trace then lets the body use what the preamble proved about values that never
change (their classes, bounds, pure computations on them): invariant work stays in
the preamble.  Facts about mutable memory do not cross a label (the body is also
entered from its own end): passes that cache the heap forget it at every label.

Other loops jump to ``T0`` (through the preamble), which is always correct; a
bridge back to its own loop may enter the body at ``T1`` (``body_entry.py``).

Two steps follow the body's optimisation.  ``drop_invariant_label_args`` removes
the label arguments the body passes back unchanged.  ``export_loads`` carries what
the heap holds across the label: a load at the start of the body of a location
that does not move (its object and index are defined before the body) and that
nothing in the body writes before it becomes a label argument, whose value the
preamble's jump and the body's jump pass (each reads the location just before
jumping; the heap cache then forwards the value it stored or loaded).  The
location of a store the heap pass delays (a field's, an array item's) with a fixed
object and index is carried the same way, even when the body never reads it: the
store then waits across the label instead of being done at every jump.  What this
does not do yet: entering the body from other loops (a jump from another unit
enters a unit at its first label).
"""
from __future__ import annotations

from typing import NamedTuple

from metajit.tracer.ir import Box, CallDescr, Const, Flag, Op, TargetDescr, Trace, Value
from metajit.tracer.opt.base import boxing_op, resolve, store_may_wait


def is_peelable(trace: Trace) -> bool:
    ops = trace.ops
    return (len(ops) >= 2 and ops[0].name == "label" and ops[-1].name == "jump"
            and ops[-1].descr is ops[0].descr
            and not any(op.name == "label" for op in ops[1:]))


def peel(trace: Trace) -> bool:
    """Peel ``trace`` in place; False (and nothing changed) when it is not a loop
    that closes on its own label."""
    if not is_peelable(trace):
        return False
    label, jump = trace.ops[0], trace.ops[-1]
    inputs = [resolve(a) for a in label.args]
    carried = [resolve(a) for a in jump.args]
    mapping: dict[int, Value] = {}
    body_args: list[Box] = []
    preamble_out: list[Value] = []
    variant: list[int] = []
    for k, (inp, out) in enumerate(zip(inputs, carried)):
        if out is inp:
            mapping[id(inp)] = inp           # loop-invariant: the same box in the body
        else:
            fresh = Box(inp.kind, getattr(inp, "pyclass", None))
            mapping[id(inp)] = fresh
            body_args.append(fresh)
            preamble_out.append(out)
            variant.append(k)
    body_target = TargetDescr(f"{label.descr.name}.body", owner=label.descr.owner)
    copier = OpCopier(mapping)
    body = [copier.op(op) for op in trace.ops[1:-1]]
    end = Op("jump", [copier.value(carried[k]) for k in variant], body_target)
    trace.ops = (trace.ops[:-1] + [Op("jump", preamble_out, body_target),
                                   Op("label", body_args, body_target)] + body + [end])
    return True


class OpCopier:
    """Copies ops with fresh result boxes; ``mapping`` (id of a value -> the value
    to use instead) starts with what the copy is given and grows with each result."""

    def __init__(self, mapping: dict[int, Value]):
        self.mapping = mapping

    def value(self, value: Value) -> Value:
        value = resolve(value)
        return self.mapping.get(id(value), value)

    def op(self, op: Op) -> Op:
        result = None
        if op.result is not None:
            result = Box(op.result.kind, op.result.pyclass)
            self.mapping[id(op.result)] = result
        snapshot = op.snapshot.map_entries(self.value) if op.snapshot is not None else None
        return Op(op.name, [self.value(a) for a in op.args], op.descr, result, snapshot)


VIRTUAL_LABEL_ARGS = "virtual_label_args"
# ctx.loop_state key: {body label argument: (load op name, its args, its descr)} for
# the locations export_loads carries across the label (the heap pass knows their
# values at the label, and keeps the fields' stores pending across it)
CARRIED_FIELDS = "carried_fields"


class LabelShapeMismatch(Exception):
    """Raised by a pass in the body round when the body's jump cannot give the body
    label argument ``index`` the shape the pass gave it from the preamble's jump
    (a virtual object passed as its fields); the round is redone with that
    argument left as it is."""

    def __init__(self, index: int):
        super().__init__(index)
        self.index = index


def copy_trace(trace: Trace) -> Trace:
    """A copy with fresh boxes and ops (descriptors and constants shared): what a
    round that may be redone starts from."""
    mapping: dict[int, Value] = {}
    inputs = []
    for box in trace.inputargs:
        fresh = Box(box.kind, box.pyclass)
        mapping[id(box)] = fresh
        inputs.append(fresh)
    copier = OpCopier(mapping)
    twin = Trace(inputs, [copier.op(op) for op in trace.ops], trace.name)
    twin.names, twin.objects = dict(trace.names), dict(trace.objects)
    return twin


class PeeledLoop(NamedTuple):
    """A peeled loop: the preamble's jump and the body's label (indices and ops),
    and the body's jump."""
    entry_at: int
    label_at: int
    entry: Op
    label: Op
    end: Op


def peeled_loop(trace: Trace) -> PeeledLoop | None:
    """The parts of a peeled loop whose body label is entered only from the
    preamble's jump and the body's own end; else None."""
    ops = trace.ops
    if len(ops) < 3 or ops[-1].name != "jump":
        return None
    target = ops[-1].descr
    labels = [i for i, op in enumerate(ops) if op.name == "label" and op.descr is target]
    entries = [i for i, op in enumerate(ops[:-1]) if op.name == "jump" and op.descr is target]
    if len(labels) != 1 or len(entries) != 1 or entries[0] > labels[0]:
        return None
    return PeeledLoop(entries[0], labels[0], ops[entries[0]], ops[labels[0]], ops[-1])


def drop_invariant_label_args(trace: Trace) -> bool:
    """After the body is optimised, a label argument that the body's jump passes back
    unchanged holds, in every iteration, what the preamble's jump gave it: replace it
    by that value and drop it from the label and both jumps.  True when one went."""
    loop = peeled_loop(trace)
    if loop is None:
        return False
    label, entry, end = loop.label, loop.entry, loop.end
    keep = []
    for k, arg in enumerate(label.args):
        if resolve(end.args[k]) is arg and resolve(entry.args[k]) is not arg:
            arg.forwarded = resolve(entry.args[k])
        else:
            keep.append(k)
    if len(keep) == len(label.args):
        return False
    for op in (label, entry, end):
        op.args = [op.args[k] for k in keep]
    return True


def unbox_label_args(trace: Trace) -> bool:
    """A reference label argument that both jumps pass as a fresh box of a number
    (``box_int``, ``box_bool``, ``box_float`` of the same kind) travels as the number:
    the label takes the number and boxes it again right after, where the passes
    fold the box away against the body's unboxing and class guards.  The preamble's
    jump may instead pass an object the preamble guarded to be of the box's class
    and unboxed (a value read from memory, say): it then passes what it unboxed.
    True when one did."""
    loop = peeled_loop(trace)
    if loop is None:
        return False
    entry_at, label_at, entry, label, end = loop
    ops = trace.ops
    boxing: list[Op] = []
    for k, arg in enumerate(label.args):
        made = boxing_op(end.args[k])
        if arg.kind != "r" or made is None:
            continue
        entered = boxing_op(entry.args[k])
        if entered is not None:
            number = resolve(entered.args[0]) if entered.name == made.name else None
        else:
            number = _unboxed(ops[:entry_at], entry.args[k], made.name)
        if number is None:
            continue
        fresh = Box(number.kind, getattr(number, "pyclass", None))
        boxing.append(Op(made.name, [fresh], None, arg))
        label.args[k] = fresh
        entry.args[k] = number
        end.args[k] = resolve(made.args[0])
    if not boxing:
        return False
    trace.ops = ops[:label_at + 1] + boxing + ops[label_at + 1:]
    return True


_BOXED_CLASS = {"box_int": int, "box_bool": bool, "box_float": float}


def _unboxed(preamble: list[Op], value: Value, box: str) -> Value | None:
    """The number that ``preamble`` unboxed from ``value`` after guarding that it
    is of the class ``box`` makes (None when it did not): ``unbox_float``, or
    ``unbox_int_ovf`` with the ``guard_no_overflow`` after it."""
    value = resolve(value)
    cls = _BOXED_CLASS[box]
    guarded = any(op.name == "guard_class" and resolve(op.args[0]) is value
                  and isinstance(resolve(op.args[1]), Const) and resolve(op.args[1]).value is cls
                  for op in preamble)
    if not guarded:
        return None
    for n, op in enumerate(preamble):
        if op.result is None or not op.args or resolve(op.args[0]) is not value:
            continue
        if box == "box_float" and op.name == "unbox_float":
            return resolve(op.result)
        if box != "box_float" and op.name == "unbox_int_ovf" and n + 1 < len(preamble) \
                and preamble[n + 1].name == "guard_no_overflow":
            return resolve(op.result)
    return None


# -- the heap across the label --------------------------------------------------------

_LOADS = frozenset({"getfield", "getarrayitem_i", "getarrayitem_f", "getarrayitem_r",
                    "arraylen"})
_ITEMS = "[]"


def _writes(op: Op):
    """What ``op`` may write: None (nothing), "all", or ("field", name) /
    ("items", storage, array, index) / ("call", names) / ("call any", the objects it
    is given: anything but the virtualizable fields of other objects)."""
    spec = op.spec
    if op.name == "setfield":
        return ("field", op.descr.name)
    if op.name.startswith("setarrayitem"):
        return ("items", op.descr.storage, resolve(op.args[0]), resolve(op.args[1]))
    if spec.has(Flag.CALL):
        if spec.has(Flag.PURE):
            return None
        writes = op.descr.writes if isinstance(op.descr, CallDescr) else None
        if writes is None:      # anything, but virtualizable fields of what it is not given
            return ("call any", frozenset(resolve(a) for a in op.args[1:]))
        return ("call", writes)
    if op.name == "new_with_vtable" or not spec.has(Flag.SIDE_EFFECT):
        return None
    return "all"


def _changes_lengths(op: Op) -> bool:
    w = _writes(op)
    return w == "all" or (isinstance(w, tuple) and (
        w[0] == "call any" or (w[0] == "call" and _ITEMS in w[1])))


class _Offsets:
    """Index forms ``(base, offset)`` through ``int_add``/``int_sub`` of constants
    (array indices are in range, so the same base with different offsets is a
    different item; see heap.py)."""

    def __init__(self, ops: list[Op]):
        self.forms: dict[int, tuple] = {}
        for op in ops:
            if op.name in ("int_add", "int_sub", "int_add_ovf", "int_sub_ovf"):
                a, b = resolve(op.args[0]), resolve(op.args[1])
                sign = -1 if op.name.startswith("int_sub") else 1
                if isinstance(b, Const) and isinstance(a, Box):
                    self._add(op.result, a, sign * int(b.value))
                elif sign == 1 and isinstance(a, Const) and isinstance(b, Box):
                    self._add(op.result, b, int(a.value))

    def _add(self, result: Box, base: Box, offset: int) -> None:
        root, start = self.forms.get(id(base), (base, 0))
        if abs(start + offset) < 1 << 32:
            self.forms[id(result)] = (root, start + offset)

    def form(self, index: Value) -> tuple:
        index = resolve(index)
        if isinstance(index, Const):
            return (None, int(index.value))
        return self.forms.get(id(index), (index, 0))

    def differ(self, a: Value, b: Value) -> bool:
        fa, fb = self.form(a), self.form(b)
        return fa[0] is fb[0] and fa[1] != fb[1]


def _clobbers(write, load: Op, offsets: _Offsets) -> bool:
    """Whether an op that writes ``write`` may change what ``load`` reads."""
    if write is None:
        return False
    if write == "all":
        return True
    if write[0] == "call any":
        return not (load.name == "getfield" and load.descr.virtualizable
                    and resolve(load.args[0]) not in write[1])
    if write[0] == "call":
        if load.name == "getfield":
            return load.descr.name in write[1]
        return _ITEMS in write[1]
    if write[0] == "field":
        return load.name == "getfield" and load.descr.name == write[1]
    if load.name == "getfield" or load.name == "arraylen":
        return False            # a store to an item never changes a length
    if write[1] != load.descr.storage:
        return False
    array, index = write[2], write[3]
    return not (array is resolve(load.args[0]) and offsets.differ(index, load.args[1]))


def export_loads(trace: Trace, carried=()) -> list[tuple[Box, Op]]:
    """Loads of fixed locations at the start of the body, and the locations of
    stores the heap pass delays, become label arguments (see the module's
    docstring); ``carried`` lists the ``(load name, args, descr)`` an earlier
    round made arguments already.  Returns the new label arguments with the load
    each stands for (empty when none did); the passes should run again so that the
    heap cache answers the loads added before the two jumps."""
    loop = peeled_loop(trace)
    if loop is None:
        return []
    entry_at, label_at, entry, label, end = loop
    ops = trace.ops
    body = ops[label_at + 1:-1]
    defined = {id(a) for a in label.args}
    defined.update(id(op.result) for op in body if op.result is not None)
    lengths_fixed = not any(_changes_lengths(op) for op in ops)
    offsets = _Offsets(ops)

    def fixed(value: Value) -> bool:
        value = resolve(value)
        return isinstance(value, Const) or id(value) not in defined

    exported: list[Op] = []
    writes: list = []
    for op in body:
        if (op.name in _LOADS and all(fixed(a) for a in op.args)
                and (op.name == "getfield" or lengths_fixed)
                and not any(_clobbers(w, op, offsets) for w in writes)
                and not any(_same_load(op, other) for other in exported)):
            exported.append(op)
        load = _load_of_store(op)
        if (load is not None and all(fixed(a) for a in load.args)
                and (load.name == "getfield" or lengths_fixed)
                and not isinstance(resolve(op.args[-1]), Const)
                and not any(_same_load(load, other) for other in exported)
                and not any(_same_load(load, Op(name, args, descr))
                            for name, args, descr in carried)):
            exported.append(load)   # stands for no op of the body
        w = _writes(op)
        if w is not None:
            writes.append(w)
            if w == "all":
                break
    if not exported:
        return []
    keep = set(map(id, exported))
    new_body = [op for op in body if id(op) not in keep]
    at_entry, at_end = [], []
    carried = []
    for load in exported:
        result = load.result
        arg = Box(result.kind, result.pyclass)
        label.args.append(arg)
        carried.append((arg, load))
        for jump, extra in ((entry, at_entry), (end, at_end)):
            copy = Op(load.name, list(load.args), load.descr,
                      Box(result.kind, result.pyclass))
            extra.append(copy)
            jump.args.append(copy.result)
        result.forwarded = arg
    trace.ops = (ops[:entry_at] + at_entry + [entry, label] + new_body + at_end + [end])
    return carried


def _load_of_store(op: Op) -> Op | None:
    """For a store the heap pass keeps pending (``store_may_wait``), a load of the
    location it writes: exporting it carries the stored value across the label,
    and the store stays pending there."""
    if not store_may_wait(op):
        return None
    if op.name == "setfield":
        return Op("getfield", [op.args[0]], op.descr, Box("r"))
    kind = op.name[-1]
    return Op(f"getarrayitem_{kind}", list(op.args[:2]), op.descr, Box(kind))


def _same_load(a: Op, b: Op) -> bool:
    return (a.name == b.name and a.descr is b.descr
            and all(_same_value(resolve(x), resolve(y)) for x, y in zip(a.args, b.args)))


def _same_value(x: Value, y: Value) -> bool:
    return x is y or (isinstance(x, Const) and x == y)
