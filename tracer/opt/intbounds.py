"""Integer range analysis: an IntBound (inclusive lower and upper) for every int box.

One forward walk.  A bound comes from a constant, from what an op can produce given
its arguments' bounds (``int_and(x, 255)`` is in [0, 255], a bytearray item in
[0, 255], a length in [0, INT64_MAX], a comparison in [0, 1]), and from a guard that
passed (after ``guard_true(int_lt(a, b))`` a < b; after ``guard_value(x, 5)`` x is 5).

What it proves, and uses:

- a checked op (``int_add_ovf`` ...) whose exact result fits in 64 bits for every
  value its arguments can have cannot overflow: it becomes its wrapping form (or,
  without one, stays as it is) and the ``guard_no_overflow`` after it goes;
- a comparison (or ``int_is_true`` ...) that the bounds decide becomes the constant
  ``True`` or ``False`` (of class bool, as Python gives it); any other pure op whose
  result has one possible value becomes that constant when its class is known;
- a guard that cannot fail goes: ``guard_true`` on a value that is never 0 (the
  constant ``True`` included), ``guard_false`` on 0, ``guard_value`` on the value.

What it may not touch: a guard that can fail stays, even when it always fails; a
fact from a guard holds after the guard only, so no op before it changes (the walk
is forward, and only a box defined after the guard may become a constant through
it); ops that are not on ints; label arguments are unknown at a label (the values
they receive from a jump were never seen), except at the peeled loop's body label,
for an argument that the body's jump gives a value whose bound does not depend on
anything (``int_and`` with a constant mask, a buffer's item, a comparison, a
length): its bound is that one joined with the bound of what the preamble's jump
gave (``intbounds.label_arg_bound``); heap, calls and snapshots.

``IntBound`` is a small value class other passes may use.
"""
from __future__ import annotations

from metajit.tracer.ir import INT64_MAX, INT64_MIN, Box, Const, Flag, Op, Value
from metajit.tracer.opt.base import ForwardPass, resolve

_2_64 = 1 << 64


class IntBound:
    """The integers from ``lower`` to ``upper``, both included.

    A bound on a box lies within int64.  Arithmetic gives the bound of Python's
    exact result, which may leave int64: ``fits_int64()`` says whether a checked op
    can overflow, ``clip()`` is the bound after its ``guard_no_overflow`` passed, and
    ``wrapped()`` the bound of the wrapping op."""
    __slots__ = ("lower", "upper")

    def __init__(self, lower: int = INT64_MIN, upper: int = INT64_MAX):
        if lower > upper:
            raise ValueError(f"empty IntBound [{lower}, {upper}]")
        self.lower = lower
        self.upper = upper

    @classmethod
    def const(cls, value: int) -> "IntBound":
        return cls(int(value), int(value))

    @classmethod
    def _hull(cls, values) -> "IntBound":
        values = list(values)
        return cls(min(values), max(values))

    # -- questions --
    def is_constant(self) -> bool:
        return self.lower == self.upper

    def is_nonnegative(self) -> bool:
        return self.lower >= 0

    def contains(self, value: int) -> bool:
        return self.lower <= value <= self.upper

    def contains_bound(self, other: "IntBound") -> bool:
        return self.lower <= other.lower and other.upper <= self.upper

    def fits_int64(self) -> bool:
        return INT64_MIN <= self.lower and self.upper <= INT64_MAX

    # -- set operations --
    def intersect(self, other: "IntBound") -> "IntBound | None":
        """The values in both, or None when there are none."""
        lower, upper = max(self.lower, other.lower), min(self.upper, other.upper)
        return IntBound(lower, upper) if lower <= upper else None

    def exclude(self, value: int) -> "IntBound | None":
        """Without ``value`` (which a bound can only say at an end)."""
        if self.lower == value == self.upper:
            return None
        if self.lower == value:
            return IntBound(value + 1, self.upper)
        if self.upper == value:
            return IntBound(self.lower, value - 1)
        return self

    def clip(self) -> "IntBound":
        return self.intersect(UNBOUNDED) or UNBOUNDED

    def wrapped(self) -> "IntBound":
        return self if self.fits_int64() else UNBOUNDED

    # -- arithmetic: the exact (Python) result --
    def add(self, other: "IntBound") -> "IntBound":
        return IntBound(self.lower + other.lower, self.upper + other.upper)

    def sub(self, other: "IntBound") -> "IntBound":
        return IntBound(self.lower - other.upper, self.upper - other.lower)

    def mul(self, other: "IntBound") -> "IntBound":
        return IntBound._hull(a * b for a in (self.lower, self.upper)
                              for b in (other.lower, other.upper))

    def neg(self) -> "IntBound":
        return IntBound(-self.upper, -self.lower)

    def abs(self) -> "IntBound":
        if self.lower >= 0:
            return self
        if self.upper <= 0:
            return self.neg()
        return IntBound(0, max(-self.lower, self.upper))

    def invert(self) -> "IntBound":
        return IntBound(~self.upper, ~self.lower)

    def lshift(self, other: "IntBound") -> "IntBound":
        """``a << b`` for 0 <= b < 64 (monotone in each argument: ends at corners)."""
        if self == ZERO:
            return ZERO
        shifts = _shift_range(other, 63)
        if shifts is None or other.upper > 63:
            return WIDE
        return IntBound._hull(a << b for a in (self.lower, self.upper) for b in shifts)

    def rshift(self, other: "IntBound") -> "IntBound":
        """``a >> b`` (arithmetic; a shift by 63 or more gives 0 or -1)."""
        shifts = _shift_range(other, 63)
        if shifts is None:
            return UNBOUNDED
        return IntBound._hull(a >> b for a in (self.lower, self.upper) for b in shifts)

    def uint_rshift(self, other: "IntBound") -> "IntBound":
        """The logical shift of the 64-bit pattern, as a signed value."""
        shifts = _shift_range(other, 64)
        if shifts is None:
            return UNBOUNDED
        if self.lower >= 0:
            patterns = (self.lower, self.upper)
        elif self.upper < 0:
            patterns = (self.lower + _2_64, self.upper + _2_64)
        else:
            patterns = (0, _2_64 - 1)
        return IntBound(patterns[0] >> shifts[1], patterns[1] >> shifts[0]).wrapped()

    def floordiv(self, other: "IntBound") -> "IntBound":
        """Python's ``a // b`` (b is never 0: a guard says so before the op)."""
        ends = [a // b for a in (self.lower, self.upper) for part in _nonzero_parts(other)
                for b in part]
        return IntBound._hull(ends) if ends else WIDE

    def mod(self, other: "IntBound") -> "IntBound":
        """Python's ``a % b``: the sign of b, smaller than b in size."""
        parts = []
        for low, high in _nonzero_parts(other):
            if low > 0:
                if self.lower >= 0 and self.upper < low:
                    parts.append(self)
                else:
                    top = high - 1 if self.lower < 0 else min(high - 1, self.upper)
                    parts.append(IntBound(0, top))
            else:
                if self.upper <= 0 and self.lower > high:
                    parts.append(self)
                else:
                    bottom = low + 1 if self.upper > 0 else max(low + 1, self.lower)
                    parts.append(IntBound(bottom, 0))
        if not parts:
            return UNBOUNDED
        return IntBound(min(p.lower for p in parts), max(p.upper for p in parts))

    # -- bitwise (results always fit) --
    def and_(self, other: "IntBound") -> "IntBound":
        if self.is_constant() and other.is_constant():
            return IntBound.const(self.lower & other.lower)
        # clearing bits never raises a value and keeps its sign
        if self.lower >= 0 or other.lower >= 0:
            return IntBound(0, min(b.upper for b in (self, other) if b.lower >= 0))
        return IntBound(INT64_MIN, min(self.upper, other.upper)) \
            if self.upper < 0 and other.upper < 0 else UNBOUNDED

    def or_(self, other: "IntBound") -> "IntBound":
        if self.is_constant() and other.is_constant():
            return IntBound.const(self.lower | other.lower)
        # setting bits never lowers a value and keeps a negative sign
        if self.lower >= 0 and other.lower >= 0:
            return IntBound(max(self.lower, other.lower), _all_ones(self.upper, other.upper))
        negatives = [b.lower for b in (self, other) if b.upper < 0]
        return IntBound(max(negatives), -1) if negatives else UNBOUNDED

    def xor(self, other: "IntBound") -> "IntBound":
        if self.is_constant() and other.is_constant():
            return IntBound.const(self.lower ^ other.lower)
        if self.lower >= 0 and other.lower >= 0:
            return IntBound(0, _all_ones(self.upper, other.upper))
        if self.upper < 0 and other.upper < 0:
            return IntBound(0, _all_ones(~self.lower, ~other.lower))
        return UNBOUNDED

    # -- the unsigned view (uint_lt) --
    def unsigned(self) -> "IntBound | None":
        """The bound of the value read as unsigned 64 bits, when it is one range."""
        if self.lower >= 0:
            return self
        if self.upper < 0:
            return IntBound(self.lower + _2_64, self.upper + _2_64)
        return None

    def __eq__(self, other):
        return (isinstance(other, IntBound) and self.lower == other.lower
                and self.upper == other.upper)

    def __hash__(self):
        return hash((self.lower, self.upper))

    def __repr__(self):
        return f"IntBound({self.lower}, {self.upper})"


def _shift_range(bound: IntBound, top: int) -> tuple[int, int] | None:
    """The shift counts to try, clamped to [0, top] (a count is never negative)."""
    if bound.upper < 0:
        return None
    return max(bound.lower, 0), min(bound.upper, top)


def _nonzero_parts(bound: IntBound) -> list[tuple[int, int]]:
    parts = []
    if bound.lower <= -1:
        parts.append((bound.lower, min(bound.upper, -1)))
    if bound.upper >= 1:
        parts.append((max(bound.lower, 1), bound.upper))
    return parts


def _all_ones(*nonnegatives: int) -> int:
    return (1 << max(nonnegatives).bit_length()) - 1


UNBOUNDED = IntBound()
# any integer at all, in int64 or not: it does not fit, so a checked op keeps its
# guard, and clip() and wrapped() give UNBOUNDED
WIDE = IntBound(INT64_MIN, INT64_MAX + 1)
ZERO = IntBound(0, 0)
BOOL = IntBound(0, 1)
NONNEGATIVE = IntBound(0, INT64_MAX)


def _bound_of_any_input(value: Value) -> IntBound | None:
    """The bound ``value`` has whatever its op's arguments are (None when that
    depends on them): a constant, ``int_and`` with a non-negative constant, a
    buffer's item, a comparison or test, a length."""
    value = resolve(value)
    if isinstance(value, Const):
        return IntBound.const(value.value)
    op = value.op
    if op is None:
        return None
    if op.name == "int_and":
        masks = [int(a.value) for a in map(resolve, op.args)
                 if isinstance(a, Const) and int(a.value) >= 0]
        return IntBound(0, min(masks)) if masks else None
    if op.name == "getarrayitem_i":
        return ITEM_BOUNDS.get(op.descr.storage)
    if op.name in BOOL_RESULTS:
        return BOOL
    if op.name in ("arraylen", "strlen"):
        return NONNEGATIVE
    return None


# --- the classes of int results ------------------------------------------------------

COMPARISONS = frozenset({"int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge",
                         "uint_lt", "uint_ge"})
TESTS = frozenset({"int_is_true", "int_is_zero", "int_to_bool"})
BOOL_RESULTS = COMPARISONS | TESTS | frozenset({
    "float_lt", "float_le", "float_eq", "float_ne", "float_gt", "float_ge",
    "float_is_true", "ptr_eq", "ptr_ne"})
BITWISE = frozenset({"int_and", "int_or", "int_xor"})
# ops whose Python result is an int (never a bool), whatever their arguments are
INT_RESULTS = frozenset({
    "int_add", "int_sub", "int_mul", "int_lshift", "int_rshift", "uint_rshift",
    "int_neg", "int_invert", "int_add_ovf", "int_sub_ovf", "int_mul_ovf",
    "int_lshift_ovf", "int_neg_ovf", "int_abs_ovf", "int_floordiv_ovf", "int_mod_ovf",
    "cast_float_to_int_ovf", "arraylen", "strlen"})


def int_class(value: Value, depth: int = 0) -> type | None:
    """The Python class (int or bool) of an int value, when the trace fixes it: the
    class of a constant, what the defining op gives, else the box's ``pyclass``."""
    value = resolve(value)
    if isinstance(value, Const):
        return type(value.value) if type(value.value) in (int, bool) else None
    op = value.op
    name = op.name if op is not None else None
    if name in BOOL_RESULTS:
        return bool
    if name in INT_RESULTS:
        return int
    if name in BITWISE or name == "same_as_i":
        if depth > 50:
            return None
        classes = {int_class(a, depth + 1) for a in op.args}
        if classes == {bool}:
            return bool     # bool & bool is a bool
        return int if int in classes else None
    return value.pyclass if value.pyclass in (int, bool) else None


# --- what each op gives --------------------------------------------------------------

# op -> the bound of Python's exact result from the bounds of the arguments
ARITHMETIC = {
    "int_add": IntBound.add, "int_add_ovf": IntBound.add,
    "int_sub": IntBound.sub, "int_sub_ovf": IntBound.sub,
    "int_mul": IntBound.mul, "int_mul_ovf": IntBound.mul,
    "int_lshift": IntBound.lshift, "int_lshift_ovf": IntBound.lshift,
    "int_neg": IntBound.neg, "int_neg_ovf": IntBound.neg,
    "int_abs_ovf": IntBound.abs,
    "int_floordiv_ovf": IntBound.floordiv,
    "int_mod_ovf": IntBound.mod,
    "int_rshift": IntBound.rshift,
    "uint_rshift": IntBound.uint_rshift,
    "int_invert": IntBound.invert,
    "int_and": IntBound.and_, "int_or": IntBound.or_, "int_xor": IntBound.xor,
    "same_as_i": lambda a: a,
}

# checked op -> its wrapping form (the others keep their name once proven safe)
WRAPPING_FORM = {"int_add_ovf": "int_add", "int_sub_ovf": "int_sub",
                 "int_mul_ovf": "int_mul", "int_lshift_ovf": "int_lshift",
                 "int_neg_ovf": "int_neg"}

# the items of an array storage (ArrayDescr.storage): bytes, and the narrow
# typecodes of array.array and numpy dtypes
ITEM_BOUNDS = {"bytearray": IntBound(0, 255), "bytes": IntBound(0, 255), "numpy:bool": BOOL}
for _code, _bits in (("b", 8), ("h", 16), ("i", 32)):
    ITEM_BOUNDS[f"array:{_code}"] = ITEM_BOUNDS[f"numpy:int{_bits}"] = \
        IntBound(-(1 << (_bits - 1)), (1 << (_bits - 1)) - 1)
    ITEM_BOUNDS[f"array:{_code.upper()}"] = ITEM_BOUNDS[f"numpy:uint{_bits}"] = \
        IntBound(0, (1 << _bits) - 1)
del _code, _bits

# a condition -> the condition that holds when it is false
NEGATED = {"int_lt": "int_ge", "int_ge": "int_lt", "int_le": "int_gt", "int_gt": "int_le",
           "int_eq": "int_ne", "int_ne": "int_eq", "uint_lt": "uint_ge", "uint_ge": "uint_lt",
           "int_is_true": "int_is_zero", "int_to_bool": "int_is_zero",
           "int_is_zero": "int_is_true"}


def decide(name: str, bounds: list[IntBound]) -> bool | None:
    """The outcome of a comparison or test when the bounds fix it, else None."""
    if name in ("int_is_true", "int_to_bool", "int_is_zero"):
        (a,) = bounds
        if a == ZERO or not a.contains(0):
            return (a != ZERO) == (name != "int_is_zero")
        return None
    a, b = bounds
    if name in ("int_gt", "int_ge"):
        name, a, b = ("int_lt" if name == "int_gt" else "int_le"), b, a
    if name in ("uint_lt", "uint_ge"):
        ua, ub = a.unsigned(), b.unsigned()
        if ua is None or ub is None:
            return None
        outcome = decide("int_lt", [ua, ub])
        return outcome if outcome is None or name == "uint_lt" else not outcome
    if name == "int_lt":
        return True if a.upper < b.lower else False if a.lower >= b.upper else None
    if name == "int_le":
        return True if a.upper <= b.lower else False if a.lower > b.upper else None
    same = a.is_constant() and a == b
    differ = a.intersect(b) is None
    if not (same or differ):
        return None
    return same if name == "int_eq" else differ


class IntBoundsPass(ForwardPass):
    name = "intbounds"

    def setup(self) -> None:
        self.bounds: dict[Box, IntBound] = {}
        self.following = {id(a): b for a, b in zip(self.trace.ops, self.trace.ops[1:])}
        self.skip_overflow_guard = False

    # -- bounds of values --
    def bound(self, value: Value) -> IntBound:
        value = resolve(value)
        if isinstance(value, Const):
            v = value.value
            return IntBound.const(v) if type(v) in (int, bool) else UNBOUNDED
        return self.bounds.get(value, UNBOUNDED)

    def narrow(self, value: Value, bound: IntBound | None) -> None:
        """``value`` lies in ``bound`` from here on (a fact from a guard)."""
        value = resolve(value)
        if not isinstance(value, Box) or bound is None:
            return
        narrowed = self.bound(value).intersect(bound)
        if narrowed is not None:     # else the guard always fails: nothing after runs
            self.bounds[value] = narrowed

    def produce(self, op: Op, bound: IntBound) -> None:
        """Pure op ``op`` gives a value in ``bound``: a constant replaces it when the
        bound leaves one value and the class of the result is known."""
        cls = int_class(op.result) if bound.is_constant() else None
        if cls is not None:
            self.replace(op.result, Const("i", cls(bound.lower)))
            self.ctx.count("intbounds.constant_result")
            return
        self.bounds[op.result] = bound
        self.emit(op)

    # -- ops --
    def default(self, op: Op) -> None:
        if op.name in ARITHMETIC:
            self.arithmetic(op)
        elif op.name in COMPARISONS or op.name in TESTS:
            self.comparison(op)
        elif op.result is not None and op.result.kind == "i":
            self.bounds[op.result] = BOOL if op.name in BOOL_RESULTS else UNBOUNDED
            self.emit(op)
        else:
            self.emit(op)

    def arithmetic(self, op: Op) -> None:
        args = [self.bound(a) for a in op.args]
        exact = ARITHMETIC[op.name](*args)
        if not op.spec.has(Flag.CAN_OVERFLOW):
            op.fits = op.fits or exact.fits_int64()
            self.produce(op, exact.wrapped())
            return
        guard = self.following.get(id(op))
        if guard is None or guard.name != "guard_no_overflow":
            self.emit(op)        # not the usual shape: no bound, nothing removed
            return
        if self.may_overflow(op, args, exact):
            self.bounds[op.result] = exact.clip()     # once the guard passed
            self.emit(op)
            return
        self.skip_overflow_guard = True
        self.ctx.count("intbounds.no_overflow")
        op.name = WRAPPING_FORM.get(op.name, op.name)
        op.fits = True
        self.produce(op, exact)

    @staticmethod
    def may_overflow(op: Op, args: list[IntBound], exact: IntBound) -> bool:
        if op.name in ("int_floordiv_ovf", "int_mod_ovf"):
            # the flagged pair is INT64_MIN, -1 (int_mod_ovf's result always fits)
            return args[0].contains(INT64_MIN) and args[1].contains(-1)
        return not exact.fits_int64()

    def comparison(self, op: Op) -> None:
        outcome = decide(op.name, [self.bound(a) for a in op.args])
        if outcome is None:
            self.bounds[op.result] = BOOL
            self.emit(op)
            return
        self.replace(op.result, Const("i", outcome))
        self.ctx.count("intbounds.decided_comparison")

    def optimize_getarrayitem_i(self, op: Op) -> None:
        self.bounds[op.result] = ITEM_BOUNDS.get(op.descr.storage, UNBOUNDED)
        self.emit(op)

    def optimize_arraylen(self, op: Op) -> None:
        self.bounds[op.result] = NONNEGATIVE
        self.emit(op)

    optimize_strlen = optimize_arraylen

    def optimize_label(self, op: Op) -> None:
        for box in op.args:
            self.bounds.pop(resolve(box), None)
        end = self.trace.ops[-1]
        if op is not self.trace.ops[0] and end.name == "jump" and end.descr is op.descr:
            # the body's label: an argument the body's jump always gives a bounded
            # value, whatever the iteration started with, has the hull of that bound
            # and the bound of what the preamble's jump gave it
            entry = self.emitted_jump_to(op.descr)
            for k, arg in enumerate(op.args):
                inner = _bound_of_any_input(end.args[k]) if arg.kind == "i" else None
                if inner is not None and entry is not None:
                    outer = self.bound(entry.args[k])
                    self.bounds[resolve(arg)] = IntBound(min(inner.lower, outer.lower),
                                                         max(inner.upper, outer.upper))
                    self.ctx.count("intbounds.label_arg_bound")
        self.emit(op)

    def emitted_jump_to(self, descr) -> Op | None:
        """The jump already emitted to the label ``descr`` (the preamble's)."""
        for emitted in reversed(self.out):
            if emitted.name == "jump" and emitted.descr is descr:
                return emitted
        return None

    # -- guards --
    def optimize_guard_no_overflow(self, op: Op) -> None:
        if self.skip_overflow_guard:
            self.skip_overflow_guard = False
        else:
            self.emit(op)

    def optimize_guard_true(self, op: Op) -> None:
        self.truth_guard(op, True)

    def optimize_guard_false(self, op: Op) -> None:
        self.truth_guard(op, False)

    def truth_guard(self, op: Op, expected: bool) -> None:
        if decide("int_is_true", [self.bound(op.args[0])]) == expected:
            self.ctx.count("intbounds.passing_guard")
            return
        self.emit(op)
        self.learn(op.args[0], expected)

    def optimize_guard_value(self, op: Op) -> None:
        value, const = op.args
        if value.kind != "i" or not isinstance(const, Const):
            self.emit(op)
            return
        if self.bound(value) == IntBound.const(const.value):
            self.ctx.count("intbounds.passing_guard")
            return
        self.emit(op)
        self.narrow(value, IntBound.const(const.value))

    def learn(self, value: Value, truth: bool) -> None:
        """A guard saw ``value`` true (or false): narrow it and what it compares."""
        value = resolve(value)
        if not isinstance(value, Box):
            return
        self.narrow(value, self.bound(value).exclude(0) if truth else ZERO)
        op = value.op
        if op is None or op.name not in NEGATED:
            return
        self.holds(op.name if truth else NEGATED[op.name], [resolve(a) for a in op.args])

    def holds(self, name: str, args: list[Value]) -> None:
        """Narrow the arguments of condition ``name``, which is known to hold."""
        if name in ("int_gt", "int_ge", "uint_ge"):
            name = {"int_gt": "int_lt", "int_ge": "int_le", "uint_ge": "uint_le"}[name]
            args = args[::-1]
        bounds = [self.bound(a) for a in args]
        if name in ("int_is_true", "int_to_bool", "int_is_zero"):
            self.narrow(args[0], ZERO if name == "int_is_zero" else bounds[0].exclude(0))
            return
        a, b = bounds
        if name == "int_eq":
            self.narrow(args[0], b)
            self.narrow(args[1], a)
        elif name == "int_ne":
            for value, other, mine in ((args[0], b, a), (args[1], a, b)):
                if other.is_constant():
                    self.narrow(value, mine.exclude(other.lower))
        elif name in ("int_lt", "int_le"):
            gap = 1 if name == "int_lt" else 0
            self.narrow(args[0], _between(upper=b.upper - gap))
            self.narrow(args[1], _between(lower=a.lower + gap))
        elif name in ("uint_lt", "uint_le") and b.lower >= 0:
            # unsigned a below a non-negative b: a is non-negative too
            gap = 1 if name == "uint_lt" else 0
            self.narrow(args[0], _between(0, b.upper - gap))
            self.narrow(args[1], _between(lower=max(a.lower, 0) + gap))


def _between(lower: int = INT64_MIN, upper: int = INT64_MAX) -> IntBound | None:
    return IntBound(lower, upper) if lower <= upper else None


def register() -> None:
    from metajit.tracer.opt.pipeline import register_pass   # the pipeline imports this module
    register_pass(IntBoundsPass.name, IntBoundsPass)
