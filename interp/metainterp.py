"""The meta-interpreter: runs the interpreter's flow graphs on concrete values and
records what they do.

Every flow operation is executed concretely exactly once, then recorded: its
arguments' trace values decide the trace operations (``tracing_rules``), the
concrete result becomes the new register's value.  Branches on values the trace
does not know become guards whose snapshots name the frame stack at that point.
Looked-inside calls push a frame; others are residual calls.

Tracing stops at a merge point (``MergePoint`` outcome, decided by the warm state:
close the loop, jump to compiled code, or carry on), or aborts (``AbortTrace``)
with the frames left exactly where the next concrete step would start, so that
the blackhole can finish the iteration.  An abort never changes what the guest
sees.
"""
from __future__ import annotations

import operator
from typing import Any

from metajit.interp.flowmodel import LAST_EXCEPTION, Variable
from metajit.interp.jitcode import AFTER_CALL, AFTER_CTOR, BEFORE, JitCode
from metajit.interp.values import (LIST_ITER_DESCR, RANGE_DESCR, RANGE_ITER_DESCR,
                                   TUPLE_DESCR, TV, ListIterator, Range, RangeIterator,
                                   VListIter, VRange, VRangeIter, VTuple, const_tv, kind_of,
                                   virtual_field)
from metajit.tracer.ir import (Box, CallDescr, Const, FrameSnapshot, Snapshot, Virtual,
                               const_ref, fits_int64)
from metajit.tracer.recorder import Recorder


class AbortTrace(Exception):
    """Tracing gave up.  ``exc`` is set when the current operation ran and raised."""

    def __init__(self, reason: str, exc: BaseException | None = None):
        super().__init__(reason)
        self.reason = reason
        self.exc = exc


class PortalReturned(Exception):
    """The portal returned (the guest finished) while tracing."""

    def __init__(self, value: Any):
        self.value = value


class MIFrame:
    __slots__ = ("jitcode", "block", "index", "env", "ctor_result", "is_portal",
                 "ctor_pending")

    def __init__(self, jitcode: JitCode, block, index: int, env: dict,
                 is_portal: bool = False):
        self.jitcode = jitcode
        self.block = block
        self.index = index
        self.env = env
        self.ctor_result: TV | None = None
        self.ctor_pending: TV | None = None
        self.is_portal = is_portal

    def get(self, arg) -> TV:
        if isinstance(arg, Variable):
            return self.env[arg]
        return const_tv(arg.value)


class MergePoint(Exception):
    """Raised to the warm state when tracing reaches a merge point (after the first)."""

    def __init__(self, greens: list[TV], reds: list[TV]):
        self.greens = greens
        self.reds = reds


class MetaInterp:
    def __init__(self, warm, recorder: Recorder, limit: int):
        self.warm = warm                # the driver's warm state (policy, parameters)
        self.rec = recorder
        self.limit = limit
        self.frames: list[MIFrame] = []
        self.known_class: dict[int, type] = {}   # id(box) -> its exact class
        self.known_storage: dict[int, str] = {}  # id(box) -> its array's storage
        self.unboxed: dict[int, Any] = {}        # id(r box) -> its i/f box
        self.boxed: dict[int, Box] = {}          # id(i/f box) -> its r box
        self.keepalive: list = []                # boxes whose id() keys the dicts above
        self.started = False
        self.aborted = False
        self.merge_values = None
        self.check_hints = bool(warm.params_get("check_hints"))
        self.assumptions: list = []   # (check, message): what compiled code relies on
        self.quasi_deps: list = []    # (obj, field): quasi-immutable fields read as constants

    def assume(self, check, message: str) -> None:
        """In hint-checking mode, remember a fact the trace relies on; it is checked
        at every exit from the compiled code (``WarmState.check_assumptions``)."""
        if self.check_hints:
            self.assumptions.append((check, message))

    # --- running ---------------------------------------------------------------
    def run(self) -> None:
        """Execute until a merge point (raises MergePoint), an abort (AbortTrace)
        or the portal's return (PortalReturned)."""
        from metajit.interp.tracing_rules import RULES
        frames = self.frames
        while True:
            frame = frames[-1]
            ops = frame.block.operations
            if frame.index < len(ops):
                if len(self.rec.ops) > self.limit:
                    raise AbortTrace(f"trace too long (trace_limit={self.limit})")
                op = ops[frame.index]
                rule = RULES.get(op.opname)
                if rule is None:
                    raise AbortTrace(f"operation {op.opname} not supported by the tracer "
                                     f"at {frame.jitcode.graph.filename}:{op.lineno}")
                args = [frame.get(a) for a in op.args]
                result = rule(self, op, args)
                if result is PUSHED:
                    continue
                if frames[-1] is frame and frame.block.operations is ops:
                    frame.env[op.result] = result
                    frame.index += 1
            else:
                self.follow_exits(frame)

    # --- control flow ----------------------------------------------------------
    def follow_exits(self, frame: MIFrame) -> None:
        block = frame.block
        graph = frame.jitcode.graph
        if block is graph.returnblock:
            self.do_return(frame.env[block.inputargs[0]])
            return
        if block is graph.exceptblock:
            self.do_raise(frame.env[block.inputargs[0]], frame_done=True)
            return
        exits = block.exits
        if block.exitswitch is None or block.exitswitch is LAST_EXCEPTION:
            self.take_link(frame, exits[0])
            return
        switch = frame.get(block.exitswitch)
        truth = bool(switch.value)
        if not switch.is_const():
            box = self.as_int(switch) if kind_of(switch.value) == "i" else None
            if box is None:
                raise AbortTrace(f"branch on a non-bool value at {graph.filename}")
            if not box.is_const():
                self.guard("guard_true" if truth else "guard_false", [box])
        for link in exits:
            if link.exitcase == truth:
                self.take_link(frame, link)
                return
        raise AbortTrace("no exit matches the branch")

    def take_link(self, frame: MIFrame, link, exc_tv: TV | None = None) -> None:
        values = []
        for arg in link.args:
            if link.last_exc_value is not None and arg is link.last_exc_value:
                values.append(exc_tv)
            else:
                values.append(frame.get(arg))
        target = link.target
        graph = frame.jitcode.graph
        if target is graph.returnblock:
            self.do_return(values[0])
            return
        if target is graph.exceptblock:
            self.do_raise(values[0], frame_done=True)
            return
        frame.block = target
        frame.index = 0
        frame.env = dict(zip(target.inputargs, values))

    def do_return(self, tv: TV) -> None:
        frame = self.frames.pop()
        if not self.frames:
            raise PortalReturned(tv.value)
        caller = self.frames[-1]
        op = caller.block.operations[caller.index]
        caller.env[op.result] = frame.ctor_result if frame.ctor_result is not None else tv
        caller.index += 1

    def do_raise(self, exc_tv: TV, frame_done: bool) -> None:
        """The exception ``exc_tv`` is raised by the current operation of the top
        frame (or leaves the top frame, when ``frame_done``)."""
        exc = exc_tv.value
        if exc_tv.box is not None and not exc_tv.is_const():
            self.ensure_class(exc_tv)
        if frame_done:
            self.frames.pop()
        while self.frames:
            frame = self.frames[-1]
            block = frame.block
            if block.exitswitch is LAST_EXCEPTION and frame.index == len(block.operations) - 1:
                for link in block.exits:
                    if link.exitcase is not None and isinstance(exc, link.exitcase):
                        self.take_link(frame, link, exc_tv)
                        return
            self.frames.pop()
        raise AbortTrace(f"exception {type(exc).__name__} leaves the portal", exc=exc)

    # --- frames ----------------------------------------------------------------
    def push_frame(self, jitcode: JitCode, args: list[TV], ctor_result: TV | None = None):
        graph = jitcode.graph
        block = graph.startblock
        if len(args) != len(block.inputargs):
            raise AbortTrace(f"call of {graph.name} with {len(args)} arguments")
        frame = MIFrame(jitcode, block, 0, dict(zip(block.inputargs, args)))
        frame.ctor_result = ctor_result
        self.frames.append(frame)

    # --- snapshots and guards --------------------------------------------------
    def snapshot(self) -> Snapshot:
        frames = []
        virtuals: dict[int, Virtual] = {}
        top = len(self.frames) - 1
        for n, frame in enumerate(self.frames):
            jc = frame.jitcode
            if n == top:
                pc = jc.position(frame.block, frame.index, BEFORE)
                extra = []
            else:
                mode = AFTER_CTOR if self.frames[n + 1].ctor_result is not None else AFTER_CALL
                pc = jc.position(frame.block, frame.index, mode)
                extra = [self.frames[n + 1].ctor_result] if mode == AFTER_CTOR else []
            entries = [self.snapshot_entry(frame.env[v], virtuals) for v in jc.live(pc)]
            entries += [self.snapshot_entry(tv, virtuals) for tv in extra]
            frames.append(FrameSnapshot(jc, pc, entries))
        return Snapshot(frames)

    def snapshot_entry(self, tv: TV, virtuals: dict):
        if tv.box is None:
            return self.virtual_entry(tv, virtuals)
        box = tv.box
        if box.kind == "i" and not box.is_const() and type(tv.value) is bool:
            return (box, True)
        return box

    def virtual_entry(self, tv: TV, virtuals: dict) -> Virtual:
        v = tv.virtual
        if id(v) in virtuals:
            return virtuals[id(v)]
        if isinstance(v, VTuple):
            result = Virtual(TUPLE_DESCR)
            virtuals[id(v)] = result
            for i, item in enumerate(v.items):
                result.fields[i] = self.snapshot_entry(item, virtuals)
        elif isinstance(v, VRange):
            result = Virtual(RANGE_DESCR)
            virtuals[id(v)] = result
            for name in ("start", "stop", "step"):
                result.fields[virtual_field(Range, name)] = self.snapshot_entry(
                    getattr(v, name), virtuals)
        elif isinstance(v, VRangeIter):
            result = Virtual(RANGE_ITER_DESCR)
            virtuals[id(v)] = result
            for name in ("cur", "stop", "step"):
                result.fields[virtual_field(RangeIterator, name)] = self.snapshot_entry(
                    getattr(v, name), virtuals)
        elif isinstance(v, VListIter):
            result = Virtual(LIST_ITER_DESCR)
            virtuals[id(v)] = result
            result.fields[virtual_field(ListIterator, "lst")] = self.snapshot_entry(
                v.lst, virtuals)
            result.fields[virtual_field(ListIterator, "index")] = self.snapshot_entry(
                v.index, virtuals)
        else:
            raise AbortTrace(f"unknown virtual {v!r}")
        return result

    def guard(self, name: str, args: list) -> None:
        self.rec.guard(name, args, self.snapshot())

    # --- recording helpers -----------------------------------------------------
    def record(self, name: str, args: list, concrete: Any, descr=None) -> TV:
        box = self.rec.record(name, args, descr, concrete)
        return TV(concrete, box)

    def record_ovf(self, name: str, args: list, concrete: Any) -> TV | None:
        """A checked op: None when the concrete result leaves 64 bits (the caller
        then falls back to a generic call)."""
        if not (type(concrete) in (int, bool) and fits_int64(concrete)):
            return None
        box = self.rec.record(name, args, None, concrete)
        if not box.is_const():
            self.guard("guard_no_overflow", [])
        return TV(concrete, box)

    def _keep(self, box) -> None:
        self.keepalive.append(box)

    def ensure_class(self, tv: TV) -> None:
        """Make the trace know ``type(tv.value)`` exactly (a guard_class if needed)."""
        box = tv.box
        if box is None or box.is_const() or box.kind != "r":
            return
        cls = type(tv.value)
        if self.known_class.get(id(box)) is cls:
            return
        self.guard("guard_class", [box, const_ref(cls)])
        self.known_class[id(box)] = cls
        self._keep(box)

    def as_int(self, tv: TV):
        """The 'i' trace value of an int or bool ``tv`` (guarding and unboxing a ref)."""
        box = tv.box
        if box is None:
            raise AbortTrace("a virtual used as an int")
        if box.kind == "i":
            return box
        value = tv.value
        if box.is_const():
            return Const("i", value)
        cached = self.unboxed.get(id(box))
        if cached is not None:
            return cached
        self.ensure_class(tv)
        ibox = self.rec.record("unbox_int_ovf", [box], None, value,
                               pyclass=type(value))
        self.guard("guard_no_overflow", [])
        self.unboxed[id(box)] = ibox
        self._keep(box)
        return ibox

    def as_float(self, tv: TV):
        box = tv.box
        if box is None:
            raise AbortTrace("a virtual used as a float")
        if box.kind == "f":
            return box
        if box.is_const():
            return Const("f", tv.value)
        if box.kind == "i":
            raise AbortTrace("an int used as a float")
        cached = self.unboxed.get(id(box))
        if cached is not None:
            return cached
        self.ensure_class(tv)
        fbox = self.rec.record("unbox_float", [box], None, tv.value)
        self.unboxed[id(box)] = fbox
        self._keep(box)
        return fbox

    def as_ref(self, tv: TV):
        box = tv.box
        if box is None:
            return self.force_virtual(tv)
        if box.kind == "r":
            return box
        if box.is_const():
            return Const("r", tv.value)
        cached = self.boxed.get(id(box))
        if cached is not None and type(tv.value) is cached[1]:
            return cached[0]
        if box.kind == "f":
            rbox = self.rec.record("box_float", [box], None, tv.value)
        elif type(tv.value) is bool:
            rbox = self.rec.record("box_bool", [box], None, tv.value)
        else:
            rbox = self.rec.record("box_int", [box], None, tv.value)
        self.known_class[id(rbox)] = type(tv.value)
        self.boxed[id(box)] = (rbox, type(tv.value))
        self._keep(box)
        self._keep(rbox)
        return rbox

    def force_virtual(self, tv: TV):
        """A virtual escapes: allocate it in the trace."""
        v = tv.virtual
        if isinstance(v, VTuple):
            refs = [self.as_ref(item) for item in v.items]
            box = self.rec.record("call_r", [const_ref(_make_tuple)] + refs,
                                  _residual_descr(_make_tuple, can_raise=False), tv.value)
        elif isinstance(v, VRange):
            args = [self.as_ref(v.start), self.as_ref(v.stop), self.as_ref(v.step)]
            box = self.rec.record("call_r", [const_ref(range)] + args,
                                  _residual_descr(range, can_raise=False), tv.value)
        else:
            raise AbortTrace("an iterator escapes the trace")
        tv.box = box
        tv.virtual = None
        self.known_class[id(box)] = type(tv.value)
        self._keep(box)
        return box

    def residual_call(self, func: Any, args: list[TV], kwargs: dict | None = None,
                      elidable: bool = False, can_raise: bool = True) -> TV:
        """Call ``func`` as plain Python, concretely now and as a call op in the trace."""
        values = [a.value for a in args]
        kw = {k: v.value for k, v in (kwargs or {}).items()}
        try:
            result = func(*values, **kw)
        except Exception as exc:
            raise AbortTrace(f"{_name(func)} raised {type(exc).__name__} while tracing",
                             exc=exc) from None
        if elidable and self.check_hints:
            self.check_elidable(func, values, kw, result)
        if elidable and all(a.is_const() for a in args) and \
                all(v.is_const() for v in (kwargs or {}).values()):
            return const_tv(result)
        refs = [self.as_ref(a) for a in args]
        if kwargs:
            refs = [const_ref(func), const_ref(tuple(kwargs))] + refs + \
                [self.as_ref(v) for v in kwargs.values()]
            func = _call_with_keywords
        name = "call_pure_r" if elidable else "call_r"
        box = self.rec.record(name, [const_ref(func)] + refs,
                              _residual_descr(func, can_raise, elidable), result)
        if can_raise:
            self.guard("guard_no_exception", [])
        return TV(result, box)


    def check_elidable(self, func, values, kw, result) -> None:
        """Hint checking: an elidable call must give the same result again."""
        from metajit.tracer.hints import HintError
        again = func(*values, **kw)
        if not _same_result(again, result):
            code = getattr(func, "__code__", None)
            where = f" ({code.co_filename}:{code.co_firstlineno})" if code else ""
            raise HintError(f"@elidable {_name(func)}{where} gave {result!r}, then {again!r} "
                            f"for the same arguments: it is not elidable")


def _same_result(a, b) -> bool:
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


PUSHED = object()


def _make_tuple(*items):
    return items



def _call_with_keywords(func, names, *args):
    npos = len(args) - len(names)
    return func(*args[:npos], **dict(zip(names, args[npos:])))


def _name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


_descr_cache: dict = {}


def _residual_descr(func: Any, can_raise: bool = True, elidable: bool = False) -> CallDescr:
    key = (id(func), can_raise, elidable)
    descr = _descr_cache.get(key)
    if descr is None:
        builds = getattr(func, "_metajit_builds_", None)
        if elidable or builds is not None:
            reads, writes = frozenset(), frozenset()
        else:
            reads, writes = call_effects(func)
        descr = CallDescr(_name(func), "r", can_raise, elidable, reads, writes, builds)
        _descr_cache[key] = (descr, func)   # the func held alive: id() is the key
        return descr
    return descr[0]


def call_effects(func: Any) -> tuple[frozenset | None, frozenset | None]:
    """The fields a residual call may read and write: from the callee's flow graph
    when it is a Python function that calls nothing else (field names from its
    getattr/setattr; ``"[]"`` for items), None ("anything") otherwise."""
    import types
    if not isinstance(func, types.FunctionType):
        return None, None
    try:
        from metajit.interp.flowbuilder import get_graph
        graph = get_graph(func)
    except Exception:   # unsupported constructs: an unknown callee
        return None, None
    reads: set[str] = set()
    writes: set[str] = set()
    for block in graph.iterblocks():
        for op in block.operations:
            name = op.opname
            if name in ("call", "call_method", "iter", "next", "raise_") or \
                    name.startswith("inplace_"):
                return None, None
            if name == "getattr":
                reads.add(op.args[1].value)
            elif name == "setattr":
                writes.add(op.args[1].value)
            elif name == "getitem":
                reads.add("[]")
            elif name in ("setitem", "delitem"):
                writes.add("[]")
    return frozenset(reads), frozenset(writes)


# Builtins whose result on constant arguments is a constant.
PURE_BUILTINS = frozenset([
    len, abs, min, max, int, float, bool, str, chr, ord, hex, oct, bin, repr, hash,
    isinstance, issubclass, type, round, divmod, pow, tuple, frozenset,
    operator.add, operator.sub, operator.mul, operator.getitem, operator.index,
])

