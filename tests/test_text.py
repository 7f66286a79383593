"""The text form of traces: every op prints and parses, canonical texts round-trip."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from metajit.tracer.ir import (OPS, ArrayDescr, Box, CallDescr, Const, FieldDescr, Flag,
                               FrameSnapshot, Op, SizeDescr, Snapshot, TargetDescr, Trace,
                               Virtual)
from metajit.tracer.text import (CodeRef, ParseError, float_bits, float_from_bits,
                                 format_float, format_trace, parse_trace)


class Point:
    pass


class Interp:
    pass


class Frame:
    pass


def helper(x):
    return x


# --- a structural comparison: same shape, same objects ------------------------------

def assert_same_trace(a: Trace, b: Trace) -> None:
    boxes: dict = {}

    def same_value(x, y):
        if isinstance(x, Box):
            x = x.find()
        if isinstance(y, Box):
            y = y.find()
        if isinstance(x, Box):
            assert isinstance(y, Box) and x.kind == y.kind
            assert boxes.setdefault(x, y) is y
        else:
            assert x == y     # Const equality: ints by class and value, floats by bits

    def define(x, y):
        assert (x is None) == (y is None)
        if x is not None:
            assert x.kind == y.kind and x not in boxes
            boxes[x] = y

    def same_entry(x, y, virtuals):
        if isinstance(x, tuple):
            assert isinstance(y, tuple) and x[1] == y[1]
            same_entry(x[0], y[0], virtuals)
        elif isinstance(x, Virtual):
            assert isinstance(y, Virtual)
            if id(x) in virtuals:
                assert virtuals[id(x)] is y
                return
            virtuals[id(x)] = y
            assert x.descr is y.descr and len(x.fields) == len(y.fields)
            for (kx, vx), (ky, vy) in zip(x.fields.items(), y.fields.items()):
                assert kx is ky or (type(kx) is int and kx == ky)   # FieldDescr or index
                same_entry(vx, vy, virtuals)
        else:
            same_value(x, y)

    assert len(a.inputargs) == len(b.inputargs)
    for x, y in zip(a.inputargs, b.inputargs):
        define(x, y)
    assert len(a.ops) == len(b.ops)
    for x, y in zip(a.ops, b.ops):
        assert x.name == y.name and x.descr is y.descr and len(x.args) == len(y.args)
        for ax, ay in zip(x.args, y.args):
            same_value(ax, ay)
        assert (x.snapshot is None) == (y.snapshot is None)
        if x.snapshot is not None:
            assert len(x.snapshot.frames) == len(y.snapshot.frames)
            virtuals: dict = {}
            for fx, fy in zip(x.snapshot.frames, y.snapshot.frames):
                assert fx.code is fy.code and fx.pc == fy.pc
                assert fx.exc_pending == fy.exc_pending
                assert len(fx.values) == len(fy.values)
                for ex, ey in zip(fx.values, fy.values):
                    same_entry(ex, ey, virtuals)
        define(x.result, y.result)


def round_trip(text: str, namespace=None) -> Trace:
    """Parse a canonical text, check it prints back unchanged, and that parsing the
    print with the trace's own names gives the same trace."""
    trace = parse_trace(text, namespace)
    printed = format_trace(trace)
    assert printed == text
    again = parse_trace(printed, trace.objects)
    assert_same_trace(trace, again)
    assert format_trace(again) == text
    return trace


# --- one canonical example per op, generated from the op table ------------------------

DESCR_NAMES = {"FieldDescr": "Frame.pc", "ArrayDescr": "bytearray", "SizeDescr": "Point",
               "CallDescr": "helper", "GreenKeyDescr": "loc", "TargetDescr": "loop0",
               "ExitDescr": "done"}
BOX = {"i": "i0", "f": "f1", "r": "p2"}
CONST = {"i": "-7", "f": "-0.0", "r": "ConstPtr(thing)"}
RESULT_LETTER = {"i": "i", "f": "f", "r": "p"}


def example_text(name: str) -> str:
    spec = OPS[name]
    if spec.variadic:
        args = ["i0", "f1", "p2"]
        if spec.has(Flag.CALL):
            args = ["ConstPtr(function)", "i0", "5", "f1", "p2"]
    else:
        kinds = ["i" if k == "?" else k for k in spec.args]
        # the first argument a box, the next ones constants, so both print
        args = [BOX[k] if n == 0 else CONST[k] for n, k in enumerate(kinds)]
    if spec.descr is not None:
        args.append("descr=" + DESCR_NAMES[spec.descr])
    line = f"{name}({', '.join(args)})"
    if spec.has(Flag.GUARD):
        line += " [@portal#3: i0, p2 | @callee#0: f1, bool(i0)]"
    if spec.result != "v":
        line = f"{RESULT_LETTER[spec.result]}3 = {line}"
    return f"[i0, f1, p2]\n{line}\n"


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_round_trips(name):
    trace = round_trip(example_text(name))
    (op,) = trace.ops
    spec = OPS[name]
    assert op.name == name
    assert (op.result is None) == (spec.result == "v")
    if spec.descr is not None:
        assert type(op.descr).__name__ == spec.descr
    if spec.has(Flag.GUARD):
        assert [f.code.name for f in op.snapshot.frames] == ["portal", "callee"]
        assert op.snapshot.frames[1].values[1] == (trace.inputargs[0], True)


def test_op_table_names_its_descr_classes():
    assert {s.descr for s in OPS.values() if s.descr} <= set(DESCR_NAMES)


# --- snapshots ----------------------------------------------------------------------

def test_multi_frame_snapshot_with_nested_and_cyclic_virtuals():
    text = (
        "[i0, p1, f2]\n"
        "label(i0, p1, f2, descr=loop0)\n"
        "i3 = int_add_ovf(i0, 1)\n"
        "guard_no_overflow() [@portal#12: i0, p1 | @step#3 exc: bool(i3), v0, v1] "
        "{v0 = new(Point, x=i3, y=7, next=v2), v1 = array(list, v0, f2, null), "
        "v2 = new(Point, x=0, y=True, next=v0)}\n"
        "jump(i3, p1, f2, descr=loop0)\n")
    trace = round_trip(text)
    guard = trace.ops[2]
    portal, step = guard.snapshot.frames
    assert (portal.code.name, portal.pc, portal.exc_pending) == ("portal", 12, False)
    assert (step.code.name, step.pc, step.exc_pending) == ("step", 3, True)
    i3 = trace.ops[1].result
    assert step.values[0] == (i3, True)
    v0, v1 = step.values[1], step.values[2]
    assert isinstance(v0.descr, SizeDescr) and isinstance(v1.descr, ArrayDescr)
    x, y, nxt = v0.fields
    assert (x.name, y.name, nxt.name) == ("x", "y", "next")
    assert x.owner is v0.descr.cls                 # one placeholder class per name
    assert v0.fields[x] is i3 and v0.fields[y] == Const("i", 7)
    v2 = v0.fields[nxt]
    assert v2.fields[nxt] is v0                     # the cycle
    assert v2.fields[y] == Const("i", True)
    assert v1.fields == {0: v0, 1: trace.inputargs[2], 2: Const("r", None)}
    # failargs see through the virtuals
    from metajit.tracer.ir import failargs
    assert failargs(guard) == [trace.inputargs[0], trace.inputargs[1], i3, trace.inputargs[2]]


def test_non_canonical_text_is_renumbered():
    text = """
        [i7, p3]
        # boxes and virtuals get canonical numbers
        i10 = int_add(i7, 1)
        guard_true(i10) [@portal#0: v5, i10] {v5 = new(Cell, Cell.value=i10, other=v9), v9 = new(Cell)}
        finish(i10, p3, descr=done)   # a comment
    """
    trace = parse_trace(text)
    assert format_trace(trace) == (
        "[i0, p1]\n"
        "i2 = int_add(i0, 1)\n"
        "guard_true(i2) [@portal#0: v0, i2] {v0 = new(Cell, value=i2, other=v1), v1 = new(Cell)}\n"
        "finish(i2, p1, descr=done)\n")


def test_virtuals_shared_between_frames_keep_their_identity():
    trace = round_trip("[i0]\nguard_true(i0) [@a#1: v0 | @b#2: v0, v0] {v0 = new(Cell, value=i0)}\n")
    a, b = trace.ops[0].snapshot.frames
    assert a.values[0] is b.values[0] is b.values[1]


def test_sparse_array_virtual_and_empty_snapshots():
    trace = round_trip(
        "[i0]\n"
        "guard_true(i0) [@portal#4: v0] {v0 = array(list, 3=i0, 0=5)}\n"
        "guard_false(i0) []\n"
        "guard_true(i0) [@portal#5:]\n"
        "guard_true(i0)\n"
        "finish(descr=done)\n")
    assert trace.ops[0].snapshot.frames[0].values[0].fields == {3: trace.inputargs[0],
                                                               0: Const("i", 5)}
    assert trace.ops[1].snapshot.frames == []
    assert trace.ops[2].snapshot.frames[0].values == []
    assert trace.ops[3].snapshot is None


def test_delayed_stores_in_a_snapshot():
    trace = round_trip(
        "[p0, i1]\n"
        "guard_true(i1) [@portal#4: p0] store(p0, Frame.pc=v0) store(p0, Frame.sp=p0) "
        "{v0 = new(Cell, value=i1)}\n"
        "finish(descr=done)\n")
    snapshot = trace.ops[0].snapshot
    (obj, pc, value, _), (_, sp, again, _) = snapshot.stores
    assert obj is again is trace.inputargs[0] and (pc.name, sp.name) == ("pc", "sp")
    assert isinstance(value, Virtual) and value.fields
    from metajit.tracer.ir import failargs
    assert failargs(trace.ops[0]) == trace.inputargs    # the stores' values are live


def test_delayed_list_item_stores_in_a_snapshot():
    trace = round_trip(
        "[p0, i1, p2, i3]\n"
        "guard_true(i3) [@portal#4: p0] store(p0, list[i1]=p2) store(p0, list[7]=i3)\n"
        "finish(descr=done)\n")
    (array, descr, value, index), (_, _, number, seven) = trace.ops[0].snapshot.stores
    assert array is trace.inputargs[0] and descr.storage == "list"
    assert (index, value, number) == (trace.inputargs[1], trace.inputargs[2], trace.inputargs[3])
    assert seven.value == 7
    from metajit.tracer.ir import failargs
    assert set(failargs(trace.ops[0])) == set(trace.inputargs)   # the index is live too
    items = [None] * 8
    values = dict(zip(trace.inputargs, [items, 3, "x", 5]))
    for store in trace.ops[0].snapshot.stores:
        store.perform(lambda e: e.value if not hasattr(e, "find") else values[e])
    assert items[3] == "x" and items[7] == 5


def test_snapshot_printed_from_python_objects():
    x = FieldDescr(Point, "x")
    ylink = FieldDescr(Interp, "link")         # a field declared on another class
    size = SizeDescr(Point)
    code = CodeRef("portal")
    i0, p1 = Box("i"), Box("r")
    inner = Virtual(size, {x: Const("i", 1)})
    outer = Virtual(size, {x: (i0, True), ylink: inner})
    guard = Op("guard_nonnull", [p1], snapshot=Snapshot([FrameSnapshot(code, 7, [outer, p1])]))
    trace = Trace([i0, p1], [guard])
    text = format_trace(trace)
    assert text == (
        "[i0, p1]\n"
        "guard_nonnull(p1) [@portal#7: v0, p1] "
        "{v0 = new(Point, x=bool(i0), Interp.link=v1), v1 = new(Point, x=1)}\n")
    again = parse_trace(text, trace.objects)
    assert_same_trace(trace, again)


# --- values -------------------------------------------------------------------------

def test_bool_and_int_constants_keep_their_class():
    trace = round_trip("[i0]\ni1 = int_and(i0, True)\ni2 = int_add(i1, 1)\n"
                       "guard_value(i2, False) [@p#0: bool(True), bool(1), -9223372036854775808]\n"
                       "finish(descr=done)\n")
    assert type(trace.ops[0].args[1].value) is bool
    assert type(trace.ops[1].args[1].value) is int
    entries = trace.ops[2].snapshot.frames[0].values
    assert entries[0] == (Const("i", True), True) and type(entries[0][0].value) is bool
    assert entries[1] == (Const("i", 1), True) and type(entries[1][0].value) is int
    assert entries[2].value == -2**63


@pytest.mark.parametrize("value, text", [
    (math.nan, "nan"), (-math.nan, "-nan"), (math.inf, "inf"), (-math.inf, "-inf"),
    (-0.0, "-0.0"), (0.0, "0.0"), (1.0, "1.0"), (1e100, "1e+100"), (2.5e-300, "2.5e-300"),
    (float_from_bits(0x7FF0000000000001), "nan(0x7ff0000000000001)"),
])
def test_float_constants(value, text):
    assert format_float(value) == text
    trace = round_trip(f"[f0]\nguard_value(f0, {text}) [@p#0: {text}]\nfinish(descr=done)\n")
    const = trace.ops[0].args[1]
    assert const.kind == "f" and type(const.value) is float
    assert float_bits(const.value) == float_bits(value)


def test_a_float_is_never_printed_like_an_int():
    trace = Trace([], [Op("finish", [Const("f", 3), Const("i", 3), Const("f", 1e16)])])
    assert format_trace(trace) == "[]\nfinish(3.0, 3, 1e+16)\n"
    kinds = [a.kind for a in parse_trace(format_trace(trace)).ops[0].args]
    assert kinds == ["f", "i", "f"]


@settings(deadline=None, max_examples=200)
@given(st.integers(0, 2**64 - 1))
def test_any_float_bit_pattern_round_trips(bits):
    value = float_from_bits(bits)
    trace = Trace([], [Op("finish", [Const("f", value)])])
    parsed = parse_trace(format_trace(trace))
    assert float_bits(parsed.ops[0].args[0].value) == bits


@settings(deadline=None, max_examples=100)
@given(st.integers(-2**63, 2**63 - 1) | st.booleans())
def test_any_int_constant_round_trips(value):
    trace = Trace([], [Op("finish", [Const("i", value)])])
    parsed = parse_trace(format_trace(trace)).ops[0].args[0]
    assert parsed == Const("i", value) and type(parsed.value) is type(value)


def test_object_constants_are_named_and_parse_back_to_the_same_objects():
    frame = Frame()
    p0 = Box("r")
    call = CallDescr("helper")
    ops = [Op("call_r", [Const("r", helper), p0, Const("r", frame)], call, Box("r")),
           Op("guard_class", [p0, Const("r", Frame)], snapshot=Snapshot([])),
           Op("guard_value", [p0, Const("r", None)], snapshot=Snapshot([])),
           Op("finish", [Const("r", frame)], None)]
    trace = Trace([p0], ops)
    text = format_trace(trace)
    assert text == (
        "[p0]\n"
        "p1 = call_r(ConstPtr(helper), p0, ConstPtr(frame), descr=helper_2)\n"
        "guard_class(p0, ConstPtr(Frame)) []\n"
        "guard_value(p0, null) []\n"
        "finish(ConstPtr(frame))\n")
    again = parse_trace(text, trace.objects)
    assert_same_trace(trace, again)
    assert again.ops[0].args[0].value is helper and again.ops[0].args[2].value is frame
    assert again.ops[1].args[1].value is Frame


def test_unknown_names_get_placeholders():
    trace = round_trip(
        "[p0]\n"
        "p1 = new_with_vtable(descr=Point)\n"
        "setfield(p1, p0, descr=Point.x)\n"
        "p2 = getfield(p0, descr=Frame.pc)\n"
        "guard_class(p2, ConstPtr(Frame)) [@interp#2: p1]\n"
        "i3 = arraylen(p0, descr=list)\n"
        "f4 = getarrayitem_f(p0, i3, descr=floats)\n"
        "p5 = call_pure_r(ConstPtr(f), i3, descr=calls_f)\n"
        "debug_merge_point(descr=loc)\n"
        "jump(p0, descr=loop1)\n")
    ops = trace.ops
    new, setfield, getfield = ops[0].descr, ops[1].descr, ops[2].descr
    assert isinstance(new, SizeDescr) and setfield.owner is new.cls
    assert new.cls.__qualname__ == "Point" and setfield.name == "x"
    assert getfield.owner.__qualname__ == "Frame" and getfield.name == "pc"
    assert ops[3].args[1].value is getfield.owner          # the class named Frame
    assert isinstance(ops[3].snapshot.frames[0].code, CodeRef)
    assert (ops[4].descr.storage, ops[4].descr.kind) == ("list", "r")
    assert ops[5].descr.kind == "f"
    assert ops[6].descr.elidable and ops[6].descr.result == "r"
    assert isinstance(ops[8].descr, TargetDescr) and ops[8].descr.name == "loop1"


def test_namespace_gives_the_objects():
    pc = FieldDescr(Frame, "pc")
    code = CodeRef("the portal")
    trace = round_trip("[p0]\np1 = getfield(p0, descr=pc)\nguard_nonnull(p1) [@portal#0: p1]\n"
                       "p2 = getfield(p0, descr=Frame.next)\nfinish(descr=done)\n",
                       {"pc": pc, "portal": code, "Frame": Frame})
    assert trace.ops[0].descr is pc
    assert trace.ops[1].snapshot.frames[0].code is code
    assert trace.ops[2].descr.owner is Frame


def test_forwarded_boxes_print_as_their_replacement():
    i0 = Box("i")
    add = Op("int_add", [i0, Const("i", 1)], None, Box("i"))
    mul = Op("int_mul", [add.result, Const("i", 2)], None, Box("i"))
    add.result.forwarded = i0            # the optimiser replaced i1 by i0
    trace = Trace([i0], [mul, Op("finish", [mul.result])])
    assert format_trace(trace) == "[i0]\ni1 = int_mul(i0, 2)\nfinish(i1)\n"


def test_descriptor_names_from_python_classes():
    def local():
        pass

    p0 = Box("r")
    x = FieldDescr(Point, "x")
    trace = Trace([p0], [Op("getfield", [p0], x, Box("r")),
                         Op("call_n", [Const("r", local)], CallDescr("3rd call"), None),
                         Op("finish", [])])
    assert format_trace(trace) == (
        "[p0]\np1 = getfield(p0, descr=Point.x)\n"
        "call_n(ConstPtr(test_descriptor_names_from_python_classes._locals_.local),"
        " descr=_3rd_call)\nfinish()\n")
    assert_same_trace(trace, parse_trace(format_trace(trace), trace.objects))


# --- errors -------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, column, message", [
    ("[i0]\ni1 = int_frob(i0)", 2, 6, "unknown operation 'int_frob'"),
    ("[i0]\ni1 = int_add(i0)", 2, 16, "int_add takes 2 arguments, got 1"),
    ("[i0, f1]\ni2 = int_add(i0, f1)", 2, 18, "argument 2 of int_add must be an int, got a float"),
    ("[i0]\ni1 = int_add(i0, i5)", 2, 18, "box i5 is not defined"),
    ("[i0]\ni0 = int_add(i0, 1)", 2, 1, "box i0 is defined twice"),
    ("[i0]\nf1 = int_add(i0, 1)", 2, 1, "box f1 must be named i..., it holds an int"),
    ("[i0]\ni1 = int_add(i0, $)", 2, 18, "unexpected character '$'"),
    ("[i0]\ni1 = int_add(i0, 1) [@p#0: i0]", 2, 21, "only a guard carries a snapshot"),
    ("[i0]\nguard_true(i0) [@p#0: v0]", 2, 23, "virtual v0 is not defined"),
    ("[i0]\nguard_true(i0) [@p#0: i0] {v1 = new(A)}", 2, 28, "virtual v1 is not in the snapshot"),
    ("i1 = int_add(i0, 1)", 1, 1, "a trace starts with its input boxes"),
    ("[i0]\nint_add(i0, 1, descr=x)", 2, 16, "int_add takes no descr"),
    ("[i0]\nsetfield(i0, i0, descr=A.b)", 2, 10, "argument 1 of setfield must be a reference"),
    ("[i0]\nguard_true(i0) [@p#-1: i0]", 2, 20, "expected a position"),
    ("[i0]\nguard_true(i0) [@p#0: i0", 2, 25, "expected ','"),
    ("[i0]\nfinish(i0) extra", 2, 12, "expected the end of the line, found 'extra'"),
    ("[i0]\nguard_value(i0, nan(0x10))", 2, 21, "nan(...) takes the 64-bit pattern"),
    ("[i0]\nlabel(i0, 1, descr=l)", 2, 11, "label arguments must be boxes"),
    ("[i0]\n\n# comment\n   jump(i0, descr=a)\nq2 = int_add(i0, 1)", 5, 1,
     "'q2' is not a box name"),
    ("", 1, 1, "empty trace"),
])
def test_parse_errors_say_where(text, line, column, message):
    with pytest.raises(ParseError) as info:
        parse_trace(text)
    err = info.value
    assert message in err.message
    assert (err.line, err.column) == (line, column)
    assert str(err).startswith(f"line {line}, column {column}: ")
    if text:
        source = text.splitlines()[line - 1]
        assert str(err).endswith(f"    {source}\n    {' ' * (column - 1)}^")


def test_a_name_of_the_wrong_descr_class_is_an_error():
    with pytest.raises(ParseError, match="'loop' is a TargetDescr, finish needs a ExitDescr"):
        parse_trace("[i0]\nlabel(i0, descr=loop)\nfinish(i0, descr=loop)")
    with pytest.raises(ParseError, match="is a SizeDescr, getfield needs a FieldDescr"):
        parse_trace("[p0]\np1 = getfield(p0, descr=d)", {"d": SizeDescr(object)})
