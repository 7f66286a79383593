"""The warm state of one JitDriver: hot counters, compiled loops, and what happens
when the portal's merge point finds a key hot.

The portal's inline fast path (``interp.portal``) keeps a ``Cell`` per raw green
key and counts down; at zero it calls ``on_hot``, which runs compiled code, traces
a new loop, or says "carry on".  It answers None (carry on), ``(False, values)``
(carry on from these greens and reds: compiled code or the blackhole stopped at a
merge point) or ``(True, result)`` (the portal returns ``result``).
"""
from __future__ import annotations

import os
import struct
import sys
import weakref
import time
from typing import Any

from metajit.interp.jitcode import JitCode, get_jitcode
from metajit.interp.metainterp import (AbortTrace, MergePoint, MetaInterp, MIFrame,
                                       PortalReturned)
from metajit.interp.params import get_config
from metajit.interp.resume import (ResumeFrame, frames_from_snapshot, frames_from_tracing,
                                   resume_frames)
from metajit.interp.stats import get_stats
from metajit.interp.values import TV, const_tv, kind_of
from metajit.interp.flowmodel import Variable
from metajit.tracer.ir import (ExitDescr, GreenKeyDescr, Op, TargetDescr, const_ref, failargs)
from metajit.tracer.recorder import Recorder

NEVER = (1 << 30) - 1      # a counter that does not reach zero (a one-digit int: fast)

_all_states: "weakref.WeakSet[WarmState]" = weakref.WeakSet()


def reset_all_states() -> None:
    """Forget every driver's counters and compiled code (tests, reconfiguration)."""
    for state in list(_all_states):
        state.reset()


def threshold_changed(driver=None) -> None:
    """``set_param(driver, "threshold", n)``: the driver's keys (every driver's for
    None) count towards the new threshold."""
    if driver is not None and driver.state is not None:
        driver.state.threshold_changed()
    else:
        for state in list(_all_states):
            state.threshold_changed()


def _count_backend_change(old: str, new: str, reason: str | None) -> None:
    """A tiered unit went native (or found it cannot): the counts follow."""
    stats = get_stats()
    if new != old:
        stats.backend_counts[old] -= 1
        stats.backend_counts[new] += 1
    if reason is not None:
        stats.native_ineligible[reason] += 1


class Cell:
    """The counter of one raw green key, and the loops compiled for it (by typed key:
    the raw key counts ``1``, ``1.0`` and ``True`` together)."""
    __slots__ = ("counter", "loops", "aborts", "greens")

    def __init__(self, counter: int, greens: tuple):
        self.counter = counter
        self.loops: dict | None = None
        self.aborts = 0
        self.greens = greens      # holds identity-keyed greens alive


def typed_key(greens: tuple) -> tuple:
    """Greens compare by type and value (ints, bools, strings, None), floats by bit
    pattern, anything else by identity."""
    key = []
    for g in greens:
        t = type(g)
        if t is float:
            key.append((t, struct.pack("<d", g)))
        elif t in (int, bool, str, bytes, type(None)):
            key.append((t, g))
        else:
            key.append((t, id(g)))
    return tuple(key)


class CompiledLoop:
    """A loop trace compiled for one green key."""

    def __init__(self, key: tuple, greens: tuple, target: TargetDescr, unit,
                 input_classes: list):
        self.key = key
        self.greens = greens           # held alive: identity keys must not be reused
        self.target = target
        self.unit = unit
        self.input_classes = input_classes   # per red: int/bool/float, or None for refs
        self.assumptions: list = []      # hint checking: (check, message) pairs
        self.guard_counts: dict[int, int] = {}
        self.failargs: dict[int, list] = {}      # id(guard) -> its failargs, once
        self.bridge_aborts: dict[int, int] = {}
        # guards of bridges' copies of the preamble: a bridge from one of them
        # jumps to the loop's start (see interp/bridges.py, body_entry)
        self.copied_guards: set[int] = set()
        # (object, field) of the quasi-immutable fields the loop's trace read as
        # constants: code that copies its preamble relies on them too
        self.quasi_deps: list = []

    def convert_inputs(self, reds: tuple) -> list | None:
        for value, cls in zip(reds, self.input_classes):
            if cls is not None:
                if type(value) is not cls:
                    return None
                if cls is int and not -0x8000000000000000 <= value <= 0x7FFFFFFFFFFFFFFF:
                    return None
        return list(reds)


class WarmState:
    def __init__(self, driver, func):
        self.driver = driver
        self.func = func                       # the portal as written
        self.portal_module = func.__module__ or ""
        self.params: dict[str, Any] = {}
        self.cells: dict = {}
        self.tracing = False
        self._jitcode: JitCode | None = None
        self._merge_position = None
        self.loop_count = 0
        self.green_names = tuple(driver.greens)
        self.red_names = tuple(driver.reds)
        _all_states.add(self)

    def reset(self) -> None:
        self.cells.clear()      # the fast path holds this very dict
        self.params.clear()
        self.loop_count = 0
        self.tracing = False

    # --- parameters ----------------------------------------------------------
    def params_get(self, name: str) -> Any:
        return get_config().get(name, self.driver)

    def threshold_changed(self) -> None:
        """-1 stops new tracing: the counters stop (compiled code is still entered).
        Another value starts counting again for the keys stopped that way
        (blacklisted keys stay blacklisted)."""
        threshold = self.params_get("threshold")
        max_aborts = self.params_get("max_aborts")
        for cell in self.cells.values():
            if threshold < 0:
                if cell.loops is None:
                    cell.counter = NEVER
            elif cell.counter > NEVER // 2 and cell.aborts < max_aborts:
                cell.counter = threshold

    # --- the cold path's slow part -------------------------------------------
    def new_cell(self, raw_key, greens: tuple) -> Cell:
        cell = None
        if any(type(g) is float and g != g for g in greens):
            # NaN != NaN: a NaN green held by another object misses the raw dict.
            # Keys compare floats by their bits: share the cell of the same key.
            key = typed_key(greens)
            for other in self.cells.values():
                if typed_key(other.greens) == key:
                    cell = other
                    break
        if cell is None:
            threshold = self.params_get("threshold")
            cell = Cell(threshold if threshold >= 0 else NEVER, greens)
        self.cells[raw_key] = cell
        return cell

    def on_hot(self, cell: Cell, greens: tuple, reds: tuple):
        cell.counter = 0
        key = typed_key(greens)
        if cell.loops is not None:
            loop = cell.loops.get(key)
            if loop is not None and getattr(loop.unit, "invalidated", False):
                # a quasi-immutable field it read as a constant was written: trace again
                del cell.loops[key]
                self.log(f"loop {loop.target.name} invalidated: traced again")
                loop = None
            if loop is not None:
                return self.run_compiled(loop, reds)
        if self.tracing or self.params_get("threshold") < 0:
            cell.counter = NEVER if not self.tracing else self.params_get("threshold")
            return None
        if cell.aborts >= self.params_get("max_aborts"):
            cell.counter = NEVER
            return None
        return self.trace_loop(cell, key, greens, reds)

    # --- the portal's flow graph ---------------------------------------------
    def portal_jitcode(self) -> JitCode:
        if self._jitcode is None:
            jc = get_jitcode(self.func)
            for block in jc.blocks:
                for index, op in enumerate(block.operations):
                    if op.opname == "jit_merge_point":
                        self._merge_position = (block, index)
            if self._merge_position is None:
                raise AbortTrace("no jit_merge_point in the portal's flow graph")
            self._jitcode = jc
        return self._jitcode

    # --- tracing ---------------------------------------------------------------
    def trace_loop(self, cell: Cell, key: tuple, greens: tuple, reds: tuple):
        stats = get_stats()
        self.tracing = True
        t0 = time.perf_counter()
        limit = self.params_get("trace_limit")
        rec = Recorder(f"loop{self.loop_count}", limit + 1000)
        mi = MetaInterp(self, rec, limit)
        try:
            try:
                jc = self.portal_jitcode()
            except Exception as exc:
                from metajit.interp.flowbuilder import UnsupportedConstruct
                if isinstance(exc, UnsupportedConstruct) and self.params_get("strict"):
                    from metajit.interp.calls import UnsupportedInStrict
                    raise UnsupportedInStrict(
                        f"{exc.construct} not supported in the portal at "
                        f"{exc.filename}:{exc.lineno} (in function {exc.funcname}); move "
                        f"it into a helper marked @dont_look_inside") from None
                if isinstance(exc, (UnsupportedConstruct, AbortTrace)):
                    self._abort(cell, str(exc))
                    cell.counter = NEVER      # the portal cannot be traced: never again
                    cell.aborts = max(cell.aborts, self.params_get("max_aborts"))
                    get_stats().blacklisted += 1
                    return None
                raise
            block, index = self._merge_position
            op = block.operations[index]
            values = dict(zip(self.green_names, greens))
            values.update(zip(self.red_names, reds))
            var_of = dict(zip(op.args[1].value, op.args[2:]))
            env: dict = {}
            input_classes = []
            for name in self.red_names:
                value = values[name]
                kind = kind_of(value)
                box = rec.input(kind, type(value) if kind == "i" else None)
                env[var_of[name]] = TV(value, box)
                input_classes.append(type(value) if kind != "r" else None)
            for name in self.green_names:
                env[var_of[name]] = const_tv(values[name])
            if isinstance(op.args[0], Variable):
                env[op.args[0]] = const_tv(self.driver)
            mi.frames = [MIFrame(jc, block, index, env, is_portal=True)]
            target = TargetDescr(f"loop{self.loop_count}")
            self._record_marker(rec, greens)
            outcome = self._run_until_closed(mi, rec, key, target, is_bridge=False)
            if outcome is None:        # closed: compile it
                loop = CompiledLoop(key, greens, target, None, input_classes)
                target.owner = loop
                loop.assumptions = mi.assumptions + self._green_assumptions(greens)
                t1 = time.perf_counter()
                stats.time_tracing += t1 - t0
                loop.quasi_deps = list(mi.quasi_deps)
                loop.unit = self._compile(rec, target, label=True)
                self._depend_on_quasi_fields(mi, loop.unit)
                if cell.loops is None:
                    cell.loops = {}
                cell.loops[key] = loop
                self.loop_count += 1
                stats.loops += 1
                self.log(f"loop {target.name} compiled for {self.printable(greens)}: "
                         f"{len(rec.trace.ops)} ops")
                return (False, self._concrete_merge_values(mi))
            self._after_abort(cell)
            return outcome
        finally:
            self.tracing = False

    def printable(self, greens: tuple) -> str:
        printable = self.driver.get_printable_location
        try:
            return str(printable(*greens)) if printable else repr(greens)
        except Exception:   # a user's printable location must not break tracing
            return repr(greens)

    def log(self, message: str) -> None:
        if get_config().log:
            print(f"[metajit] {self.driver.name}: {message}", file=sys.stderr)

    def _record_marker(self, rec: Recorder, greens: tuple) -> None:
        rec.record("debug_merge_point", [], GreenKeyDescr(self.printable(greens)))

    def _run_until_closed(self, mi: MetaInterp, rec: Recorder, start_key, target,
                          is_bridge: bool):
        """Run the meta-interpreter until the trace ends at a merge point.  Returns
        None when the trace ended (jump or finish recorded; the meta-interpreter
        stands at that merge point), else what the portal should do after an abort."""
        stats = get_stats()
        t0 = time.perf_counter()
        passed: set = set()          # the keys this trace went through
        while True:
            try:
                mi.run()
            except MergePoint as mp:
                greens = tuple(self._promote(mi, g) for g in mp.greens)
                key = typed_key(greens)
                mi.merge_values = (greens, tuple(tv.value for tv in mp.reds))
                if not is_bridge and key == start_key:
                    self._jump(mi, rec, mp.reds, target, self._own_classes(mi))
                    return None
                loop = self._loop_for(greens, key)
                if loop is not None:
                    if self._jump(mi, rec, mp.reds, loop.target, loop.input_classes):
                        return None
                    return self._give_up(mi, "a red changed its type at a loop's entry")
                if is_bridge and (key in passed or len(rec.trace.ops) > self._bridge_limit()):
                    # a bridge goes on through merge points without code, to reach
                    # one that has a loop; it ends where it would go round in circles
                    args = [const_ref(g) for g in greens] + [mi.as_ref(tv) for tv in mp.reds]
                    rec.record("finish", args, ExitDescr("merge_point"))
                    return None
                passed.add(key)
                self._record_marker(rec, greens)
                mi.frames[-1].index += 1
                continue
            except AbortTrace as abort:
                stats.time_tracing += time.perf_counter() - t0
                return self._give_up(mi, abort.reason, abort.exc)
            except PortalReturned as ret:
                stats.time_tracing += time.perf_counter() - t0
                stats.aborts["the portal returned while tracing"] += 1
                return (True, ret.value)

    def _bridge_limit(self) -> int:
        """Ops after which a bridge ends at the next merge point instead of going
        on to one with a loop (half the trace limit: room to finish the iteration)."""
        return self.params_get("trace_limit") // 2

    def _own_classes(self, mi):
        return [box.pyclass if box.kind == "i" else (float if box.kind == "f" else None)
                for box in mi.rec.trace.inputargs]

    def _promote(self, mi: MetaInterp, tv: TV) -> Any:
        if not tv.is_const() and tv.box is not None:
            from metajit.tracer.ir import Const
            mi.guard("guard_value", [tv.box, Const(tv.box.kind, tv.value)])
        elif tv.box is None:
            mi.as_ref(tv)
        return tv.value

    def _jump(self, mi: MetaInterp, rec: Recorder, reds: list, target, classes) -> bool:
        args = []
        for tv, cls in zip(reds, classes):
            if cls is None:
                args.append(mi.as_ref(tv))
            elif type(tv.value) is not cls:
                return False
            elif cls is float:
                args.append(mi.as_float(tv))
            else:
                if kind_of(tv.value) != "i":
                    return False
                args.append(mi.as_int(tv))
        rec.record("jump", args, target)
        return True

    def _loop_for(self, greens: tuple, key: tuple):
        raw = self._raw_key(greens)
        try:
            cell = self.cells.get(raw)
        except TypeError:
            return None
        if cell is None or cell.loops is None:
            return None
        return cell.loops.get(key)

    def _raw_key(self, greens: tuple):
        from metajit.interp.portal import raw_key
        return raw_key(greens)

    def _concrete_merge_values(self, mi: MetaInterp) -> tuple:
        greens, reds = mi.merge_values
        return tuple(greens) + tuple(reds)

    def _give_up(self, mi: MetaInterp, reason: str, exc: BaseException | None = None):
        """Abort: count it, back the key off, and finish the iteration in the blackhole
        from where the meta-interpreter stands."""
        stats = get_stats()
        stats.aborts[reason] += 1
        self.log(f"trace aborted: {reason}")
        mi.aborted = True
        return self._blackhole(frames_from_tracing(mi.frames), exc)

    def _after_abort(self, cell: Cell) -> None:
        """Back the key off after an abort; blacklist it after ``max_aborts``."""
        cell.aborts += 1
        if cell.aborts >= self.params_get("max_aborts"):
            cell.counter = NEVER
            get_stats().blacklisted += 1
        else:
            cell.counter = self.params_get("threshold") * \
                self.params_get("abort_backoff") ** cell.aborts

    def _abort(self, cell: Cell, reason: str) -> None:
        stats = get_stats()
        stats.aborts[reason] += 1
        cell.aborts += 1

    def _blackhole(self, frames: list[ResumeFrame], exc: BaseException | None):
        from metajit.interp.blackhole import MergePointReached
        stats = get_stats()
        t0 = time.perf_counter()
        try:
            result = resume_frames(frames, exc)
        finally:
            stats.time_blackhole += time.perf_counter() - t0
        if isinstance(result, MergePointReached):
            values = dict(zip(result.names, result.values))
            return (False, tuple(values[n] for n in self.green_names + self.red_names))
        return (True, result)

    # --- compiling -------------------------------------------------------------
    def _compile(self, rec: Recorder, target: TargetDescr | None, label: bool,
                 guard=None, unit=None, owner=None):
        """Optimise and compile the loop ``target`` or a bridge of ``owner`` from
        ``guard`` (of ``unit``).  Returns the unit."""
        from metajit.backend.base import get_backend
        from metajit.interp import quasi
        from metajit.interp.optimize import optimize_trace
        stats = get_stats()
        trace = rec.trace
        if label:
            trace.ops.insert(0, Op("label", list(trace.inputargs), target))
        stats.traced_ops += len(trace.ops)
        self._dump(trace, "recorded")
        t0 = time.perf_counter()
        owner = owner if owner is not None else target.owner
        trace, entered = optimize_trace(trace, self, owner, guard)
        t1 = time.perf_counter()
        stats.time_optimizing += t1 - t0
        stats.optimized_ops += len(trace.ops)
        self._dump(trace, "optimized")
        if guard is not None:
            unit.attach_bridge(guard, trace)
            result = unit
            backend = unit.bridge_runs_on(guard)
            reason = getattr(unit, "bridge_reason", {}).get(id(guard))
        else:
            result = get_backend(get_config().backend,
                                 native_threshold=self.params_get("native_threshold"),
                                 max_code_mb=self.params_get("max_code_mb"),
                                 cache_dir=self.params_get("cache_dir"))(trace)
            backend = result.backend_name
            reason = getattr(result, "native_reason", None)
            if hasattr(result, "on_backend_change"):
                result.on_backend_change = _count_backend_change
        if entered is not None and entered is not owner:
            # the copy of the other loop's preamble relies on what that loop does
            for obj, name in entered.quasi_deps:
                quasi.depend(obj, name, result)
            owner.assumptions.extend(entered.assumptions)
            if guard is None:
                owner.quasi_deps.extend(entered.quasi_deps)
        stats.time_compiling += time.perf_counter() - t1
        stats.backend_counts[backend] += 1
        if reason is not None:
            stats.native_ineligible[reason] += 1
        return result

    @staticmethod
    def _depend_on_quasi_fields(mi: MetaInterp, unit) -> None:
        from metajit.interp import quasi
        for obj, name in mi.quasi_deps:
            quasi.depend(obj, name, unit)

    def _dump(self, trace, stage: str) -> None:
        directory = get_config().dump_dir
        if not directory:
            return
        from metajit.tracer.text import format_trace
        os.makedirs(directory, exist_ok=True)
        stats = get_stats()
        n = stats.loops + stats.bridges
        if stage == "recorded":
            self._dump_step = 0
        elif stage != "optimized":       # after a pass: numbered, so that they sort
            self._dump_step = getattr(self, "_dump_step", 0) + 1
            stage = f"{self._dump_step:02d}-{stage}"
        path = os.path.join(directory, f"{n:04d}-{trace.name}.{stage}.txt")
        with open(path, "w") as f:
            f.write(format_trace(trace))

    def _green_assumptions(self, greens: tuple) -> list:
        """Hint checking: a mutable object used as a green must not change."""
        if not self.params_get("check_hints"):
            return []
        out = []
        for name, value in zip(self.green_names, greens):
            if isinstance(value, (list, dict, bytearray, set)):
                out.append((lambda v=value, c=value.copy(): v == c,
                            f"green {name} of {self.driver.name} changed inside an "
                            f"iteration: greens must be constant for the trace"))
        return out

    def check_assumptions(self, loop: CompiledLoop) -> None:
        from metajit.tracer.hints import HintError
        for check, message in loop.assumptions:
            if not check():
                raise HintError(message)

    # --- running compiled code -------------------------------------------------
    def run_compiled(self, loop: CompiledLoop, reds: tuple):
        inputs = loop.convert_inputs(reds)
        if inputs is None:
            return None
        stats = get_stats()
        stats.compiled_entries += 1
        unit = loop.unit
        current = loop
        t0 = time.perf_counter()
        checking = self.params_get("check_hints")
        body = None          # a peeled loop's body label to enter, not its start
        while True:
            res = unit.run(inputs) if body is None else unit.enter(body, inputs)
            stats.compiled_iterations += res.iterations
            if checking:
                self.check_assumptions(current)
            if res.guard is not None:
                stats.time_in_compiled += time.perf_counter() - t0
                return self.guard_failed(current, unit, res)
            target = res.target
            if isinstance(target, TargetDescr):
                current = target.owner
                body = None if target is current.target else target
                unit = current.unit
                inputs = res.values
                stats.compiled_iterations += 1
                continue
            stats.time_in_compiled += time.perf_counter() - t0
            return (False, tuple(res.values))

    def guard_failed(self, loop: CompiledLoop, unit, res):
        from metajit.interp.bridges import trace_bridge
        stats = get_stats()
        stats.guard_failures += 1
        guard = res.guard
        gid = id(guard)
        count = loop.guard_counts.get(gid, 0) + 1
        loop.guard_counts[gid] = count
        if (res.exc is None and count >= self.params_get("bridge_threshold")
                and not self.tracing
                and loop.bridge_aborts.get(gid, 0) < self.params_get("max_aborts")
                and self.params_get("threshold") >= 0):
            return trace_bridge(self, loop, unit, guard, res.values)
        boxes = loop.failargs.get(gid)
        if boxes is None:
            boxes = loop.failargs[gid] = failargs(guard)
        frames = frames_from_snapshot(guard.snapshot, boxes, res.values)
        return self._blackhole(frames, res.exc)
