"""Tracing the items of ``array.array`` and numpy arrays: array ops on the buffer
(``getarrayitem_i``/``_f``, ``setarrayitem_i``/``_f``, ``arraylen``) with the
guards that make them mean what Python does.

- The storage (typecode or dtype, and for numpy 1-D and C-contiguous) is guarded
  once per object: an elidable call of ``array_storage`` and a ``guard_value`` on
  the very string of ``backend.buffers.STORAGES``.
- An item reads as Python sees it: an array.array item is a plain int or float
  already; a numpy item is a numpy scalar, whose arithmetic is not Python's
  (``int8(100) + 100`` wraps), so a numpy item is traced only when the guest
  converts it at once (``int(a[i])``, ``float(a[i])``, ``bool(a[i])``), and is
  otherwise a residual call.  An unsigned 64-bit item may be no int64: a guard
  after the read (``uint_rshift(item, 63)`` is 0) leaves when it is not.
- A store is traced when Python would take the value as it is: an int within
  the item's range (guarded; outside it Python raises, and the trace leaves
  before the store so that Python does), a float into a float array (numpy warns
  when a float32 store overflows: the trace leaves for that too).  Anything else
  is a residual call of ``operator.setitem``.
"""
from __future__ import annotations

import array
import operator

from metajit.backend.buffers import STORAGES, Storage, array_storage
from metajit.tracer.ir import ArrayDescr, Const, const_int, const_ref, fits_int64

DESCRS: dict[str, ArrayDescr] = {name: ArrayDescr(name, s.kind) for name, s in STORAGES.items()}
FLOAT32_MAX = 3.4028234663852886e38
CONVERSIONS = (int, float, bool)


def item_storage(value) -> Storage | None:
    """The storage of an array.array or numpy array whose items the trace reads
    and writes in place; None for anything else."""
    if type(value) is bytearray:
        return None
    name = array_storage(value)
    return None if name is None else STORAGES[name]


def ensure_storage(mi, seq, storage: Storage) -> None:
    """Make the trace know ``seq``'s storage (its class first)."""
    mi.ensure_class(seq)
    box = seq.box
    if box.is_const() or mi.known_storage.get(id(box)) == storage.name:
        return
    # a guard_no_exception after the call lets native code make it (a bridge
    # that checks the storage again runs natively)
    tv = mi.residual_call(array_storage, [seq], elidable=True)
    mi.guard("guard_value", [tv.box, const_ref(storage.name)])
    mi.known_storage[id(box)] = storage.name
    mi._keep(box)


def trace_len(mi, seq, storage: Storage):
    from metajit.interp.values import TV
    ensure_storage(mi, seq, storage)
    return TV(len(seq.value), mi.record("arraylen", [mi.as_ref(seq)], len(seq.value),
                                        DESCRS[storage.name]).box)


def trace_getitem(mi, op, seq, index, storage: Storage, checked_index, converted_at_once):
    """``seq[index]``; None when it is not traced as an item read."""
    value = seq.value
    numpy = type(value) is not array.array
    if numpy and not converted_at_once(mi, op, CONVERSIONS):
        return None
    item = value[index.value]
    if numpy:
        item = item.item()
    if storage.kind == "i" and not fits_int64(item):
        return None
    ensure_storage(mi, seq, storage)
    ibox = checked_index(mi, seq, index)
    if ibox is None:
        return None
    name = "getarrayitem_f" if storage.kind == "f" else "getarrayitem_i"
    tv = mi.record(name, [mi.as_ref(seq), ibox], item, DESCRS[storage.name])
    if storage.may_exceed_int64 and not tv.box.is_const():
        high = mi.record("uint_rshift", [tv.box, const_int(63)], 0).box
        mi.guard("guard_false", [high])
    return tv


def _storable(storage: Storage, item) -> bool:
    if storage.kind == "f":
        return type(item) is float and (storage.size == 8 or abs(item) <= FLOAT32_MAX)
    if not ((type(item) is int or type(item) is bool) and fits_int64(item)):
        return False
    if storage.store_range is None:
        return True
    low, high = storage.store_range
    return low <= item <= high


def trace_setitem(mi, seq, index, item, storage: Storage, checked_index):
    """``seq[index] = item``; None when it is not traced as an item store."""
    from metajit.interp.values import const_tv
    value = seq.value
    numpy = type(value) is not array.array
    if not _storable(storage, item.value):
        return None
    ensure_storage(mi, seq, storage)
    ibox = checked_index(mi, seq, index)
    if ibox is None:
        return None
    if storage.kind == "f":
        vbox = mi.as_float(item)
        if numpy and storage.size == 4 and not vbox.is_const():
            size = mi.record("float_abs", [vbox], abs(item.value)).box
            fits = mi.record("float_le", [size, Const("f", FLOAT32_MAX)], True).box
            mi.guard("guard_true", [fits])
        name = "setarrayitem_f"
    else:
        vbox = mi.as_int(item)
        if storage.store_range is not None and not vbox.is_const():
            low, high = storage.store_range
            if low < 0:
                above = mi.record("int_ge", [vbox, const_int(low)], True).box
                mi.guard("guard_true", [above])
            if high == (1 << 63) - 1:
                mi.guard("guard_true", [mi.record("int_ge", [vbox, const_int(0)], True).box])
            else:
                mi.guard("guard_true", [mi.record("uint_lt" if low == 0 else "int_le",
                                                  [vbox, const_int(high + (low == 0))],
                                                  True).box])
        name = "setarrayitem_i"
    operator.setitem(value, index.value, item.value)
    mi.rec.record(name, [mi.as_ref(seq), ibox, vbox], DESCRS[storage.name])
    return const_tv(None)
