"""Constant folding and the rewrite rules: each rule checked on random values, each
rule seen firing, and traces in text, before and after."""
import itertools
import math
import struct
import textwrap

import pytest
from hypothesis import given, reject, strategies as st

from metajit.backend.reference import compile_unit, evaluate
from metajit.tracer.ir import INT64_MAX, INT64_MIN, OPS, Flag
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.fold import (COMMUTATIVE, RULES, Literal, OpPattern, Rule, RuleError,
                                     Var, Wildcard, result_class)
from metajit.tracer.opt.pipeline import optimize
from metajit.tracer.text import KIND_LETTER, format_float, format_trace, parse_trace


# --- values -------------------------------------------------------------------------

EDGES = [0, 1, -1, 2, 63, 64, 255, INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1]
INTS = st.one_of(st.sampled_from(EDGES), st.integers(INT64_MIN, INT64_MAX))
INTS_OR_BOOLS = st.one_of(INTS, st.booleans())
SHIFT_COUNTS = st.one_of(st.sampled_from([0, 1, 63, 64, 100]), st.integers(0, 130))
FLOATS = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan,
                                    -math.nan, 5e-324, 1.7976931348623157e308]),
                   st.floats(allow_nan=True, allow_infinity=True))


class Thing:
    pass


OBJECTS = st.sampled_from([None, Thing(), Thing(), 5, "s", (1, 2)])
SHIFTS = {"int_lshift", "int_rshift", "uint_rshift", "int_lshift_ovf"}


def same_python_value(a, b) -> bool:
    """Equal as Python sees them: class and value for numbers (floats by bit pattern;
    a NaN equals any NaN, as neither IEEE nor Python fixes a NaN result's sign or
    payload), identity for objects."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a != a and b != b) or struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, int):
        return a == b
    return a is b


def domain(kind, opname, position, condition):
    if kind == "f":
        return FLOATS
    if kind == "r":
        return OBJECTS
    if opname in SHIFTS and position == 1:
        return SHIFT_COUNTS
    return {int: INTS, bool: st.booleans()}.get(condition, INTS_OR_BOOLS)


# --- walking a rule -----------------------------------------------------------------

def named_wildcards(term, counter):
    """The pattern with each ``_`` made a variable of its own (``_0``, ``_1`` ...)."""
    if isinstance(term, Wildcard):
        return Var(f"_{next(counter)}")
    if isinstance(term, OpPattern):
        return OpPattern(term.opname, tuple(named_wildcards(a, counter) for a in term.args),
                         term.bind)
    return term


def variables(term, opname=None, position=0):
    """(name, kind, op, position) for each variable a pattern reads."""
    if isinstance(term, Var) and opname is not None:
        yield term.name, OPS[opname].args[position], opname, position
    elif isinstance(term, OpPattern):
        for n, arg in enumerate(term.args):
            yield from variables(arg, term.opname, n)


def variants(term):
    """Every way the matcher may see a pattern: commutative ops in both orders."""
    if not isinstance(term, OpPattern):
        yield term
        return
    for args in itertools.product(*[list(variants(a)) for a in term.args]):
        yield OpPattern(term.opname, args, term.bind)
        if term.opname in COMMUTATIVE:
            yield OpPattern(term.opname, args[::-1], term.bind)


def value_of(term, env, draw):
    """Evaluate a pattern (or a replacement) on the reference interpreter."""
    if isinstance(term, Var):
        return env[term.name]
    if isinstance(term, Literal):
        value = term.const.value
        if draw is not None and type(value) is int and value in (0, 1):
            value = draw(st.sampled_from([value, bool(value)]))   # 0 also matches False
        return value
    args = [value_of(a, env, draw) for a in term.args]
    value = evaluate(term.opname, *args)
    if term.bind is not None:
        env[term.bind] = value
    return value


def rule_id(rule):
    return rule.name


# --- each rule keeps the value and its class ----------------------------------------

@pytest.mark.parametrize("rule", RULES, ids=rule_id)
@given(data=st.data())
def test_rule_replacement_equals_pattern(rule, data):
    pattern = named_wildcards(rule.pattern, itertools.count())
    conditions = {c.var: c.pyclass for c in rule.conditions}
    env = {}
    for name, kind, opname, position in variables(pattern):
        if name not in env:
            env[name] = data.draw(domain(kind, opname, position, conditions.get(name)),
                                  label=name)
    shape = data.draw(st.sampled_from(list(variants(pattern))), label="order")
    try:
        args = [value_of(a, env, data.draw) for a in shape.args]
    except (OverflowError, ValueError, ZeroDivisionError):
        reject()          # an inner op that fails never reaches the rule
    try:
        before = evaluate(shape.opname, *args)
    except (ValueError, ZeroDivisionError):
        reject()          # the recorder guards these away
    # An OverflowError escapes: a rule on a checked op drops its overflow guard.
    after = value_of(rule.replacement, env, None)
    assert same_python_value(before, after), (rule, env, before, after)


@pytest.mark.parametrize("opname", sorted(COMMUTATIVE))
@given(data=st.data())
def test_commutative_ops_commute(opname, data):
    spec = OPS[opname]
    a, b = (data.draw(domain(kind, opname, 0, None)) for kind in spec.args)
    try:
        ab = evaluate(opname, a, b)
    except OverflowError:
        with pytest.raises(OverflowError):
            evaluate(opname, b, a)
        return
    assert same_python_value(ab, evaluate(opname, b, a))


INT_OPS = sorted(n for n, s in OPS.items() if s.result == "i" and s.has(Flag.PURE)
                 and not s.has(Flag.CALL) and "i" in s.args and "f" not in s.args)


@pytest.mark.parametrize("opname", INT_OPS)
@given(data=st.data())
def test_result_class_agrees_with_reference(opname, data):
    args = [data.draw(domain(kind, opname, n, None)) for n, kind in enumerate(OPS[opname].args)]
    try:
        value = evaluate(opname, *args)
    except (OverflowError, ValueError, ZeroDivisionError):
        reject()
    expected = result_class(opname, [type(a) for a in args])
    assert expected in (None, type(value)), (opname, args, value)


# --- each rule fires on a trace made from its pattern -------------------------------

def literal_text(const) -> str:
    return format_float(const.value) if const.kind == "f" else str(const.value)


def rule_trace(rule: Rule) -> tuple[str, list[str]]:
    """A trace computing the rule's pattern from input boxes, and the variable each
    input stands for (``_0``, ``_1`` ... for the ``_`` in the pattern)."""
    counter = itertools.count()
    inputs: dict[str, str] = {}
    lines: list[str] = []

    def text(term, kind) -> str:
        if isinstance(term, Literal):
            return literal_text(term.const)
        if isinstance(term, Var):
            if term.name not in inputs:
                inputs[term.name] = f"{KIND_LETTER[kind]}{next(counter)}"
            return inputs[term.name]
        spec = OPS[term.opname]
        args = [text(a, k) for a, k in zip(term.args, spec.args)]
        box = f"{KIND_LETTER[spec.result]}{next(counter)}"
        lines.append(f"{box} = {term.opname}({', '.join(args)})")
        if spec.has(Flag.CAN_OVERFLOW):
            lines.append("guard_no_overflow()")
        return box

    pattern = named_wildcards(rule.pattern, itertools.count())
    result = text(pattern, OPS[pattern.opname].result)
    source = "\n".join([f"[{', '.join(inputs.values())}]", *lines,
                        f"finish({result}, descr=done)"])
    return source, list(inputs)


def parse_rule_trace(rule: Rule):
    """The rule's trace, its inputs of the classes the rule's conditions ask for."""
    source, names = rule_trace(rule)
    trace = parse_trace(source)
    for c in rule.conditions:
        trace.inputargs[names.index(c.var)].pyclass = c.pyclass
    return trace, names


@pytest.mark.parametrize("rule", RULES, ids=rule_id)
def test_every_rule_fires(rule):
    trace, _ = parse_rule_trace(rule)
    ctx = OptContext()
    optimize(trace, "fold", ctx)
    assert ctx.rule_counts[rule.name] == 1, format_trace(trace)


@pytest.mark.parametrize("rule", RULES, ids=rule_id)
@given(data=st.data())
def test_rule_trace_runs_the_same_after_folding(rule, data):
    before, names = parse_rule_trace(rule)
    after, _ = parse_rule_trace(rule)
    optimize(after, "fold")
    conditions = {c.var: c.pyclass for c in rule.conditions}
    domains = {}
    for name, kind, opname, position in variables(named_wildcards(rule.pattern,
                                                                  itertools.count())):
        domains.setdefault(name, domain(kind, opname, position, conditions.get(name)))
    inputs = [data.draw(domains[name], label=name) for name in names]
    try:
        expected = compile_unit(before).run(inputs)
    except (ValueError, ZeroDivisionError):
        reject()
    got = compile_unit(after).run(inputs)
    assert (expected.guard is None) == (got.guard is None)
    assert len(expected.values) == len(got.values)
    assert all(map(same_python_value, expected.values, got.values))


# --- the rule language --------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("int_add(x, 0) => y", "y not in the pattern"),
    ("int_add(x, 0) => _", "cannot be a result"),
    ("int_frob(x, 0) => x", "unknown operation int_frob"),
    ("int_add(x) => x", "int_add takes 2 arguments"),
    ("int_add(x, 0.0) => x", "of kind f, not i"),
    ("getfield(x) => x", "must be a pure op"),
    ("int_add(x, 0) => int_add_ovf(x, 0)", "cannot overflow"),
    ("int_add(x, 0) => x if odd(x)", "a condition is int(x) or bool(x)"),
])
def test_bad_rules_say_what_is_wrong(text, message):
    with pytest.raises(RuleError, match="rule bad") as info:
        Rule("bad", text)
    assert message in str(info.value)


def test_rule_names_are_unique_and_every_rule_is_in_the_table():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)) and len(RULES) >= 50


# --- text in, text out --------------------------------------------------------------

class Point:
    pass


def square(x):
    return x * x


def explode(x):
    raise KeyError(x)


NAMESPACE = {"pt": Point(), "Point": Point, "square": square, "explode": explode}


def check(source: str, expected: str, counts: dict | None = None) -> None:
    trace = parse_trace(textwrap.dedent(source), NAMESPACE)
    ctx = OptContext()
    optimize(trace, "fold", ctx)
    want = parse_trace(textwrap.dedent(expected), trace.objects)
    assert format_trace(trace) == format_trace(want)
    for rule, n in (counts or {}).items():
        assert ctx.rule_counts[rule] == n, ctx.rule_counts


def test_identities_replace_their_result_everywhere_snapshots_included():
    check("""
        [i0, i1]
        i2 = int_add(i0, 0)
        i3 = int_mul(1, i2)
        i4 = int_lt(i3, i1)
        guard_true(i4) [@code#3: i2, i3]
        finish(i3, descr=done)
    """, """
        [i0, i1]
        i4 = int_lt(i0, i1)
        guard_true(i4) [@code#3: i0, i0]
        finish(i0, descr=done)
    """, {"add_zero": 1, "mul_one": 1})


def test_constants_fold_with_the_class_python_gives():
    check("""
        [i0]
        i1 = int_add(40, 2)
        i2 = int_lt(i1, 50)
        i3 = int_and(True, True)
        i4 = int_add(True, True)
        f5 = cast_int_to_float(i1)
        i6 = int_lshift(1, 70)
        finish(i1, i2, i3, i4, f5, i6, descr=done)
    """, """
        [i0]
        finish(42, True, True, 2, 42.0, 0, descr=done)
    """, {"constant_fold": 6})


def test_checked_op_with_a_neutral_operand_loses_its_guard():
    check("""
        [i0, i1]
        i2 = int_add_ovf(i0, 0)
        guard_no_overflow() [@code#1: i0]
        i3 = int_mul_ovf(i1, 0)
        guard_no_overflow() [@code#2: i1]
        i4 = int_sub_ovf(7, 2)
        guard_no_overflow() [@code#3: i1]
        finish(i2, i3, i4, descr=done)
    """, """
        [i0, i1]
        finish(i0, 0, 5, descr=done)
    """, {"add_ovf_zero": 1, "mul_ovf_zero": 1, "constant_fold": 1})


def test_what_overflows_or_divides_by_zero_stays():
    source = """
        [i0]
        i1 = int_add_ovf(9223372036854775807, 1)
        guard_no_overflow() [@code#1: i0]
        i2 = int_floordiv_ovf(i0, 0)
        guard_no_overflow() [@code#2: i0]
        i3 = int_floordiv_ovf(5, 0)
        guard_no_overflow() [@code#3: i0]
        f4 = float_mod(1.0, 0.0)
        i5 = cast_float_to_int_ovf(nan)
        guard_no_overflow() [@code#4: i0]
        finish(i1, i3, f4, i5, descr=done)
    """
    check(source, source)


def test_checked_op_before_guard_overflow_is_not_touched():
    source = """
        [i0]
        i1 = int_add_ovf(i0, 0)
        guard_overflow() [@code#1: i0]
        i2 = int_add_ovf(1, 2)
        guard_overflow() [@code#2: i0]
        finish(i1, i2, descr=done)
    """
    check(source, source)


def test_float_rules_are_only_the_exact_ones():
    check("""
        [f0]
        f1 = float_add(f0, 0.0)
        f2 = float_add(f0, -0.0)
        f3 = float_mul(1.0, f0)
        f4 = float_sub(f0, f0)
        f5 = float_mul(f0, 0.0)
        i6 = float_eq(f0, f0)
        f7 = float_sub(f0, -0.0)
        f8 = float_truediv(f0, 1.0)
        finish(f1, f2, f3, f4, f5, i6, f7, f8, descr=done)
    """, """
        [f0]
        f1 = float_add(f0, 0.0)
        f4 = float_sub(f0, f0)
        f5 = float_mul(f0, 0.0)
        i6 = float_eq(f0, f0)
        f7 = float_sub(f0, -0.0)
        finish(f1, f0, f0, f4, f5, i6, f7, f0, descr=done)
    """, {"float_add_mzero": 1, "float_mul_one": 1, "float_div_one": 1})


def test_a_bool_is_not_replaced_by_an_int_nor_an_int_by_a_bool():
    check("""
        [i0, i1]
        i2 = int_lt(i0, i1)
        i3 = int_add(i2, 0)
        i4 = int_or(i2, 0)
        i5 = int_is_true(i0)
        i6 = int_is_true(i2)
        i7 = int_xor(i2, i2)
        i8 = int_xor(i0, i0)
        finish(i3, i4, i5, i6, i7, i8, descr=done)
    """, """
        [i0, i1]
        i2 = int_lt(i0, i1)
        i3 = int_add(i2, 0)
        i4 = int_or(i2, 0)
        i5 = int_is_true(i0)
        finish(i3, i4, i5, i2, False, 0, descr=done)
    """, {"is_true_bool": 1, "xor_self_bool": 1, "xor_self": 1})


def test_negated_comparisons_become_the_opposite_comparison():
    check("""
        [i0, i1, p2]
        i3 = int_lt(i0, i1)
        i4 = int_is_zero(i3)
        guard_true(i4) [@code#1: i3]
        i5 = ptr_eq(p2, null)
        i6 = int_is_zero(i5)
        i7 = int_is_zero(i6)
        i8 = float_lt(0.5, 1.5)
        finish(i4, i6, i7, i8, descr=done)
    """, """
        [i0, i1, p2]
        i3 = int_lt(i0, i1)
        i4 = int_ge(i0, i1)
        guard_true(i4) [@code#1: i3]
        i5 = ptr_eq(p2, null)
        i6 = ptr_ne(p2, null)
        i7 = ptr_eq(p2, null)
        finish(i4, i6, i7, True, descr=done)
    """, {"not_int_lt": 1, "not_ptr_eq": 1, "not_ptr_ne": 1})


def test_a_replacement_op_is_folded_in_turn():
    check("""
        [i0, i1]
        i2 = int_neg(i0)
        i3 = int_sub(0, i2)
        i4 = int_lt(i1, i1)
        i5 = int_is_zero(i4)
        i6 = int_lt(i0, i1)
        i7 = int_is_zero(i6)
        i8 = int_is_zero(i7)
        finish(i3, i5, i8, descr=done)
    """, """
        [i0, i1]
        i2 = int_neg(i0)
        i6 = int_lt(i0, i1)
        i7 = int_ge(i0, i1)
        i8 = int_lt(i0, i1)
        finish(i0, True, i8, descr=done)
    """, {"sub_from_zero": 1, "neg_neg": 1, "int_lt_self": 1, "not_int_lt": 1, "not_int_ge": 1})


def test_guards_on_constants_that_pass_go_and_those_that_fail_stay():
    check("""
        [i0, p1]
        guard_true(True) [@code#1: i0]
        guard_false(0) [@code#2: i0]
        guard_value(5, 5) [@code#3: i0]
        guard_value(p1, p1) [@code#4: i0]
        guard_nonnull(ConstPtr(pt)) [@code#5: i0]
        guard_isnull(null) [@code#6: i0]
        guard_class(ConstPtr(pt), ConstPtr(Point)) [@code#7: i0]
        guard_class(p1, ConstPtr(Point)) [@code#8: i0]
        guard_true(i0) [@code#9: i0]
        guard_value(5, 6) [@code#10: i0]
        guard_false(True) [@code#11: i0]
        finish(i0, descr=done)
    """, """
        [i0, p1]
        guard_class(p1, ConstPtr(Point)) [@code#8: i0]
        guard_true(i0) [@code#9: i0]
        guard_value(5, 6) [@code#10: i0]
        guard_false(True) [@code#11: i0]
        finish(i0, descr=done)
    """, {"guard_always_passes": 7})


def test_elidable_calls_on_constants_fold_and_lose_their_exception_guard():
    check("""
        [i0]
        i1 = call_pure_i(ConstPtr(square), 7, descr=square_elidable)
        guard_no_exception() [@code#1: i0]
        i2 = call_pure_i(ConstPtr(explode), 7, descr=explode_elidable)
        guard_no_exception() [@code#2: i0]
        i3 = call_i(ConstPtr(square), 3, descr=square_residual)
        guard_no_exception() [@code#3: i0]
        i4 = call_pure_i(ConstPtr(square), i0, descr=square_elidable)
        guard_no_exception() [@code#4: i0]
        finish(i1, i2, i3, i4, descr=done)
    """, """
        [i0]
        i2 = call_pure_i(ConstPtr(explode), 7, descr=explode_elidable)
        guard_no_exception() [@code#2: i0]
        i3 = call_i(ConstPtr(square), 3, descr=square_residual)
        guard_no_exception() [@code#3: i0]
        i4 = call_pure_i(ConstPtr(square), i0, descr=square_elidable)
        guard_no_exception() [@code#4: i0]
        finish(49, i2, i3, i4, descr=done)
    """, {"constant_fold": 1})


def test_same_as_self_comparisons_and_loads_in_a_loop():
    check("""
        [i0, p1]
        label(i0, p1, descr=loop)
        i2 = same_as_i(i0)
        i3 = int_le(i2, i0)
        guard_true(i3) [@code#1: i0]
        p4 = getfield(p1, descr=Point.x)
        i5 = ptr_eq(p1, p1)
        i6 = int_sub(i2, i0)
        i7 = int_add(i0, 1)
        jump(i7, p1, descr=loop)
    """, """
        [i0, p1]
        label(i0, p1, descr=loop)
        p4 = getfield(p1, descr=Point.x)
        i7 = int_add(i0, 1)
        jump(i7, p1, descr=loop)
    """, {"same_as_i": 1, "int_le_self": 1, "ptr_eq_self": 1, "sub_self": 1,
          "guard_always_passes": 1})
