"""Constant folding and algebraic rewrites, from one table of named rules.

What the pass proves, in one forward walk:

- a pure op on constants has the value ``backend.reference.evaluate`` gives; an op
  that raises there (overflow, division by zero, a raising elidable callee) stays;
- a rule of ``RULES`` that matches gives the same value, of the same Python class
  (``int`` or ``bool``), as the op it replaces (the tests check every rule on random
  values); each firing is counted under the rule's name;
- a guard on constants that passes goes; one that fails stays (always exiting there
  is correct, merely slow).

A checked op (``int_add_ovf`` ...) that folds or matches a rule cannot overflow: its
``guard_no_overflow``, which follows at once, goes with it; a folded elidable call
cannot raise: its ``guard_no_exception`` goes too.  When another guard
(``guard_overflow``, ``guard_exception``) follows, the op is left alone.
What it may not touch: loads and side effects (the heap pass owns them), calls that
are not elidable, guards whose outcome constants alone do not decide.

The rules, in Python's expression syntax: ``pattern => replacement [if conditions]``.
A pattern is an op over variables, ``_`` (anything), literals (``0``, ``-0.0``,
``True``) and nested patterns (``int_is_zero(int_lt(a, b))`` matches the op that
defines the argument; ``(y := int_abs_ovf(_))`` also names it).  A replacement is a
variable, a literal or one op over them that cannot overflow.  ``int(x)`` /
``bool(x)`` say of which class ``x`` must be: ``x + 0`` is ``x`` for an int, but
``True + 0`` is ``1``.  Integer literals match ints and bools of that value, float
literals match by bit pattern (``0.0`` is not ``-0.0``); commutative ops match in
both orders.  The first matching rule in table order fires.  Folding terminates: a
rule leaves a value or one op simpler than the pattern it replaces.
"""
from __future__ import annotations

import ast
from typing import Any, Iterator, NamedTuple

from metajit.backend.reference import evaluate
from metajit.tracer.ir import OPS, Box, Const, Flag, Op, fits_int64
from metajit.tracer.opt.base import ForwardPass, resolve

COMMUTATIVE = frozenset({
    "int_add", "int_mul", "int_and", "int_or", "int_xor", "int_eq", "int_ne",
    "int_add_ovf", "int_mul_ovf", "float_add", "float_mul", "float_eq", "float_ne",
    "ptr_eq", "ptr_ne"})

# The 'i' ops whose result is always a bool; int_and/or/xor keep bool for two bools.
BOOL_RESULTS = frozenset({
    "int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge", "uint_lt", "uint_ge",
    "int_is_true", "int_is_zero", "int_to_bool", "float_lt", "float_le", "float_eq",
    "float_ne", "float_gt", "float_ge", "float_is_true", "ptr_eq", "ptr_ne"})
BOOL_PRESERVING = frozenset({"int_and", "int_or", "int_xor"})


def result_class(opname: str, arg_classes: list) -> type | None:
    """The Python class of an 'i' op's result from its arguments' classes, or None
    when only a run knows it (loads, calls, unboxing)."""
    if opname in BOOL_RESULTS:
        return bool
    if opname in BOOL_PRESERVING:
        return bool if all(c is bool for c in arg_classes) else int
    if opname == "same_as_i":
        return arg_classes[0]
    spec = OPS[opname]
    if spec.result == "i" and spec.has(Flag.PURE) and not spec.has(Flag.CALL) \
            and opname != "unbox_int_ovf":
        return int
    return None


RULES_TEXT = """
add_zero         int_add(x, 0) => x                       if int(x)
sub_zero         int_sub(x, 0) => x                       if int(x)
sub_self         int_sub(x, x) => 0
sub_from_zero    int_sub(0, x) => int_neg(x)
add_neg          int_add(x, int_neg(y)) => int_sub(x, y)
sub_neg          int_sub(x, int_neg(y)) => int_add(x, y)
add_sub_cancel   int_add(int_sub(x, y), y) => x           if int(x)
sub_add_cancel   int_sub(int_add(x, y), y) => x           if int(x)
mul_zero         int_mul(_, 0) => 0
mul_one          int_mul(x, 1) => x                       if int(x)
mul_minus_one    int_mul(x, -1) => int_neg(x)
and_zero         int_and(x, 0) => 0                       if int(x)
and_minus_one    int_and(x, -1) => x                      if int(x)
and_self         int_and(x, x) => x
or_zero          int_or(x, 0) => x                        if int(x)
or_minus_one     int_or(_, -1) => -1
or_self          int_or(x, x) => x
xor_zero         int_xor(x, 0) => x                       if int(x)
xor_minus_one    int_xor(x, -1) => int_invert(x)
xor_self         int_xor(x, x) => 0                       if int(x)
xor_self_bool    int_xor(x, x) => False                   if bool(x)
xor_xor_cancel   int_xor(int_xor(x, y), y) => x           if int(x)
lshift_zero      int_lshift(x, 0) => x                    if int(x)
rshift_zero      int_rshift(x, 0) => x                    if int(x)
urshift_zero     uint_rshift(x, 0) => x                   if int(x)
zero_lshift      int_lshift(0, _) => 0
zero_rshift      int_rshift(0, _) => 0
minus_one_rshift int_rshift(-1, _) => -1
zero_urshift     uint_rshift(0, _) => 0
neg_neg          int_neg(int_neg(x)) => x                 if int(x)
invert_invert    int_invert(int_invert(x)) => x           if int(x)
is_true_bool     int_is_true(x) => x                      if bool(x)
to_bool_bool     int_to_bool(x) => x                      if bool(x)
not_not          int_is_zero(int_is_zero(x)) => int_is_true(x)
not_is_true      int_is_zero(int_is_true(x)) => int_is_zero(x)
not_to_bool      int_is_zero(int_to_bool(x)) => int_is_zero(x)
add_ovf_zero     int_add_ovf(x, 0) => x                   if int(x)
sub_ovf_zero     int_sub_ovf(x, 0) => x                   if int(x)
sub_ovf_self     int_sub_ovf(x, x) => 0
mul_ovf_zero     int_mul_ovf(_, 0) => 0
mul_ovf_one      int_mul_ovf(x, 1) => x                   if int(x)
lshift_ovf_zero  int_lshift_ovf(x, 0) => x                if int(x)
floordiv_ovf_one int_floordiv_ovf(x, 1) => x              if int(x)
mod_ovf_one      int_mod_ovf(_, 1) => 0
neg_ovf_neg_ovf  int_neg_ovf(int_neg_ovf(x)) => x         if int(x)
abs_ovf_abs_ovf  int_abs_ovf(y := int_abs_ovf(_)) => y
unbox_box_int    unbox_int_ovf(box_int(x)) => x           if int(x)
unbox_box_float  unbox_float(box_float(x)) => x
float_mul_one    float_mul(x, 1.0) => x
float_div_one    float_truediv(x, 1.0) => x
float_add_mzero  float_add(x, -0.0) => x
float_sub_zero   float_sub(x, 0.0) => x
float_neg_neg    float_neg(float_neg(x)) => x
float_abs_abs    float_abs(y := float_abs(_)) => y
float_abs_neg    float_abs(float_neg(x)) => float_abs(x)
same_as_i        same_as_i(x) => x
same_as_f        same_as_f(x) => x
same_as_r        same_as_r(x) => x
"""

# Comparisons of ints or references: the value of ``x op x``, and the negation of
# ``op`` (float comparisons have neither: ``nan == nan`` is False, ``not nan < 1``
# is not ``nan >= 1``).  Each gives two rules, ``<op>_self`` and ``not_<op>``.
COMPARISONS = {
    "int_lt": (False, "int_ge"), "int_ge": (True, "int_lt"),
    "int_le": (True, "int_gt"), "int_gt": (False, "int_le"),
    "int_eq": (True, "int_ne"), "int_ne": (False, "int_eq"),
    "uint_lt": (False, "uint_ge"), "uint_ge": (True, "uint_lt"),
    "ptr_eq": (True, "ptr_ne"), "ptr_ne": (False, "ptr_eq")}


# --- the rule language: Python expression syntax, read with ``ast`` ---------------

Var = NamedTuple("Var", [("name", str)])
Wildcard = NamedTuple("Wildcard", [])
Literal = NamedTuple("Literal", [("const", Const)])
OpPattern = NamedTuple("OpPattern", [("opname", str), ("args", tuple), ("bind", Any)])
Condition = NamedTuple("Condition", [("pyclass", type), ("var", str)])
_CONDITIONS = {"int": int, "bool": bool}


class RuleError(ValueError):
    pass


class Rule:
    """A named rewrite ``pattern => replacement [if conditions]``, parsed once."""

    def __init__(self, name: str, text: str):
        self.name, self.text = name, text
        pattern, _, rest = text.partition("=>")
        replacement, _, conditions = rest.partition(" if ")
        self.pattern = self._term(self._expr(pattern), in_pattern=True)
        self.replacement = self._term(self._expr(replacement), in_pattern=False)
        self.conditions = self._conditions(conditions)
        spec = OPS[self.pattern.opname] if isinstance(self.pattern, OpPattern) else None
        if spec is None or not spec.has(Flag.PURE) or spec.has(Flag.CALL):
            self.fail("the pattern must be a pure op that is no call")
        repl = self.replacement
        if isinstance(repl, OpPattern) and (OPS[repl.opname].has(Flag.CAN_OVERFLOW) or
                                            any(isinstance(a, OpPattern) for a in repl.args)):
            self.fail("a replacement is a value or one op that cannot overflow")
        self.var_kinds: dict[str, str] = {}       # every variable the pattern binds
        self._check_kinds(self.pattern, spec.result, binds=True)
        self._check_kinds(repl, spec.result, binds=False)
        free = {c.var for c in self.conditions} - set(self.var_kinds)
        if free:
            self.fail(f"{', '.join(sorted(free))} not in the pattern")

    def fail(self, message: str):
        raise RuleError(f"rule {self.name}: {message}\n    {self.text}")

    def _expr(self, text: str) -> ast.expr:
        try:
            return ast.parse(text.strip(), mode="eval").body
        except SyntaxError as exc:
            self.fail(f"{exc.msg} in {text.strip()!r}")

    def _term(self, node: ast.expr, in_pattern: bool):
        number = node.operand if isinstance(node, ast.UnaryOp) and \
            isinstance(node.op, ast.USub) else node
        if isinstance(number, ast.Constant) and type(number.value) in (int, float, bool):
            value = number.value if number is node else -number.value
            return Literal(Const("f" if type(value) is float else "i", value))
        if isinstance(node, ast.Name):
            if node.id == "_" and not in_pattern:
                self.fail("'_' matches anything; it cannot be a result")
            return Wildcard() if node.id == "_" else Var(node.id)
        if isinstance(node, ast.NamedExpr) and in_pattern:      # (y := op(...)) names it
            inner = self._term(node.value, in_pattern)
            if isinstance(inner, OpPattern):
                return inner._replace(bind=node.target.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name = node.func.id
            if name not in OPS:
                self.fail(f"unknown operation {name}")
            if len(node.args) != len(OPS[name].args):
                self.fail(f"{name} takes {len(OPS[name].args)} arguments")
            return OpPattern(name, tuple(self._term(a, in_pattern) for a in node.args), None)
        self.fail(f"cannot read {ast.unparse(node)!r}")

    def _conditions(self, text: str) -> list[Condition]:
        if not text.strip():
            return []
        node = self._expr(text)
        nodes = node.values if isinstance(node, ast.BoolOp) and \
            isinstance(node.op, ast.And) else [node]
        out = []
        for n in nodes:
            if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id in _CONDITIONS and len(n.args) == 1
                    and isinstance(n.args[0], ast.Name)):
                self.fail(f"a condition is int(x) or bool(x), not {ast.unparse(n)!r}")
            out.append(Condition(_CONDITIONS[n.func.id], n.args[0].id))
        return out

    def _check_kinds(self, term, kind: str, binds: bool) -> None:
        """``term`` must give a value of ``kind``; a pattern binds its variables,
        a replacement may only use them."""
        if isinstance(term, OpPattern):
            found = OPS[term.opname].result
            if term.bind:
                self.var_kinds[term.bind] = found
            for arg, arg_kind in zip(term.args, OPS[term.opname].args):
                self._check_kinds(arg, arg_kind, binds)
        elif isinstance(term, Var):
            if not binds and term.name not in self.var_kinds:
                self.fail(f"{term.name} not in the pattern")
            found = self.var_kinds.setdefault(term.name, kind)
        else:
            found = term.const.kind if isinstance(term, Literal) else kind
        if found != kind:
            self.fail(f"{term} is of kind {found}, not {kind}")

    def matches(self, op: Op, int_class) -> dict | None:
        """The variables' values when the rule applies to ``op``, else None."""
        for env in _match_op(self.pattern, op, {}):
            if all(int_class(env[c.var]) is c.pyclass for c in self.conditions):
                return env
        return None

    def __repr__(self):
        return f"Rule({self.name!r}, {self.text!r})"


def _same(a, b) -> bool:
    return a is b or (isinstance(a, Const) and a == b)


def _literal_matches(literal: Const, value) -> bool:
    if not isinstance(value, Const) or value.kind != literal.kind:
        return False
    if literal.kind == "f" or type(literal.value) is bool:
        return value == literal             # floats by bit pattern, True only a bool
    return value.value == literal.value     # 0 matches 0 and False


def _match(term, value, env: dict) -> Iterator[dict]:
    if isinstance(term, Wildcard):
        yield env
    elif isinstance(term, Var):
        if term.name not in env:
            yield {**env, term.name: value}
        elif _same(env[term.name], value):
            yield env
    elif isinstance(term, Literal):
        if _literal_matches(term.const, value):
            yield env
    elif isinstance(value, Box) and value.op is not None and value.op.result is value \
            and value.op.name == term.opname:
        yield from _match_op(term, value.op, env)


def _match_op(pattern: OpPattern, op: Op, env: dict) -> Iterator[dict]:
    if pattern.bind is not None:
        env = {**env, pattern.bind: op.result}
    args = [resolve(a) for a in op.args]
    for order in ([args, args[::-1]] if pattern.opname in COMMUTATIVE else [args]):
        yield from _match_args(pattern.args, order, env)


def _match_args(terms, values, env: dict) -> Iterator[dict]:
    if not terms:
        yield env
        return
    for env1 in _match(terms[0], values[0], env):
        yield from _match_args(terms[1:], values[1:], env1)


def parse_rules(text: str) -> list[Rule]:
    rules = [Rule(*line.split(None, 1)) for line in text.strip().splitlines()]
    for op, (itself, negation) in COMPARISONS.items():
        rules.append(Rule(f"{op}_self", f"{op}(x, x) => {itself}"))
        rules.append(Rule(f"not_{op}", f"int_is_zero({op}(a, b)) => {negation}(a, b)"))
    if len({r.name for r in rules}) != len(rules):
        raise RuleError("two rules have the same name")
    return rules


RULES: list[Rule] = parse_rules(RULES_TEXT)
RULES_BY_OP: dict[str, list[Rule]] = {}
for _rule in RULES:
    RULES_BY_OP.setdefault(_rule.pattern.opname, []).append(_rule)
del _rule


# --- the pass ----------------------------------------------------------------------

_IS_KIND = {"i": lambda v: type(v) in (int, bool) and fits_int64(v),
            "f": lambda v: type(v) is float, "r": lambda v: True}


def const_of_kind(kind: str, value: Any) -> Const | None:
    """``value`` as a constant of ``kind``, or None when it is not one."""
    return Const(kind, value) if _IS_KIND[kind](value) else None


GUARDS_ON_VALUES = frozenset({"guard_true", "guard_false", "guard_class", "guard_nonnull",
                              "guard_isnull"})


def guard_passes(op: Op) -> bool:
    """True when the guard passes whatever the run: its arguments are constants
    (or ``guard_value(x, x)``) and it holds for them."""
    args = [resolve(a) for a in op.args]
    if op.name == "guard_value":
        x, c = args
        if x is c or (isinstance(x, Const) and x == c):   # floats by bits, objects by identity
            return True
        return isinstance(x, Const) and isinstance(c, Const) and x.kind == c.kind == "i" \
            and x.value == c.value
    return op.name in GUARDS_ON_VALUES and all(isinstance(a, Const) for a in args) \
        and evaluate(op.name, *[a.value for a in args])


# The guard that checks an op of this flag, and goes with it when the op is removed.
CHECK_GUARDS = {Flag.CAN_OVERFLOW: "guard_no_overflow", Flag.CAN_RAISE: "guard_no_exception"}


def check_guard(op: Op) -> str | None:
    return next((g for flag, g in CHECK_GUARDS.items() if op.spec.has(flag)), None)


class FoldPass(ForwardPass):
    name = "fold"

    def setup(self) -> None:
        ops = self.trace.ops
        self.following = {id(a): b.name for a, b in zip(ops, ops[1:])}
        self.drop_next: str | None = None   # the check guard of an op just removed
        self.classes: dict[Box, type | None] = {}

    def default(self, op: Op) -> None:
        dropped, self.drop_next = self.drop_next, None
        if op.name == dropped:
            return
        self.visit(op)

    def visit(self, op: Op) -> None:
        if op.is_guard():
            if guard_passes(op):
                self.ctx.count("guard_always_passes")
                return
        elif op.spec.has(Flag.PURE) and op.result is not None and self.checks_may_go(op):
            value = self.fold_constants(op)
            if value is None:
                value = self.rewrite(op)
            if value is not None:
                self.replace(op.result, value)
                self.drop_next = check_guard(op)
                return
        self.emit(op)

    def checks_may_go(self, op: Op) -> bool:
        """A checked op goes only with its guard, which must be the one right after it
        (a call needs none when it cannot raise, but no guard_exception either)."""
        guard, after = check_guard(op), self.following.get(id(op))
        return guard is None or after == guard or (op.spec.has(Flag.CALL)
                                                   and after != "guard_exception")

    def fold_constants(self, op: Op) -> Const | None:
        if not all(isinstance(a, Const) for a in op.args):
            return None
        try:
            value = evaluate(op.name, *[a.value for a in op.args], descr=op.descr)
        except Exception:       # noqa: BLE001 - it raises at run time: it stays to raise
            return None
        const = const_of_kind(op.spec.result, value)
        if const is not None:
            self.ctx.count("constant_fold")
        return const

    def rewrite(self, op: Op):
        for rule in RULES_BY_OP.get(op.name, ()):
            env = rule.matches(op, self.int_class)
            if env is None:
                continue
            if op.result.kind == "i" and \
                    self.replacement_class(rule.replacement, env) is not self.int_class(op.result):
                continue        # a rule never changes the class; the tests prove it
            self.ctx.count(rule.name)
            return self.build(rule.replacement, env)
        return None

    def int_class(self, value) -> type | None:
        """The Python class of an int value: from a constant, from the op that
        computes it, else from what the recorder saw (``Box.pyclass``)."""
        value = resolve(value)
        if isinstance(value, Const):
            return type(value.value) if value.kind == "i" else None
        if value.kind != "i":
            return None
        if value not in self.classes:
            op = value.op
            cls = None
            if op is not None and op.result is value:
                cls = result_class(op.name, [self.int_class(a) for a in op.args])
            self.classes[value] = cls if cls is not None else value.pyclass
        return self.classes[value]

    def replacement_class(self, term, env: dict) -> type | None:
        if isinstance(term, Var):
            return self.int_class(env[term.name])
        if isinstance(term, Literal):
            return type(term.const.value)
        return result_class(term.opname, [self.replacement_class(a, env) for a in term.args])

    def build(self, term, env: dict):
        if isinstance(term, Var):
            return env[term.name]
        if isinstance(term, Literal):
            return term.const
        args = [self.build(a, env) for a in term.args]
        spec = OPS[term.opname]
        pyclass = None
        if spec.result == "i":
            pyclass = result_class(term.opname, [self.int_class(a) for a in args])
        box = Box(spec.result, pyclass)
        self.visit(Op(term.opname, args, None, box))   # the new op may fold in turn
        return resolve(box)


def register() -> None:
    from metajit.tracer.opt.pipeline import register_pass   # pipeline imports this module
    register_pass("fold", FoldPass)
