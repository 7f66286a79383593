"""Jitcodes: a flow graph prepared for the meta-interpreter and for resuming.

A ``JitCode`` numbers the graph's blocks and interns *resume positions*: a block,
an operation index and a mode.  A snapshot frame names its position by number
(``FrameSnapshot.pc``) and lists its live values in the order of that position's
liveness table, worked out once here, so a snapshot is a position number and a
list of values.

Modes:
- ``before``: resume by executing operation ``index`` (``index == len(ops)``: at
  the block's exits); live: ``live_before(block, index)``.
- ``after_call``: operation ``index`` is a call whose callee frame is resumed
  first; its result is bound to the op's result, then execution continues at
  ``index + 1``; if the callee raises, operation ``index`` raised.  Live: what is
  live after the call, less its result.
- ``after_ctor``: as ``after_call`` for ``Cls(...)`` whose ``__init__`` frame is
  resumed first: the op's result is the new object, given as the last live value.
"""
from __future__ import annotations

import weakref

from metajit.interp.flowmodel import Block, FunctionGraph, Variable, live_before

BEFORE, AFTER_CALL, AFTER_CTOR = "before", "after_call", "after_ctor"


class JitCode:
    def __init__(self, graph: FunctionGraph, func=None):
        self.graph = graph
        self.func = func
        self.name = graph.name
        self.blocks: list[Block] = graph.iterblocks()
        self.has_loop = _has_cycle(graph)
        self._positions: list[tuple[Block, int, str]] = []
        self._index: dict[tuple[int, int, str], int] = {}
        self._live: list[list[Variable]] = []

    def position(self, block: Block, index: int, mode: str = BEFORE) -> int:
        key = (block.number, index, mode)
        pc = self._index.get(key)
        if pc is None:
            if mode == BEFORE:
                live = live_before(block, index)
            else:
                result = block.operations[index].result
                live = [v for v in live_before(block, index + 1) if v is not result]
            pc = len(self._positions)
            self._positions.append((block, index, mode))
            self._live.append(live)
            self._index[key] = pc
        return pc

    def at(self, pc: int) -> tuple[Block, int, str]:
        return self._positions[pc]

    def live(self, pc: int) -> list[Variable]:
        return self._live[pc]

    def __repr__(self):
        return f"<JitCode {self.name}>"


def _has_cycle(graph: FunctionGraph) -> bool:
    color: dict[int, int] = {}
    for start in graph.iterblocks():
        if id(start) in color:
            continue
        stack = [(start, iter(start.exits))]
        color[id(start)] = 1
        while stack:
            block, links = stack[-1]
            link = next(links, None)
            if link is None:
                color[id(block)] = 2
                stack.pop()
                continue
            state = color.get(id(link.target))
            if state == 1:
                return True
            if state is None:
                color[id(link.target)] = 1
                stack.append((link.target, iter(link.target.exits)))
    return False


_jitcodes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_jitcodes_by_code: dict = {}


def get_jitcode(func) -> JitCode:
    """The jitcode of a Python function (built once; raises UnsupportedConstruct)."""
    code = getattr(func, "__code__", None)
    jc = _jitcodes_by_code.get(code)
    if jc is None:
        from metajit.interp.flowbuilder import get_graph
        jc = JitCode(get_graph(func), func)
        _jitcodes_by_code[code] = jc
    return jc
