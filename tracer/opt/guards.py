"""Guard implication: a guard that an earlier guard (or an allocation) already proves
goes, and what a guard proves is used from there on.

One forward walk collects facts about SSA values, each true from the op that
establishes it to the end of the trace:

- ``guard_true(x)`` / ``guard_false(x)``: x is true / false; when x is a comparison
  ``a < b`` the comparison itself is known (and what it implies: ``a <= b``,
  ``a != b``, ``b > a``, ``not a >= b``), so the same comparison computed again
  becomes a constant;
- ``guard_class(p, C)``: type(p) is C (and p is not None, unless C is NoneType);
  ``p = new_with_vtable(descr=C)``: both; so do ``box_int`` (int), ``box_bool``
  (bool) and ``box_float`` (float);
- ``guard_nonnull(p)`` / ``guard_isnull(p)``: p is not None / is None (later ops
  read ``null`` for p);
- ``guard_value(x, c)``: x is c; later ops read c instead of x (when c has x's
  class, so that ``True`` never stands for ``1``).

A guard whose outcome the facts give as "passes" goes: the same guard on the same
value again, ``guard_class`` after ``guard_class`` or on the result of
``new_with_vtable``, ``guard_nonnull`` after anything that proves non-null, a guard
on a constant that passes (``guard_class(ConstPtr(obj), C)`` with type(obj) C).

What it may not touch: a guard that can fail stays, even one that always fails
(``guard_true(x)`` after ``guard_false(x)``); nothing before a guard learns from it
(facts never go into a box's union-find link); the state guards
(``guard_no_overflow``, ``guard_overflow``, ``guard_no_exception``,
``guard_exception``) are never merged, except ``guard_not_invalidated`` after
another with no residual call, store to a quasi-immutable field or label between
them (only those can invalidate the code); snapshots are left
as they are.  A residual call may assign ``__class__``, so class facts end there
(but those of ints, floats, strings and the other immutable builtins);
label arguments are unknown at every label.
"""
from __future__ import annotations

from metajit.tracer.ir import Box, CallDescr, Const, Flag, Op, Snapshot
from metajit.tracer.opt.base import ForwardPass, resolve
from metajit.tracer.opt.intbounds import int_class

# condition(a, b) known to be true -> conditions on (a, b) it settles: name -> outcome,
# with "swap:" for the condition on (b, a)
IMPLIED = {
    "int_lt": {"int_lt": True, "int_le": True, "int_ne": True, "int_eq": False,
               "int_ge": False, "int_gt": False,
               "swap:int_gt": True, "swap:int_ge": True, "swap:int_ne": True,
               "swap:int_eq": False, "swap:int_le": False, "swap:int_lt": False},
    "int_le": {"int_le": True, "int_gt": False, "swap:int_ge": True, "swap:int_lt": False},
    "int_eq": {"int_eq": True, "int_ne": False, "int_le": True, "int_ge": True,
               "int_lt": False, "int_gt": False,
               "swap:int_eq": True, "swap:int_ne": False},
    "int_ne": {"int_ne": True, "int_eq": False, "swap:int_ne": True, "swap:int_eq": False},
    "uint_lt": {"uint_lt": True, "uint_ge": False, "int_ne": True, "int_eq": False,
                "swap:int_ne": True, "swap:int_eq": False},
    "ptr_eq": {"ptr_eq": True, "ptr_ne": False, "swap:ptr_eq": True, "swap:ptr_ne": False},
    "ptr_ne": {"ptr_ne": True, "ptr_eq": False, "swap:ptr_ne": True, "swap:ptr_eq": False},
    "int_is_true": {"int_is_true": True, "int_to_bool": True, "int_is_zero": False},
    "int_is_zero": {"int_is_zero": True, "int_is_true": False, "int_to_bool": False},
}
IMPLIED["int_gt"] = {("swap:" + k if not k.startswith("swap:") else k[5:]): v
                     for k, v in IMPLIED["int_lt"].items()}
IMPLIED["int_ge"] = {("swap:" + k if not k.startswith("swap:") else k[5:]): v
                     for k, v in IMPLIED["int_le"].items()}
IMPLIED["uint_ge"] = {"uint_ge": True, "uint_lt": False}
IMPLIED["int_to_bool"] = IMPLIED["int_is_true"]

# a condition known to be false is its negation known to be true (ints only: a
# float comparison with a NaN is false both ways, so floats are known as computed)
NEGATION = {"int_lt": "int_ge", "int_ge": "int_lt", "int_le": "int_gt", "int_gt": "int_le",
            "int_eq": "int_ne", "int_ne": "int_eq", "uint_lt": "uint_ge", "uint_ge": "uint_lt",
            "ptr_eq": "ptr_ne", "ptr_ne": "ptr_eq", "int_is_true": "int_is_zero",
            "int_to_bool": "int_is_zero", "int_is_zero": "int_is_true"}
FLOAT_CONDITIONS = frozenset({"float_lt", "float_le", "float_eq", "float_ne", "float_gt",
                              "float_ge", "float_is_true"})
CONDITIONS = frozenset(NEGATION) | FLOAT_CONDITIONS


def _same_value(kind: str, a, b) -> bool:
    """``guard_value``'s test on two constants' Python values."""
    if kind == "r":
        return a is b
    if kind == "f":
        return Const("f", a) == Const("f", b)
    return a == b


class GuardImplicationPass(ForwardPass):
    name = "guards"

    def setup(self) -> None:
        self.truth: dict[Box, bool] = {}           # guard_true / guard_false seen
        self.conditions: dict[tuple, bool] = {}    # (condition, args...) -> outcome
        self.classes: dict[Box, type] = {}
        self.nonnull: set[Box] = set()
        self.null: set[Box] = set()
        self.values: dict[Box, Const] = {}         # guard_value seen
        self.substitute: dict[Box, Const] = {}     # ... and its constant stands for x
        self.not_invalidated = False               # a guard_not_invalidated holds

    def drop_implied(self, op: Op) -> None:
        """``op`` is a guard the facts prove: it is left out."""
        self.ctx.count("guards.implied_guard")

    # -- every op: read the constants guard_value proved --
    def read_known(self, op: Op) -> None:
        if self.substitute:
            op.args = [self.substitute.get(a, a) for a in op.args]

    def default(self, op: Op) -> None:
        self.read_known(op)
        if op.name in CONDITIONS:
            self.condition(op)
            return
        if op.spec.has(Flag.CALL) and not (isinstance(op.descr, CallDescr)
                                           and op.descr.elidable):
            # instances of the immutable builtins cannot be given another class
            self.classes = {box: cls for box, cls in self.classes.items()
                            if cls in _FIXED_CLASSES}
            self.not_invalidated = False
        elif op.name == "setfield" and getattr(op.descr, "name", None) == "__class__":
            self.classes.clear()
        self.emit(op)

    def condition(self, op: Op) -> None:
        outcome = self.conditions.get((op.name, *op.args))
        if outcome is None:
            self.emit(op)
            return
        self.replace(op.result, Const("i", outcome))
        self.ctx.count("guards.known_condition")

    def optimize_guard_not_invalidated(self, op: Op) -> None:
        if self.not_invalidated:
            self.drop_implied(op)
            return
        self.not_invalidated = True
        self.emit(op)

    def optimize_setfield(self, op: Op) -> None:
        if getattr(op.descr, "quasi_immutable", False):
            self.not_invalidated = False       # this very store may invalidate the code
        self.default(op)

    def optimize_label(self, op: Op) -> None:
        self.not_invalidated = False
        args = {resolve(a) for a in op.args}
        for facts in (self.truth, self.classes, self.values, self.substitute):
            for box in args & facts.keys():
                del facts[box]
        self.nonnull -= args
        self.null -= args
        self.conditions = {key: v for key, v in self.conditions.items()
                           if not args.intersection(k for k in key[1:] if isinstance(k, Box))}
        self.emit(op)

    def optimize_new_with_vtable(self, op: Op) -> None:
        self.emit(op)
        self.classes[op.result] = op.descr.cls
        self.nonnull.add(op.result)

    def optimize_box_int(self, op: Op) -> None:
        self.boxed(op, int)

    def optimize_box_bool(self, op: Op) -> None:
        self.boxed(op, bool)

    def optimize_box_float(self, op: Op) -> None:
        self.boxed(op, float)

    def boxed(self, op: Op, cls: type) -> None:
        self.default(op)
        self.classes[op.result] = cls
        self.nonnull.add(op.result)

    # -- guards --
    def optimize_guard_true(self, op: Op) -> None:
        self.truth_guard(op, True)

    def optimize_guard_false(self, op: Op) -> None:
        self.truth_guard(op, False)

    def truth_guard(self, op: Op, expected: bool) -> None:
        self.read_known(op)
        expected = self.test_int_directly(op, expected)
        value = op.args[0]
        if isinstance(value, Const):
            known = bool(value.value)
        else:
            known = self.truth.get(value)
        if known == expected:
            self.drop_implied(op)
            return
        self.emit(op)
        if isinstance(value, Box) and known is None:
            self.truth[value] = expected
            self.learn_condition(value, expected)

    def test_int_directly(self, op: Op, expected: bool) -> bool:
        """``guard_true(int_ne(x, 0))`` tests ``x`` itself (so do ``int_is_true``,
        ``int_to_bool``, and with the sense flipped ``int_eq(x, 0)`` and
        ``int_is_zero``): the guard is rewritten to test ``x``, and the condition's
        box in its snapshot becomes the value the condition has when the guard
        fails, so that nothing keeps the comparison alive.  Returns the new sense."""
        cond = op.args[0]
        test = cond.op if isinstance(cond, Box) else None
        if test is None:
            return expected
        args = [resolve(a) for a in test.args]
        if test.name in ("int_ne", "int_eq") and len(args) == 2:
            zero = [a for a in args if isinstance(a, Const) and a.value == 0
                    and type(a.value) is not float]
            rest = [a for a in args if a is not (zero[0] if zero else None)]
            if not zero or len(rest) != 1:
                return expected
            x, same = rest[0], test.name == "int_ne"
        elif test.name in ("int_is_true", "int_to_bool", "int_is_zero"):
            x, same = args[0], test.name != "int_is_zero"
        else:
            return expected
        if not isinstance(x, Box) or x.kind != "i":
            return expected
        if op.snapshot is not None:
            failing = Const("i", cond.pyclass(not expected) if cond.pyclass in (bool, int)
                        else int(not expected))
            op.snapshot = _snapshot_with(op.snapshot, cond, failing)
        sense = expected if same else not expected
        op.name = "guard_true" if sense else "guard_false"
        op.args = [x]
        self.ctx.count("guards.test_int_directly")
        return sense

    def learn_condition(self, value: Box, truth: bool) -> None:
        self.conditions[("int_is_true", value)] = truth
        self.conditions[("int_to_bool", value)] = truth
        self.conditions[("int_is_zero", value)] = not truth
        op = value.op
        if op is None or op.name not in CONDITIONS:
            return
        args = tuple(resolve(a) for a in op.args)
        self.conditions[(op.name, *args)] = truth
        name = op.name if truth else NEGATION.get(op.name)
        for implied, outcome in IMPLIED.get(name, {}).items():
            if implied.startswith("swap:"):
                self.conditions[(implied[5:], *args[::-1])] = outcome
            else:
                self.conditions[(implied, *args)] = outcome

    def optimize_guard_class(self, op: Op) -> None:
        self.read_known(op)
        value, cls = op.args
        if isinstance(value, Const):
            known = type(value.value)
        else:
            known = self.classes.get(value)
        if isinstance(cls, Const) and known is cls.value:
            self.drop_implied(op)
            return
        self.emit(op)
        if isinstance(value, Box) and isinstance(cls, Const) and known is None:
            self.classes[value] = cls.value
            (self.null if cls.value is type(None) else self.nonnull).add(value)

    def optimize_guard_nonnull(self, op: Op) -> None:
        self.nullness_guard(op, self.nonnull, lambda v: v is not None)

    def optimize_guard_isnull(self, op: Op) -> None:
        self.nullness_guard(op, self.null, lambda v: v is None)

    def nullness_guard(self, op: Op, proven: set, test) -> None:
        self.read_known(op)
        value = op.args[0]
        if (test(value.value) if isinstance(value, Const) else value in proven):
            self.drop_implied(op)
            return
        self.emit(op)
        if isinstance(value, Box) and value not in self.null | self.nonnull:
            proven.add(value)
            if proven is self.null:      # the one object None stands for the box
                self.values[value] = self.substitute[value] = Const("r", None)

    def optimize_guard_value(self, op: Op) -> None:
        self.read_known(op)
        value, const = op.args
        if not isinstance(const, Const):
            self.emit(op)
            return
        known = value if isinstance(value, Const) else self.values.get(value)
        if known is not None and _same_value(value.kind, known.value, const.value):
            self.drop_implied(op)
            return
        self.emit(op)
        if not isinstance(value, Box) or known is not None:
            return
        self.values[value] = const
        if value.kind != "i" or int_class(value) is type(const.value):
            self.substitute[value] = const
        if value.kind == "r":
            if const.value is None:
                self.null.add(value)
            else:
                self.nonnull.add(value)
                self.classes[value] = type(const.value)
        elif value.kind == "i":
            self.truth[value] = bool(const.value)


_FIXED_CLASSES = (int, bool, float, str, bytes, tuple, type(None))


def _snapshot_with(snapshot: Snapshot, box: Box, const: Const) -> Snapshot:
    """A copy of ``snapshot`` with ``const`` for every entry that is ``box``
    (snapshots may be shared between guards: the original is left alone)."""
    return snapshot.map_entries(
        lambda e: const if isinstance(e, Box) and resolve(e) is box else e)


def register() -> None:
    from metajit.tracer.opt.pipeline import register_pass   # the pipeline imports this module
    register_pass(GuardImplicationPass.name, GuardImplicationPass)
