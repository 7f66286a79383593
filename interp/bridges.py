"""Bridges: a guard that fails often gets a trace of its own, attached to it.

The bridge is recorded from the guard's snapshot: the meta-interpreter's frames are
rebuilt from it, each live value a fresh input box holding the value the failing
guard handed back, and recording runs until a merge point: a jump to the loop
compiled for that key, or a ``finish`` that hands the values back to the portal.
A bridge whose jump goes to the start of a peeled loop may enter the loop's body
instead (see interp/optimize.py).
"""
from __future__ import annotations

import time
from typing import Any

from metajit.interp.jitcode import AFTER_CTOR
from metajit.interp.metainterp import MetaInterp, MIFrame
from metajit.interp.stats import get_stats
from metajit.interp.values import (LIST_ITER_DESCR, MARKER_DESCRS, RANGE_DESCR,
                                   RANGE_ITER_DESCR, TUPLE_DESCR, TV, VListIter, VRange, VRangeIter, VTuple,
                                   const_tv, field_values, materialize)
from metajit.tracer.ir import ArrayDescr, Box, Const, SizeDescr, Virtual, failargs
from metajit.tracer.recorder import Recorder


def _entry_tv(entry, boxes: dict, values: dict, memo: dict, mi: MetaInterp) -> TV:
    if isinstance(entry, tuple):
        tv = _entry_tv(entry[0], boxes, values, memo, mi)
        tv.value = bool(tv.value)
        return tv
    if isinstance(entry, Const):
        return const_tv(entry.value)
    if isinstance(entry, Box):
        box = entry.find()
        if isinstance(box, Const):
            return const_tv(box.value)
        value = values[id(box)]
        if box.kind == "i":
            value = int(value)
        elif box.kind == "f":
            value = float(value)
        return TV(value, boxes[id(box)])
    if isinstance(entry, Virtual):
        if id(entry) in memo:
            return memo[id(entry)]
        if isinstance(entry.descr, SizeDescr) and entry.descr not in MARKER_DESCRS:
            return _program_object(entry, boxes, values, memo, mi)
        if isinstance(entry.descr, ArrayDescr) and entry.descr.storage == "list":
            from metajit.interp.tracing_rules import _make_list
            items = [_entry_tv(entry.fields[i], boxes, values, memo, mi)
                     for i in range(len(entry.fields))]
            tv = memo[id(entry)] = mi.residual_call(_make_list, items, can_raise=False)
            return tv
        fields = field_values({k: _entry_tv(v, boxes, values, memo, mi)
                               for k, v in entry.fields.items()})
        concrete = materialize(entry.descr, {k: tv.value for k, tv in fields.items()})
        descr = entry.descr
        if descr is TUPLE_DESCR:
            virtual = VTuple([fields[i] for i in range(len(fields))])
        elif descr is RANGE_DESCR:
            virtual = VRange(fields["start"], fields["stop"], fields["step"])
        elif descr is RANGE_ITER_DESCR:
            virtual = VRangeIter(fields["cur"], fields["stop"], fields["step"])
        elif descr is LIST_ITER_DESCR:
            virtual = VListIter(fields["lst"], fields["index"])
        else:
            raise TypeError(f"cannot rebuild a virtual of {descr!r} for a bridge")
        tv = TV(concrete, None, virtual)
        memo[id(entry)] = tv
        return tv
    raise TypeError(f"bad snapshot entry {entry!r}")


def _program_object(entry: Virtual, boxes: dict, values: dict, memo: dict,
                    mi: MetaInterp) -> TV:
    """An object of the program's that the loop never created (allocation removal):
    the bridge creates it, as the interpreter would have, and the bridge's own
    optimisation may remove that allocation again."""
    cls = entry.descr.cls
    obj = cls.__new__(cls)
    box = mi.rec.record("new_with_vtable", [], entry.descr, obj)
    mi.known_class[id(box)] = cls
    mi._keep(box)
    tv = memo[id(entry)] = TV(obj, box)
    for field, sub in entry.fields.items():
        value = _entry_tv(sub, boxes, values, memo, mi)
        setattr(obj, field.name, value.value)
        mi.rec.record("setfield", [box, mi.as_ref(value)], field, None)
    return tv


def trace_bridge(warm, loop, unit, guard, fail_values: list) -> Any:
    stats = get_stats()
    warm.tracing = True
    t0 = time.perf_counter()
    try:
        limit = warm.params_get("trace_limit")
        rec = Recorder(f"bridge{stats.bridges}", limit + 1000)
        boxes_in = failargs(guard)
        boxes: dict[int, Box] = {}
        values: dict[int, Any] = {}
        for box, value in zip(boxes_in, fail_values):
            boxes[id(box)] = rec.input(box.kind, box.pyclass)
            values[id(box)] = value
        mi = MetaInterp(warm, rec, limit)
        mi.started = True
        memo: dict = {}
        frames = []
        for fs in guard.snapshot.frames:
            jc = fs.code
            block, index, mode = jc.at(fs.pc)
            live = jc.live(fs.pc)
            tvs = [_entry_tv(e, boxes, values, memo, mi) for e in fs.values]
            frame = MIFrame(jc, block, index, dict(zip(live, tvs)), is_portal=not frames)
            if frames and frames[-1].ctor_pending is not None:
                frame.ctor_result = frames[-1].ctor_pending
            frame.ctor_pending = tvs[len(live)] if mode == AFTER_CTOR else None
            frames.append(frame)
        mi.frames = frames
        for obj, descr, value, index in guard.snapshot.stores:   # delayed past the guard
            obj_tv = _entry_tv(obj, boxes, values, memo, mi)
            value_tv = _entry_tv(value, boxes, values, memo, mi)
            if index is None:
                setattr(obj_tv.value, descr.name, value_tv.value)
                rec.record("setfield", [mi.as_ref(obj_tv), mi.as_ref(value_tv)], descr)
            else:
                # an array's item; its index and value were checked where the
                # store was made
                index_tv = _entry_tv(index, boxes, values, memo, mi)
                obj_tv.value[index_tv.value] = value_tv.value
                as_kind = {"i": mi.as_int, "f": mi.as_float, "r": mi.as_ref}[descr.kind]
                rec.record(f"setarrayitem_{descr.kind}", [mi.as_ref(obj_tv), mi.as_int(index_tv),
                                                          as_kind(value_tv)], descr)
        outcome = warm._run_until_closed(mi, rec, None, None, is_bridge=True)
        if outcome is not None:
            if getattr(mi, "aborted", False):
                gid = id(guard)
                loop.bridge_aborts[gid] = loop.bridge_aborts.get(gid, 0) + 1
                loop.guard_counts[gid] = 0
            return outcome
        stats.time_tracing += time.perf_counter() - t0
        warm._compile(rec, None, label=False, guard=guard, unit=unit, owner=loop)
        warm._depend_on_quasi_fields(mi, unit)
        loop.assumptions.extend(mi.assumptions)
        stats.bridges += 1
        warm.log(f"bridge {rec.trace.name} attached to a guard of "
                 f"{loop.target.name}: {len(rec.trace.ops)} ops")
        return (False, warm._concrete_merge_values(mi))
    finally:
        warm.tracing = False
