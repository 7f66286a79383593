"""Buffers on native code: bytearray, every array.array typecode and numpy's 1-D
arrays, item by item against the reference backend (the ops), then guest loops
run with the JIT off and on native code (the tracer, the optimiser and the
backend together)."""
from __future__ import annotations

import array

import pytest

pytest.importorskip("llvmlite")
pytest.importorskip("numba")
np = pytest.importorskip("numpy")

from metajit.backend import native  # noqa: E402
from metajit.backend.buffers import STORAGES  # noqa: E402
from metajit.backend.reference import compile_unit as reference_unit  # noqa: E402
from metajit.tracer.ir import INT64_MAX, INT64_MIN, ArrayDescr  # noqa: E402

from test_pysource import TraceBuilder  # noqa: E402

ARRAY_CODES = "bBhHiIlLqQfd"
NUMPY_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float32", "float64", "bool"]


def make_buffer(storage: str, items):
    """A fresh buffer of ``storage`` holding ``items``."""
    if storage == "bytearray":
        return bytearray(items)
    kind, code = storage.split(":")
    if kind == "array":
        return array.array(code, items)
    return np.array(items, dtype=code)


def sample_items(storage: str) -> list:
    """Items at the edges of a storage's range."""
    s = STORAGES[storage]
    if s.pyclass is bool:
        return [True, False, True]
    if s.kind == "f":
        return [0.5, -1.25, 3.0e38 if s.size == 4 else 1e300, 0.1, -0.0]
    bits = 8 * s.size
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if s.signed else (0, (1 << bits) - 1)
    return [low, high, 0, 1, high // 3]


ALL_STORAGES = ["bytearray"] + [f"array:{c}" for c in ARRAY_CODES] + \
    [f"numpy:{d}" for d in NUMPY_DTYPES]


def outcome(unit, inputs):
    try:
        res = unit.run(list(inputs))
    except Exception as exc:     # both backends must raise alike
        return type(exc)
    return (None if res.guard is None else "guard", [(type(v), v) for v in res.values])


def both(trace):
    return native.compile_unit(trace), reference_unit(trace)


def _read_trace(storage: str):
    """len(seq), seq[i], and the int64 guard the tracer writes after a wide read."""
    descr = ArrayDescr(storage, STORAGES[storage].kind)
    b = TraceBuilder("ri")
    n = b.op("arraylen", b.inputs[0], descr=descr)
    name = "getarrayitem_f" if descr.kind == "f" else "getarrayitem_i"
    v = b.op(name, b.inputs[0], b.inputs[1], descr=descr)
    if STORAGES[storage].may_exceed_int64:
        b.op("guard_false", b.op("uint_rshift", v, 63), live=[b.inputs[0], b.inputs[1], v])
    b.finish(n, v)
    return b.trace()


@pytest.mark.parametrize("storage", ALL_STORAGES)
def test_items_read_as_python_reads_them(storage):
    ours, theirs = both(_read_trace(storage))
    data = make_buffer(storage, sample_items(storage))
    for index in range(-len(data) - 2, len(data) + 2):
        assert outcome(ours, [data, index]) == outcome(theirs, [data, index]), index
    for index in (INT64_MAX, INT64_MIN, 1 << 40, -(1 << 40)):
        assert outcome(ours, [data, index]) is IndexError


@pytest.mark.parametrize("storage", ALL_STORAGES)
def test_stores_write_what_python_writes(storage):
    s = STORAGES[storage]
    descr = ArrayDescr(storage, s.kind)
    b = TraceBuilder("ri" + s.kind)
    b.op("setarrayitem_f" if s.kind == "f" else "setarrayitem_i", *b.inputs, descr=descr)
    b.finish()
    ours, theirs = both(b.trace())
    values = sample_items(storage) + ([1e39, -1e300, float("inf"), float("nan")] if s.kind == "f"
                                      else [-1, 256, 1 << 40, INT64_MIN, INT64_MAX, 2, True])
    for value in values:
        if s.kind == "i" and not INT64_MIN <= value <= INT64_MAX:
            continue        # no int64: never an input of native code
        for index in (0, -1, 3, -4, INT64_MAX, INT64_MIN):
            mine, twin = make_buffer(storage, [0] * 3), make_buffer(storage, [0] * 3)
            with np.errstate(over="ignore"):
                expected = outcome(theirs, [twin, index, value])
            assert outcome(ours, [mine, index, value]) == expected, (value, index)
            assert list(mine) == list(twin) or str(mine) == str(twin), (value, index)


def test_uint64_items_beyond_int64_leave_with_their_exact_value():
    ours, theirs = both(_read_trace("numpy:uint64"))
    data = np.array([2**64 - 1, 2**63, 5], dtype=np.uint64)
    for index in (0, 1, 2):
        got, expected = ours.run([data, index]), theirs.run([data, index])
        assert got.values == expected.values[:len(got.values)] or got.guard is not None
        if index < 2:
            assert got.guard is not None and got.values[2] == int(data[index])
            assert type(got.values[2]) is int


def test_a_wide_read_without_its_guard_is_ineligible():
    descr = ArrayDescr("array:Q", "i")
    b = TraceBuilder("ri")
    b.finish(b.op("getarrayitem_i", *b.inputs, descr=descr))
    assert "array:Q" in native.eligible(b.trace())


def test_character_arrays_are_ineligible_with_a_reason():
    b = TraceBuilder("ri")
    b.finish(b.op("getarrayitem_i", *b.inputs, descr=ArrayDescr("array:u", "i")))
    assert native.eligible(b.trace()) == "array('u') items are characters"


def test_an_object_of_another_storage_is_never_read_as_the_traces():
    """The trace's guards make sure of the storage; should an object of another
    one reach native code anyway, it is not read (the run stops loudly)."""
    unit = native.compile_unit(_read_trace("array:q"))
    for other in (array.array("b", [1, 2]), np.zeros((2, 2)), np.zeros(4)[::2], bytearray(4)):
        with pytest.raises((RuntimeError, IndexError)):
            unit.run([other, 1])


def test_read_only_numpy_arrays_are_not_written():
    descr = ArrayDescr("numpy:int64", "i")
    b = TraceBuilder("rii")
    b.op("setarrayitem_i", *b.inputs, descr=descr)
    b.finish()
    unit = native.compile_unit(b.trace())
    data = np.zeros(3, dtype=np.int64)
    data.flags.writeable = False
    with pytest.raises(ValueError):
        unit.run([data, 0, 7])
    assert list(data) == [0, 0, 0]


# --- guest loops: JIT off against native code ----------------------------------------

from jitprogs.buffers import buffer_loop  # noqa: E402


def _snapshot(value):
    return None if value is None else [(type(x), x) for x in
                                        (value.tolist() if hasattr(value, "tolist") else value)]


def run_both(jit, op, make_inputs):
    """Runs ``buffer_loop(op, *make_inputs())`` with the JIT off and on native code
    at a low threshold; the results, and the buffers after, must be the same."""
    jit(enabled=False)
    inputs = make_inputs()
    expected = buffer_loop(op, *inputs), [_snapshot(x) for x in inputs]
    stats = jit(backend="native", threshold=3, bridge_threshold=2, native_threshold=0)
    native.COUNTERS.clear()
    inputs = make_inputs()
    got = buffer_loop(op, *inputs), [_snapshot(x) for x in inputs]
    assert got == expected
    return stats


def assert_native(stats):
    summary = stats.summary()
    assert stats.backend_counts["native"] >= 1, summary
    assert not stats.native_ineligible, dict(stats.native_ineligible)
    assert native.COUNTERS["entries"] >= 1, dict(native.COUNTERS)


def _items(storage, n=40):
    s = STORAGES[storage]
    if s.pyclass is bool:
        return [k % 3 == 0 for k in range(n)]
    if s.kind == "f":
        return [k * 0.1 - 1.5 for k in range(n)]
    return [k % 90 + (0 if not s.signed else -40) for k in range(n)]


BUFFER_STORAGES = [s for s in ALL_STORAGES if s != "bytearray"]


@pytest.mark.parametrize("storage", BUFFER_STORAGES)
def test_a_sum_over_a_buffer_runs_natively(jit, storage):
    op = "sum_float" if STORAGES[storage].kind == "f" else \
        "count_true" if STORAGES[storage].pyclass is bool else "sum_int"
    assert_native(run_both(jit, op, lambda: [make_buffer(storage, _items(storage))]))


@pytest.mark.parametrize("storage", BUFFER_STORAGES)
def test_a_scaling_loop_writes_buffers_natively(jit, storage):
    s = STORAGES[storage]
    op = "scale_float" if s.kind == "f" else "copy_bool" if s.pyclass is bool else "copy_int"
    assert_native(run_both(jit, op, lambda: [make_buffer(storage, _items(storage)),
                                             make_buffer(storage, [0] * 40)]))


def _body_ops(driver) -> list[str]:
    """The names of the ops of every compiled loop's body (after its last label)."""
    names = []
    for cell in driver.state.cells.values():
        for loop in (cell.loops or {}).values():
            ops = loop.unit.trace.ops
            last = max(k for k, op in enumerate(ops) if op.name == "label")
            names += [op.name for op in ops[last:]]
    return names


@pytest.mark.parametrize("storage", ["array:b", "array:Q", "numpy:uint64", "numpy:float32",
                                     "numpy:bool"])
def test_the_loop_body_reads_the_buffer_in_place(jit, storage):
    from jitprogs.buffers import buffer_driver
    s = STORAGES[storage]
    op = "sum_float" if s.kind == "f" else "count_true" if s.pyclass is bool else "sum_int"
    run_both(jit, op, lambda: [make_buffer(storage, _items(storage))])
    body = _body_ops(buffer_driver)
    assert ("getarrayitem_f" if s.kind == "f" else "getarrayitem_i") in body
    assert not any(name.startswith("call") for name in body), body


@pytest.mark.parametrize("storage", ["array:Q", "array:L", "numpy:uint64"])
def test_uint64_items_beyond_int64_come_out_exact(jit, storage):
    items = [5, 2**64 - 1, 7, 2**63, 2**63 - 1] * 8
    assert_native(run_both(jit, "sum_int", lambda: [make_buffer(storage, items)]))
    assert_native(run_both(jit, "copy_int", lambda: [make_buffer(storage, items),
                                                     make_buffer(storage, [0] * 40)]))


@pytest.mark.parametrize("storage", ["array:f", "numpy:float32"])
def test_float32_items_round_as_python_rounds_them(jit, storage):
    items = [0.1 * k for k in range(40)]
    assert_native(run_both(jit, "scale_float", lambda: [make_buffer(storage, items),
                                                        make_buffer(storage, [0.0] * 40)]))


def test_bool_arrays_give_bools(jit):
    items = [k % 3 == 1 for k in range(40)]
    assert_native(run_both(jit, "copy_bool", lambda: [np.array(items), np.zeros(40, bool)]))
    run_both(jit, "copy_int", lambda: [np.array(items), np.zeros(40, bool)])


@pytest.mark.parametrize("storage", ["array:b", "array:B", "array:H", "array:i", "array:I",
                                     "numpy:int8", "numpy:uint8", "numpy:int16",
                                     "numpy:uint32", "numpy:uint64", "array:Q"])
def test_stores_out_of_range_raise_as_without_the_jit(jit, storage):
    """``3 * x - 1`` leaves the item's range (or goes negative) late in the loop."""
    s = STORAGES[storage]
    high = (1 << (8 * s.size - (1 if s.signed else 0))) - 1
    items = [k + 1 for k in range(30)] + [high // 3 + 1] + [1] * 9
    if not s.signed:
        items[33] = 0           # 3 * 0 - 1 is negative
    stats = run_both(jit, "scale_int", lambda: [make_buffer(storage, items),
                                                make_buffer(storage, [0] * 40)])
    assert stats.backend_counts["native"] >= 1


@pytest.mark.parametrize("storage", ["array:h", "numpy:int32", "array:d"])
@pytest.mark.parametrize("index", [-1, -40, -41, 40, 2**40, -2**40, 2**63 - 1, -2**63])
def test_hostile_indexes_raise_index_error_as_without_the_jit(jit, storage, index):
    at = array.array("q", [k % 40 for k in range(30)] + [index] + [0] * 9)
    s = STORAGES[storage]
    op = "gather"
    if s.kind == "f":
        items = [float(k) for k in range(40)]
    else:
        items = list(range(40))
    assert_native(run_both(jit, op, lambda: [make_buffer(storage, items), None, at]))


@pytest.mark.parametrize("storage", ["array:i", "array:d", "array:B"])
def test_an_array_that_grows_in_the_loop(jit, storage):
    """``xs.append`` (a residual call) may move the items: native code reads the
    new address and length after it."""
    items = [k % 50 for k in range(20)]
    s = STORAGES[storage]
    make = (lambda: [array.array(storage[-1], [float(x) for x in items])]) if s.kind == "f" \
        else (lambda: [make_buffer(storage, items)])
    stats = run_both(jit, "grow", make)
    assert stats.backend_counts["native"] >= 1
    assert native.COUNTERS["calls"] >= 1
