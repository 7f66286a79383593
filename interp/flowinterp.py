"""A small, obvious interpreter of flow graphs: the second oracle of the tests.

``run_graph(graph, args)`` walks the graph's objects operation by operation.
``run_until(graph, args, nops)`` does the same but stops before the operation
number ``nops`` (counting from 0) and returns a ``Paused(block, index, env)``: the
state a guard failure hands to the blackhole.  With ``pause_on_raise=True`` it also
stops at the first operation that raises, with ``Paused.exc`` set (the operation
was executed and raised ``exc``; ``env`` is the state before it); ``run_until(...,
start=paused)`` carries on from any Paused, one with ``exc`` included.

Slow on purpose; the blackhole (``interp/blackhole.py``) is the fast form.
"""
from __future__ import annotations

import builtins
import operator
from typing import Any

from metajit.interp.blackhole import MergePointReached
from metajit.interp.flowmodel import (
    Block, Constant, FunctionGraph, Link, SpaceOperation,
)

__all__ = ["MergePointReached", "Paused", "Finished", "run_graph", "run_until",
           "OPERATIONS", "load_global", "unpack_function", "format_graph"]


class Paused:
    """Execution stopped before operation ``index`` of ``block`` (or, with ``exc``,
    that operation raised ``exc``); ``env`` binds the block's variables."""

    __slots__ = ("block", "index", "env", "exc")

    def __init__(self, block: Block, index: int, env: dict, exc: BaseException | None = None):
        self.block = block
        self.index = index
        self.env = env
        self.exc = exc

    def __repr__(self):
        return f"Paused({self.block}, {self.index}, exc={self.exc!r})"


class Finished:
    """The function returned ``value`` after ``ops`` operations."""

    __slots__ = ("value", "ops")

    def __init__(self, value: Any, ops: int = 0):
        self.value = value
        self.ops = ops


_unpackers: dict[int, Any] = {}


def unpack_function(n: int):
    """A function doing CPython's ``a0, ..., a(n-1) = seq`` (its errors included)."""
    fn = _unpackers.get(n)
    if fn is None:
        names = ", ".join(f"a{i}" for i in range(n))
        namespace: dict = {}
        exec(f"def unpack(seq):\n    ({names},) = seq\n    return ({names},)\n", namespace)
        fn = _unpackers[n] = namespace["unpack"]
    return fn


def _call(f, nargs, kwnames, *args):
    if kwnames:
        return f(*args[:nargs], **dict(zip(kwnames, args[nargs:])))
    return f(*args)


def _call_method(obj, name, nargs, kwnames, *args):
    return _call(getattr(obj, name), nargs, kwnames, *args)


def _raise(exc):
    raise exc


def _newdict(*kv):
    d = {}
    for i in range(0, len(kv), 2):
        d[kv[i]] = kv[i + 1]
    return d


def _inplace(name):
    fn = getattr(operator, "i" + name.rstrip("_"))
    return fn


_BINARY = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lshift",
           "rshift", "and_", "or_", "xor", "matmul"]

# opname -> Python function of the op's arguments (Constants already unwrapped).
OPERATIONS: dict[str, Any] = {
    "pos": operator.pos, "neg": operator.neg, "invert": operator.invert,
    "not_": operator.not_, "bool": bool, "abs": abs,
    **{name: getattr(operator, name) for name in _BINARY},
    **{"inplace_" + name: _inplace(name) for name in _BINARY},
    "lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne,
    "gt": operator.gt, "ge": operator.ge, "is_": operator.is_,
    "is_not": operator.is_not, "contains": operator.contains,
    "getattr": getattr, "setattr": setattr,
    "getitem": operator.getitem, "setitem": operator.setitem,
    "delitem": operator.delitem, "newslice": slice,
    "newtuple": lambda *items: items, "newlist": lambda *items: list(items),
    "newdict": _newdict, "unpack": lambda seq, n: unpack_function(n)(seq),
    "call": _call, "call_method": _call_method,
    "iter": iter, "next": next, "format": format,
    "buildstr": lambda *parts: "".join(parts),
    "raise_": _raise, "same_as": lambda a: a,
    "can_enter_jit": lambda driver, names, *values: None,
    "jit_merge_point": lambda driver, names, *values: None,
}


def load_global(func, name: str):
    """``name`` as the function's code would read it: globals, then builtins."""
    glob = getattr(func, "__globals__", None) or {}
    try:
        return glob[name]
    except KeyError:
        pass
    b = glob.get("__builtins__", builtins)
    b = b if isinstance(b, dict) else vars(b)
    try:
        return b[name]
    except KeyError:
        raise NameError(f"name '{name}' is not defined", name=name) from None


def _value(env: dict, a):
    return a.value if isinstance(a, Constant) else env[a]


def _follow(link: Link, env: dict, exc: BaseException | None = None) -> tuple[Block, dict]:
    values = [exc if a is link.last_exc_value and exc is not None else _value(env, a)
              for a in link.args]
    return link.target, dict(zip(link.target.inputargs, values))


def _route_exception(graph, block: Block, index: int, env: dict, exc: BaseException):
    """Operation ``index`` of ``block`` raised ``exc``: the handler block and its
    env, or re-raise (the exception leaves the function)."""
    if index == len(block.operations) - 1 and block.canraise:
        for link in block.exits:
            if link.exitcase is not None and isinstance(exc, link.exitcase):
                return _follow(link, env, exc)
    raise exc


def run_until(graph: FunctionGraph, args, nops: int | None = None, *,
              portal: bool = False, pause_on_raise: bool = False,
              start: Paused | None = None, merge_points: list | None = None,
              prefer_exits: bool = False):
    """Run ``graph`` on ``args`` (or from ``start``); see the module doc.  Returns
    Finished, Paused or (portal mode) MergePointReached; raises what escapes.
    Outside portal mode, each merge point passed is appended to ``merge_points``.
    With ``prefer_exits``, a pause that falls between blocks is reported at the
    exits of the block just run (``index == len(block.operations)``)."""
    if start is None:
        block, index = graph.startblock, 0
        env = dict(zip(graph.startblock.inputargs, args))
        if len(args) != len(graph.startblock.inputargs):
            raise TypeError(f"{graph.name} takes {len(graph.startblock.inputargs)} "
                            f"arguments, got {len(args)}")
    else:
        block, index, env = start.block, start.index, dict(start.env)
        if start.exc is not None:
            block, env = _route_exception(graph, block, index, env, start.exc)
            index = 0
    count = 0
    while True:
        if block is graph.returnblock:
            return Finished(env[block.inputargs[0]], count)
        if block is graph.exceptblock:
            raise env[block.inputargs[0]]
        ops = block.operations
        exc = None
        while index < len(ops):
            if nops is not None and count >= nops:
                return Paused(block, index, env)
            op: SpaceOperation = ops[index]
            count += 1
            args_ = [_value(env, a) for a in op.args]
            if op.opname == "jit_merge_point":
                if portal:
                    return MergePointReached(args_[1], args_[2:], args_[0])
                if merge_points is not None:
                    merge_points.append(MergePointReached(args_[1], args_[2:], args_[0]))
            try:
                if op.opname == "load_global":
                    result = load_global(graph.func, args_[0])
                else:
                    result = OPERATIONS[op.opname](*args_)
            except BaseException as e:
                if pause_on_raise:
                    return Paused(block, index, env, e)
                exc = e
                break
            env[op.result] = result
            index += 1
        if exc is None and prefer_exits and ops and nops is not None and count >= nops:
            return Paused(block, index, env)
        if exc is not None:
            block, env = _route_exception(graph, block, index, env, exc)
        elif block.exitswitch is None or block.canraise:
            block, env = _follow(block.exits[0], env)
        else:
            switch = _value(env, block.exitswitch)
            for link in block.exits:
                if link.exitcase == switch:
                    block, env = _follow(link, env)
                    break
            else:
                raise AssertionError(f"no exit of {block} for {switch!r}")
        index = 0


def run_graph(graph: FunctionGraph, args, portal: bool = False):
    """Run ``graph`` to the end: what the function returns (or raises)."""
    result = run_until(graph, args, portal=portal)
    return result.value if isinstance(result, Finished) else result


def format_graph(graph: FunctionGraph) -> str:
    """The graph as text, block by block (for humans and failing tests)."""
    lines = [f"graph {graph.name} ({graph.filename}:{graph.firstlineno})"]
    for block in graph.iterblocks():
        lines.append(f"block{block.number}({', '.join(map(repr, block.inputargs))}):")
        for op in block.operations:
            lines.append(f"    {op!r}    # line {op.lineno}")
        if block.exitswitch is not None:
            lines.append(f"    switch {block.exitswitch!r}")
        for link in block.exits:
            case = link.exitcase
            case = "" if case is None else f" [{getattr(case, '__name__', case)}]"
            exc = f" exc={link.last_exc_value!r}" if link.last_exc_value is not None else ""
            lines.append(f"    -> block{link.target.number}({', '.join(map(repr, link.args))})"
                         f"{case}{exc}")
    return "\n".join(lines)
