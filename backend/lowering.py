"""Trace ops lowered to LLVM IR text, one lowering per op (``LOWERINGS``).

The native unit is one function ``i64 @unit(ptr %slots)``.  Every trace value
lives in an ``alloca`` of its own (``i64`` for ints and references, ``double`` for
floats); each op loads its arguments and stores its result, and LLVM's ``sroa``
turns that into SSA form with the phis that labels, re-entries and bridges need.

Representations.  An int is its 64-bit value; a reference is an index into the
run's object table (``None`` is index 0, the unit's constants follow, then the
objects the run was entered with; one object has one index, so ``is`` is ``==``
on indices); native code never dereferences it.  ``box_int``/``box_bool``/
``box_float`` keep the raw value: their results may only leave the unit (exits),
where the Python side boxes them.

The slot array (``i64``; a float travels as its bit pattern):

    [0] in: the state to start in (0: the unit's first label, k: label k)
    [1] out: iterations (jumps to the unit's own labels) done by this call
    [2] in: 1 when the unit has been invalidated (guard_not_invalidated fails)
    [3] unused
    [OBJECTS + 6k + 0] in: table index of the class of object k, or -1
    [OBJECTS + 6k + 1] in: data address of object k when it is a buffer, else 0
    [OBJECTS + 6k + 2] in: its length in items, else 0
    [OBJECTS + 6k + 3] in: object k as an int (or a float's bits) when it is one
    [OBJECTS + 6k + 4] in: 0 when [+3] holds it exactly, else 1 (unboxing overflows)
    [OBJECTS + 6k + 5] in: its storage's number (``backend.buffers``), else 0
    [values + n]       in: the values the state starts with;
                       out: an exit's values (a call exit: the values live after
                       the call, then the call's arguments)

The function returns an exit number (>= 0), or ``TICK`` when it left at a jump
to one of its labels after ``TICK_INTERVAL`` jumps so that Python can deliver
signals (slot 0 then names the label and the values are that label's live-ins).

Python semantics exactly: checked arithmetic through ``llvm.s*.with.overflow``;
shifts by 64 or more take Python's value and negative counts leave through a
*raise exit* (the Python side runs the op itself and raises what Python raises);
integer division and modulo never execute ``sdiv`` on a zero divisor or on
``INT64_MIN, -1`` (both trap: SIGFPE); float floor division and modulo follow
CPython's ``float_divmod``; float to int is range-checked before ``fptosi``;
every buffer access is bounds-checked (a failing check is a raise exit: Python
raises IndexError as it would), so native code never touches memory outside a
buffer whatever the trace or the guest does.
"""
from __future__ import annotations

import dataclasses
import struct
from typing import Any, Callable

from metajit.backend.buffers import READ_ONLY, STORAGES, Storage
from metajit.tracer.ir import INT64_MIN, Box, Const, Op

TICK = -2
TICK_INTERVAL = 1 << 16

H_STATE, H_ITERATIONS, H_INVALIDATED = 0, 1, 2
HEADER = 4
O_CLASS, O_ADDRESS, O_LENGTH, O_UNBOXED, O_UNBOX_BAD, O_STORAGE = range(6)
OBJECT_STRIDE = 6

# What each value looks like natively: 'i' int, 'f' float, 'r' table index,
# 'bi'/'bb'/'bf' an int/bool/float that leaves the unit as a new Python object,
# 'u' an unsigned 64-bit item (the guard after its read leaves when it is no int64).
BOXES = {"box_int": "bi", "box_bool": "bb", "box_float": "bf"}


def llvm_type(rep: str) -> str:
    return "double" if rep in ("f", "bf") else "i64"


def float_const(value: float) -> str:
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]


@dataclasses.dataclass
class Exit:
    """How the Python side reads one exit: ``guard`` (None for finish and jumps),
    ``target``, and ``values``: per value ``(rep, pyclass, slot)`` or
    ``("const", value, None)``.  A raise exit (``raises`` set) reruns ``raises``
    (an op) on its values in Python to raise Python's own exception."""
    guard: Op | None
    target: Any = None
    values: list = dataclasses.field(default_factory=list)
    raises: Op | None = None
    decode: Callable | None = None
    call: Any = None          # a call exit: its CallExit


def resolve(value, alias: dict):
    """What a trace value stands for: union-find forwarding, then a bridge input's
    alias (the guard's failarg it names)."""
    while True:
        if isinstance(value, Box):
            value = value.find()
        if isinstance(value, Box) and id(value) in alias:
            value = alias[id(value)]
            continue
        return value


class LoweringError(Exception):
    """The trace uses something native code cannot do (a bug of eligibility)."""


class Emitter:
    """Writes one unit's function.  ``code`` lists the traces (the loop first, then
    the bridges inlined natively, each ``(guard or None, trace)``)."""

    def __init__(self, constants: "ConstantTable", table_size: int):
        self.constants = constants
        self.objects_base = HEADER
        self.values_base = HEADER + OBJECT_STRIDE * table_size
        self.lines: list[str] = []
        self.allocas: dict[int, str] = {}    # id(box) -> alloca name
        self.alloca_boxes: dict[int, Box] = {}
        self.reps: dict[int, str] = {}
        self.alias: dict[int, Box] = {}      # id(bridge input) -> the failarg box
        self.exits: list[Exit] = []
        self.counter = 0
        self.terminated = False
        self.last_overflow: str | None = None
        self.needs_divmod = False

    # --- names, values --------------------------------------------------------------
    def int_class(self, box: Box):
        """The Python class of an int value at the exits (int or bool)."""
        return box.pyclass

    def tmp(self) -> str:
        self.counter += 1
        return f"%t{self.counter}"

    def block_name(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}{self.counter}"

    def emit(self, text: str) -> None:
        self.lines.append("  " + text)

    def start_block(self, name: str) -> None:
        if not self.terminated:
            self.emit(f"br label %{name}")
        self.lines.append(f"{name}:")
        self.terminated = False

    def terminate(self, text: str) -> None:
        self.emit(text)
        self.terminated = True

    def resolve(self, value):
        return resolve(value, self.alias)

    def rep_of(self, box: Box) -> str:
        box = self.resolve(box)
        if isinstance(box, Const):
            return box.kind
        return self.reps.get(id(box), box.kind)

    def alloca(self, box: Box) -> str:
        box = self.resolve(box)
        name = self.allocas.get(id(box))
        if name is None:
            name = self.allocas[id(box)] = f"%b{len(self.allocas)}"
            self.alloca_boxes[id(box)] = box
        return name

    def load(self, value) -> str:
        """An operand for ``value``: a constant, or a load of its alloca."""
        value = self.resolve(value)
        if isinstance(value, Const):
            return self.const_operand(value)
        t = self.tmp()
        self.emit(f"{t} = load {llvm_type(self.rep_of(value))}, ptr {self.alloca(value)}")
        return t

    def const_operand(self, const: Const) -> str:
        if const.kind == "f":
            return float_const(const.value)
        if const.kind == "i":
            return str(int(const.value))
        return str(self.constants.index(const.value))

    def store(self, box: Box, operand: str, rep: str | None = None) -> None:
        box = self.resolve(box)
        if rep is not None:
            self.reps[id(box)] = rep
        self.emit(f"store {llvm_type(self.rep_of(box))} {operand}, ptr {self.alloca(box)}")

    def slot_ptr(self, index) -> str:
        t = self.tmp()
        self.emit(f"{t} = getelementptr i64, ptr %slots, i64 {index}")
        return t

    def load_slot(self, index) -> str:
        p = self.slot_ptr(index)
        t = self.tmp()
        self.emit(f"{t} = load i64, ptr {p}")
        return t

    def store_slot(self, index, operand: str, rep: str = "i") -> None:
        if llvm_type(rep) == "double":
            bits = self.tmp()
            self.emit(f"{bits} = bitcast double {operand} to i64")
            operand = bits
        self.emit(f"store i64 {operand}, ptr {self.slot_ptr(index)}")

    def object_slot(self, ref: str, field: int) -> str:
        """The slot of ``field`` of the object whose table index is ``ref``."""
        scaled = self.op2("mul", "i64", ref, str(OBJECT_STRIDE))
        return self.op2("add", "i64", scaled, str(self.objects_base + field))

    def bool_result(self, cond: str) -> str:
        t = self.tmp()
        self.emit(f"{t} = zext i1 {cond} to i64")
        return t

    def op2(self, instr: str, ty: str, a: str, b: str) -> str:
        t = self.tmp()
        self.emit(f"{t} = {instr} {ty} {a}, {b}")
        return t

    def select(self, cond: str, ty: str, a: str, b: str) -> str:
        t = self.tmp()
        self.emit(f"{t} = select i1 {cond}, {ty} {a}, {ty} {b}")
        return t

    # --- exits ----------------------------------------------------------------------
    def exit_with(self, exit: Exit, values: list) -> None:
        """Write ``values`` (trace values) to the value slots, then return."""
        number = len(self.exits)
        self.exits.append(exit)
        for k, value in enumerate(values):
            value = self.resolve(value)
            if isinstance(value, Const):
                exit.values.append(("const", value.value, None))
                continue
            rep = self.rep_of(value)
            exit.values.append((rep, self.int_class(value) if rep == "i" else None, k))
            self.store_slot(self.values_base + k, self.load(value), rep)
        self.store_slot(H_ITERATIONS, self.load_iterations())
        self.terminate(f"ret i64 {number}")

    def load_iterations(self) -> str:
        t = self.tmp()
        self.emit(f"{t} = load i64, ptr %iterations")
        return t

    def fail_branch(self, fails: str, on_fail: Callable[[], None]) -> None:
        """``br fails``: the failing side is what ``on_fail`` emits."""
        fail, cont = self.block_name("fail"), self.block_name("ok")
        self.terminate(f"br i1 {fails}, label %{fail}, label %{cont}, !prof !0")
        self.lines.append(f"{fail}:")
        self.terminated = False
        on_fail()
        if not self.terminated:
            raise LoweringError("a failure path fell through")
        self.lines.append(f"{cont}:")
        self.terminated = False

    def raise_exit(self, op: Op, fails: str, args: list) -> None:
        """When ``fails``, leave so that Python runs ``op`` on ``args`` and raises."""
        self.fail_branch(fails, lambda: self.exit_with(Exit(None, raises=op), args))


class ConstantTable:
    """The objects a unit names: index 0 is None, then each constant once."""

    def __init__(self):
        self.objects: list = [None]
        self.indexes: dict[int, int] = {id(None): 0}

    def index(self, obj) -> int:
        k = self.indexes.get(id(obj))
        if k is None:
            k = self.indexes[id(obj)] = len(self.objects)
            self.objects.append(obj)
        return k


# --- the lowerings ---------------------------------------------------------------------
# Each takes (emitter, op) and emits the op's code; a value-producing op stores its
# result.  Guards call ``emitter.guard_fails(op, condition)``.

def _binary(instr: str):
    def lower(e: Emitter, op: Op):
        a, b = e.load(op.args[0]), e.load(op.args[1])
        e.store(op.result, e.op2(instr, "i64", a, b), "i")
    return lower


def _compare(pred: str, ty: str = "i64", instr: str = "icmp"):
    def lower(e: Emitter, op: Op):
        a, b = e.load(op.args[0]), e.load(op.args[1])
        e.store(op.result, e.bool_result(e.op2(f"{instr} {pred}", ty, a, b)), "i")
    return lower


def _test(pred: str, zero: str = "0", ty: str = "i64", instr: str = "icmp"):
    def lower(e: Emitter, op: Op):
        a = e.load(op.args[0])
        e.store(op.result, e.bool_result(e.op2(f"{instr} {pred}", ty, a, zero)), "i")
    return lower


def _with_overflow(intrinsic: str, unary_zero: bool = False):
    def lower(e: Emitter, op: Op):
        if unary_zero:
            a, b = "0", e.load(op.args[0])
        else:
            a, b = e.load(op.args[0]), e.load(op.args[1])
        pair = e.tmp()
        e.emit(f"{pair} = call {{i64, i1}} @llvm.{intrinsic}.with.overflow.i64(i64 {a}, i64 {b})")
        value, flag = e.tmp(), e.tmp()
        e.emit(f"{value} = extractvalue {{i64, i1}} {pair}, 0")
        e.emit(f"{flag} = extractvalue {{i64, i1}} {pair}, 1")
        e.store(op.result, value, "i")
        e.last_overflow = flag
    return lower


def _negative_count_raises(e: Emitter, op: Op, a: str, b: str) -> None:
    """A negative shift count: Python raises ValueError."""
    neg = e.op2("icmp slt", "i64", b, "0")
    e.raise_exit(op, neg, op.args)


def _left_shift(e: Emitter, op: Op):
    """(a, count >= 64, count & 63, a << (count & 63)); a negative count raises."""
    a, b = e.load(op.args[0]), e.load(op.args[1])
    _negative_count_raises(e, op, a, b)
    big = e.op2("icmp uge", "i64", b, "64")
    count = e.op2("and", "i64", b, "63")
    return a, big, count, e.op2("shl", "i64", a, count)


def _lower_lshift(e: Emitter, op: Op):
    _, big, _, shifted = _left_shift(e, op)
    e.store(op.result, e.select(big, "i64", "0", shifted), "i")


def _lower_rshift(e: Emitter, op: Op, instr: str, big_value):
    a, b = e.load(op.args[0]), e.load(op.args[1])
    _negative_count_raises(e, op, a, b)
    big = e.op2("icmp uge", "i64", b, "64")
    count = e.select(big, "i64", "63" if instr == "ashr" else "0", b)
    shifted = e.op2(instr, "i64", a, count)
    result = shifted if big_value is None else e.select(big, "i64", big_value, shifted)
    e.store(op.result, result, "i")


def _lower_lshift_ovf(e: Emitter, op: Op):
    a, big, count, shifted = _left_shift(e, op)
    back = e.op2("ashr", "i64", shifted, count)
    lost = e.op2("icmp ne", "i64", back, a)
    nonzero = e.op2("icmp ne", "i64", a, "0")
    e.store(op.result, e.select(big, "i64", "0", shifted), "i")
    e.last_overflow = e.select(big, "i1", nonzero, lost)


def _lower_divmod(e: Emitter, op: Op):
    """Python's // and % on ints.  Zero divisors leave through a raise exit
    (Python raises ZeroDivisionError); INT64_MIN, -1 sets the overflow flag; in
    neither case does ``sdiv``/``srem`` run on the pair (it would trap)."""
    a, b = e.load(op.args[0]), e.load(op.args[1])
    e.raise_exit(op, e.op2("icmp eq", "i64", b, "0"), op.args)
    min_a = e.op2("icmp eq", "i64", a, str(INT64_MIN))
    minus1 = e.op2("icmp eq", "i64", b, "-1")
    ovf = e.op2("and", "i1", min_a, minus1)
    safe_b = e.select(ovf, "i64", "1", b)
    q = e.op2("sdiv", "i64", a, safe_b)
    r = e.op2("srem", "i64", a, safe_b)
    # floor: when the remainder is non-zero and its sign differs from the divisor's
    rnz = e.op2("icmp ne", "i64", r, "0")
    signs = e.op2("xor", "i64", r, safe_b)
    differ = e.op2("icmp slt", "i64", signs, "0")
    adjust = e.op2("and", "i1", rnz, differ)
    if op.name == "int_floordiv_ovf":
        q1 = e.op2("sub", "i64", q, "1")
        result = e.select(adjust, "i64", q1, q)
    else:
        r1 = e.op2("add", "i64", r, safe_b)
        result = e.select(adjust, "i64", r1, r)
        result = e.select(ovf, "i64", "0", result)
    e.store(op.result, result, "i")
    e.last_overflow = ovf


def _lower_neg_ovf(e: Emitter, op: Op):
    _with_overflow("ssub", unary_zero=True)(e, op)


def _lower_abs_ovf(e: Emitter, op: Op):
    a = e.load(op.args[0])
    negative = e.op2("icmp slt", "i64", a, "0")
    neg = e.op2("sub", "i64", "0", a)
    e.store(op.result, e.select(negative, "i64", neg, a), "i")
    e.last_overflow = e.op2("icmp eq", "i64", a, str(INT64_MIN))


def _float_binary(instr: str):
    def lower(e: Emitter, op: Op):
        a, b = e.load(op.args[0]), e.load(op.args[1])
        e.store(op.result, e.op2(instr, "double", a, b), "f")
    return lower


def _float_divmod(index: int):
    """CPython's float_divmod (``1.0 // 0.1 == 9.0``); a zero divisor leaves
    through a raise exit (Python raises ZeroDivisionError)."""
    def lower(e: Emitter, op: Op):
        a, b = e.load(op.args[0]), e.load(op.args[1])
        e.raise_exit(op, e.op2("fcmp oeq", "double", b, float_const(0.0)), op.args)
        e.needs_divmod = True
        pair, t = e.tmp(), e.tmp()
        e.emit(f"{pair} = call {{double, double}} @metajit_float_divmod(double {a}, double {b})")
        e.emit(f"{t} = extractvalue {{double, double}} {pair}, {index}")
        e.store(op.result, t, "f")
    return lower


FLOAT_DIVMOD = """
define internal {double, double} @metajit_float_divmod(double %vx, double %wx) alwaysinline {
entry:
  %mod0 = frem double %vx, %wx
  %sub = fsub double %vx, %mod0
  %div0 = fdiv double %sub, %wx
  %modnz = fcmp une double %mod0, 0.0
  br i1 %modnz, label %nonzero, label %zero
nonzero:
  %wneg = fcmp olt double %wx, 0.0
  %mneg = fcmp olt double %mod0, 0.0
  %differ = xor i1 %wneg, %mneg
  %mod1 = fadd double %mod0, %wx
  %div1 = fsub double %div0, 1.0
  %modA = select i1 %differ, double %mod1, double %mod0
  %divA = select i1 %differ, double %div1, double %div0
  br label %floor
zero:
  %modB = call double @llvm.copysign.f64(double 0.0, double %wx)
  br label %floor
floor:
  %mod = phi double [%modA, %nonzero], [%modB, %zero]
  %div = phi double [%divA, %nonzero], [%div0, %zero]
  %divnz = fcmp une double %div, 0.0
  br i1 %divnz, label %round, label %signed_zero
round:
  %fl = call double @llvm.floor.f64(double %div)
  %diff = fsub double %div, %fl
  %up = fcmp ogt double %diff, 0.5
  %fl1 = fadd double %fl, 1.0
  %flA = select i1 %up, double %fl1, double %fl
  br label %done
signed_zero:
  %q = fdiv double %vx, %wx
  %flB = call double @llvm.copysign.f64(double 0.0, double %q)
  br label %done
done:
  %floordiv = phi double [%flA, %round], [%flB, %signed_zero]
  %r0 = insertvalue {double, double} undef, double %floordiv, 0
  %r1 = insertvalue {double, double} %r0, double %mod, 1
  ret {double, double} %r1
}
"""

DECLARATIONS = """
declare {i64, i1} @llvm.sadd.with.overflow.i64(i64, i64)
declare {i64, i1} @llvm.ssub.with.overflow.i64(i64, i64)
declare {i64, i1} @llvm.smul.with.overflow.i64(i64, i64)
declare double @llvm.fabs.f64(double)
declare double @llvm.floor.f64(double)
declare double @llvm.copysign.f64(double, double)
"""


def _float_unary(e: Emitter, op: Op):
    a = e.load(op.args[0])
    t = e.tmp()
    if op.name == "float_neg":
        e.emit(f"{t} = fneg double {a}")
    else:
        e.emit(f"{t} = call double @llvm.fabs.f64(double {a})")
    e.store(op.result, t, "f")


def _cast_int_to_float(e: Emitter, op: Op):
    a = e.load(op.args[0])
    t = e.tmp()
    e.emit(f"{t} = sitofp i64 {a} to double")
    e.store(op.result, t, "f")


def _cast_float_to_int(e: Emitter, op: Op):
    """int(f) fits 64 bits exactly when -2**63 <= f < 2**63 (false for nan):
    ``fptosi`` only ever sees such a value."""
    f = e.load(op.args[0])
    low = e.op2("fcmp oge", "double", f, float_const(-2.0 ** 63))
    high = e.op2("fcmp olt", "double", f, float_const(2.0 ** 63))
    fits = e.op2("and", "i1", low, high)
    safe = e.select(fits, "double", f, float_const(0.0))
    t = e.tmp()
    e.emit(f"{t} = fptosi double {safe} to i64")
    e.store(op.result, t, "i")
    e.last_overflow = e.op2("xor", "i1", fits, "true")


def _same_as(e: Emitter, op: Op):
    source = e.resolve(op.args[0])
    rep = e.rep_of(source) if isinstance(source, Box) else op.result.kind
    e.store(op.result, e.load(source), rep)


def _box(e: Emitter, op: Op):
    e.store(op.result, e.load(op.args[0]), BOXES[op.name])


def _nothing(e: Emitter, op: Op):
    pass


def _unbox(e: Emitter, op: Op):
    """The run glue put each object's int (or float bits) beside it: reading it
    dereferences nothing.  An int outside 64 bits overflows."""
    ref = e.load(op.args[0])
    raw = e.load_slot(e.object_slot(ref, O_UNBOXED))
    if op.name == "unbox_float":
        value = e.tmp()
        e.emit(f"{value} = bitcast i64 {raw} to double")
        e.store(op.result, value, "f")
        return
    bad = e.load_slot(e.object_slot(ref, O_UNBOX_BAD))
    e.store(op.result, raw, "i")
    e.last_overflow = e.op2("icmp ne", "i64", bad, "0")


def _call(e: Emitter, op: Op):
    e.lower_call(op)


# --- buffers ---

def buffer_storage(op: Op) -> Storage:
    storage = STORAGES.get(getattr(op.descr, "storage", None))
    if storage is None:
        raise LoweringError(f"{op.name} on {getattr(op.descr, 'storage', None)!r} storage")
    return storage


def _buffer(e: Emitter, op: Op, storage: Storage, store: bool):
    """(data pointer, index) of a checked access; an object that is not a buffer of
    ``storage`` (or a read-only one, for a store) or a bad index leaves through a
    raise exit (Python raises IndexError, or what it raises there).  Negative
    indexes count from the end, as in Python."""
    base = e.object_slot(e.load(op.args[0]), O_ADDRESS)
    address = e.load_slot(base)
    length = e.load_slot(e.op2("add", "i64", base, str(O_LENGTH - O_ADDRESS)))
    number = e.load_slot(e.op2("add", "i64", base, str(O_STORAGE - O_ADDRESS)))
    if not store:
        number = e.op2("and", "i64", number, str(READ_ONLY - 1))
    other = e.op2("icmp ne", "i64", number, str(storage.number))
    index = e.load(op.args[1])
    negative = e.op2("icmp slt", "i64", index, "0")
    wrapped = e.op2("add", "i64", index, length)
    index = e.select(negative, "i64", wrapped, index)
    outside = e.op2("icmp uge", "i64", index, length)
    e.raise_exit(op, e.op2("or", "i1", other, outside), op.args)
    pointer, item = e.tmp(), e.tmp()
    e.emit(f"{pointer} = inttoptr i64 {address} to ptr")
    e.emit(f"{item} = getelementptr {storage.llvm}, ptr {pointer}, i64 {index}")
    return item


def _getarrayitem(e: Emitter, op: Op):
    storage = buffer_storage(op)
    item = _buffer(e, op, storage, store=False)
    value = e.tmp()
    # numpy arrays may be unaligned
    e.emit(f"{value} = load {storage.llvm}, ptr {item}, align 1")
    if storage.kind == "f":
        if storage.llvm == "float":
            value = _convert(e, "fpext", "float", value, "double")
        e.store(op.result, value, "f")
        return
    if storage.pyclass is bool:
        value = _convert(e, "zext", "i1", e.op2("icmp ne", storage.llvm, value, "0"), "i64")
    elif storage.llvm != "i64":
        value = _convert(e, "sext" if storage.signed else "zext", storage.llvm, value, "i64")
    e.store(op.result, value, "u" if storage.may_exceed_int64 else "i")


def _convert(e: Emitter, instr: str, source: str, value: str, target: str) -> str:
    t = e.tmp()
    e.emit(f"{t} = {instr} {source} {value} to {target}")
    return t


def _setarrayitem(e: Emitter, op: Op):
    storage = buffer_storage(op)
    value = e.load(op.args[2])
    if storage.store_range is not None:
        low, high = storage.store_range
        # Python refuses items out of range (ValueError or OverflowError)
        shifted = e.op2("sub", "i64", value, str(low))
        e.raise_exit(op, e.op2("icmp ugt", "i64", shifted, str(high - low)), op.args)
    item = _buffer(e, op, storage, store=True)
    if storage.pyclass is bool:
        value = _convert(e, "zext", "i1", e.op2("icmp ne", "i64", value, "0"), "i8")
    elif storage.kind == "i" and storage.llvm != "i64":
        value = _convert(e, "trunc", "i64", value, storage.llvm)
    elif storage.llvm == "float":
        value = _convert(e, "fptrunc", "double", value, "float")
    e.emit(f"store {storage.llvm} {value}, ptr {item}, align 1")


def _arraylen(e: Emitter, op: Op):
    """The length native code was told; an object that is no buffer of the op's
    storage leaves (Python's len() of it is not the trace's)."""
    storage = buffer_storage(op)
    base = e.object_slot(e.load(op.args[0]), O_LENGTH)
    number = e.load_slot(e.op2("add", "i64", base, str(O_STORAGE - O_LENGTH)))
    number = e.op2("and", "i64", number, str(READ_ONLY - 1))
    e.raise_exit(op, e.op2("icmp ne", "i64", number, str(storage.number)), op.args)
    e.store(op.result, e.load_slot(base), "i")


# --- guards: each returns the i1 that is true when the guard fails ---

def _guard_condition(e: Emitter, op: Op) -> str:
    name = op.name
    if name in ("guard_true", "guard_false"):
        a = e.load(op.args[0])
        return e.op2("icmp eq" if name == "guard_true" else "icmp ne", "i64", a, "0")
    if name == "guard_value":
        x = e.resolve(op.args[0])
        rep = e.rep_of(x) if isinstance(x, Box) else x.kind
        a, c = e.load(x), e.load(op.args[1])
        if rep == "f":
            ab, cb = e.tmp(), e.tmp()
            e.emit(f"{ab} = bitcast double {a} to i64")
            e.emit(f"{cb} = bitcast double {c} to i64")
            a, c = ab, cb
        return e.op2("icmp ne", "i64", a, c)
    if name == "guard_class":
        ref = e.load(op.args[0])
        cls = e.load(op.args[1])
        return e.op2("icmp ne", "i64", e.load_slot(e.object_slot(ref, O_CLASS)), cls)
    if name == "guard_nonnull":
        return e.op2("icmp eq", "i64", e.load(op.args[0]), "0")
    if name == "guard_isnull":
        return e.op2("icmp ne", "i64", e.load(op.args[0]), "0")
    if name == "guard_no_overflow" or name == "guard_overflow":
        if e.last_overflow is None:
            raise LoweringError(f"{name} without an overflowing op before it")
        flag = e.last_overflow
        return flag if name == "guard_no_overflow" else e.op2("xor", "i1", flag, "true")
    if name == "guard_not_invalidated":
        return e.op2("icmp ne", "i64", e.load_slot(H_INVALIDATED), "0")
    raise LoweringError(f"no native lowering for {name}")


def _guard(e: Emitter, op: Op):
    e.lower_guard(op, _guard_condition(e, op))


LOWERINGS: dict[str, Callable[[Emitter, Op], None]] = {
    "int_add": _binary("add"), "int_sub": _binary("sub"), "int_mul": _binary("mul"),
    "int_and": _binary("and"), "int_or": _binary("or"), "int_xor": _binary("xor"),
    "int_lshift": _lower_lshift,
    "int_rshift": lambda e, op: _lower_rshift(e, op, "ashr", None),
    "uint_rshift": lambda e, op: _lower_rshift(e, op, "lshr", "0"),
    "int_neg": lambda e, op: e.store(op.result, e.op2("sub", "i64", "0", e.load(op.args[0])), "i"),
    "int_invert": lambda e, op: e.store(op.result, e.op2("xor", "i64", e.load(op.args[0]), "-1"), "i"),
    "int_add_ovf": _with_overflow("sadd"), "int_sub_ovf": _with_overflow("ssub"),
    "int_mul_ovf": _with_overflow("smul"),
    "int_lshift_ovf": _lower_lshift_ovf, "int_neg_ovf": _lower_neg_ovf,
    "int_abs_ovf": _lower_abs_ovf,
    "int_floordiv_ovf": _lower_divmod, "int_mod_ovf": _lower_divmod,
    "int_lt": _compare("slt"), "int_le": _compare("sle"), "int_eq": _compare("eq"),
    "int_ne": _compare("ne"), "int_gt": _compare("sgt"), "int_ge": _compare("sge"),
    "uint_lt": _compare("ult"), "uint_ge": _compare("uge"),
    "int_is_true": _test("ne"), "int_is_zero": _test("eq"), "int_to_bool": _test("ne"),
    "float_add": _float_binary("fadd"), "float_sub": _float_binary("fsub"),
    "float_mul": _float_binary("fmul"),
    "float_truediv": _float_binary("fdiv"),   # IEEE's inf/nan for 0.0, as the reference
    "float_floordiv": _float_divmod(0), "float_mod": _float_divmod(1),
    "float_neg": _float_unary, "float_abs": _float_unary,
    "float_lt": _compare("olt", "double", "fcmp"), "float_le": _compare("ole", "double", "fcmp"),
    "float_eq": _compare("oeq", "double", "fcmp"), "float_ne": _compare("une", "double", "fcmp"),
    "float_gt": _compare("ogt", "double", "fcmp"), "float_ge": _compare("oge", "double", "fcmp"),
    "float_is_true": _test("une", float_const(0.0), "double", "fcmp"),
    "cast_int_to_float": _cast_int_to_float,
    "cast_float_to_int_ovf": _cast_float_to_int,
    "box_int": _box, "box_bool": _box, "box_float": _box,
    "ptr_eq": _compare("eq"), "ptr_ne": _compare("ne"),
    "same_as_i": _same_as, "same_as_f": _same_as, "same_as_r": _same_as,
    "getarrayitem_i": _getarrayitem, "getarrayitem_f": _getarrayitem,
    "setarrayitem_i": _setarrayitem, "setarrayitem_f": _setarrayitem,
    "arraylen": _arraylen,
    "guard_true": _guard, "guard_false": _guard, "guard_value": _guard,
    "guard_class": _guard, "guard_nonnull": _guard, "guard_isnull": _guard,
    "guard_no_overflow": _guard, "guard_overflow": _guard,
    "guard_not_invalidated": _guard,
    "unbox_int_ovf": _unbox, "unbox_float": _unbox,
    "call_i": _call, "call_f": _call, "call_r": _call, "call_n": _call,
    "call_pure_i": _call, "call_pure_f": _call, "call_pure_r": _call,
    # the call exit before it already did what it checks (run glue)
    "guard_no_exception": _nothing,
    "debug_merge_point": _nothing,
    # label, jump and finish are control flow: the emitter's walk does them
}

# Ops native code does not run, and why (the stats count these reasons).
INELIGIBLE = {
    "getfield": "field access (getfield)",
    "setfield": "field access (setfield)",
    "getarrayitem_r": "list items (getarrayitem_r)",
    "setarrayitem_r": "list items (setarrayitem_r)",
    "new_with_vtable": "allocation (new_with_vtable)",
    "strlen": "string length (strlen)",
    "guard_exception": "exception guard (guard_exception)",
}
CONTROL = frozenset({"label", "jump", "finish"})

