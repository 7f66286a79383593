"""Integer range analysis: IntBound, text in / text out, and random traces run on the
reference interpreter before and after the pass."""
import textwrap

from hypothesis import given, strategies as st

from metajit.backend.reference import compile_unit, evaluate
from metajit.tracer.ir import (INT64_MAX, INT64_MIN, ArrayDescr, Box, Const, FrameSnapshot,
                               Op, Snapshot, Trace, failargs, intmask)
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.intbounds import WIDE, IntBound, IntBoundsPass, int_class
from metajit.tracer.text import CodeRef, format_trace, parse_trace


def check(source: str, expected: str, rule: str | None = None) -> None:
    trace = parse_trace(textwrap.dedent(source))
    ctx = OptContext()
    IntBoundsPass().run(trace, ctx)
    want = parse_trace(textwrap.dedent(expected), trace.objects)
    assert format_trace(trace) == format_trace(want)
    if rule is not None:
        assert ctx.rule_counts[rule] > 0, ctx.rule_counts


def test_registered():
    from metajit.tracer.opt.pipeline import DEFAULT_ORDER, PASSES
    assert PASSES["intbounds"] is IntBoundsPass and "intbounds" in DEFAULT_ORDER


# --- IntBound ------------------------------------------------------------------------

def test_intbound_basics():
    a, b = IntBound(0, 10), IntBound(5, 20)
    assert a.add(b) == IntBound(5, 30) and a.sub(b) == IntBound(-20, 5)
    assert IntBound(-2, 3).mul(IntBound(-4, 5)) == IntBound(-12, 15)
    assert a.intersect(b) == IntBound(5, 10) and a.intersect(IntBound(11, 12)) is None
    assert IntBound(-5, 300).and_(IntBound.const(255)) == IntBound(0, 255)
    assert a.contains(10) and not a.contains(11) and a.contains_bound(IntBound(1, 2))
    assert IntBound(0, INT64_MAX).add(IntBound.const(1)).fits_int64() is False
    assert IntBound(0, INT64_MAX).add(IntBound.const(1)).clip() == IntBound(1, INT64_MAX)
    assert IntBound(-7, 7).floordiv(IntBound(2, 2)) == IntBound(-4, 3)
    assert IntBound(-7, 7).mod(IntBound(3, 3)) == IntBound(0, 2)
    assert IntBound(0, 1).mod(IntBound(3, 3)) == IntBound(0, 1)
    assert IntBound(-7, 7).mod(IntBound(-3, -3)) == IntBound(-2, 0)


BOUND_ENDS = st.sampled_from([INT64_MIN, INT64_MIN + 1, -300, -64, -2, -1, 0, 1, 2, 3, 63,
                              64, 255, 256, 2**32, INT64_MAX - 1, INT64_MAX])
BOUNDS = st.tuples(BOUND_ENDS, BOUND_ENDS).map(lambda t: IntBound(min(t), max(t)))


def _members(bound, data):
    return data.draw(st.sampled_from([bound.lower, bound.upper])
                     | st.integers(bound.lower, bound.upper))


BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "and_": lambda a, b: a & b, "or_": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
    "floordiv": lambda a, b: a // b if b else None, "mod": lambda a, b: a % b if b else None,
    "lshift": lambda a, b: a << b if 0 <= b < 64 else None,
    "rshift": lambda a, b: a >> min(b, 63) if b >= 0 else None,
    "uint_rshift": lambda a, b: intmask((a % 2**64) >> b) if 0 <= b < 64 else None,
}


@given(BOUNDS, BOUNDS, st.sampled_from(sorted(BINARY)), st.data())
def test_intbound_arithmetic_is_sound(a, b, name, data):
    x, y = _members(a, data), _members(b, data)
    result = BINARY[name](x, y)
    if result is not None:
        bound = getattr(a, name)(b)
        assert bound is WIDE or bound.contains(result)
    for unary, fn in (("neg", lambda v: -v), ("abs", abs), ("invert", lambda v: ~v)):
        assert getattr(a, unary)().contains(fn(x))


# --- the Brainfuck shapes --------------------------------------------------------------

def test_bytearray_cell_increment():
    check("""
        [p0, i1]
        i2 = arraylen(p0, descr=bytearray)
        i3 = int_ge(i1, 0)
        guard_true(i3) [@step#3: p0, i1]
        i4 = int_lt(i1, i2)
        guard_true(i4) [@step#3: p0, i1]
        i5 = getarrayitem_i(p0, i1, descr=bytearray)
        i6 = int_add_ovf(i5, 1)
        guard_no_overflow() [@step#4: i5, p0, i1]
        i7 = int_and(i6, 255)
        i8 = uint_lt(i7, 256)
        guard_true(i8) [@step#5: p0, i1, i7]
        setarrayitem_i(p0, i1, i7, descr=bytearray)
        finish(i7, i8, descr=done)
        """, """
        [p0, i1]
        i2 = arraylen(p0, descr=bytearray)
        i3 = int_ge(i1, 0)
        guard_true(i3) [@step#3: p0, i1]
        i4 = int_lt(i1, i2)
        guard_true(i4) [@step#3: p0, i1]
        i5 = getarrayitem_i(p0, i1, descr=bytearray)
        i6 = int_add(i5, 1)
        i7 = int_and(i6, 255)
        setarrayitem_i(p0, i1, i7, descr=bytearray)
        finish(i7, True, descr=done)
        """, rule="intbounds.no_overflow")


def test_repeated_bounds_check_on_a_known_index():
    # after the first check i1 is in [0, INT64_MAX - 1]: the second int_ge is True,
    # and moving right by one cannot overflow; the second int_lt uses a new length
    check("""
        [p0, i1]
        i2 = arraylen(p0, descr=bytearray)
        i3 = int_ge(i1, 0)
        guard_true(i3)
        i4 = int_lt(i1, i2)
        guard_true(i4)
        i5 = int_ge(i1, 0)
        guard_true(i5)
        i6 = int_add_ovf(i1, 1)
        guard_no_overflow()
        i7 = arraylen(p0, descr=bytearray)
        i8 = int_lt(i1, i7)
        guard_true(i8)
        finish(i6, descr=done)
        """, """
        [p0, i1]
        i2 = arraylen(p0, descr=bytearray)
        i3 = int_ge(i1, 0)
        guard_true(i3)
        i4 = int_lt(i1, i2)
        guard_true(i4)
        i6 = int_add(i1, 1)
        i7 = arraylen(p0, descr=bytearray)
        i8 = int_lt(i1, i7)
        guard_true(i8)
        finish(i6, descr=done)
        """, rule="intbounds.decided_comparison")


def test_countdown_after_a_nonzero_test():
    # guard_false(x == 0) with x >= 0 makes x >= 1: x - 1 cannot overflow
    check("""
        [i0]
        i1 = int_ge(i0, 0)
        guard_true(i1)
        i2 = int_eq(i0, 0)
        guard_false(i2)
        i3 = int_sub_ovf(i0, 1)
        guard_no_overflow()
        i4 = int_ge(i3, 0)
        guard_true(i4)
        finish(i3, descr=done)
        """, """
        [i0]
        i1 = int_ge(i0, 0)
        guard_true(i1)
        i2 = int_eq(i0, 0)
        guard_false(i2)
        i3 = int_sub(i0, 1)
        finish(i3, descr=done)
        """)


# --- what must stay --------------------------------------------------------------------

def test_a_bound_from_a_guard_does_not_hold_before_it():
    check("""
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow() [@f#0: i0]
        i2 = int_lt(i0, 100)
        guard_true(i2) [@f#1: i0, i1]
        i3 = int_lt(i0, 100)
        i4 = int_add_ovf(i0, 1)
        guard_no_overflow() [@f#2: i0]
        finish(i1, i3, i4, descr=done)
        """, """
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow() [@f#0: i0]
        i2 = int_lt(i0, 100)
        guard_true(i2) [@f#1: i0, i1]
        i4 = int_add(i0, 1)
        finish(i1, True, i4, descr=done)
        """)


def test_unknown_inputs_stay_unknown():
    source = """
        [i0, i1]
        i2 = int_add_ovf(i0, i1)
        guard_no_overflow()
        i3 = int_lt(i0, i1)
        guard_true(i3)
        i4 = int_mul_ovf(i0, 2)
        guard_no_overflow()
        i5 = int_and(i0, -256)
        i6 = int_lt(i5, 0)
        guard_false(i6)
        i7 = int_is_true(i0)
        guard_true(i7)
        finish(i2, i4, descr=done)
        """
    check(source, source)


def test_overflow_possible_at_the_edge():
    # a length is in [0, INT64_MAX]: len + 1 may overflow, len - 1 may not
    check("""
        [p0]
        i1 = arraylen(p0, descr=bytearray)
        i2 = int_add_ovf(i1, 1)
        guard_no_overflow()
        i3 = int_sub_ovf(i1, 1)
        guard_no_overflow()
        i4 = int_neg_ovf(i1)
        guard_no_overflow()
        i5 = int_lshift_ovf(i1, 1)
        guard_no_overflow()
        finish(i2, i3, i4, i5, descr=done)
        """, """
        [p0]
        i1 = arraylen(p0, descr=bytearray)
        i2 = int_add_ovf(i1, 1)
        guard_no_overflow()
        i3 = int_sub(i1, 1)
        i4 = int_neg(i1)
        i5 = int_lshift_ovf(i1, 1)
        guard_no_overflow()
        finish(i2, i3, i4, i5, descr=done)
        """)


def test_a_guard_that_always_fails_stays():
    check("""
        [p0]
        i1 = arraylen(p0, descr=bytearray)
        i2 = int_lt(i1, 0)
        guard_true(i2) [@f#0: p0]
        finish(i1, descr=done)
        """, """
        [p0]
        i1 = arraylen(p0, descr=bytearray)
        guard_true(False) [@f#0: p0]
        finish(i1, descr=done)
        """)


def test_constant_guards_that_pass_go():
    check("""
        [i0]
        guard_true(True)
        guard_false(0)
        guard_value(5, 5)
        guard_true(0)
        finish(i0, descr=done)
        """, """
        [i0]
        guard_true(0)
        finish(i0, descr=done)
        """, rule="intbounds.passing_guard")


# --- op semantics ------------------------------------------------------------------------

def test_guard_value_fixes_a_value():
    check("""
        [i0]
        guard_value(i0, 7)
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow()
        i2 = int_lt(i1, 10)
        guard_true(i2)
        guard_value(i0, 7)
        finish(i1, descr=done)
        """, """
        [i0]
        guard_value(i0, 7)
        finish(8, descr=done)
        """, rule="intbounds.constant_result")


def test_floor_division_and_modulo_by_constants():
    # Python floors: [-7, 7] // 2 is [-4, 3]; % 3 is [0, 2]; % -3 is [-2, 0]
    check("""
        [i0]
        i1 = int_ge(i0, -7)
        guard_true(i1)
        i2 = int_le(i0, 7)
        guard_true(i2)
        i3 = int_floordiv_ovf(i0, 2)
        guard_no_overflow()
        i4 = int_ge(i3, -4)
        i5 = int_ge(i3, -3)
        i6 = int_mod_ovf(i0, 3)
        guard_no_overflow()
        i7 = uint_lt(i6, 3)
        i8 = int_mod_ovf(i0, -3)
        guard_no_overflow()
        i9 = int_le(i8, 0)
        i10 = int_floordiv_ovf(i0, -1)
        guard_no_overflow()
        finish(i4, i5, i7, i9, i10, descr=done)
        """, """
        [i0]
        i1 = int_ge(i0, -7)
        guard_true(i1)
        i2 = int_le(i0, 7)
        guard_true(i2)
        i3 = int_floordiv_ovf(i0, 2)
        i5 = int_ge(i3, -3)
        i6 = int_mod_ovf(i0, 3)
        i8 = int_mod_ovf(i0, -3)
        i10 = int_floordiv_ovf(i0, -1)
        finish(True, i5, True, True, i10, descr=done)
        """)


def test_division_that_may_overflow_keeps_its_guard():
    source = """
        [i0, i1]
        i2 = int_floordiv_ovf(i0, -1)
        guard_no_overflow()
        i3 = int_mod_ovf(i0, i1)
        guard_no_overflow()
        finish(i2, i3, descr=done)
        """
    check(source, source)


def test_masks_shifts_and_tests():
    check("""
        [i0, p1]
        i2 = int_and(i0, 255)
        i3 = int_lshift_ovf(i2, 8)
        guard_no_overflow()
        i4 = uint_lt(i3, 65536)
        i5 = uint_rshift(i0, 60)
        i6 = int_lt(i5, 16)
        i7 = uint_rshift(i0, 0)
        i8 = int_ge(i7, 0)
        i9 = getarrayitem_i(p1, i2, descr=bytearray)
        i10 = int_add(i9, 1)
        i11 = int_is_true(i10)
        i12 = int_is_zero(i10)
        guard_true(i10)
        i13 = int_and(i2, 0)
        finish(i4, i6, i8, i11, i12, i13, descr=done)
        """, """
        [i0, p1]
        i2 = int_and(i0, 255)
        i3 = int_lshift(i2, 8)
        i5 = uint_rshift(i0, 60)
        i7 = uint_rshift(i0, 0)
        i8 = int_ge(i7, 0)
        i9 = getarrayitem_i(p1, i2, descr=bytearray)
        i10 = int_add(i9, 1)
        finish(True, True, i8, True, False, 0, descr=done)
        """)


def test_results_keep_their_class():
    trace = parse_trace(textwrap.dedent("""
        [i0]
        i1 = int_lt(i0, 0)
        guard_false(i1)
        i2 = int_ge(i0, 0)
        i3 = int_and(i2, i2)
        i4 = int_and(i2, 1)
        finish(i2, i3, i4, descr=done)
        """))
    IntBoundsPass().run(trace, OptContext())
    finish = trace.ops[-1]
    # True & True is True, True & 1 is 1: a constant has the class Python gives
    assert [type(a.value) if isinstance(a, Const) else None for a in finish.args] == \
        [bool, bool, int]
    assert int_class(Const("i", True)) is bool


def test_label_arguments_are_unknown_at_each_label():
    check("""
        [i0]
        label(i0, descr=loop)
        i1 = int_lt(i0, 100)
        guard_true(i1)
        i2 = int_ge(i0, 0)
        guard_true(i2)
        i3 = int_add_ovf(i0, 1)
        guard_no_overflow()
        jump(i3, descr=body)
        label(i3, descr=body)
        i4 = int_add_ovf(i3, 1)
        guard_no_overflow()
        jump(i4, descr=body)
        """, """
        [i0]
        label(i0, descr=loop)
        i1 = int_lt(i0, 100)
        guard_true(i1)
        i2 = int_ge(i0, 0)
        guard_true(i2)
        i3 = int_add(i0, 1)
        jump(i3, descr=body)
        label(i3, descr=body)
        i4 = int_add_ovf(i3, 1)
        guard_no_overflow()
        jump(i4, descr=body)
        """)


def test_unsigned_bounds_check_narrows_the_index():
    check("""
        [i0, i1]
        i2 = int_and(i1, 1023)
        i3 = uint_lt(i0, i2)
        guard_true(i3)
        i4 = int_ge(i0, 0)
        i5 = int_lt(i0, 1023)
        i6 = int_add_ovf(i0, 1)
        guard_no_overflow()
        finish(i4, i5, i6, descr=done)
        """, """
        [i0, i1]
        i2 = int_and(i1, 1023)
        i3 = uint_lt(i0, i2)
        guard_true(i3)
        i6 = int_add(i0, 1)
        finish(True, True, i6, descr=done)
        """)


# --- random traces on the reference interpreter ------------------------------------------

CODE = CodeRef("random")
EDGES = [INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, -1, 0, 1, 2, -2, 3, 7, 255,
         256, -256, 2**31, 2**62, -2**62]
INTS = st.sampled_from(EDGES) | st.integers(-300, 300) | st.integers(INT64_MIN, INT64_MAX)
SMALL_CONSTS = st.sampled_from([0, 1, 2, 3, -1, -2, 7, 10, 63, 64, 100, 255, 256, -256,
                                INT64_MAX, INT64_MIN, True, False])
WRAPPING = ["int_add", "int_sub", "int_mul", "int_and", "int_or", "int_xor"]
CHECKED = ["int_add_ovf", "int_sub_ovf", "int_mul_ovf"]
UNARY = ["int_neg", "int_invert", "int_neg_ovf", "int_abs_ovf"]
CONDITIONS = ["int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge", "uint_lt",
              "uint_ge", "int_is_true", "int_is_zero", "int_to_bool"]
SHIFTS = ["int_lshift", "int_rshift", "uint_rshift", "int_lshift_ovf"]
BYTES = ArrayDescr("bytearray", "i")
BYTE = st.sampled_from([0, 1, 254, 255]) | st.integers(0, 255)


class RandomTrace:
    """A straight-line trace of int ops and guards, built one step at a time.

    It is built along a first run (``self.run``, its inputs drawn first): most
    guards are given the outcome that passes on it and most constants lie near its
    values, so that traces run long and bounds meet their edges."""

    def __init__(self, data):
        self.data = data
        self.array = Box("r")
        self.inputs = [Box("i", name=f"x{n}") for n in range(3)]
        self.run = [bytearray(data.draw(st.lists(BYTE, min_size=4, max_size=4))),
                    *(data.draw(INTS) for _ in self.inputs)]
        self.env: dict | None = dict(zip([self.array, *self.inputs], self.run))
        self.pool: list = list(self.inputs)
        self.conditions: list[Box] = []
        self.ops: list[Op] = []

    def concrete(self, value):
        return value.value if isinstance(value, Const) else self.env[value]

    def near(self, value):
        """A constant near ``value``'s value on the first run (else a small one)."""
        if self.env is not None and self.data.draw(st.booleans()):
            return Const("i", intmask(int(self.concrete(value)) +
                                      self.data.draw(st.integers(-2, 2))))
        return Const("i", self.data.draw(SMALL_CONSTS))

    def value(self):
        which = self.data.draw(st.integers(0, 4))
        if which == 0:
            return Const("i", self.data.draw(SMALL_CONSTS))
        if which == 1:      # the inputs often: facts about one value meet
            return self.data.draw(st.sampled_from(self.inputs))
        return self.data.draw(st.sampled_from(self.pool))

    def condition(self):
        """Mostly the latest condition computed: a guard tests what was compared."""
        if self.conditions and self.data.draw(st.booleans()):
            return self.conditions[-1]
        return self.value()

    def snapshot(self) -> Snapshot:
        return Snapshot([FrameSnapshot(CODE, len(self.ops), list(self.pool))])

    def add(self, name, args, cls=int, descr=None):
        result = Box("i", cls) if not name.startswith("guard_") else None
        snapshot = None if result is not None else self.snapshot()
        self.ops.append(Op(name, args, descr, result, snapshot))
        if result is not None:
            self.pool.append(result)
        if self.env is not None and name != "guard_no_overflow":
            try:
                outcome = evaluate(name, *map(self.concrete, args), descr=descr)
            except OverflowError:
                self.env = None          # its guard_no_overflow fails on the first run
            else:
                if result is not None:
                    self.env[result] = outcome
                elif not outcome:
                    self.env = None
        return result

    def guard(self, value):
        """guard_true or guard_false: mostly the one that passes on the first run."""
        passing = self.env is not None and self.data.draw(st.integers(0, 5)) > 0
        truth = bool(self.concrete(value)) if passing else self.data.draw(st.booleans())
        self.add("guard_true" if truth else "guard_false", [value])

    def checked(self, name, args):
        snapshot = self.snapshot()        # resumes before the op
        box = self.add(name, args)
        self.ops.append(Op("guard_no_overflow", [], None, None, snapshot))
        return box

    def step(self):
        draw = self.data.draw
        choice = draw(st.sampled_from(
            ["wrapping", "checked", "unary", "condition", "guard", "value", "shift",
             "divide", "item", "mask", "range", "range", "range"]))
        if choice == "range":
            # the shape of a range check: an input against a constant, guarded
            name = draw(st.sampled_from(CONDITIONS[:8]))
            box = draw(st.sampled_from(self.inputs[:1] * 3 + self.inputs))
            args = draw(st.permutations([box, self.near(box)]))
            self.guard(self.add(name, list(args), bool))
        elif choice == "wrapping":
            self.add(draw(st.sampled_from(WRAPPING)), [self.value(), self.value()])
        elif choice == "checked":
            self.checked(draw(st.sampled_from(CHECKED)), [self.value(), self.value()])
        elif choice == "unary":
            name = draw(st.sampled_from(UNARY))
            args = [self.value()]
            self.checked(name, args) if name.endswith("_ovf") else self.add(name, args)
        elif choice == "condition":
            name = draw(st.sampled_from(CONDITIONS))
            if name.startswith("int_is") or name == "int_to_bool":
                args = [self.value()]
            else:
                box = self.value()
                args = [box, self.near(box) if draw(st.booleans()) else self.value()]
            self.conditions.append(self.add(name, args, bool))
        elif choice == "guard":
            self.guard(self.condition())
        elif choice == "value":
            box = draw(st.sampled_from(self.pool))
            self.add("guard_value", [box, self.near(box)])
        elif choice == "shift":
            name = draw(st.sampled_from(SHIFTS))
            count = Const("i", draw(st.integers(0, 64 if name != "int_rshift" else 70)))
            if draw(st.booleans()):
                count = self.add("int_and", [self.value(), Const("i", 63)])
            args = [self.value(), count]
            self.checked(name, args) if name.endswith("_ovf") else self.add(name, args)
        elif choice == "divide":
            divisor = self.value()
            if not (isinstance(divisor, Const) and divisor.value):
                nonzero = self.add("int_ne", [divisor, Const("i", 0)], bool)
                self.add("guard_true", [nonzero])
            name = draw(st.sampled_from(["int_floordiv_ovf", "int_mod_ovf"]))
            self.checked(name, [self.value(), divisor])
        elif choice == "item":
            index = self.add("int_and", [self.value(), Const("i", 3)])
            self.add("getarrayitem_i", [self.array, index], int, BYTES)
        else:
            length = self.add("arraylen", [self.array], int, BYTES)
            self.add("int_and", [self.value(), length])

    def trace(self) -> Trace:
        for _ in range(self.data.draw(st.integers(1, 16))):
            self.step()
        ops = self.ops + [Op("finish", list(self.pool))]
        return Trace([self.array, *self.inputs], ops)


def _typed(value):
    return (type(value), value)


def run_outcome(trace: Trace, guard_numbers: dict, inputs: list):
    """How the trace leaves: ('finish', values) or (guard number, snapshot values)."""
    result = compile_unit(trace).run(inputs)
    if result.guard is None:
        return "finish", [_typed(v) for v in result.values]
    values = dict(zip(map(id, failargs(result.guard)), result.values))

    def entry(value):
        value = value.find() if isinstance(value, Box) else value
        return value.value if isinstance(value, Const) else values[id(value)]
    frame = result.guard.snapshot.frames[0]
    return guard_numbers[id(result.guard)], [_typed(entry(v)) for v in frame.values]


def assert_pass_keeps_behaviour(optimizer, data):
    """The pass changes no exit and no value: on the first run, on runs with one input
    moved by one, and on random runs.  Returns the finish's boxes and, for each run
    that finished, their values."""
    builder = RandomTrace(data)
    trace = builder.trace()
    boxes = list(trace.ops[-1].args)
    guard_numbers = {id(op): n for n, op in enumerate(trace.ops) if op.is_guard()}
    first = builder.run
    runs = [first]
    for n in range(1, 4):
        for delta in (-1, 1):
            moved = list(first)
            moved[n] = intmask(moved[n] + delta)
            runs.append(moved)
    runs += [[first[0], *(data.draw(INTS) for _ in range(3))] for _ in range(2)]
    before = [run_outcome(trace, guard_numbers, [bytearray(r[0]), *r[1:]]) for r in runs]
    text = format_trace(trace)
    optimizer.run(trace, OptContext())
    after = [run_outcome(trace, guard_numbers, [bytearray(r[0]), *r[1:]]) for r in runs]
    assert before == after, text + "\n--- optimised ---\n" + format_trace(trace)
    return boxes, [[v for _, v in values] for exit, values in before if exit == "finish"]


@given(st.data())
def test_random_traces_keep_their_behaviour(data):
    optimizer = IntBoundsPass()
    boxes, finished = assert_pass_keeps_behaviour(optimizer, data)
    # a run that passed every guard ends with every value inside its bound
    for values in finished:
        for box, value in zip(boxes, values):
            bound = optimizer.bounds.get(box)
            assert bound is None or bound.contains(value), (box, bound, value)
