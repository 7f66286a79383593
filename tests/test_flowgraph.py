"""Flow graphs built from source, run three ways, must agree with CPython.

For every function of tests/flowfuncs.py, on random inputs: the flow graph
interpreter (interp/flowinterp.py), the blackhole from the start, and the blackhole
resumed from a random mid-point (with only the variables live there, as after a
guard failure; also resumed at an operation that raised) give the same result or the
same exception as the plain function.  Unsupported constructs name themselves, the
file and the line; a portal stops at its merge points in portal mode."""
from __future__ import annotations

import copy
import inspect
import linecache

import pytest
from hypothesis import given, settings, strategies as st

try:
    import flowfuncs as F
except ImportError:     # tests/ imported as a package
    from tests import flowfuncs as F

from metajit.interp.blackhole import MergePointReached, get_blackhole
from metajit.interp.flowbuilder import (
    BOOL_RESULT_OPS, UnsupportedConstruct, bind_arguments, build_graph, get_graph,
)
from metajit.interp.flowinterp import Finished, Paused, format_graph, run_graph, run_until
from metajit.interp.flowmodel import LAST_EXCEPTION, UNBOUND, Constant, Variable, live_before

small = st.integers(-3, 12)
opcodes = st.sampled_from(F.OPCODES + ("bogus",))
anything = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.text(max_size=1),
                     st.lists(st.integers(0, 1), max_size=1))

CASES = {
    F.sum_loop: st.tuples(st.integers(-3, 30)),
    F.nested_break_continue: st.tuples(st.integers(0, 8), st.integers(0, 8)),
    F.for_else_search: st.tuples(st.lists(st.integers(0, 5), max_size=8), st.integers(0, 5)),
    F.while_else: st.tuples(st.integers(-2, 20), st.integers(0, 20)),
    F.complex_while: st.tuples(st.integers(-5, 30), st.integers(-5, 30)),
    F.loop_var_after: st.tuples(st.integers(-1, 5)),
    F.shapes: st.tuples(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 9),
                                           st.integers(0, 9)), max_size=6)),
    F.isinstance_dispatch: st.tuples(st.lists(st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=3),
        st.lists(st.integers(), max_size=3), st.floats(allow_nan=False)), max_size=6)),
    F.method_calls: st.tuples(st.lists(st.tuples(st.sampled_from(["push", "pop"]),
                                                 st.integers(0, 9)), max_size=10)),
    F.augmented: st.tuples(st.lists(st.integers(-5, 20), max_size=8)),
    F.list_ops: st.tuples(st.lists(st.integers(-5, 5), max_size=7)),
    F.dict_ops: st.tuples(st.lists(st.sampled_from("abcd"), max_size=10)),
    F.tuple_unpack: st.tuples(st.lists(st.tuples(st.tuples(small, small), small), max_size=5)),
    F.slicing: st.tuples(st.lists(st.integers(0, 9), min_size=1, max_size=10),
                         st.integers(-12, 12), st.integers(-12, 12), st.integers(-3, 3)),
    F.bytes_and_str: st.tuples(st.binary(max_size=8),
                               st.text(alphabet="abcxyz019 _X", max_size=10)),
    F.set_display: st.tuples(st.lists(st.integers(-3, 5), max_size=8)),
    F.matrix_mult: st.tuples(st.integers(0, 4), st.integers(0, 10)),
    F.iteration_helpers: st.tuples(st.dictionaries(st.sampled_from("abc"), st.integers(0, 9)),
                                   st.lists(st.integers(-5, 5), max_size=5)),
    F.kwargs_defaults: st.tuples(st.integers(-9, 9), st.integers(-9, 9)),
    F.early_returns: st.tuples(st.integers(-3, 30), st.integers(-2, 5)),
    F.conditional_expr: st.tuples(st.integers(-3, 15),
                                  st.one_of(st.booleans(), st.integers(0, 2), st.just(""))),
    F.chained_cmp: st.tuples(st.integers(-2, 3), st.integers(-2, 3), st.integers(-2, 3)),
    F.short_circuit_values: st.tuples(anything, anything, anything),
    F.string_building: st.tuples(st.integers(0, 4), st.sampled_from([",", "", " - ", "'"]),
                                 st.integers(0, 5)),
    F.globals_and_builtins: st.tuples(st.integers(0, 14)),
    F.try_except_finally: st.tuples(st.integers(0, 5)),
    F.finally_paths: st.tuples(st.lists(st.integers(-5, 60), max_size=6)),
    F.return_in_finally: st.tuples(st.integers(0, 3)),
    F.finally_reraises: st.tuples(st.integers(0, 2)),
    F.custom_exceptions: st.tuples(st.lists(st.integers(0, 5), max_size=10)),
    F.nested_try: st.tuples(st.integers(-2, 3)),
    F.divide_errors: st.tuples(st.one_of(st.integers(-9, 9), st.just("s")), st.integers(-3, 3)),
    F.unbound_local: st.tuples(st.booleans(), st.integers(0, 6)),
    F.except_as_unbinding: st.tuples(st.integers(0, 2)),
    F.del_local: st.tuples(st.integers(0, 6)),
    F.assert_check: st.tuples(st.integers(-2, 3), st.integers(-2, 3)),
    F.raise_in_loop: st.tuples(st.lists(st.integers(-2, 9), max_size=6)),
    F.unpack_errors: st.tuples(st.one_of(st.lists(st.integers(0, 3), max_size=3),
                                         st.integers(), st.text(max_size=3))),
    F.tiny_vm: st.tuples(st.lists(st.tuples(opcodes, st.integers(0, 8)), max_size=10),
                         st.integers(-3, 3)),
    F.portal_counter: st.tuples(st.lists(st.integers(0, 3), max_size=6), st.integers(0, 5)),
    F.for_in_try: st.tuples(st.integers(0, 8), st.integers(-1, 8)),
    F.finally_replaces_exception: st.tuples(st.integers(0, 3)),
    F.break_in_handler: st.tuples(st.lists(st.integers(-8, 3), max_size=5)),
    F.del_in_loop: st.tuples(st.integers(0, 7)),
    F.reraise_after_inner: st.tuples(st.integers(0, 1)),
    F.nested_finally_return: st.tuples(st.integers(-1, 4)),
    F.multi_target_and_nested_aug: st.tuples(st.integers(0, 9)),
    F.keyword_only: st.tuples(small, small, small),
    F.call_keyword_only: st.tuples(small),
    F.exceptions_in_conditions: st.tuples(
        st.one_of(st.dictionaries(st.sampled_from("abc"), st.one_of(st.none(), small)),
                  st.lists(small, max_size=2)), st.sampled_from(["a", "b", "c"])),
    F.unhashable_and_errors: st.tuples(st.one_of(small, st.text(max_size=2),
                                                 st.lists(small, max_size=1))),
    F.assert_without_message: st.tuples(st.one_of(small, st.just(""))),
    F.dead_code_after_exits: st.tuples(small),
    # methods, taken from their class as plain functions
    F.Shape.describe: st.tuples(st.builds(F.Rect, small, small), st.sampled_from(["p", "q"])),
    F.Stack.push: st.tuples(st.builds(F.Stack), small, st.integers(0, 3)),
    F.Frame.pop: st.tuples(st.builds(F.Frame, st.just(()), small)),
}


def outcome(func, *args):
    """What calling ``func(*args)`` gives: ("return", value) or ("raise", type, args)."""
    try:
        return ("return", func(*args))
    except Exception as e:  # noqa: BLE001 - the comparison is the point
        return ("raise", type(e), e.args)


def py_call(func, *args):
    """Call ``func`` on the values of its graph's inputargs (keyword-only ones by
    keyword)."""
    code = func.__code__
    npos = code.co_argcount
    kwonly = code.co_varnames[npos:npos + code.co_kwonlyargcount]
    return func(*args[:npos], **dict(zip(kwonly, args[npos:])))


def live_env(paused: Paused) -> dict:
    """Only what is live at the pause point: as a guard failure would provide."""
    return {v: paused.env[v] for v in live_before(paused.block, paused.index)}


def _name(func):
    return func.__qualname__


@pytest.mark.parametrize("func", list(CASES), ids=_name)
def test_graph_runs_like_cpython(func):
    graph = get_graph(func)
    bh = get_blackhole(graph)

    def from_middle(args, nops, at_raise, at_exits=False):
        p = run_until(graph, args, nops, prefer_exits=at_exits)
        if isinstance(p, Finished):
            return p.value
        if at_raise:
            p = run_until(graph, (), start=p, pause_on_raise=True)
            if isinstance(p, Finished):
                return p.value
            return bh.resume(p.block, p.index, live_env(p), exc=p.exc)
        return bh.resume(p.block, p.index, live_env(p))

    @settings(deadline=None, max_examples=30)
    @given(args=CASES[func], data=st.data())
    def check(args, data):
        expected = outcome(py_call, func, *copy.deepcopy(args))
        assert outcome(lambda *a: run_graph(graph, a), *copy.deepcopy(args)) == expected
        assert outcome(bh.call, *copy.deepcopy(args)) == expected
        try:
            total = run_until(graph, copy.deepcopy(args)).ops
        except Exception:  # noqa: BLE001
            total = 400
        nops = data.draw(st.integers(0, total), label="nops")
        assert outcome(from_middle, copy.deepcopy(args), nops, False) == expected
        assert outcome(from_middle, copy.deepcopy(args), nops, True) == expected
        assert outcome(from_middle, copy.deepcopy(args), nops, False, True) == expected

    try:
        check()
    except AssertionError:
        print(format_graph(graph))
        raise


# -- the shape of the graphs -------------------------------------------------------------

def _defining_op(graph, var):
    for block in graph.iterblocks():
        for op in block.operations:
            if op.result is var:
                return op
    return None


@pytest.mark.parametrize("func", list(CASES), ids=_name)
def test_graph_invariants(func):
    graph = get_graph(func)
    assert get_graph(func) is graph
    preds = {}
    for block in graph.iterblocks():
        for link in block.exits:
            preds.setdefault(link.target, []).append(link)
    for block in graph.iterblocks():
        defined = set(block.inputargs)
        for op in block.operations:
            for a in op.args:
                assert isinstance(a, Constant) or a in defined, (block, op)
            defined.add(op.result)
            assert op.lineno >= graph.firstlineno
        for link in block.exits:
            assert link.prevblock is block
            assert len(link.args) == len(link.target.inputargs)
            for a in link.args:
                assert isinstance(a, Constant) or a in defined or a is link.last_exc_value
        if block in (graph.returnblock, graph.exceptblock):
            assert not block.exits
            continue
        assert block.exits
        if block.exitswitch is LAST_EXCEPTION:
            last = block.operations[-1]
            exc_links = block.exits if last.opname == "raise_" else block.exits[1:]
            if last.opname != "raise_":
                assert block.exits[0].exitcase is None
            else:
                assert block.exits[-1].exitcase is BaseException
            for link in exc_links:
                assert issubclass(link.exitcase, BaseException)
                assert isinstance(link.last_exc_value, Variable)
                assert last.result not in link.args
            assert all(op.opname != "raise_" for op in block.operations[:-1])
        elif block.exitswitch is not None:
            assert [link.exitcase for link in block.exits] == [False, True]
            switch = block.exitswitch
            if isinstance(switch, Variable):
                # a real bool: a bool-valued op here, or passed in from one
                sources = [switch] if switch not in block.inputargs else [
                    link.args[block.inputargs.index(switch)] for link in preds[block]]
                for s in sources:
                    op = _defining_op(graph, s)
                    assert op is not None and op.opname in BOOL_RESULT_OPS, (block, s)
        else:
            assert len(block.exits) == 1 and block.exits[0].exitcase is None


def test_bind_arguments_orders_parameters_like_the_graph():
    assert bind_arguments(F.keyword_only, (4,), {"shift": 1}) == [4, 2, 1]
    assert bind_arguments(F.helper, (1,), {"scale": 3}) == [1, 10, 3, 0]
    assert get_blackhole(get_graph(F.keyword_only)).call(
        *bind_arguments(F.keyword_only, (4,), {"shift": 1})) == F.keyword_only(4, shift=1)
    with pytest.raises(TypeError):
        bind_arguments(F.keyword_only, (1, 2), {})


@pytest.mark.parametrize("xs", [[0, 1, 2, 3, 4], [5, 0, 0, 0, 0, 0, 0, 2], [3, 1, 2, 2]])
def test_flowinterp_continues_after_a_raising_operation(xs):
    graph = get_graph(F.custom_exceptions)

    def step_through_each_raise():
        paused = run_until(graph, (xs,), pause_on_raise=True)
        assert isinstance(paused, Paused) and paused.exc is not None
        while isinstance(paused, Paused):
            paused = run_until(graph, (), start=paused, pause_on_raise=True)
        return paused.value

    assert outcome(step_through_each_raise) == outcome(F.custom_exceptions, xs)


def test_line_numbers_are_the_files():
    graph = get_graph(F.sum_loop)
    lines, start = inspect.getsourcelines(F.sum_loop)
    want = start + next(i for i, line in enumerate(lines) if "total += i * i" in line)
    ops = [op for b in graph.iterblocks() for op in b.operations if op.opname == "inplace_add"]
    assert [op.lineno for op in ops if op.args[0] is not None][0] == want
    assert graph.filename == F.sum_loop.__code__.co_filename
    assert graph.firstlineno == start


def test_private_names_are_mangled():
    graph = get_graph(F.Stack.push)
    attrs = {op.args[1].value for b in graph.iterblocks() for op in b.operations
             if op.opname in ("getattr", "setattr")}
    assert "_Stack__pushes" in attrs and "__pushes" not in attrs


def test_maybe_unassigned_local_is_checked():
    graph = get_graph(F.unbound_local)
    checks = [op for b in graph.iterblocks() for op in b.operations
              if op.opname == "is_" and Constant(UNBOUND) in op.args]
    assert checks
    assert F.unbound_local(False, 5) == run_graph(graph, (False, 5)) == \
        "cannot access local variable 'value' where it is not associated with a value"


def test_augmented_assignment_is_in_place():
    graph = get_graph(F.augmented)
    names = {op.opname for b in graph.iterblocks() for op in b.operations}
    assert {"inplace_add", "inplace_mul"} <= names
    assert get_blackhole(graph).call([1, 2])[2] is True     # alias is a: list += extends


def test_blackhole_tracebacks_show_the_generated_source():
    bh = get_blackhole(get_graph(F.raise_in_loop))
    with pytest.raises(F.VMError) as info:
        bh.call([1, -1])
    assert info.value.args == ("negative item", -1)
    tb = info.value.__traceback__
    while tb.tb_next:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    assert filename.startswith("<blackhole")
    assert "raise" in linecache.getline(filename, tb.tb_lineno)
    assert bh.source().startswith("def ")


# -- portal mode -----------------------------------------------------------------------

@settings(deadline=None, max_examples=60)
@given(program=st.lists(st.integers(0, 3), max_size=6), n=st.integers(0, 5), data=st.data())
def test_portal_mode_stops_at_merge_points(program, n, data):
    graph = get_graph(F.portal_counter)
    bh = get_blackhole(graph)
    F.driver.seen = []
    result = F.portal_counter(program, n)
    seen = [MergePointReached(tuple(d), tuple(d.values())) for d in F.driver.seen]
    first = bh.call(program, n, portal=True)
    assert isinstance(first, MergePointReached) and first == seen[0]
    assert first.names == ("pc", "program", "acc", "n") and first.driver is F.driver
    assert run_graph(graph, (program, n), portal=True) == seen[0]
    total = run_until(graph, (program, n)).ops
    passed = []
    p = run_until(graph, (program, n), data.draw(st.integers(0, total)), merge_points=passed)
    assert passed == seen[:len(passed)]
    if isinstance(p, Finished):
        assert p.value == result
        return
    got = bh.resume(p.block, p.index, live_env(p), portal=True)
    assert got == (seen[len(passed)] if len(passed) < len(seen) else result)
    if p.block.operations[p.index:p.index + 1] and \
            p.block.operations[p.index].opname == "jit_merge_point":
        assert got == seen[len(passed)]     # resuming at the merge point returns it
    assert bh.resume(p.block, p.index, live_env(p)) == result


# -- unsupported constructs ------------------------------------------------------------

def u_comprehension(xs):
    return [x for x in xs]  # UNSUPPORTED comprehension


def u_genexp(xs):
    return sum(x for x in xs)  # UNSUPPORTED generator expression


def u_lambda(xs):
    key = lambda x: -x  # UNSUPPORTED lambda  # noqa: E731
    return sorted(xs, key=key)


def u_nested_def(x):
    def inner():  # UNSUPPORTED nested function
        return 1
    return inner


def u_class(x):
    class Local:  # UNSUPPORTED class definition
        pass
    return Local


def u_generator(n):
    i = 0
    while i < n:
        yield i  # UNSUPPORTED yield
        i += 1


def u_star_param(*args):  # UNSUPPORTED *args parameter
    return args


def u_kwargs_param(a, **kw):  # UNSUPPORTED **kwargs parameter
    return kw


def u_star_call(f, xs):
    return f(*xs)  # UNSUPPORTED *args in a call


def u_kwargs_call(f, d):
    return f(1,
             **d)  # UNSUPPORTED **kwargs in a call


def u_global(x):
    global LIMIT  # UNSUPPORTED global statement
    LIMIT = x


def u_walrus(xs):
    if (n := len(xs)) > 2:  # UNSUPPORTED walrus
        return n


def u_with(path):
    with open(path) as f:  # UNSUPPORTED with statement
        return f.read()


def u_match(x):
    match x:  # UNSUPPORTED match statement
        case 1:
            return "one"


def u_star_unpack(xs):
    a, *rest = xs  # UNSUPPORTED star-unpacking
    return rest


def u_raise_from(x):
    raise ValueError(x) from None  # UNSUPPORTED raise ... from


def u_import(x):
    import math  # UNSUPPORTED import statement
    return math.sqrt(x)


def u_bare_raise(x):
    if x:
        raise  # UNSUPPORTED bare raise outside an except clause


def u_dynamic_except(cls, x):
    try:
        return 1 // x
    except cls:  # UNSUPPORTED except clause
        return 0


async def u_async(x):  # UNSUPPORTED async function
    return x


def _make_closure():
    k = 3

    def closure(x):  # UNSUPPORTED closure
        return x + k
    return closure


class _Base:
    def m(self):
        return 1


class _Derived(_Base):
    def m(self):  # UNSUPPORTED zero-argument super()
        return super().m() + 1


u_closure = _make_closure()
u_super = _Derived.m
u_module_lambda = lambda x: x  # UNSUPPORTED lambda  # noqa: E731

UNSUPPORTED = [u_comprehension, u_genexp, u_lambda, u_nested_def, u_class, u_generator,
               u_star_param, u_kwargs_param, u_star_call, u_kwargs_call, u_global, u_walrus,
               u_with, u_match, u_star_unpack, u_raise_from, u_import, u_bare_raise,
               u_dynamic_except, u_async, u_closure, u_module_lambda, u_super]


@pytest.mark.parametrize("func", UNSUPPORTED, ids=lambda f: f.__qualname__)
def test_unsupported_construct_names_itself(func):
    lines, start = inspect.getsourcelines(func.__code__)
    index, marker = next((i, line) for i, line in enumerate(lines) if "# UNSUPPORTED" in line)
    construct = marker.split("# UNSUPPORTED ")[1].split("  #")[0].strip()
    with pytest.raises(UnsupportedConstruct) as info:
        build_graph(func)
    e = info.value
    assert construct in e.construct
    assert e.filename == __file__ or e.filename == func.__code__.co_filename
    assert e.lineno == start + index
    assert e.funcname.endswith(func.__name__)
    assert f"{e.filename}:{e.lineno}" in str(e) and construct in str(e)
    assert "dont_look_inside" in str(e)


# -- big functions ---------------------------------------------------------------------

def _load_module(tmp_path, name, source):
    import importlib.util
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_long_elif_chain_and_deep_nesting(tmp_path):
    """More nested branches than Python allows indentation levels: the blackhole
    falls back to dispatch blocks beyond its inline depth."""
    n = 120
    lines = ["def dispatch(op, x):", "    acc = 0", "    while x > 0:", "        x -= 1"]
    for i in range(n):
        kw = "if" if i == 0 else "elif"
        lines.append(f"        {kw} op == {i}:")
        lines.append(f"            acc += {i} * x")
        lines.append(f"            op = (op * 7 + {i}) % {n + 5}")
    lines.append("        else:")
    lines.append("            return ('fell', acc, op)")
    lines.append("    return acc, op")
    module = _load_module(tmp_path, "bigdispatch", "\n".join(lines) + "\n")
    graph = get_graph(module.dispatch)
    bh = get_blackhole(graph)
    assert len(bh.dispatch) > 2             # depth limit reached: extra dispatch blocks
    for op in (0, 3, 57, 119, 121):
        for x in (0, 1, 9):
            assert bh.call(op, x) == module.dispatch(op, x)
            p = run_until(graph, (op, x), 40)
            if isinstance(p, Paused):
                assert bh.resume(p.block, p.index, live_env(p)) == module.dispatch(op, x)
    assert module.dispatch.__code__.co_filename == graph.filename


def test_only_plain_functions():
    with pytest.raises(UnsupportedConstruct, match="not a plain function"):
        build_graph(F.Stack().push)
    with pytest.raises(UnsupportedConstruct, match="not a plain function"):
        build_graph(len)
