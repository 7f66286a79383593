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
