"""The blackhole: run a flow graph as plain Python, from any point.

After a guard fails, the JIT rebuilds the interpreter's state at the guard (a block,
an operation index and the values of the variables live there) and hands it to
``get_blackhole(graph).resume(block, index, env)``, which runs the rest of the
function at CPython speed.

Each graph is turned once into Python source: one function ``run(b, args, portal)``
whose ``while True`` loop dispatches on the number ``b`` of a *dispatch block*
(the start block, merge points, exception handlers) through a binary tree of ``if``
tests; a block reached by a single normal link is written inline at that link, so
an ``if``/``else`` of the interpreter is an ``if``/``else`` here.  Operations are
the plain Python expressions (``a + b``, ``obj.name(x, k=y)``), globals are plain
names read in the function's own globals (then builtins, as CPython does), an
operation in a LAST_EXCEPTION block is a ``try`` whose ``except`` clauses are the
exception links.  Resuming in the middle of a block (or at a block written inline)
uses an *entry*: generated lazily per ``(block, index)``, it runs the rest of that
block (and what is inline below it) and returns where to continue:
``(block number, args)`` for ``run``, or ``(-1, result)``.

Portal mode: reaching a ``jit_merge_point`` returns ``MergePointReached`` instead of
running on; ``resume`` *at* a ``jit_merge_point`` (``index`` its position) in portal
mode returns it at once, without executing anything.  ``can_enter_jit`` does
nothing.  Sources are registered with ``linecache`` so tracebacks show them.
"""
from __future__ import annotations

import builtins
import keyword
import linecache
import math
import types
import warnings
import weakref
from typing import Any

from metajit.interp.flowmodel import (
    Block, Constant, FunctionGraph, Link, SpaceOperation, Variable, live_before,
)

__all__ = ["Blackhole", "MergePointReached", "get_blackhole"]


class MergePointReached:
    """Portal mode: execution reached a ``jit_merge_point``; ``names`` are its
    keywords in source order, ``values`` their values, ``driver`` the driver."""

    __slots__ = ("names", "values", "driver")

    def __init__(self, names: tuple, values: tuple, driver: Any = None):
        self.names = tuple(names)
        self.values = tuple(values)
        self.driver = driver

    def as_dict(self) -> dict:
        return dict(zip(self.names, self.values))

    def __eq__(self, other):
        return (isinstance(other, MergePointReached) and self.names == other.names
                and self.values == other.values)

    def __repr__(self):
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(self.names, self.values))
        return f"MergePointReached({inner})"


_blackholes: "weakref.WeakKeyDictionary[FunctionGraph, Blackhole]" = \
    weakref.WeakKeyDictionary()


def get_blackhole(graph: FunctionGraph) -> "Blackhole":
    """The blackhole of ``graph``, compiled once."""
    bh = _blackholes.get(graph)
    if bh is None:
        bh = _blackholes[graph] = Blackhole(graph)
    return bh


# Inline nesting depth past which a block becomes a dispatch block (CPython allows
# 100 levels of indentation).
_MAX_INLINE_DEPTH = 40

_BINARY = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
    "pow": "**", "lshift": "<<", "rshift": ">>", "and_": "&", "or_": "|", "xor": "^",
    "matmul": "@",
}
_COMPARE = {"lt": "<", "le": "<=", "eq": "==", "ne": "!=", "gt": ">", "ge": ">=",
            "is_": "is", "is_not": "is not"}
_UNARY = {"pos": "+{0}", "neg": "-{0}", "invert": "~{0}", "not_": "not {0}",
          "bool": "True if {0} else False"}
_HELPERS = {"abs": abs, "slice": slice, "iter": iter, "next": next, "format": format,
            "getattr": getattr, "setattr": setattr, "MPR": MergePointReached}


class _Context:
    """Where code is generated: in ``run`` (inside the inner loop of dispatch block
    ``loop``, if any) or in an entry, which returns where to go on."""

    def __init__(self, entry: bool, loop: Block | None):
        self.entry = entry
        self.loop = loop

    def ret(self, value: str) -> str:
        return f"return (-1, {value})" if self.entry else f"return {value}"


class _Exhausted:
    def __repr__(self):
        return "<exhausted iterator>"


_EXHAUSTED = _Exhausted()


def _uses(block: Block):
    for op in block.operations:
        yield from op.args
    yield block.exitswitch
    for link in block.exits:
        for a in link.args:
            if a is not link.last_exc_value:
                yield a


class _Writer:
    def __init__(self):
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def indent(self):
        self.depth += 1

    def dedent(self):
        self.depth -= 1


class _Unit:
    """One compiled piece of source: its closure constants."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.consts: list[Any] = []
        self.const_names: dict[int, str] = {}

    def const(self, value: Any) -> str:
        name = self.const_names.get(id(value))
        if name is None:
            name = self.const_names[id(value)] = f"{self.prefix}k{len(self.consts)}"
            self.consts.append(value)
        return name


class Blackhole:
    """Runs one graph as generated Python; see the module doc."""

    def __init__(self, graph: FunctionGraph):
        self.graph = graph
        self.blocks = graph.iterblocks()
        self.number = {block: i for i, block in enumerate(self.blocks)}
        func = graph.func
        self.globals = getattr(func, "__globals__", None) or {"__builtins__": builtins}
        used = {op.args[0].value for b in self.blocks for op in b.operations
                if op.opname == "load_global"}
        prefix = "_bh_"
        while any(name.startswith(prefix) for name in used):
            prefix += "_"
        self.prefix = prefix
        self.var_names: dict[Variable, str] = {}
        self.sources: list[str] = []
        self._plan()
        self._run = self._compile_run()
        self._entries: dict[tuple[Block, int], tuple[Any, list[Variable]]] = {}
        self._live: dict[Block, set] = {}

    # -- public -------------------------------------------------------------------

    def call(self, *args, portal: bool = False):
        """Run the function from the start on its positional arguments."""
        start = self.graph.startblock
        if len(args) != len(start.inputargs):
            raise TypeError(f"{self.graph.name}() takes {len(start.inputargs)} "
                            f"positional arguments but {len(args)} were given")
        return self._run(0, args, portal)

    def resume(self, block: Block, index: int, env: dict, exc: BaseException | None = None,
               portal: bool = False):
        """Continue at operation ``index`` of ``block`` with the live variables
        bound from ``env``; with ``exc``, that operation raised ``exc``.  Returns
        what the function returns (or MergePointReached), raises what escapes."""
        ops = block.operations
        if exc is not None:
            if block.canraise and index == len(ops) - 1:
                for link in block.exits:
                    if link.exitcase is not None and isinstance(exc, link.exitcase):
                        if link.target is self.graph.exceptblock:
                            break
                        args = [exc if a is link.last_exc_value else
                                a.value if isinstance(a, Constant) else env[a]
                                for a in link.args]
                        return self._enter(link.target, args, portal)
            raise exc
        if portal and index < len(ops) and ops[index].opname == "jit_merge_point":
            values = [a.value if isinstance(a, Constant) else env[a] for a in ops[index].args]
            return MergePointReached(values[1], values[2:], values[0])
        if block is self.graph.returnblock:
            return env[block.inputargs[0]]
        if block is self.graph.exceptblock:
            raise env[block.inputargs[0]]
        if index == 0 and block in self.dispatch:
            live = self._live.get(block)
            if live is None:
                live = self._live[block] = set(live_before(block, 0))
            return self._run(self.number[block],
                             tuple(env[v] if v in live else env.get(v) for v in block.inputargs),
                             portal)
        entry, live_vars = self._entry(block, index)
        n, value = entry(*[env[v] for v in live_vars], portal)
        return value if n < 0 else self._run(n, value, portal)

    def _enter(self, block: Block, args: list, portal: bool):
        if block is self.graph.returnblock:
            return args[0]
        if block is self.graph.exceptblock:
            raise args[0]
        if block in self.dispatch:
            return self._run(self.number[block], tuple(args), portal)
        return self.resume(block, 0, dict(zip(block.inputargs, args)), portal=portal)

    # -- planning -------------------------------------------------------------------

    def _plan(self) -> None:
        """Choose the dispatch blocks; every other block is inline at its only link."""
        g = self.graph
        incoming: dict[Block, int] = {}
        dispatch = {g.startblock}
        for block in self.blocks:
            for link in block.exits:
                incoming[link.target] = incoming.get(link.target, 0) + 1
                if link.exitcase is not None and block.canraise:
                    dispatch.add(link.target)
        dispatch |= {b for b, n in incoming.items() if n > 1}
        dispatch -= {g.returnblock, g.exceptblock}
        work = list(dispatch)
        while work:
            root = work.pop()
            stack = [(root, 0)]
            while stack:
                block, depth = stack.pop()
                nested = block.exitswitch is not None and not block.canraise
                for link in block.exits:
                    tgt = link.target
                    if tgt in dispatch or tgt in (g.returnblock, g.exceptblock):
                        continue
                    d = depth + 1 if nested else depth
                    if d > _MAX_INLINE_DEPTH:
                        dispatch.add(tgt)
                        work.append(tgt)
                    else:
                        stack.append((tgt, d))
        self.dispatch = dispatch
        self.dispatch_order = sorted(dispatch, key=self.number.__getitem__)
        self.uses: dict[Variable, int] = {}
        for block in self.blocks:
            for v in _uses(block):
                if isinstance(v, Variable):
                    self.uses[v] = self.uses.get(v, 0) + 1
        self.self_loops = set()
        for root in dispatch:
            stack = [root]
            while stack:
                block = stack.pop()
                for link in block.exits:
                    if link.target is root:
                        self.self_loops.add(root)
                    elif link.target not in dispatch:
                        stack.append(link.target)
        # An inline block's inputarg is its link's argument under another name:
        # share the Python name, so that entering it copies nothing.
        self.alias: dict[Variable, Variable] = {}
        for block in self.blocks:
            for link in block.exits:
                if link.target not in dispatch and link.target not in (g.returnblock,
                                                                       g.exceptblock):
                    for t, a in zip(link.target.inputargs, link.args):
                        if isinstance(a, Variable) and a is not link.last_exc_value:
                            self.alias[t] = a

    # -- code generation --------------------------------------------------------

    def name(self, v: Variable) -> str:
        n = self.var_names.get(v)
        if n is None:
            root = v
            while root in self.alias:
                root = self.alias[root]
            if root is not v:
                n = self.var_names[v] = self.name(root)
                return n
            base = "".join(c if c.isalnum() or c == "_" else "_" for c in v.name)
            n = self.var_names[v] = f"{self.prefix}{len(self.var_names)}_{base}"
        return n

    def arg(self, unit: _Unit, a, identity: bool = False) -> str:
        if isinstance(a, Variable):
            return self.name(a)
        value = a.value
        t = type(value)
        if value is None or t is bool:
            return repr(value)
        if not identity:
            if t is int or (t is float and math.isfinite(value)):
                return f"({value!r})"
            if t is str or t is bytes:
                return repr(value)
        return unit.const(value)

    def _args(self, unit: _Unit, op: SpaceOperation) -> list[str]:
        identity = op.opname in ("is_", "is_not")
        return [self.arg(unit, x, identity) for x in op.args]

    def _test(self, unit: _Unit, op: SpaceOperation) -> str | None:
        """``op`` as an expression whose truth is the op's truth, for ops that
        compute a bool-like value without side effects beyond the operation."""
        name = op.opname
        a = self._args(unit, op)
        if name in _COMPARE:
            return f"{a[0]} {_COMPARE[name]} {a[1]}"
        if name == "contains":
            return f"{a[1]} in {a[0]}"
        if name == "not_":
            return f"not {a[0]}"
        if name == "bool":
            return a[0]
        return None

    def _op(self, w: _Writer, unit: _Unit, op: SpaceOperation, ctx: "_Context") -> None:
        name = op.opname
        r = self.name(op.result)
        p = self.prefix
        a = self._args(unit, op)
        if name in _BINARY:
            w(f"{r} = {a[0]} {_BINARY[name]} {a[1]}")
        elif name.startswith("inplace_"):
            w(f"{r} = {a[0]}")
            w(f"{r} {_BINARY[name[8:]]}= {a[1]}")
        elif name in _COMPARE:
            w(f"{r} = {a[0]} {_COMPARE[name]} {a[1]}")
        elif name in _UNARY:
            w(f"{r} = " + _UNARY[name].format(a[0]))
        elif name == "contains":
            w(f"{r} = {a[1]} in {a[0]}")
        elif name in ("abs", "iter", "next"):
            w(f"{r} = {unit.const(_HELPERS[name])}({a[0]})")
        elif name == "getattr":
            attr = op.args[1].value
            if _is_identifier(attr):
                w(f"{r} = {a[0]}.{attr}")
            else:
                w(f"{r} = {unit.const(getattr)}({a[0]}, {a[1]})")
        elif name == "setattr":
            attr = op.args[1].value
            if _is_identifier(attr):
                w(f"{a[0]}.{attr} = {a[2]}")
            else:
                w(f"{unit.const(setattr)}({a[0]}, {a[1]}, {a[2]})")
        elif name == "getitem":
            w(f"{r} = {a[0]}[{a[1]}]")
        elif name == "setitem":
            w(f"{a[0]}[{a[1]}] = {a[2]}")
        elif name == "delitem":
            w(f"del {a[0]}[{a[1]}]")
        elif name == "newslice":
            w(f"{r} = {unit.const(slice)}({a[0]}, {a[1]}, {a[2]})")
        elif name == "newtuple":
            w(f"{r} = ({''.join(x + ', ' for x in a)})")
        elif name == "newlist":
            w(f"{r} = [{', '.join(a)}]")
        elif name == "newdict":
            w(f"{r} = {{{', '.join(f'{a[i]}: {a[i + 1]}' for i in range(0, len(a), 2))}}}")
        elif name == "unpack":
            temps = [f"{p}u{i}" for i in range(op.args[1].value)]
            w(f"[{', '.join(temps)}] = {a[0]}")
            w(f"{r} = ({''.join(t + ', ' for t in temps)})")
        elif name in ("call", "call_method"):
            if name == "call":
                callee, rest = a[0], op.args[1:]
            else:
                attr = op.args[1].value
                callee = (f"{a[0]}.{attr}" if _is_identifier(attr)
                          else f"{unit.const(getattr)}({a[0]}, {a[1]})")
                rest = op.args[2:]
            nargs, kwnames = rest[0].value, rest[1].value
            vals = a[len(a) - len(rest) + 2:]
            parts = vals[:nargs] + [f"{k}={v}" for k, v in zip(kwnames, vals[nargs:])]
            w(f"{r} = {callee}({', '.join(parts)})")
        elif name == "load_global":
            w(f"{r} = {op.args[0].value}")
        elif name == "format":
            w(f"{r} = {unit.const(format)}({a[0]}, {a[1]})")
        elif name == "buildstr":
            w(f"{r} = ''.join(({''.join(x + ', ' for x in a)}))")
        elif name == "raise_":
            w(f"raise {a[0]}")
        elif name == "same_as":
            w(f"{r} = {a[0]}")
        elif name == "jit_merge_point":
            mpr = (f"{unit.const(MergePointReached)}({a[1]}, "
                   f"({''.join(x + ', ' for x in a[2:])}), {a[0]})")
            w(f"if {p}portal:")
            w(f"    {ctx.ret(mpr)}")
            w(f"{r} = None")
        elif name == "can_enter_jit":
            w(f"{r} = None")
        else:
            raise NotImplementedError(f"blackhole: no code for operation {name!r}")

    def _block(self, w: _Writer, unit: _Unit, block: Block, index: int,
               ctx: "_Context") -> None:
        ops = block.operations
        if not block.canraise:
            if block.exitswitch is None:
                for op in ops[index:]:
                    self._op(w, unit, op, ctx)
                if block.exits:
                    self._link(w, unit, block.exits[0], ctx)
                return
            # Fold the ops that only compute the switch into the ``if`` itself:
            # ``t = a < b; s = bool(t); if s:`` is ``if a < b:`` (one truth test).
            sw = block.exitswitch
            test, stop = self.arg(unit, sw), len(ops)
            last = ops[-1] if index < len(ops) else None
            if last is not None and last.result is sw and self.uses.get(sw) == 1:
                expr = self._test(unit, last)
                if expr is not None:
                    test, stop = expr, len(ops) - 1
                    prev = ops[-2] if len(ops) - 2 >= index else None
                    if (last.opname == "bool" and prev is not None
                            and prev.result is last.args[0]
                            and self.uses.get(prev.result) == 1):
                        expr = self._test(unit, prev)
                        if expr is not None:
                            test, stop = expr, len(ops) - 2
            for op in ops[index:stop]:
                self._op(w, unit, op, ctx)
            links = {link.exitcase: link for link in block.exits}
            w(f"if {test}:")
            w.indent()
            self._link(w, unit, links[True], ctx)
            w.dedent()
            w("else:")
            w.indent()
            self._link(w, unit, links[False], ctx)
            w.dedent()
            return
        for op in ops[index:-1]:
            self._op(w, unit, op, ctx)
        normal = [link for link in block.exits if link.exitcase is None]
        if index < len(ops):
            last = ops[-1]
            exc_links = self._caught(block)
            if self._is_for_next(block):
                # a for loop: next(it, sentinel) costs no StopIteration
                r, sentinel = self.name(last.result), unit.const(_EXHAUSTED)
                w(f"{r} = {unit.const(next)}({self.arg(unit, last.args[0])}, {sentinel})")
                w(f"if {r} is {sentinel}:")
                w.indent()
                self._link(w, unit, exc_links[0], ctx)
                w.dedent()
            elif not exc_links:
                self._op(w, unit, last, ctx)
            else:
                clauses = self._clauses(unit, exc_links, ctx)
                w("try:")
                w.indent()
                self._op(w, unit, last, ctx)
                # The blocks that follow inline with the same handlers share the try.
                while normal:
                    tgt = normal[0].target
                    if (tgt in self.dispatch or not tgt.canraise or self._is_for_next(tgt)
                            or self._clauses(unit, self._caught(tgt), ctx) != clauses):
                        break
                    self._assign(w, unit, normal[0])
                    for op in tgt.operations:
                        self._op(w, unit, op, ctx)
                    normal = [link for link in tgt.exits if link.exitcase is None]
                w.dedent()
                for line in clauses:
                    w(line)
        if normal:
            self._link(w, unit, normal[0], ctx)

    def _caught(self, block: Block) -> list[Link]:
        """The exception links of a LAST_EXCEPTION block that need an ``except``
        (a final catch-all to the except block propagates by itself)."""
        links = [link for link in block.exits if link.exitcase is not None]
        while links and links[-1].target is self.graph.exceptblock:
            links.pop()
        return links

    def _is_for_next(self, block: Block) -> bool:
        links = self._caught(block)
        return (block.operations[-1].opname == "next" and len(links) == 1
                and links[0].exitcase is StopIteration
                and links[0].last_exc_value not in links[0].args)

    def _clauses(self, unit: _Unit, exc_links: list[Link], ctx: "_Context") -> list[str]:
        w = _Writer()
        e = f"{self.prefix}e"
        for link in exc_links:
            cls = unit.const(link.exitcase)
            if link.target is self.graph.exceptblock:
                w(f"except {cls}:")
                w("    raise")
                continue
            w(f"except {cls} as {e}:")
            w.indent()
            self._link(w, unit, link, ctx, exc_name=e)
            w.dedent()
        return w.lines

    def _assign(self, w: _Writer, unit: _Unit, link: Link, exc_name: str | None = None):
        values = [exc_name if a is link.last_exc_value and exc_name else self.arg(unit, a)
                  for a in link.args]
        pairs = [(self.name(t), v) for t, v in zip(link.target.inputargs, values)
                 if self.name(t) != v]
        if pairs:
            w(f"{', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}")

    def _link(self, w: _Writer, unit: _Unit, link: Link, ctx: "_Context",
              exc_name: str | None = None) -> None:
        g = self.graph
        values = [exc_name if a is link.last_exc_value and exc_name else self.arg(unit, a)
                  for a in link.args]
        tgt = link.target
        if tgt is g.returnblock:
            w(ctx.ret(values[0]))
            return
        if tgt is g.exceptblock:
            w(f"raise {values[0]}")
            return
        if ctx.entry and tgt in self.dispatch:
            w(f"return ({self.number[tgt]}, ({''.join(v + ', ' for v in values)}))")
            return
        self._assign(w, unit, link, exc_name)
        if tgt is ctx.loop:
            w("continue")
        elif tgt in self.dispatch:
            w(f"{self.prefix}b = {self.number[tgt]}")
            w("break" if ctx.loop is not None else "continue")
        else:
            self._block(w, unit, tgt, 0, ctx)

    def _tree(self, w: _Writer, blocks: list[Block], leaf) -> None:
        """Binary dispatch on the block number over ``blocks`` (sorted)."""
        if len(blocks) == 1:
            leaf(blocks[0])
            return
        mid = len(blocks) // 2
        w(f"if {self.prefix}b < {self.number[blocks[mid]]}:")
        w.indent()
        self._tree(w, blocks[:mid], leaf)
        w.dedent()
        w("else:")
        w.indent()
        self._tree(w, blocks[mid:], leaf)
        w.dedent()

    def _compile_run(self):
        p = self.prefix
        unit = _Unit(p)
        w = _Writer()
        w.depth = 2

        def unpack_args(block):
            names = [self.name(v) for v in block.inputargs]
            w(f"{''.join(n + ', ' for n in names)}= {p}a" if names else "pass")

        def dispatch_block(block):
            if block in self.self_loops:
                # its own loop: jumping back to it skips the dispatch tree
                w("while True:")
                w.indent()
                self._block(w, unit, block, 0, _Context(False, block))
                w.dedent()
            else:
                self._block(w, unit, block, 0, _Context(False, None))

        self._tree(w, self.dispatch_order, unpack_args)
        w("while True:")
        w.indent()
        self._tree(w, self.dispatch_order, dispatch_block)
        body = w.lines
        header = [f"def {p}make({', '.join(f'{p}k{i}' for i in range(len(unit.consts)))}):",
                  f"    def {p}run({p}b, {p}a, {p}portal):"]
        return self._compile(header + body + [f"    return {p}run"], unit, "run")

    def _entry(self, block: Block, index: int):
        key = (block, index)
        entry = self._entries.get(key)
        if entry is None:
            p = self.prefix
            live = live_before(block, index)
            unit = _Unit(p)
            w = _Writer()
            w.depth = 2
            self._block(w, unit, block, index, _Context(True, None))
            names = [self.name(v) for v in live]
            names = [n if n not in names[:i] else f"{p}dup{i}" for i, n in enumerate(names)]
            params = ", ".join(names + [f"{p}portal"])
            header = [f"def {p}make({', '.join(f'{p}k{i}' for i in range(len(unit.consts)))}):",
                      f"    def {p}entry({params}):"]
            fn = self._compile(header + w.lines + [f"    return {p}entry"], unit,
                               f"entry{self.number[block]}_{index}")
            entry = self._entries[key] = (fn, live)
        return entry

    def _compile(self, lines: list[str], unit: _Unit, what: str):
        source = "\n".join(lines) + "\n"
        g = self.graph
        filename = f"<blackhole {g.name} {what} {id(self):x}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self.sources.append(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(source, filename, "exec")
        make_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        make = types.FunctionType(make_code, self.globals, make_code.co_name)
        return make(*unit.consts)

    def source(self) -> str:
        """The generated source of the dispatch function (for humans)."""
        return self.sources[0] if self.sources else ""


def _is_identifier(name) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
