"""Buffers native code reads and writes in place: one table, ``STORAGES``, from an
``ArrayDescr``'s storage name to how its items lie in memory, and what the run glue
tells native code about a buffer object (``describe``).

A storage is ``bytearray``, ``array:<typecode>`` (every typecode of ``array.array``
but the character ones) or ``numpy:<dtype>`` (1-D, C-contiguous, native byte
order).  Native code gets, beside each object of a run, its data address, its
length in items and its storage's number (``number``; 0 when it is no buffer
native code may touch, plus ``READ_ONLY`` for a numpy array that is not
writeable): every access checks the number and the bounds, so an object that is
not what the trace's guards said, or changed since, is never read as another
storage, and a read-only array is never written.

Addresses are read out of the objects themselves at every entry and after every
call or tick (a buffer export would block resizing; ``array.buffer_info()`` and
``__array_interface__`` are slower), at offsets checked once against the public
interfaces.
"""
from __future__ import annotations

import array
import ctypes
import dataclasses
import sys


@dataclasses.dataclass(frozen=True)
class Storage:
    """How the items of one storage lie in memory and what Python makes of them:
    ``llvm`` the item's LLVM type, ``size`` its bytes, ``kind`` 'i' or 'f',
    ``pyclass`` the class an item reads as, ``store_range`` the ints a store
    takes as they are (None: any int64; Python refuses the others, or, for a
    bool storage, keeps their truth), ``number`` the storage's number natively."""
    name: str
    llvm: str
    size: int
    signed: bool
    kind: str
    pyclass: type
    store_range: tuple[int, int] | None
    number: int

    @property
    def may_exceed_int64(self) -> bool:
        """An unsigned 64-bit item may be no int64: a read is followed by a guard."""
        return self.kind == "i" and self.size == 8 and not self.signed


READ_ONLY = 1 << 16     # added to a storage's number: reads only


def _int_range(size: int, signed: bool) -> tuple[int, int] | None:
    if size == 8:
        return None if signed else (0, (1 << 63) - 1)
    bits = 8 * size
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def _table() -> dict[str, Storage]:
    rows = [("bytearray", 1, False, "i", int)]
    for code in "bBhHiIlLqQ":
        rows.append((f"array:{code}", array.array(code).itemsize, code.islower(), "i", int))
    rows += [("array:f", 4, True, "f", float), ("array:d", 8, True, "f", float)]
    for bits in (8, 16, 32, 64):
        rows.append((f"numpy:int{bits}", bits // 8, True, "i", int))
        rows.append((f"numpy:uint{bits}", bits // 8, False, "i", int))
    rows += [("numpy:float32", 4, True, "f", float), ("numpy:float64", 8, True, "f", float),
             ("numpy:bool", 1, False, "i", bool)]
    table = {}
    for number, (name, size, signed, kind, pyclass) in enumerate(rows, 1):
        if kind == "f":
            llvm, store = ("float" if size == 4 else "double"), None
        else:
            llvm = f"i{8 * size}"
            store = None if pyclass is bool else _int_range(size, signed)
        table[name] = Storage(name, llvm, size, signed, kind, pyclass, store, number)
    return table


STORAGES: dict[str, Storage] = _table()
# array.array typecodes native code does not take, and why
UNSUPPORTED_TYPECODES = {"u": "array('u') items are characters", "w": "array('w') items are characters"}


def array_storage(obj) -> str | None:
    """The storage name of a buffer object whose items the trace may read as ints
    or floats (None for anything else: a 2-D or strided numpy array, a character
    array ...).  The strings are ``STORAGES``' own keys, so ``is`` compares them."""
    cls = type(obj)
    if cls is bytearray:
        return "bytearray"
    if cls is array.array:
        name = _ARRAY_NAMES.get(obj.typecode)
        return name
    if _is_ndarray(cls) and obj.ndim == 1 and obj.flags.c_contiguous:
        return _numpy_name(obj.dtype)
    return None


_ARRAY_NAMES = {name[6:]: name for name in STORAGES if name.startswith("array:")}


def _is_ndarray(cls) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and cls is numpy.ndarray


_NUMPY_NAMES: dict = {}


def _numpy_name(dtype) -> str | None:
    try:
        return _NUMPY_NAMES[dtype]
    except KeyError:
        pass
    name = STORAGES.get(f"numpy:{dtype.name}")
    name = name.name if name is not None and dtype.isnative else None
    _NUMPY_NAMES[dtype] = name
    return name


# --- addresses, read out of the objects -----------------------------------------------

_read = ctypes.c_size_t.from_address
_BYTEARRAY_START = 40   # offsetof(PyByteArrayObject, ob_start)
_ARRAY_ITEMS = 24       # offsetof(arrayobject, ob_item)
_NDARRAY_DATA = 16      # offsetof(PyArrayObject_fields, data)


def _bytearray_address_reader():
    probe = bytearray(b"xyz0123")
    del probe[:2]           # ob_start moves past ob_bytes
    expected = ctypes.addressof((ctypes.c_char * len(probe)).from_buffer(probe))
    if _read(id(probe) + _BYTEARRAY_START).value != expected:
        return lambda b: ctypes.addressof((ctypes.c_char * len(b)).from_buffer(b)) if b else 0
    return lambda b: _read(id(b) + _BYTEARRAY_START).value


def _array_address_reader():
    probe = array.array("q", range(5))
    if _read(id(probe) + _ARRAY_ITEMS).value != probe.buffer_info()[0]:
        return lambda a: a.buffer_info()[0]
    return lambda a: _read(id(a) + _ARRAY_ITEMS).value


_ndarray_address = None


def _ndarray_address_reader():
    import numpy
    probe = numpy.arange(8, dtype=numpy.int64)[3:]
    if _read(id(probe) + _NDARRAY_DATA).value != probe.__array_interface__["data"][0]:
        return lambda a: a.__array_interface__["data"][0]
    return lambda a: _read(id(a) + _NDARRAY_DATA).value


_bytearray_address = _bytearray_address_reader()
_array_address = _array_address_reader()


def is_buffer(obj) -> bool:
    cls = type(obj)
    return cls is bytearray or cls is array.array or _is_ndarray(cls)


def describe(obj) -> tuple[int, int, int]:
    """(data address, length in items, storage number) of a buffer object; (0, 0,
    0) for one native code must not touch."""
    global _ndarray_address
    cls = type(obj)
    if cls is bytearray:
        return (_bytearray_address(obj) if obj else 0), len(obj), STORAGES["bytearray"].number
    if cls is array.array:
        name = _ARRAY_NAMES.get(obj.typecode)
        if name is None:
            return 0, 0, 0
        return (_array_address(obj) if obj else 0), len(obj), STORAGES[name].number
    name = array_storage(obj)
    if name is None:
        return 0, 0, 0
    if _ndarray_address is None:
        _ndarray_address = _ndarray_address_reader()
    number = STORAGES[name].number + (0 if obj.flags.writeable else READ_ONLY)
    return _ndarray_address(obj), len(obj), number
