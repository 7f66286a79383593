"""Random valid loop traces with their inputs, and what "run to completion" means.

``traces_with_inputs()`` is a hypothesis strategy of ``LoopCase(trace, inputs)``:
a loop ``label(inputs...) ... jump(...)`` over the op table, and the list of values
to enter it with.  The trace is built the way the recorder builds one, each op
after the guards that make it safe, while the first iteration runs concretely
beside it (on a private copy of the inputs), so that guards are mostly chosen to
pass at first and the loop gets somewhere before one fails:

- ints: wrapping arithmetic, shifts by 0..70 or by ``x & 63``, comparisons; checked
  ops (``int_add_ovf`` ..., the divisions behind a zero test, ``int_lshift_ovf``,
  casts and unboxing) each followed by ``guard_no_overflow``;
- floats: arithmetic and comparisons, divisions behind ``guard_true(float_ne(d, 0.0))``;
- objects: ``Cell`` (fields ``a`` and ``b``) read and written, allocated with both
  fields set at once; references of unknown class narrowed by ``guard_class``;
- arrays (a ``bytearray`` or a ``list``): ``arraylen``, item loads and stores behind
  their bounds guards, bytes stored as ``x & 255`` or behind ``uint_lt(x, 256)``;
- guards: ``guard_true``/``guard_false`` on comparisons, ``guard_value``,
  ``guard_class``, ``guard_nonnull``;
- residual calls with effect information: ``mix`` (elidable), ``store_b`` (writes
  field ``b``), ``rotate`` (writes list items), ``swap_fields`` (unknown effects,
  "anything"); a call with a side effect is followed by ``guard_no_exception``;
- a countdown: the first input ``i`` is tested by ``guard_true(int_gt(i, 0))`` and
  passed on as ``int_sub(i, 1)``, so every run ends.

Inputs may alias (two cell or array inputs being one object), field and list items
hold ints, floats, bools and cells.  Nothing in a trace is a mutable constant, so a
deep copy of ``inputs`` is a fresh, identical start.

Snapshots.  Each guard carries ``Snapshot([FrameSnapshot(TRACE_CODE, pc, values)])``
where ``pc`` is a position in this (the original) trace and ``values`` are exactly
the boxes live there: defined before ``pc`` and used by an op at ``pc`` or after
(bool-class ints as ``(box, True)``).  For a guard, ``pc`` is the guard's own index,
and resuming re-checks the guard, as an interpreter re-evaluates the branch the
guard stood for.  For ``guard_no_overflow``, ``pc`` is the index of the checked op
before it: the guard resumes before the operation (DESIGN.md: the interpreter
computes the exact result), so the live values are that op's inputs.

"Run to completion" (``run_to_completion(original, trace, inputs)``): run ``trace``
on the reference backend until a guard fails, then resume by running the original
trace from the guard's snapshot position with the snapshot's values bound (the
original's ops from ``pc`` on, as a bridge whose inputs are the original snapshot's
boxes, then the original loop again from its label).  In the original, a failing
guard is the end of the loop by construction: the result is that guard's position
and live values, with the state of every object and array they and the inputs
reach (``Completion``).  An optimised trace means the same as its original when
both complete equally from identical inputs.
"""
from __future__ import annotations

import copy
import math
import reprlib
import struct
from typing import Any, NamedTuple

from hypothesis import strategies as st

from metajit.backend.reference import FAIL, SEMANTICS, RunState, compile_unit
from metajit.tracer.ir import (INT64_MAX, INT64_MIN, OPS, ArrayDescr, Box, CallDescr, Const,
                               FieldDescr, Flag, FrameSnapshot, Op, SizeDescr, Snapshot,
                               TargetDescr, Trace, Value, Virtual, failargs, intmask)
from metajit.tracer.text import format_trace


class Cell:
    """The generated traces' object: two fields, ``a`` and ``b``."""

    def __init__(self, a: Any = 0, b: Any = 0):
        self.a = a
        self.b = b

    @reprlib.recursive_repr()
    def __repr__(self):
        return f"Cell(a={self.a!r}, b={self.b!r})"


class TraceCode:
    """The "jitcode" of generated snapshots: its positions are op indexes of the
    original trace."""
    name = "loop"

    def __repr__(self):
        return "TRACE_CODE"


TRACE_CODE = TraceCode()


def mix(a: int, b: int) -> int:
    """Elidable: the result depends on the arguments only."""
    return intmask(a * 31 + b)


def store_b(cell: Cell, value: Any) -> None:
    cell.b = value


def rotate(items: list) -> None:
    if len(items) > 1:
        items.append(items.pop(0))


def swap_fields(cell: Cell) -> None:
    cell.a, cell.b = cell.b, cell.a


CELL = SizeDescr(Cell)
CELL_A = FieldDescr(Cell, "a")
CELL_B = FieldDescr(Cell, "b")
FIELDS = (CELL_A, CELL_B)
BYTES = ArrayDescr("bytearray", "i")
ITEMS = ArrayDescr("list", "r")
MIX = CallDescr("mix", "i", can_raise=False, elidable=True, reads=frozenset(),
                writes=frozenset())
STORE_B = CallDescr("store_b", "v", can_raise=True, reads=frozenset(), writes=frozenset({"b"}))
ROTATE = CallDescr("rotate", "v", can_raise=True, reads=frozenset({"[]"}),
                   writes=frozenset({"[]"}))
SWAP = CallDescr("swap_fields", "v", can_raise=True, reads=None, writes=None)

# Where a box may be used: its kind and what the trace knows about its value.
INT, BOOL, FLOAT, OBJ, CELLS, BYTEARRAY, LIST = \
    "int", "bool", "float", "obj", "cell", "bytearray", "list"
KIND_OF_TAG = {INT: "i", BOOL: "i", FLOAT: "f", OBJ: "r", CELLS: "r", BYTEARRAY: "r",
               LIST: "r"}

INT_EDGES = [0, 1, -1, 2, 7, -7, 255, 256, 2**31, -2**31, 2**62, -2**62,
             INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1]
INTS = st.integers(-20, 20) | st.sampled_from(INT_EDGES) | st.integers(INT64_MIN, INT64_MAX)
FLOATS = st.sampled_from([0.0, -0.0, 1.0, -1.5, 0.1, 3.0, 1e308, -1e308, 5e-324,
                          math.inf, -math.inf, math.nan]) | st.floats()
SMALL_INTS = [0, 1, 2, 3, -1, 5, 63, 64, 255, 2**40, INT64_MAX, INT64_MIN]
SHIFT_COUNTS = [0, 1, 2, 7, 31, 63, 64, 65, 70]


class LoopCase(NamedTuple):
    """A generated loop and the inputs to enter it with."""
    trace: Trace
    inputs: list

    def __repr__(self):
        return (f"LoopCase(inputs={self.inputs!r}, trace=\n"
                f"{format_trace(self.trace)})")


# --- the generator -------------------------------------------------------------------

class _Builder:
    """Builds one loop op by op, running its first iteration concretely alongside."""

    def __init__(self, draw, inputs: list, tags: list[str], native_only: bool = False):
        self.draw = draw
        self.native_only = native_only
        self.trace = Trace([], [], "generated")
        self.ops = self.trace.ops
        self.pools: dict[str, list[Box]] = {tag: [] for tag in KIND_OF_TAG}
        self.concrete: dict[Box, Any] = {}
        self.alive = True          # the first iteration has not failed a guard yet
        self.state = RunState()
        self.resume_before: dict[int, int] = {}   # guard index -> its resume position
        self.checked: list[tuple[Box, Value]] = []  # (array, index) whose bounds passed
        self.lengths: dict[Box, Box] = {}
        self.repeatable: list[tuple] = []       # pure ops and loads, to do again
        heap = copy.deepcopy(inputs)
        for tag, value in zip(tags, heap):
            box = Box(KIND_OF_TAG[tag])
            self.trace.inputargs.append(box)
            self.concrete[box] = value
            self.pools[tag].append(box)
        self.counter = self.trace.inputargs[0]
        self.tags = tags
        self.ops.append(Op("label", list(self.trace.inputargs), TargetDescr("loop")))

    # -- choices --
    def choose(self, items):
        return self.draw(st.sampled_from(list(items)))

    def flip(self, chance: int = 2) -> bool:
        return self.draw(st.integers(0, chance - 1)) == 0

    def box(self, tag: str) -> Box:
        return self.choose(self.pools[tag])

    def int_box(self, wanted) -> Box:
        """An int box, mostly one whose first-iteration value is ``wanted``, so that
        the guard to come passes at first."""
        if self.alive and not self.flip(5):
            fitting = [b for b in self.pools[INT] if wanted(self.concrete[b])]
            if fitting:
                return self.choose(fitting)
        return self.box(INT)

    def int_or_const(self):
        if self.flip(3):
            return Const("i", self.choose(SMALL_INTS))
        return self.box(INT)

    def ref(self) -> Box:
        return self.box(self.choose([t for t in (OBJ, CELLS) if self.pools[t]]))

    # -- recording --
    def value_of(self, value):
        return value.value if isinstance(value, Const) else self.concrete[value]

    def emit(self, name: str, args: list, descr=None, tag: str | None = None,
             pyclass: type | None = None) -> Box | None:
        result = None
        if tag is not None:
            result = Box(KIND_OF_TAG[tag], pyclass or (bool if tag == BOOL else None))
        op = Op(name, args, descr, result)
        self.ops.append(op)
        if self.alive:
            outcome = SEMANTICS[name](self.state, op, [self.value_of(a) for a in args])
            if outcome is FAIL:
                self.alive = False
            elif result is not None:
                self.concrete[result] = outcome
        if result is not None and tag is not None:
            self.pools[tag].append(result)
            if op.spec.has(Flag.PURE | Flag.LOAD) and not op.spec.has(Flag.CAN_OVERFLOW):
                self.repeatable.append((name, args, descr, tag, pyclass))
        return result

    def guard(self, name: str, args: list) -> None:
        self.emit(name, args)

    def checked_op(self, name: str, args: list, tag: str = INT, pyclass=None) -> Box:
        """A can_overflow op and its guard_no_overflow, which resumes before it."""
        result = self.emit(name, args, tag=tag, pyclass=pyclass)
        self.resume_before[len(self.ops)] = len(self.ops) - 1
        self.guard("guard_no_overflow", [])
        self.repeatable.append((name, args, None, tag, pyclass))
        return result

    def repeat(self):
        """An op the loop computed before, again (for CSE and the heap cache): its
        guards, bounds guards included, still hold."""
        loads = [r for r in self.repeatable if OPS[r[0]].has(Flag.LOAD)]
        name, args, descr, tag, pyclass = self.choose(loads if loads and self.flip()
                                                      else self.repeatable)
        if OPS[name].has(Flag.CAN_OVERFLOW):
            self.checked_op(name, list(args), tag, pyclass)
        else:
            self.emit(name, list(args), descr, tag=tag, pyclass=pyclass)

    def guard_on(self, condition: Box) -> None:
        """guard_true or guard_false, mostly the one that passes the first iteration."""
        truth = bool(self.concrete[condition]) if self.alive else self.flip()
        if self.flip(30):
            truth = not truth
        self.guard("guard_true" if truth else "guard_false", [condition])

    # -- families of ops (each a recipe the recorder could have produced) --
    def int_arith(self):
        name = self.choose(["int_add", "int_sub", "int_mul", "int_and", "int_or", "int_xor"])
        self.emit(name, [self.box(INT), self.int_or_const()], tag=INT)

    def int_unary(self):
        self.emit(self.choose(["int_neg", "int_invert", "same_as_i"]), [self.box(INT)],
                  tag=INT)

    def shift_count(self):
        if self.flip():
            return Const("i", self.choose(SHIFT_COUNTS))
        return self.emit("int_and", [self.box(INT), Const("i", 63)], tag=INT)

    def shift(self):
        name = self.choose(["int_lshift", "int_rshift", "uint_rshift"])
        count = self.shift_count()
        self.emit(name, [self.box(INT), count], tag=INT)

    def checked_arith(self):
        name = self.choose(["int_add_ovf", "int_sub_ovf", "int_mul_ovf", "int_neg_ovf",
                            "int_abs_ovf", "int_lshift_ovf"])
        if name in ("int_neg_ovf", "int_abs_ovf"):
            self.checked_op(name, [self.box(INT)])
        elif name == "int_lshift_ovf":
            count = self.shift_count() if self.flip() else Const("i", self.choose(range(64)))
            if isinstance(count, Const) and count.value >= 64:
                count = Const("i", 63)
            self.checked_op(name, [self.box(INT), count])
        else:
            self.checked_op(name, [self.box(INT), self.int_or_const()])

    def nonzero_test(self, divisor: Box) -> None:
        test = self.choose(["int_ne", "int_is_zero", "int_is_true"])
        if test == "int_ne":
            self.guard("guard_true", [self.emit("int_ne", [divisor, Const("i", 0)], tag=BOOL)])
        elif test == "int_is_zero":
            self.guard("guard_false", [self.emit("int_is_zero", [divisor], tag=BOOL)])
        else:
            self.guard("guard_true", [self.emit("int_is_true", [divisor], tag=BOOL)])

    def division(self):
        if self.flip(3):
            divisor = Const("i", self.choose([1, -1, 2, 3, -7, 2**40]))
        else:
            divisor = self.int_box(lambda v: v != 0)
            self.nonzero_test(divisor)
        name = self.choose(["int_floordiv_ovf", "int_mod_ovf"])
        self.checked_op(name, [self.int_or_const(), divisor])

    def compare(self):
        if self.flip(4):
            name = self.choose(["int_is_true", "int_is_zero", "int_to_bool"])
            self.emit(name, [self.box(INT)], tag=BOOL)
            return
        name = self.choose(["int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge",
                            "uint_lt", "uint_ge"])
        self.emit(name, [self.box(INT), self.int_or_const()], tag=BOOL)

    def guard_bool(self):
        self.guard_on(self.box(BOOL))

    def bool_logic(self):
        name = self.choose(["int_and", "int_or", "int_xor"])
        self.emit(name, [self.box(BOOL), self.box(BOOL)], tag=BOOL)

    def guard_value(self):
        box = self.box(INT)
        value = self.concrete[box] if self.alive else self.choose(SMALL_INTS)
        self.guard("guard_value", [box, Const("i", value)])

    def float_arith(self):
        name = self.choose(["float_add", "float_sub", "float_mul", "float_neg", "float_abs"])
        if name in ("float_neg", "float_abs"):
            self.emit(name, [self.box(FLOAT)], tag=FLOAT)
            return
        other = Const("f", self.choose([0.0, -0.0, 1.0, 2.5, -1.0])) if self.flip(3) \
            else self.box(FLOAT)
        self.emit(name, [self.box(FLOAT), other], tag=FLOAT)

    def float_compare(self):
        if self.flip(5):
            self.emit("float_is_true", [self.box(FLOAT)], tag=BOOL)
            return
        name = self.choose(["float_lt", "float_le", "float_eq", "float_ne", "float_gt",
                            "float_ge"])
        self.emit(name, [self.box(FLOAT), self.box(FLOAT)], tag=BOOL)

    def float_division(self):
        if self.flip(4):
            divisor = Const("f", self.choose([2.0, -0.5, 3.0, 1e-300]))
        else:
            divisor = self.box(FLOAT)
            self.guard("guard_true",
                       [self.emit("float_ne", [divisor, Const("f", 0.0)], tag=BOOL)])
        name = self.choose(["float_truediv", "float_floordiv", "float_mod"])
        self.emit(name, [self.box(FLOAT), divisor], tag=FLOAT)

    def cast(self):
        if self.flip():
            self.emit("cast_int_to_float", [self.box(INT)], tag=FLOAT)
        elif self.pools[FLOAT]:
            self.checked_op("cast_float_to_int_ovf", [self.box(FLOAT)])

    def boxing(self):
        choices = ["box_int"] + (["box_float"] if self.pools[FLOAT] else []) \
            + (["box_bool"] if self.pools[BOOL] else [])
        name = self.choose(choices)
        source = {"box_int": INT, "box_float": FLOAT, "box_bool": BOOL}[name]
        self.emit(name, [self.box(source)], tag=OBJ)

    def unboxing(self):
        obj = self.box(OBJ)
        cls = type(self.concrete[obj]) if self.alive else self.choose([int, float, bool, Cell])
        if cls not in (int, float, bool, Cell):
            cls = int
        self.guard("guard_class", [obj, Const("r", cls)])
        if cls is int:
            self.checked_op("unbox_int_ovf", [obj])
        elif cls is bool:
            self.checked_op("unbox_int_ovf", [obj], tag=BOOL)
        elif cls is float:
            self.emit("unbox_float", [obj], tag=FLOAT)
        else:
            self.pools[CELLS].append(obj)

    def ref_test(self):
        if self.flip(4):
            self.guard("guard_nonnull", [self.ref()])
            return
        name = self.choose(["ptr_eq", "ptr_ne"])
        self.emit(name, [self.ref(), self.ref()], tag=BOOL)

    def get_field(self):
        self.emit("getfield", [self.box(CELLS)], self.choose(FIELDS), tag=OBJ)

    def set_field(self, descr: FieldDescr | None = None):
        self.emit("setfield", [self.box(CELLS), self.ref()], descr or self.choose(FIELDS))

    def heap_roundtrip(self):
        """A load, then what may write the location (a store to any object of the
        kind, maybe the same one, or a call), then the load again, its result
        stored: where a heap cache that forgets aliasing or effects goes wrong."""
        if self.pools[CELLS] and (not self.available(("array",)) or self.flip()):
            cell, descr = self.box(CELLS), self.choose(FIELDS)
            self.emit("getfield", [cell], descr, tag=OBJ)
            if self.flip(3):
                self.call_with_effects()
            else:
                self.set_field(descr if not self.flip(3) else None)
            again = self.emit("getfield", [cell], descr, tag=OBJ)
        else:
            array, descr = self.array()
            index = self.checked_index(array, descr)
            name = "getarrayitem_i" if descr is BYTES else "getarrayitem_r"
            tag = INT if descr is BYTES else OBJ
            self.emit(name, [array, index], descr, tag=tag)
            if descr is ITEMS and self.flip(3):
                self.emit("call_n", [Const("r", rotate), array], ROTATE)
                self.guard("guard_no_exception", [])
            else:
                self.array_write()
            again = self.emit(name, [array, index], descr, tag=tag)
        if again.kind == "r" and self.pools[CELLS] and self.flip():
            self.emit("setfield", [self.box(CELLS), again], self.choose(FIELDS))

    def new_cell(self):
        if not self.pools[OBJ]:
            self.boxing()
        a, b = self.ref(), self.ref()
        cell = self.emit("new_with_vtable", [], CELL, tag=CELLS)
        self.emit("setfield", [cell, a], CELL_A)
        self.emit("setfield", [cell, b], CELL_B)

    def array(self) -> tuple[Box, ArrayDescr]:
        tag = self.choose([t for t in (BYTEARRAY, LIST) if self.pools[t]])
        return self.box(tag), (BYTES if tag == BYTEARRAY else ITEMS)

    def length(self, array: Box, descr: ArrayDescr) -> Box:
        if array not in self.lengths or self.flip(4):
            self.lengths[array] = self.emit("arraylen", [array], descr, tag=INT)
        return self.lengths[array]

    def array_length(self):
        array, descr = self.array()
        self.length(array, descr)

    def checked_index(self, array: Box, descr: ArrayDescr):
        """An index into ``array`` behind its bounds guards (or one already checked)."""
        earlier = [index for a, index in self.checked if a is array]
        if earlier and self.flip(3):
            return self.choose(earlier)
        length = self.length(array, descr)
        how = self.choose(["const", "box", "mask", "mod"])
        size = len(self.concrete[array]) if self.alive else 4
        if how == "const":
            index = Const("i", self.choose(range(max(size, 1))))
        elif how == "box":
            index = self.int_box(lambda v: 0 <= v < size)
        elif how == "mask":
            mask = (1 << max(size, 1).bit_length() - 1) - 1
            index = self.emit("int_and", [self.box(INT), Const("i", mask)], tag=INT)
        else:
            self.guard("guard_true", [self.emit("int_gt", [length, Const("i", 0)], tag=BOOL)])
            index = self.checked_op("int_mod_ovf", [self.box(INT), length])
        if self.flip(3):
            self.guard("guard_true", [self.emit("uint_lt", [index, length], tag=BOOL)])
        else:
            if not (isinstance(index, Const) or how in ("mask", "mod")) or self.flip(4):
                self.guard("guard_true",
                           [self.emit("int_ge", [index, Const("i", 0)], tag=BOOL)])
            if self.flip():
                self.guard("guard_true", [self.emit("int_lt", [index, length], tag=BOOL)])
            else:
                self.guard("guard_false", [self.emit("int_ge", [index, length], tag=BOOL)])
        self.checked.append((array, index))
        return index

    def array_read(self):
        array, descr = self.array()
        index = self.checked_index(array, descr)
        if descr is BYTES:
            self.emit("getarrayitem_i", [array, index], descr, tag=INT)
        else:
            self.emit("getarrayitem_r", [array, index], descr, tag=OBJ)

    def array_write(self):
        array, descr = self.array()
        index = self.checked_index(array, descr)
        if descr is ITEMS:
            if not (self.pools[OBJ] or self.pools[CELLS]):
                self.boxing()
            self.emit("setarrayitem_r", [array, index, self.ref()], descr)
            return
        if self.flip():
            byte = self.emit("int_and", [self.box(INT), Const("i", 255)], tag=INT)
        else:
            byte = self.int_box(lambda v: 0 <= v < 256)
            self.guard("guard_true", [self.emit("uint_lt", [byte, Const("i", 256)], tag=BOOL)])
        self.emit("setarrayitem_i", [array, index, byte], descr)

    def call_pure(self):
        self.emit("call_pure_i", [Const("r", mix), self.box(INT), self.int_or_const()], MIX,
                  tag=INT)

    def call_with_effects(self):
        choices = ["store_b", "swap_fields"] if self.pools[CELLS] else []
        if self.pools[LIST]:
            choices.append("rotate")
        name = self.choose(choices)
        if name == "store_b":
            self.emit("call_n", [Const("r", store_b), self.box(CELLS), self.ref()], STORE_B)
        elif name == "swap_fields":
            self.emit("call_n", [Const("r", swap_fields), self.box(CELLS)], SWAP)
        else:
            self.emit("call_n", [Const("r", rotate), self.box(LIST)], ROTATE)
        self.guard("guard_no_exception", [])

    def countdown(self):
        test = self.emit("int_gt", [self.counter, Const("i", 0)], tag=BOOL)
        self.guard("guard_true", [test])
        self.next_counter = self.emit("int_sub", [self.counter, Const("i", 1)], tag=INT)

    # -- the whole loop --
    FAMILIES = [
        # (method, tags it needs, weight).  The heap, guards and repeated work weigh
        # most and come first (hypothesis leans to the first choices), as the passes
        # have most to get wrong there.
        ("heap_roundtrip", ("effects",), 3), ("repeat", ("repeat",), 4),
        ("get_field", (CELLS,), 3), ("set_field", (CELLS, "ref"), 3),
        ("array_read", ("array",), 3), ("array_write", ("array",), 3),
        ("call_with_effects", ("effects",), 2), ("guard_bool", (BOOL,), 3),
        ("checked_arith", (), 2), ("unboxing", (OBJ,), 2), ("int_arith", (), 2),
        ("compare", (), 2), ("division", (), 1), ("shift", (), 1), ("int_unary", (), 1),
        ("guard_value", (), 1), ("bool_logic", (BOOL,), 1), ("float_arith", (FLOAT,), 1),
        ("float_compare", (FLOAT,), 1), ("float_division", (FLOAT,), 1), ("cast", (), 1),
        ("boxing", (), 1), ("ref_test", ("ref",), 1), ("new_cell", ("ref",), 1),
        ("array_length", ("array",), 1), ("call_pure", (), 1),
    ]

    # what native code cannot run: objects' fields, lists, calls, (un)boxing
    NOT_NATIVE = frozenset({"get_field", "set_field", "new_cell", "call_with_effects",
                            "call_pure", "boxing", "unboxing"})

    def available(self, needs) -> bool:
        for need in needs:
            if need == "ref":
                if not (self.pools[OBJ] or self.pools[CELLS]):
                    return False
            elif need == "array":
                if not (self.pools[BYTEARRAY] or self.pools[LIST]):
                    return False
            elif need == "repeat":
                if not self.repeatable:
                    return False
            elif need == "effects":
                if not (self.pools[CELLS] or self.pools[LIST]):
                    return False
            elif not self.pools[need]:
                return False
        return True

    def build(self) -> Trace:
        steps = self.draw(st.integers(3, 20))
        countdown_at = self.draw(st.integers(0, steps))
        for step in range(steps + 1):
            if step == countdown_at:
                self.countdown()
            if step == steps:
                break
            family = self.choose([name for name, needs, weight in self.FAMILIES
                                  if self.available(needs) for _ in range(weight)
                                  if not (self.native_only and name in self.NOT_NATIVE)])
            getattr(self, family)()
        jump_args = [self.next_counter]
        for tag, box in zip(self.tags[1:], self.trace.inputargs[1:]):
            pool = self.pools[tag] if tag != OBJ else self.pools[OBJ] + self.pools[CELLS]
            jump_args.append(self.choose(pool) if self.flip() else box)
        self.ops.append(Op("jump", jump_args, self.ops[0].descr))
        self.snapshots()
        return self.trace

    def snapshots(self) -> None:
        """Give each guard the boxes live at its resume position."""
        ops = self.ops
        order = list(self.trace.inputargs) + [op.result for op in ops if op.result is not None]
        rank = {box: n for n, box in enumerate(order)}
        defined_at = {op.result: n for n, op in enumerate(ops) if op.result is not None}
        used_from: list[set] = [set() for _ in range(len(ops) + 1)]
        for n in range(len(ops) - 1, -1, -1):
            used_from[n] = used_from[n + 1] | {a for a in ops[n].args if isinstance(a, Box)}
        for n, op in enumerate(ops):
            if not op.is_guard():
                continue
            pc = self.resume_before.get(n, n)
            live = sorted((box for box in used_from[pc] if defined_at.get(box, -1) < pc),
                          key=rank.__getitem__)
            entries = [(box, True) if box.pyclass is bool else box for box in live]
            op.snapshot = Snapshot([FrameSnapshot(TRACE_CODE, pc, entries)])


def _payload(draw, cells: list) -> Any:
    choice = draw(st.integers(0, 9))
    if choice < 4:
        return draw(INTS)
    if choice < 6:
        return draw(FLOATS)
    if choice < 8 or not cells:
        return draw(st.booleans())
    return draw(st.sampled_from(cells))


@st.composite
def traces_with_inputs(draw, native_only: bool = False) -> LoopCase:
    """A valid loop trace and the inputs to enter it with (see the module docstring).
    ``native_only``: only what the native backend runs (ints, floats, bools,
    bytearrays, references carried but not looked into)."""
    tags = [INT]
    inputs: list = [draw(st.integers(1, 5))]       # the countdown
    n_cells = 0 if native_only else draw(st.integers(0, 2))
    cells = [Cell() for _ in range(n_cells)]
    for _ in range(draw(st.integers(1, 3))):
        tags.append(INT)
        inputs.append(draw(INTS))
    for _ in range(draw(st.integers(0, 2))):
        tags.append(FLOAT)
        inputs.append(draw(FLOATS))
    if cells:
        for _ in range(draw(st.integers(1, 3))):     # slots may alias one object
            tags.append(CELLS)
            inputs.append(draw(st.sampled_from(cells)))
    for cell in cells:
        cell.a = _payload(draw, cells)
        cell.b = _payload(draw, cells)
    arrays: list = []
    if draw(st.booleans()):
        arrays.append(bytearray(draw(st.binary(min_size=draw(st.sampled_from([1, 1, 1, 0])),
                                               max_size=6))))
    if not native_only and draw(st.booleans()):
        size = draw(st.integers(1, 5) | st.just(0))
        arrays.append([_payload(draw, cells) for _ in range(size)])
    for _ in range(draw(st.integers(0, 3)) if arrays else 0):   # slots may alias one array
        array = draw(st.sampled_from(arrays))
        tags.append(BYTEARRAY if isinstance(array, bytearray) else LIST)
        inputs.append(array)
    for _ in range(draw(st.integers(0, 2))):
        tags.append(OBJ)
        inputs.append(_payload(draw, cells))
    trace = _Builder(draw, inputs, tags, native_only).build()
    return LoopCase(trace, inputs)


def aliased(inputs: list) -> list:
    """A copy of ``inputs`` where every cell, bytearray and list given is one object
    of its class: any inputs of the right kinds are valid (every op is behind the
    guards that make it safe), and aliasing is where heap optimisations go wrong."""
    first: dict = {}
    return [first.setdefault(type(v), v) if type(v) in (Cell, bytearray, list) else v
            for v in copy.deepcopy(inputs)]


# --- copying a trace -------------------------------------------------------------------

def clone_trace(trace: Trace) -> Trace:
    """A copy with fresh boxes (same kinds, classes and names) and fresh ops, sharing
    descriptors and constants, so that a pass may rewrite it in place."""
    boxes: dict[Box, Box] = {}

    def value(v):
        if isinstance(v, Box):
            v = v.find()
        if isinstance(v, Box):
            if v not in boxes:
                boxes[v] = Box(v.kind, v.pyclass, v.name)
            return boxes[v]
        return v

    twin = Trace([value(b) for b in trace.inputargs], [], trace.name)
    for op in trace.ops:
        snapshot = op.snapshot.map_entries(value) if op.snapshot is not None else None
        result = value(op.result) if op.result is not None else None
        twin.ops.append(Op(op.name, [value(a) for a in op.args], op.descr, result, snapshot))
    twin.names = dict(trace.names)
    twin.objects = dict(trace.objects)
    return twin


# --- running to completion ---------------------------------------------------------

class Completion(NamedTuple):
    """How a run ended: the position of the original's failing guard, its live
    values and the inputs afterwards, in a canonical form (objects by structure,
    numbered in order of first appearance, so aliasing counts; floats by bits,
    every NaN alike; bools distinct from ints)."""
    pc: int
    values: tuple
    inputs: tuple


class ResumeError(AssertionError):
    """A guard's snapshot cannot resume the original trace."""


def _decode(entry, by_box: dict, memo: dict):
    if isinstance(entry, tuple):
        return bool(_decode(entry[0], by_box, memo))
    if isinstance(entry, Box):
        entry = entry.find()
    if isinstance(entry, Const):
        return entry.value
    if isinstance(entry, Box):
        value = by_box[entry]
        return int(value) if entry.kind == "i" else float(value) if entry.kind == "f" else value
    if isinstance(entry, Virtual):
        if id(entry) in memo:
            return memo[id(entry)]
        descr = entry.descr
        if isinstance(descr, SizeDescr):
            obj = memo[id(entry)] = descr.cls.__new__(descr.cls)
            for field, sub in entry.fields.items():
                setattr(obj, getattr(field, "name", field), _decode(sub, by_box, memo))
            return obj
        if isinstance(descr, ArrayDescr):
            items = memo[id(entry)] = bytearray() if descr.storage == "bytearray" else []
            for index in sorted(entry.fields):
                items.append(_decode(entry.fields[index], by_box, memo))
            return items
    raise ResumeError(f"cannot decode the snapshot entry {entry!r}")


def snapshot_values(guard: Op, exit_values: list) -> list:
    """The concrete values of the guard's (one-frame) snapshot entries, from the
    values the failing guard handed back (those of ``failargs(guard)``); the stores
    delayed past the guard are done, as resume does them."""
    by_box = dict(zip(failargs(guard), exit_values))
    memo: dict = {}
    (frame,) = guard.snapshot.frames
    values = [_decode(entry, by_box, memo) for entry in frame.values]
    for store in guard.snapshot.stores:
        store.perform(lambda e: _decode(e, by_box, memo))
    return values


def _resume_points(original: Trace) -> dict[int, Op]:
    return {op.snapshot.frames[0].pc: op for op in original.ops if op.snapshot is not None}


def run_to_completion(original: Trace, trace: Trace, inputs: list,
                      max_iterations: int = 10_000) -> Completion:
    """Run ``trace`` (the original or an optimised copy) from ``inputs`` until a
    guard fails, resume the original from that guard's snapshot, and return how the
    original ends (see the module docstring).  ``inputs`` are mutated."""
    unit = compile_unit(trace)
    unit.max_iterations = max_iterations
    exit_ = unit.run(list(inputs))
    if exit_.guard is None:
        raise ResumeError(f"{trace.name} left without a guard failing (to "
                          f"{exit_.target!r}): a generated loop ends only at a guard")
    if exit_.exc is not None:
        raise ResumeError(f"a call raised {exit_.exc!r} in a generated loop")
    snapshot = exit_.guard.snapshot
    if snapshot is None or len(snapshot.frames) != 1:
        raise ResumeError(f"the failing guard {exit_.guard!r} has no one-frame snapshot")
    pc = snapshot.frames[0].pc
    values = snapshot_values(exit_.guard, exit_.values)
    resume_guard = _resume_points(original).get(pc)
    if resume_guard is None:
        raise ResumeError(f"snapshot position {pc} is no resume point of the original")
    boxes = [e[0] if isinstance(e, tuple) else e for e in resume_guard.snapshot.frames[0].values]
    if len(boxes) != len(values):
        raise ResumeError(f"the snapshot at position {pc} has {len(values)} values, the "
                          f"original needs {len(boxes)} there")
    bridge = Trace(boxes, original.ops[pc:], f"{original.name}-from-{pc}")
    resumed = compile_unit(bridge)
    resumed.max_iterations = max_iterations
    end = resumed.run(values)
    if end.guard is None:        # the bridge reached the jump: the loop goes on
        again = compile_unit(original)
        again.max_iterations = max_iterations
        end = again.run(end.values)
    if end.guard is None or end.exc is not None:
        raise ResumeError(f"the original loop ended without a guard failing: {end!r}")
    memo: dict = {}
    final = snapshot_values(end.guard, end.values)
    return Completion(end.guard.snapshot.frames[0].pc, canonical(final, memo),
                      canonical(list(inputs), memo))


def canonical(value: Any, memo: dict) -> Any:
    """A comparable form of a value graph (see ``Completion``)."""
    kind = type(value)
    if kind is bool or kind is int:
        return (kind.__name__, value)
    if kind is float:
        return ("float", "nan" if value != value else struct.pack("<d", value))
    if value is None or kind is str:
        return value
    if id(value) in memo:
        return ("same", memo[id(value)])
    memo[id(value)] = number = len(memo)
    if kind is list or kind is tuple:
        return (kind.__name__, number, tuple(canonical(x, memo) for x in value))
    if kind is bytearray:
        return ("bytearray", number, bytes(value))
    if kind is Cell:
        return ("Cell", number, canonical(getattr(value, "a", "<unset>"), memo),
                canonical(getattr(value, "b", "<unset>"), memo))
    return ("object", number, kind.__qualname__)
