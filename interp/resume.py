"""Resuming the interpreter after a guard fails (or a trace aborts).

A snapshot names, for each interpreter frame (the portal first), a jitcode
position and the live values.  ``frames_from_snapshot`` turns it and the values
the failing guard handed back into concrete ``ResumeFrame``\\ s, materialising
virtual objects and performing the stores the optimiser delayed past the guard;
``frames_from_tracing`` does the same for the meta-interpreter's frames when a
trace aborts.  ``resume_frames`` runs them in the blackhole, innermost first,
each callee's result (or exception) handed to its caller, until the portal frame
reaches the next merge point (``MergePointReached``), returns or raises.
"""
from __future__ import annotations

from typing import Any

from metajit.interp.jitcode import AFTER_CALL, AFTER_CTOR, BEFORE, JitCode
from metajit.interp.values import MARKER_DESCRS, materialize
from metajit.tracer.ir import ArrayDescr, Box, Const, SizeDescr, Snapshot, Virtual


class ResumeFrame:
    __slots__ = ("jitcode", "block", "index", "mode", "env", "ctor_obj")

    def __init__(self, jitcode: JitCode, block, index: int, mode: str, env: dict,
                 ctor_obj: Any = None):
        self.jitcode = jitcode
        self.block = block
        self.index = index
        self.mode = mode
        self.env = env
        self.ctor_obj = ctor_obj


def decode_entry(entry, values: dict[int, Any], memo: dict[int, Any]) -> Any:
    """The concrete value of one snapshot entry."""
    if isinstance(entry, tuple):
        return bool(decode_entry(entry[0], values, memo))
    if isinstance(entry, Const):
        return entry.value
    if isinstance(entry, Box):
        box = entry.find()
        if isinstance(box, Const):
            return box.value
        value = values[id(box)]
        if box.kind == "i":
            return int(value)
        if box.kind == "f":
            return float(value)
        return value
    if isinstance(entry, Virtual):
        if id(entry) in memo:
            return memo[id(entry)]
        if isinstance(entry.descr, SizeDescr) and entry.descr not in MARKER_DESCRS:
            # an object of the program's: created first, so that its fields may
            # lead back to it (virtual objects may form cycles)
            obj = memo[id(entry)] = entry.descr.cls.__new__(entry.descr.cls)
            for field, sub in entry.fields.items():
                setattr(obj, getattr(field, "name", field), decode_entry(sub, values, memo))
            return obj
        if isinstance(entry.descr, ArrayDescr) and entry.descr.storage == "list":
            items = memo[id(entry)] = []            # a list may hold itself
            items.extend(decode_entry(entry.fields[i], values, memo)
                         for i in range(len(entry.fields)))
            return items
        fields = {k: decode_entry(v, values, memo) for k, v in entry.fields.items()}
        obj = materialize(entry.descr, fields)
        memo[id(entry)] = obj
        return obj
    raise TypeError(f"bad snapshot entry {entry!r}")


def frames_from_snapshot(snapshot: Snapshot, boxes: list, values: list) -> list[ResumeFrame]:
    by_box = {id(b): v for b, v in zip(boxes, values)}
    memo: dict[int, Any] = {}
    frames = []
    for fs in snapshot.frames:
        jc = fs.code
        block, index, mode = jc.at(fs.pc)
        live = jc.live(fs.pc)
        concrete = [decode_entry(e, by_box, memo) for e in fs.values]
        env = dict(zip(live, concrete))
        ctor = concrete[len(live)] if mode == AFTER_CTOR else None
        frames.append(ResumeFrame(jc, block, index, mode, env, ctor))
    for store in snapshot.stores:      # writes delayed past the guard
        store.perform(lambda e: decode_entry(e, by_box, memo))
    return frames


def frames_from_tracing(mi_frames: list) -> list[ResumeFrame]:
    """The meta-interpreter's frames (an aborted trace) as concrete ``ResumeFrame``\\ s:
    the top frame before its operation, each caller after its call.  A caller whose
    call is ``Cls(...)`` resumes with the new object, which its callee (the
    ``__init__`` frame) holds, as in ``MetaInterp.snapshot``."""
    frames = []
    for frame, callee in zip(mi_frames, mi_frames[1:] + [None]):
        env = {var: tv.value for var, tv in frame.env.items()}
        if callee is None:
            mode, ctor_obj = BEFORE, None
        elif callee.ctor_result is not None:
            mode, ctor_obj = AFTER_CTOR, callee.ctor_result.value
        else:
            mode, ctor_obj = AFTER_CALL, None
        frames.append(ResumeFrame(frame.jitcode, frame.block, frame.index, mode, env, ctor_obj))
    return frames


def resume_frames(frames: list[ResumeFrame], exc: BaseException | None = None) -> Any:
    """Run the frames to the end of the portal's iteration; returns a
    MergePointReached, or the portal's return value; raises what escapes it."""
    from metajit.interp.blackhole import get_blackhole
    if not frames:
        assert exc is not None
        raise exc
    raised: BaseException | None = exc
    result: Any = None
    last = len(frames) - 1
    for n in range(last, -1, -1):
        frame = frames[n]
        bh = get_blackhole(frame.jitcode.graph)
        portal = n == 0
        try:
            if n == last and frame.mode == BEFORE:
                result = bh.resume(frame.block, frame.index, frame.env, exc=raised,
                                   portal=portal)
            elif raised is not None:
                result = bh.resume(frame.block, frame.index, frame.env, exc=raised,
                                   portal=portal)
            else:
                op = frame.block.operations[frame.index]
                env = dict(frame.env)
                env[op.result] = frame.ctor_obj if frame.mode == AFTER_CTOR else result
                result = bh.resume(frame.block, frame.index + 1, env, portal=portal)
            raised = None
        except BaseException as e:  # noqa: B902 - the guest's exception, handed on
            if portal:
                raise
            raised = e
    return result
