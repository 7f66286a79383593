"""Guard implication: text in / text out, and random traces of guards on objects and
ints run on the reference interpreter before and after the pass."""
import textwrap

from hypothesis import given, strategies as st

from metajit.backend.reference import compile_unit
from metajit.tracer.ir import (Box, CallDescr, Const, FieldDescr, FrameSnapshot, Op, SizeDescr,
                               Snapshot, Trace, failargs)
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.guards import GuardImplicationPass
from metajit.tracer.opt.intbounds import IntBoundsPass
from metajit.tracer.text import CodeRef, format_trace, parse_trace
from test_opt_intbounds import assert_pass_keeps_behaviour   # random int traces


class A:
    pass


class B:
    pass


SHARED = A()


def morph(obj):
    """A residual call that changes an object's class (Python allows it)."""
    if type(obj) is A and obj is not SHARED:
        obj.__class__ = B


NAMESPACE = {"A": A, "B": B, "shared": SHARED, "A_new": SizeDescr(A),
             "Conf.scale": FieldDescr(A, "scale", quasi_immutable=True),
             "morph": CallDescr("morph", "v"), "morph_fn": morph}


def check(source: str, expected: str, rule: str | None = None) -> None:
    trace = parse_trace(textwrap.dedent(source), NAMESPACE)
    ctx = OptContext()
    GuardImplicationPass().run(trace, ctx)
    want = parse_trace(textwrap.dedent(expected), trace.objects)
    assert format_trace(trace) == format_trace(want)
    if rule is not None:
        assert ctx.rule_counts[rule] > 0, ctx.rule_counts


def unchanged(source: str) -> None:
    check(source, source)


def test_registered():
    from metajit.tracer.opt.pipeline import DEFAULT_ORDER, PASSES
    assert PASSES["guards"] is GuardImplicationPass and "guards" in DEFAULT_ORDER


def test_the_same_guard_twice():
    check("""
        [i0, p1]
        guard_true(i0) [@f#0: i0]
        guard_true(i0) [@f#1: i0]
        guard_false(i0) [@f#2: i0]
        guard_nonnull(p1) [@f#3: p1]
        guard_nonnull(p1) [@f#4: p1]
        finish(i0, descr=done)
        """, """
        [i0, p1]
        guard_true(i0) [@f#0: i0]
        guard_false(i0) [@f#2: i0]
        guard_nonnull(p1) [@f#3: p1]
        finish(i0, descr=done)
        """, rule="guards.implied_guard")


def test_guard_true_after_guard_false_stays():
    unchanged("""
        [i0]
        guard_false(i0) [@f#0: i0]
        guard_true(i0) [@f#1: i0]
        finish(i0, descr=done)
        """)


def test_guard_class_after_guard_class_and_on_a_new_object():
    check("""
        [p0]
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        guard_class(p0, ConstPtr(A)) [@f#1: p0]
        guard_nonnull(p0) [@f#2: p0]
        guard_class(p0, ConstPtr(B)) [@f#3: p0]
        p1 = new_with_vtable(descr=A_new)
        guard_class(p1, ConstPtr(A)) [@f#4: p1]
        guard_nonnull(p1) [@f#5: p1]
        finish(p0, p1, descr=done)
        """, """
        [p0]
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        guard_class(p0, ConstPtr(B)) [@f#3: p0]
        p1 = new_with_vtable(descr=A_new)
        finish(p0, p1, descr=done)
        """)


def test_guard_class_on_a_constant():
    check("""
        [i0]
        guard_class(ConstPtr(shared), ConstPtr(A)) [@f#0: i0]
        guard_class(ConstPtr(shared), ConstPtr(B)) [@f#1: i0]
        guard_nonnull(ConstPtr(shared)) [@f#2: i0]
        guard_isnull(null) [@f#3: i0]
        guard_nonnull(null) [@f#4: i0]
        finish(i0, descr=done)
        """, """
        [i0]
        guard_class(ConstPtr(shared), ConstPtr(B)) [@f#1: i0]
        guard_nonnull(null) [@f#4: i0]
        finish(i0, descr=done)
        """)


def test_guard_value_twice_and_the_value_read_after():
    # before the first guard_value i0 is unknown: the int_add there keeps it
    check("""
        [i0, p1]
        i2 = int_add(i0, 1)
        guard_value(i0, 7) [@f#0: i0, i2]
        i3 = int_add(i0, 1)
        guard_value(i0, 7) [@f#1: i0, i3]
        guard_true(i0) [@f#2: i0]
        guard_value(p1, ConstPtr(shared)) [@f#3: p1]
        guard_nonnull(p1) [@f#4: p1]
        guard_class(p1, ConstPtr(A)) [@f#5: p1]
        guard_value(p1, ConstPtr(shared)) [@f#6: p1]
        finish(i2, i3, p1, descr=done)
        """, """
        [i0, p1]
        i2 = int_add(i0, 1)
        guard_value(i0, 7) [@f#0: i0, i2]
        i3 = int_add(7, 1)
        guard_value(p1, ConstPtr(shared)) [@f#3: p1]
        finish(i2, i3, ConstPtr(shared), descr=done)
        """)


def test_guard_value_of_another_class_is_not_read_as_the_box():
    # True == 1, so guard_value(i1, 1) passes for True: i1 stays the bool box
    check("""
        [i0]
        i1 = int_lt(i0, 5)
        guard_value(i1, 1) [@f#0: i0]
        guard_value(i1, 1) [@f#1: i0]
        i2 = int_and(i1, True)
        finish(i2, descr=done)
        """, """
        [i0]
        i1 = int_lt(i0, 5)
        guard_value(i1, 1) [@f#0: i0]
        i2 = int_and(i1, True)
        finish(i2, descr=done)
        """)


def test_guard_nonnull_after_what_proves_it():
    check("""
        [p0, p1, p2]
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        guard_nonnull(p0) [@f#1: p0]
        guard_isnull(p1) [@f#2: p1]
        guard_isnull(p1) [@f#3: p1]
        guard_nonnull(p1) [@f#4: p1]
        guard_value(p2, null) [@f#5: p2]
        guard_isnull(p2) [@f#6: p2]
        finish(p0, p1, p2, descr=done)
        """, """
        [p0, p1, p2]
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        guard_isnull(p1) [@f#2: p1]
        guard_nonnull(null) [@f#4: p1]
        guard_value(p2, null) [@f#5: p2]
        finish(p0, null, null, descr=done)
        """)


def test_state_guards_are_never_merged():
    unchanged("""
        [p0, i1]
        call_n(ConstPtr(morph_fn), p0, descr=morph)
        guard_no_exception() [@f#0: p0]
        guard_no_exception() [@f#1: p0]
        i2 = int_add_ovf(i1, 1)
        guard_no_overflow() [@f#2: i1]
        guard_no_overflow() [@f#3: i1]
        finish(i2, descr=done)
        """)


def test_guard_not_invalidated_again_goes_unless_something_may_have_invalidated():
    check("""
        [p0, p1, i1]
        label(p0, p1, i1, descr=loop)
        guard_not_invalidated() [@f#0: i1]
        guard_not_invalidated() [@f#1: i1]
        setfield(p0, p1, descr=Conf.scale)
        guard_not_invalidated() [@f#2: i1]
        guard_not_invalidated() [@f#3: i1]
        call_n(ConstPtr(morph_fn), p0, descr=morph)
        guard_no_exception() [@f#4: p0]
        guard_not_invalidated() [@f#5: i1]
        jump(p0, p1, i1, descr=loop)
        """, """
        [p0, p1, i1]
        label(p0, p1, i1, descr=loop)
        guard_not_invalidated() [@f#0: i1]
        setfield(p0, p1, descr=Conf.scale)
        guard_not_invalidated() [@f#2: i1]
        call_n(ConstPtr(morph_fn), p0, descr=morph)
        guard_no_exception() [@f#4: p0]
        guard_not_invalidated() [@f#5: i1]
        jump(p0, p1, i1, descr=loop)
        """, "guards.implied_guard")


def test_a_residual_call_ends_what_is_known_of_classes():
    check("""
        [p0]
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        call_n(ConstPtr(morph_fn), p0, descr=morph)
        guard_no_exception() [@f#1: p0]
        guard_nonnull(p0) [@f#2: p0]
        guard_class(p0, ConstPtr(A)) [@f#3: p0]
        finish(p0, descr=done)
        """, """
        [p0]
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        call_n(ConstPtr(morph_fn), p0, descr=morph)
        guard_no_exception() [@f#1: p0]
        guard_class(p0, ConstPtr(A)) [@f#3: p0]
        finish(p0, descr=done)
        """)


def test_a_comparison_computed_again_is_known():
    check("""
        [i0, i1]
        i2 = int_lt(i0, i1)
        guard_true(i2) [@f#0: i0]
        i3 = int_lt(i0, i1)
        guard_true(i3) [@f#1: i0]
        i4 = int_ge(i0, i1)
        guard_false(i4) [@f#2: i0]
        i5 = int_gt(i1, i0)
        i6 = int_ne(i1, i0)
        i7 = int_le(i1, i0)
        i8 = int_is_true(i2)
        finish(i5, i6, i7, i8, descr=done)
        """, """
        [i0, i1]
        i2 = int_lt(i0, i1)
        guard_true(i2) [@f#0: i0]
        finish(True, True, False, True, descr=done)
        """, rule="guards.known_condition")


def test_float_comparisons_are_known_only_as_computed():
    # a float comparison with a NaN is false both ways: not (a < b) says nothing of a >= b
    check("""
        [f0, f1]
        i2 = float_lt(f0, f1)
        guard_false(i2) [@f#0: f0]
        i3 = float_ge(f0, f1)
        guard_true(i3) [@f#1: f0]
        i4 = float_lt(f0, f1)
        guard_false(i4) [@f#2: f0]
        finish(f0, descr=done)
        """, """
        [f0, f1]
        i2 = float_lt(f0, f1)
        guard_false(i2) [@f#0: f0]
        i3 = float_ge(f0, f1)
        guard_true(i3) [@f#1: f0]
        finish(f0, descr=done)
        """)


def test_label_arguments_are_unknown_at_each_label():
    check("""
        [p0, i1]
        label(p0, i1, descr=loop)
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        guard_true(i1) [@f#1: p0]
        i2 = int_sub(i1, 1)
        jump(p0, i2, descr=body)
        label(i2, descr=body)
        guard_class(p0, ConstPtr(A)) [@f#2: p0]
        guard_true(i2) [@f#3: p0]
        i3 = int_sub(i2, 1)
        jump(i3, descr=body)
        """, """
        [p0, i1]
        label(p0, i1, descr=loop)
        guard_class(p0, ConstPtr(A)) [@f#0: p0]
        guard_true(i1) [@f#1: p0]
        i2 = int_sub(i1, 1)
        jump(p0, i2, descr=body)
        label(i2, descr=body)
        guard_true(i2) [@f#3: p0]
        i3 = int_sub(i2, 1)
        jump(i3, descr=body)
        """)


def test_a_guard_on_a_zero_test_tests_the_int_itself():
    # the comparison's box in the snapshot becomes what it is when the guard fails
    check("""
        [i0, i5]
        label(i0, i5, descr=loop)
        i1 = int_ne(i0, 0)
        guard_true(i1) [@f#0: i0, i1]
        i2 = int_eq(i5, 0)
        guard_false(i2) [@f#1: i2]
        jump(i0, i5, descr=loop)
        """, """
        [i0, i5]
        label(i0, i5, descr=loop)
        i1 = int_ne(i0, 0)
        guard_true(i0) [@f#0: i0, 0]
        i2 = int_eq(i5, 0)
        guard_true(i5) [@f#1: 1]
        jump(i0, i5, descr=loop)
        """, "guards.test_int_directly")


def test_a_zero_test_after_the_int_was_tested_is_implied():
    check("""
        [i0]
        label(i0, descr=loop)
        i1 = int_is_true(i0)
        guard_true(i1) [@f#0: i0]
        i2 = int_is_zero(i0)
        guard_false(i2) [@f#1: i0]
        jump(i0, descr=loop)
        """, """
        [i0]
        label(i0, descr=loop)
        i1 = int_is_true(i0)
        guard_true(i0) [@f#0: i0]
        jump(i0, descr=loop)
        """, "guards.test_int_directly")


def test_a_test_against_another_value_or_a_float_stays():
    unchanged("""
        [i0, f1]
        label(i0, f1, descr=loop)
        i1 = int_ne(i0, 1)
        guard_true(i1) [@f#0: i0]
        i2 = float_ne(f1, 0.0)
        guard_true(i2) [@f#1: i0]
        jump(i0, f1, descr=loop)
        """)


# --- random traces on the reference interpreter ----------------------------------------

CODE = CodeRef("random")
MORPH = CallDescr("morph", "v")
A_NEW = SizeDescr(A)
OBJECTS = st.sampled_from(["A", "A", "B", "none", "shared"])
INTS = st.sampled_from([0, 1, -1, 2, 5, 7, 100])
CLASSES = [Const("r", A), Const("r", B), Const("r", type(None))]
REF_CONSTS = [Const("r", SHARED), Const("r", None)]
INT_CONDITIONS = ["int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge", "uint_lt",
                  "uint_ge", "int_is_true", "int_is_zero"]


def make_object(spec):
    return {"A": A, "B": B}[spec]() if spec in ("A", "B") else \
        (SHARED if spec == "shared" else None)


class RandomGuards:
    def __init__(self, data):
        self.data = data
        self.refs = [Box("r") for _ in range(2)]
        self.ints = [Box("i") for _ in range(2)]
        self.inputs = self.refs + self.ints
        self.ops: list[Op] = []
        self.computed: list[tuple] = []     # conditions, to compute again

    def guard(self, name, args):
        snapshot = Snapshot([FrameSnapshot(CODE, len(self.ops), self.refs + self.ints)])
        self.ops.append(Op(name, args, None, None, snapshot))

    def step(self):
        draw = self.data.draw
        # mostly the first ref and int: guards on one value meet more often
        ref = draw(st.just(self.refs[0]) | st.sampled_from(self.refs))
        num = draw(st.just(self.ints[0]) | st.sampled_from(self.ints))
        choice = draw(st.sampled_from(["class", "class", "null", "value", "new", "morph",
                                       "morph", "cond", "again", "truth", "truth",
                                       "intvalue", "ptr"]))
        if choice == "again" and self.computed:
            name, args = draw(st.sampled_from(self.computed))
            self.ints.append(Box("i", bool))
            self.ops.append(Op(name, list(args), None, self.ints[-1]))
            return
        if choice == "class":
            self.guard("guard_class", [ref, draw(st.sampled_from(CLASSES))])
        elif choice == "null":
            self.guard(draw(st.sampled_from(["guard_nonnull", "guard_isnull"])), [ref])
        elif choice == "value":
            self.guard("guard_value", [ref, draw(st.sampled_from(REF_CONSTS))])
        elif choice == "new":
            self.refs.append(Box("r"))
            self.ops.append(Op("new_with_vtable", [], A_NEW, self.refs[-1]))
        elif choice == "morph":
            self.ops.append(Op("call_n", [Const("r", morph), ref], MORPH))
            self.guard("guard_no_exception", [])
        elif choice in ("cond", "ptr", "again"):
            if choice == "ptr":
                name = draw(st.sampled_from(["ptr_eq", "ptr_ne"]))
                args = [ref, draw(st.sampled_from(self.refs + REF_CONSTS))]
            else:
                name = draw(st.sampled_from(INT_CONDITIONS))
                other = draw(st.sampled_from(self.ints) | INTS.map(lambda v: Const("i", v)))
                args = [num] if name.startswith("int_is") else \
                    draw(st.permutations([num, other]))
            self.ints.append(Box("i", bool))
            self.ops.append(Op(name, list(args), None, self.ints[-1]))
            self.computed.append((name, args))
        elif choice == "truth":
            self.guard(draw(st.sampled_from(["guard_true", "guard_false"])), [num])
        else:
            self.guard("guard_value", [num, Const("i", draw(INTS))])

    def trace(self) -> Trace:
        for _ in range(self.data.draw(st.integers(1, 12))):
            self.step()
        self.ops.append(Op("finish", self.refs + self.ints))
        return Trace(list(self.inputs), self.ops)


def describe(value, inputs):
    """A run's value, comparable across runs: ints as they are, objects by class and
    by which input they are."""
    if isinstance(value, int):
        return type(value), value
    same = [n for n, x in enumerate(inputs) if x is value]
    return type(value).__name__, same[0] if same else -1


def outcome(trace, numbers, inputs):
    result = compile_unit(trace).run(inputs)
    if result.guard is None:
        return "finish", [describe(v, inputs) for v in result.values]
    values = dict(zip(map(id, failargs(result.guard)), result.values))

    def entry(value):
        value = value.find()
        return value.value if isinstance(value, Const) else values[id(value)]
    frame = result.guard.snapshot.frames[0]
    return numbers[id(result.guard)], [describe(entry(v), inputs) for v in frame.values]


@given(st.data())
def test_random_guards_keep_their_behaviour(data):
    trace = RandomGuards(data).trace()
    numbers = {id(op): n for n, op in enumerate(trace.ops) if op.is_guard()}
    specs = [[draw for draw in (data.draw(OBJECTS), data.draw(OBJECTS))] +
             [data.draw(INTS), data.draw(INTS)] for _ in range(4)]

    def inputs(spec):
        return [make_object(spec[0]), make_object(spec[1]), spec[2], spec[3]]
    before = []
    for spec in specs:
        values = inputs(spec)
        before.append(outcome(trace, numbers, values))
    text = format_trace(trace)
    GuardImplicationPass().run(trace, OptContext())
    after = []
    for spec in specs:
        values = inputs(spec)
        after.append(outcome(trace, numbers, values))
    assert before == after, text + "\n--- optimised ---\n" + format_trace(trace)


class IntBoundsThenGuards:
    """The two passes in their pipeline order, as one."""

    def run(self, trace, ctx):
        IntBoundsPass().run(trace, ctx)
        GuardImplicationPass().run(trace, ctx)


@given(st.data())
def test_random_int_traces_keep_their_behaviour(data):
    assert_pass_keeps_behaviour(GuardImplicationPass(), data)
    assert_pass_keeps_behaviour(IntBoundsThenGuards(), data)
