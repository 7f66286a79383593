"""Turn the source of a looked-inside function into a flow graph.

``get_graph(func)`` parses the function's own source (``inspect`` + ``ast``), walks
the statements once and emits the operations of ``flowmodel`` into blocks.  The walk
keeps, per path, the current block and an environment: local name -> the Variable or
Constant holding it, plus the set of names that may be unassigned there.  Merge
points (``_Join``) pass every local explicitly; temporaries that live across a block
boundary on a straight path (a call result inside a ``try``, the iterator of a
``for``) are referenced freely and threaded through links afterwards
(``thread_free_variables``).  Three clean-ups follow: chains of blocks joined by a
single unconditional link become one block, empty forwarding blocks disappear, and
inputargs nobody reads are dropped.

What is supported and what raises ``UnsupportedConstruct`` is listed in DESIGN.md
("Flow graphs, jitcodes and the interpreter subset"); the rules the builder adds to
the flow model (branch exits, ``raise_`` blocks, unassigned locals) are in the
docstring of ``flowmodel``.  Semantics follow CPython 3.11 exactly (evaluation order,
one truth test per ``and``/``or`` operand, ``except ... as e`` unbinding ``e``),
except: ``obj.m(args)`` looks ``m`` up after evaluating the arguments, and code in an
``except``/``finally`` body does not run "while handling" the exception (no implicit
``__context__``, no ``sys.exc_info()``).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import sys
import textwrap
import types
import weakref
from typing import Any

from metajit.interp.flowmodel import (
    LAST_EXCEPTION, UNBOUND, Block, Constant, FunctionGraph, Link, SpaceOperation,
    Variable,
)

__all__ = ["UnsupportedConstruct", "build_graph", "get_graph", "bind_arguments"]


class UnsupportedConstruct(Exception):
    """Looked-inside code uses something outside the interpreter subset."""

    def __init__(self, construct: str, filename: str, lineno: int, funcname: str):
        self.construct = construct
        self.filename = filename
        self.lineno = lineno
        self.funcname = funcname
        super().__init__(
            f"{construct} not supported in looked-inside code at {filename}:{lineno} "
            f"(in function {funcname}); mark the function @dont_look_inside")


BINARY_OPS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
    ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.LShift: "lshift",
    ast.RShift: "rshift", ast.BitAnd: "and_", ast.BitOr: "or_", ast.BitXor: "xor",
    ast.MatMult: "matmul",
}
UNARY_OPS = {ast.UAdd: "pos", ast.USub: "neg", ast.Invert: "invert", ast.Not: "not_"}
COMPARE_OPS = {
    ast.Lt: "lt", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne", ast.Gt: "gt",
    ast.GtE: "ge", ast.Is: "is_", ast.IsNot: "is_not",
}
# Operations that cannot raise: inside a ``try`` they do not end their block.
NONRAISING_OPS = frozenset({
    "same_as", "is_", "is_not", "newtuple", "newlist", "newslice",
    "jit_merge_point", "can_enter_jit",
})
# Operations whose result is always a real bool: a branch on it needs no ``bool``.
BOOL_RESULT_OPS = frozenset({"is_", "is_not", "not_", "bool", "contains"})

UNSUPPORTED_NODES = {
    ast.Yield: "yield (generator)", ast.YieldFrom: "yield from (generator)",
    ast.Await: "await", ast.Lambda: "lambda", ast.ListComp: "comprehension",
    ast.SetComp: "comprehension", ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator expression", ast.NamedExpr: "walrus (:=)",
    ast.FunctionDef: "nested function definition",
    ast.AsyncFunctionDef: "nested function definition",
    ast.ClassDef: "class definition", ast.Global: "global statement",
    ast.Nonlocal: "nonlocal statement", ast.With: "with statement",
    ast.AsyncWith: "async with", ast.AsyncFor: "async for", ast.Match: "match statement",
    ast.Import: "import statement", ast.ImportFrom: "import statement",
    ast.TryStar: "except*",
}

_HINT_METHODS = ("jit_merge_point", "can_enter_jit")
_INLINE_FOLD_TYPES = (int, float, bool)


# -- the cache -----------------------------------------------------------------

_graphs: "weakref.WeakKeyDictionary[Any, FunctionGraph]" = weakref.WeakKeyDictionary()


def get_graph(func) -> FunctionGraph:
    """The flow graph of ``func``, built once per function object."""
    graph = _graphs.get(func)
    if graph is None:
        graph = _graphs[func] = build_graph(func)
    return graph


def build_graph(func) -> FunctionGraph:
    """Build the flow graph of ``func`` (a plain function, possibly taken from a
    class) from its source.  Raises UnsupportedConstruct."""
    name = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
    if not isinstance(func, types.FunctionType):
        code = getattr(getattr(func, "__func__", None), "__code__", None)
        raise UnsupportedConstruct(
            "callable that is not a plain function (take methods from their class)",
            code.co_filename if code else "?", code.co_firstlineno if code else 0, name)
    code = func.__code__
    filename = code.co_filename
    if code.co_freevars == ("__class__",):
        raise UnsupportedConstruct("zero-argument super() (write Base.method(self, ...))",
                                   filename, code.co_firstlineno, name)
    if code.co_freevars:
        raise UnsupportedConstruct(
            f"closure over free variables ({', '.join(code.co_freevars)})",
            filename, code.co_firstlineno, name)
    funcdef = _find_funcdef(func, code, name)
    _check_supported(funcdef, filename, name)
    return _GraphBuilder(func, funcdef, filename, name).build()


def bind_arguments(func, args, kwargs=None) -> list:
    """The values of the graph's inputargs (the parameters in order, positional,
    then keyword-only) for the call ``func(*args, **kwargs)``, defaults applied;
    TypeError as CPython raises it for a call that does not fit."""
    code = func.__code__
    nparams = code.co_argcount + code.co_kwonlyargcount
    if not kwargs and len(args) == nparams:
        return list(args)
    bound = inspect.signature(func).bind(*args, **(kwargs or {}))
    bound.apply_defaults()
    return [bound.arguments[name] for name in code.co_varnames[:nparams]]


def _find_funcdef(func, code, name) -> ast.FunctionDef:
    """The ``def`` node of ``code``, with line numbers of the file."""
    if code.co_name == "<lambda>":
        raise UnsupportedConstruct("lambda", code.co_filename, code.co_firstlineno, name)
    try:
        lines, start = inspect.getsourcelines(code)
    except (OSError, TypeError):
        raise UnsupportedConstruct("function without available source",
                                   code.co_filename, code.co_firstlineno, name) from None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
        ast.increment_lineno(tree, start - 1)
    except SyntaxError:
        # dedent fails on e.g. a multi-line string less indented than the def:
        # parse the whole file instead and find the def by its first line.
        tree = ast.parse("".join(linecache.getlines(code.co_filename)))
    for node in ast.walk(tree):
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name == code.co_name
                and min([node.lineno] + [d.lineno for d in node.decorator_list])
                == code.co_firstlineno):
            if isinstance(node, ast.AsyncFunctionDef):
                raise UnsupportedConstruct("async function", code.co_filename,
                                           node.lineno, name)
            return node
    raise UnsupportedConstruct("function whose def cannot be found in its source",
                               code.co_filename, code.co_firstlineno, name)


def _check_supported(funcdef: ast.FunctionDef, filename: str, name: str) -> None:
    """Reject, in source order, what the builder does not model."""

    def fail(what, node):
        raise UnsupportedConstruct(what, filename, node.lineno, name)

    args = funcdef.args
    if args.vararg is not None:
        fail("*args parameter", args.vararg)
    if args.kwarg is not None:
        fail("**kwargs parameter", args.kwarg)

    def visit(node):
        what = UNSUPPORTED_NODES.get(type(node))
        if what is not None:
            fail(what, node)
        if isinstance(node, ast.Call):
            for a in node.args:
                if isinstance(a, ast.Starred):
                    fail("*args in a call", a)
            for k in node.keywords:
                if k.arg is None:
                    fail("**kwargs in a call", k)
        elif isinstance(node, ast.Starred):
            fail("star-unpacking", node)
        elif isinstance(node, ast.Dict) and any(k is None for k in node.keys):
            fail("** in a dict display", node)
        elif isinstance(node, ast.Raise) and node.cause is not None:
            fail("raise ... from", node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in funcdef.body:
        visit(stmt)


# -- names ---------------------------------------------------------------------

def _class_of(qualname: str) -> str | None:
    """The class a method was defined in, from its qualname (for name mangling)."""
    parts = qualname.split(".")
    if len(parts) >= 2 and parts[-2] != "<locals>":
        return parts[-2]
    return None


def _assigned_and_deleted(nodes, mangle) -> tuple[list[str], set[str]]:
    """Local names bound and names unbound (``del x``, ``except ... as x``) in
    ``nodes``, in source order."""
    assigned: dict[str, None] = {}
    deleted: set[str] = set()
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Store):
                    assigned.setdefault(mangle(node.id), None)
                elif isinstance(node.ctx, ast.Del):
                    deleted.add(mangle(node.id))
            elif isinstance(node, ast.ExceptHandler) and node.name:
                assigned.setdefault(mangle(node.name), None)
                deleted.add(mangle(node.name))
    return list(assigned), deleted


# -- the walk ------------------------------------------------------------------

class _Join:
    """A merge point not yet turned into a block: the links that reach it, each
    with the environment of its path (and extra values: an expression's result,
    a caught exception)."""

    def __init__(self):
        self.edges: list[tuple[Link, dict, set, list]] = []

    def add(self, link: Link, env: dict, maybe: set, extras=()) -> None:
        self.edges.append((link, dict(env), set(maybe), list(extras)))


class _LoopFrame:
    def __init__(self, head: "_LoopHead", brk: _Join):
        self.head = head
        self.brk = brk


class _LoopHead:
    def __init__(self, block: Block, names: list[str], bound: set[str]):
        self.block = block
        self.names = names
        self.bound = bound


class _TryFrame:
    """Inside a ``try`` body: the except clauses, as (class, handler join)."""

    def __init__(self, handlers: list[tuple[type, _Join]]):
        self.handlers = handlers


class _FinallyFrame:
    """Inside a ``try`` with ``finally`` (body, handlers, else)."""

    def __init__(self, finalbody: list[ast.stmt]):
        self.finalbody = finalbody
        self.exc_join = _Join()


class _HandlerFrame:
    """Inside an except clause (or a finally run for an exception): ``exc`` is the
    exception a bare ``raise`` re-raises; ``name`` is unbound when control leaves."""

    def __init__(self, exc, name: str | None):
        self.exc = exc
        self.name = name


class _GraphBuilder:
    def __init__(self, func, funcdef: ast.FunctionDef, filename: str, name: str):
        self.func = func
        self.funcdef = funcdef
        self.filename = filename
        self.funcname = name
        self.globals = getattr(func, "__globals__", {})
        cls = _class_of(getattr(func, "__qualname__", ""))
        self.mangle_prefix = "_" + cls.lstrip("_") if cls and cls.strip("_") else None
        self.block: Block | None = None
        self.env: dict[str, Any] = {}
        self.maybe: set[str] = set()
        self.stack: list = []
        self.bool_vars: set[Variable] = set()
        self.lineno = funcdef.lineno

    def mangle(self, name: str) -> str:
        if (self.mangle_prefix and name.startswith("__") and not name.endswith("__")
                and "." not in name):
            return self.mangle_prefix + name
        return name

    def unsupported(self, what: str, node) -> UnsupportedConstruct:
        return UnsupportedConstruct(what, self.filename, node.lineno, self.funcname)

    # -- building -------------------------------------------------------------

    def build(self) -> FunctionGraph:
        a = self.funcdef.args
        params = [self.mangle(p.arg) for p in a.posonlyargs + a.args + a.kwonlyargs]
        self.localnames = set(params) | set(
            _assigned_and_deleted(self.funcdef.body, self.mangle)[0])
        for node in ast.walk(self.funcdef):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del):
                self.localnames.add(self.mangle(node.id))
        inputargs = [Variable(p) for p in params]
        start = Block(inputargs)
        self.graph = FunctionGraph(self.funcname, start, func=self.func,
                                   filename=self.filename,
                                   firstlineno=self.funcdef.lineno)
        self.block = start
        self.env = dict(zip(params, inputargs))
        body = self.funcdef.body
        if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            body = body[1:]
        self.stmts(body)
        if self.block is not None:
            self.close_to_return(Constant(None))
        simplify_graph(self.graph)
        return self.graph

    # -- blocks and links ---------------------------------------------------------

    def emit(self, opname: str, args: list, lineno: int, canraise: bool | None = None):
        """Append an operation to the current block; inside a ``try`` an operation
        that can raise ends its block (LAST_EXCEPTION) with links to the handlers."""
        op = SpaceOperation(opname, args, Variable(), lineno)
        self.block.operations.append(op)
        if opname in BOOL_RESULT_OPS:
            self.bool_vars.add(op.result)
        if canraise is None:
            canraise = opname not in NONRAISING_OPS
        if canraise and self.catching():
            self.split_after_raising_op()
        return op.result

    def catching(self) -> bool:
        return any(isinstance(f, (_TryFrame, _FinallyFrame)) for f in self.stack)

    def split_after_raising_op(self, first_exc_links=()) -> None:
        """End the current block after its last op (which may raise): a normal link
        to a fresh block, then ``first_exc_links`` [(class, join)], then the
        handlers of the enclosing try statements."""
        block = self.block
        normal = Link([], None)
        links = [normal]
        for cls, join in first_exc_links:
            link = Link(None, None, cls, Variable("e"))
            join.add(link, self.env, self.maybe)
            links.append(link)
        links += self.exception_links()[0]
        block.exitswitch = LAST_EXCEPTION
        block.closeblock(*links)
        self.block = normal.target = Block([])

    def exception_links(self) -> tuple[list[Link], bool]:
        """Links for an exception raised here, innermost handler first; the bool
        says whether the last one catches everything."""
        env, maybe = dict(self.env), set(self.maybe)
        links = []
        for frame in reversed(self.stack):
            if isinstance(frame, _HandlerFrame) and frame.name:
                env.pop(frame.name, None)
                maybe.discard(frame.name)
            elif isinstance(frame, _TryFrame):
                for cls, join in frame.handlers:
                    link = Link(None, None, cls, Variable("e"))
                    join.add(link, env, maybe, [link.last_exc_value])
                    links.append(link)
                    if cls is BaseException:
                        return links, True
            elif isinstance(frame, _FinallyFrame):
                link = Link(None, None, BaseException, Variable("e"))
                frame.exc_join.add(link, env, maybe, [link.last_exc_value])
                links.append(link)
                return links, True
        return links, False

    def emit_raise(self, exc, lineno: int) -> None:
        self.block.operations.append(SpaceOperation("raise_", [exc], Variable(), lineno))
        links, catch_all = self.exception_links()
        if not catch_all:
            e = Variable("e")
            links.append(Link([e], self.graph.exceptblock, BaseException, e))
        self.block.exitswitch = LAST_EXCEPTION
        self.block.closeblock(*links)
        self.block = None

    def goto(self, join: _Join, extras=()) -> None:
        link = Link(None, None)
        self.block.closeblock(link)
        join.add(link, self.env, self.maybe, extras)
        self.block = None

    def materialize(self, join: _Join, nextras: int = 0) -> list:
        """Make the block where the join's paths meet the current one; returns its
        extra inputargs (or None: no path reaches it)."""
        if not join.edges:
            self.block = None
            return None
        names: dict[str, None] = {}
        for _, env, _, _ in join.edges:
            names.update(dict.fromkeys(env))
        bound = {n for n in names
                 if all(n in env and n not in maybe for _, env, maybe, _ in join.edges)}
        inputs = [Variable(n) for n in names]
        extras = [Variable() for _ in range(nextras)]
        block = Block(inputs + extras)
        for link, env, _, ex in join.edges:
            link.args = [env.get(n, Constant(UNBOUND)) for n in names] + ex
            link.target = block
        self.block = block
        self.env = dict(zip(names, inputs))
        self.maybe = set(names) - bound
        return extras

    def fork(self, switch) -> tuple[Link, Link]:
        """End the current block on a branch: returns the (False, True) links."""
        if not isinstance(switch, Constant) and switch not in self.bool_vars:
            switch = self.emit("bool", [switch], self.lineno)
        no, yes = Link(None, None, False), Link(None, None, True)
        self.block.exitswitch = switch
        self.block.closeblock(no, yes)
        self.block = None
        return no, yes

    def follow(self, link: Link, env: dict, maybe: set) -> None:
        """Continue building on a fresh block reached only by ``link``."""
        link.args = []
        link.target = self.block = Block([])
        self.env, self.maybe = env, maybe

    def close_to_return(self, value) -> None:
        self.block.closeblock(Link([value], self.graph.returnblock))
        self.block = None

    # -- loops ------------------------------------------------------------------

    def enter_loop(self, body_nodes) -> _LoopHead:
        assigned, deleted = _assigned_and_deleted(body_nodes, self.mangle)
        names = list(dict.fromkeys(list(self.env) + assigned))
        bound = {n for n in self.env if n not in self.maybe and n not in deleted}
        inputs = [Variable(n) for n in names]
        block = Block(inputs)
        self.block.closeblock(Link([self.env.get(n, Constant(UNBOUND)) for n in names],
                                   block))
        self.block = block
        self.env = dict(zip(names, inputs))
        self.maybe = set(names) - bound
        return _LoopHead(block, names, bound)

    def back_edge(self, head: _LoopHead) -> None:
        assert all(n in self.env and n not in self.maybe for n in head.bound)
        self.block.closeblock(Link([self.env.get(n, Constant(UNBOUND)) for n in head.names],
                                   head.block))
        self.block = None

    def unwind(self, depth: int) -> None:
        """Leave the frames above ``depth`` (return, break, continue): run their
        finally bodies and unbind their ``except ... as`` names."""
        saved = self.stack
        try:
            for i in range(len(saved) - 1, depth - 1, -1):
                if self.block is None:
                    break
                frame = saved[i]
                if isinstance(frame, _FinallyFrame):
                    self.stack = saved[:i]
                    self.stmts(frame.finalbody)
                elif isinstance(frame, _HandlerFrame) and frame.name:
                    self.env.pop(frame.name, None)
                    self.maybe.discard(frame.name)
        finally:
            self.stack = saved

    def innermost_loop(self, node) -> int:
        for i in range(len(self.stack) - 1, -1, -1):
            if isinstance(self.stack[i], _LoopFrame):
                return i
        raise self.unsupported("break/continue outside a loop", node)

    # -- statements -------------------------------------------------------------

    def stmts(self, nodes) -> None:
        for node in nodes:
            if self.block is None:
                return      # unreachable, as CPython drops it
            self.lineno = node.lineno
            method = getattr(self, "stmt_" + type(node).__name__, None)
            if method is None:
                raise self.unsupported(f"{type(node).__name__} statement", node)
            method(node)

    def stmt_Pass(self, node):
        pass

    def stmt_Expr(self, node):
        self.expr(node.value)

    def stmt_Assign(self, node):
        value = self.expr(node.value)
        for target in node.targets:
            self.store(target, value)

    def stmt_AnnAssign(self, node):
        if node.value is not None:
            self.store(node.target, self.expr(node.value))
        elif isinstance(node.target, ast.Attribute):
            self.expr(node.target.value)
        elif isinstance(node.target, ast.Subscript):
            self.expr(node.target.value)
            self.expr(node.target.slice)

    def stmt_AugAssign(self, node):
        opname = "inplace_" + BINARY_OPS[type(node.op)]
        target, line = node.target, node.lineno
        if isinstance(target, ast.Name):
            result = self.emit(opname, [self.load_name(target), self.expr(node.value)], line)
            self.store(target, result)
        elif isinstance(target, ast.Attribute):
            obj = self.expr(target.value)
            attr = Constant(self.mangle(target.attr))
            old = self.emit("getattr", [obj, attr], line)
            result = self.emit(opname, [old, self.expr(node.value)], line)
            self.emit("setattr", [obj, attr, result], line)
        elif isinstance(target, ast.Subscript):
            obj = self.expr(target.value)
            key = self.expr(target.slice)
            old = self.emit("getitem", [obj, key], line)
            result = self.emit(opname, [old, self.expr(node.value)], line)
            self.emit("setitem", [obj, key, result], line)
        else:
            raise self.unsupported(f"augmented assignment to {type(target).__name__}", node)

    def stmt_Delete(self, node):
        for target in node.targets:
            self.delete(target)

    def delete(self, target):
        line = target.lineno
        if isinstance(target, ast.Name):
            name = self.mangle(target.id)
            self.load_local(name, line)
            self.env.pop(name, None)
            self.maybe.discard(name)
        elif isinstance(target, ast.Subscript):
            obj = self.expr(target.value)
            self.emit("delitem", [obj, self.expr(target.slice)], line)
        elif isinstance(target, ast.Attribute):
            obj = self.expr(target.value)
            self.emit("call", [Constant(delattr), Constant(2), Constant(()), obj,
                               Constant(self.mangle(target.attr))], line)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.delete(elt)
        else:
            raise self.unsupported(f"del of {type(target).__name__}", target)

    def stmt_Return(self, node):
        value = Constant(None) if node.value is None else self.expr(node.value)
        self.unwind(0)
        if self.block is not None:
            self.close_to_return(value)

    def stmt_Raise(self, node):
        if node.exc is None:
            for frame in reversed(self.stack):
                if isinstance(frame, _HandlerFrame):
                    self.emit_raise(frame.exc, node.lineno)
                    return
            raise self.unsupported("bare raise outside an except clause", node)
        self.emit_raise(self.expr(node.exc), node.lineno)

    def stmt_Assert(self, node):
        if sys.flags.optimize:
            return
        ok = _Join()
        self.jump_if(node.test, True, ok)
        if self.block is not None:
            args = [] if node.msg is None else [self.expr(node.msg)]
            exc = self.emit("call", [Constant(AssertionError), Constant(len(args)),
                                     Constant(())] + args, node.lineno, canraise=False)
            self.emit_raise(exc, node.lineno)
        self.materialize(ok)

    def stmt_If(self, node):
        orelse, end = _Join(), _Join()
        self.jump_if(node.test, False, orelse)
        self.stmts(node.body)
        if self.block is not None:
            self.goto(end)
        self.materialize(orelse)
        self.stmts(node.orelse)
        if self.block is not None:
            self.goto(end)
        self.materialize(end)

    def stmt_While(self, node):
        head = self.enter_loop(node.body)
        done, brk = _Join(), _Join()
        self.jump_if(node.test, False, done)
        self.loop_body(head, brk, node.body)
        self.materialize(done)
        self.stmts(node.orelse)
        if self.block is not None:
            self.goto(brk)
        self.materialize(brk)

    def stmt_For(self, node):
        it = self.emit("iter", [self.expr(node.iter)], node.lineno)
        head = self.enter_loop([node.target] + node.body)
        done, brk = _Join(), _Join()
        item = self.emit("next", [it], node.iter.lineno, canraise=False)
        self.split_after_raising_op([(StopIteration, done)])
        self.lineno = node.lineno
        self.store(node.target, item)
        self.loop_body(head, brk, node.body)
        self.materialize(done)
        self.stmts(node.orelse)
        if self.block is not None:
            self.goto(brk)
        self.materialize(brk)

    def loop_body(self, head: _LoopHead, brk: _Join, body) -> None:
        self.stack.append(_LoopFrame(head, brk))
        self.stmts(body)
        self.stack.pop()
        if self.block is not None:
            self.back_edge(head)

    def stmt_Break(self, node):
        i = self.innermost_loop(node)
        self.unwind(i + 1)
        if self.block is not None:
            self.goto(self.stack[i].brk)

    def stmt_Continue(self, node):
        i = self.innermost_loop(node)
        self.unwind(i + 1)
        if self.block is not None:
            self.back_edge(self.stack[i].head)

    def stmt_Try(self, node):
        if not node.finalbody:
            self.try_except(node)
            return
        frame = _FinallyFrame(node.finalbody)
        self.stack.append(frame)
        if node.handlers:
            self.try_except(node)
        else:
            self.stmts(node.body)
        self.stack.pop()
        end = _Join()
        if self.block is not None:
            self.stmts(node.finalbody)
            if self.block is not None:
                self.goto(end)
        extras = self.materialize(frame.exc_join, 1)
        if extras is not None:
            exc = extras[0]
            self.stack.append(_HandlerFrame(exc, None))
            self.stmts(node.finalbody)
            self.stack.pop()
            if self.block is not None:
                self.emit_raise(exc, node.finalbody[-1].lineno)
        self.materialize(end)

    def try_except(self, node):
        clauses = []
        handlers = []
        for h in node.handlers:
            join = _Join()
            clauses.append((h, join))
            classes = [BaseException] if h.type is None else self.except_classes(h.type)
            handlers += [(cls, join) for cls in classes]
        self.stack.append(_TryFrame(handlers))
        self.stmts(node.body)
        self.stack.pop()
        end = _Join()
        self.stmts(node.orelse)
        if self.block is not None:
            self.goto(end)
        for h, join in clauses:
            extras = self.materialize(join, 1)
            if extras is None:
                continue
            self.lineno = h.lineno
            name = None if h.name is None else self.mangle(h.name)
            if name is not None:
                self.env[name] = extras[0]
                self.maybe.discard(name)
            self.stack.append(_HandlerFrame(extras[0], name))
            self.stmts(h.body)
            self.stack.pop()
            if self.block is not None:
                if name is not None:
                    self.env.pop(name, None)
                self.goto(end)
        self.materialize(end)

    def except_classes(self, node) -> list[type]:
        """The classes an except clause names, resolved now (see flowmodel)."""
        if isinstance(node, ast.Tuple):
            return [c for elt in node.elts for c in self.except_classes(elt)]
        value = self.constant_value(node)
        if isinstance(value, tuple):
            classes = list(value)
        else:
            classes = [value]
        if not all(isinstance(c, type) and issubclass(c, BaseException) for c in classes):
            raise self.unsupported("except clause whose class is not known when the "
                                   "graph is built", node)
        return classes

    def constant_value(self, node):
        missing = object()
        if isinstance(node, ast.Name):
            name = self.mangle(node.id)
            if name not in self.localnames:
                value = self.globals.get(name, missing)
                if value is missing:
                    b = self.globals.get("__builtins__", builtins)
                    value = (b if isinstance(b, dict) else vars(b)).get(name, missing)
                if value is not missing:
                    return value
        elif isinstance(node, ast.Attribute):
            base = self.constant_value(node.value)
            if isinstance(base, (type(sys), type)):
                value = getattr(base, node.attr, missing)
                if value is not missing:
                    return value
        return missing

    # -- stores -----------------------------------------------------------------

    def store(self, target, value) -> None:
        line = target.lineno
        if isinstance(target, ast.Name):
            name = self.mangle(target.id)
            self.env[name] = value
            self.maybe.discard(name)
        elif isinstance(target, ast.Attribute):
            obj = self.expr(target.value)
            self.emit("setattr", [obj, Constant(self.mangle(target.attr)), value], line)
        elif isinstance(target, ast.Subscript):
            obj = self.expr(target.value)
            self.emit("setitem", [obj, self.expr(target.slice), value], line)
        elif isinstance(target, (ast.Tuple, ast.List)):
            n = len(target.elts)
            items = self.emit("unpack", [value, Constant(n)], line)
            parts = [self.emit("getitem", [items, Constant(i)], line, canraise=False)
                     for i in range(n)]
            for elt, part in zip(target.elts, parts):
                self.store(elt, part)
        else:
            raise self.unsupported(f"assignment to {type(target).__name__}", target)

    # -- expressions ------------------------------------------------------------

    def expr(self, node):
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self.unsupported(f"{type(node).__name__} expression", node)
        return method(node)

    def expr_Constant(self, node):
        return Constant(node.value)

    def expr_Name(self, node):
        return self.load_name(node)

    def load_name(self, node):
        name = self.mangle(node.id)
        if name in self.localnames:
            return self.load_local(name, node.lineno)
        return self.emit("load_global", [Constant(name)], node.lineno)

    def load_local(self, name: str, lineno: int):
        """The value of a local; where it may be unassigned, check first."""
        if name in self.env and name not in self.maybe:
            return self.env[name]
        value = self.env.get(name, Constant(UNBOUND))
        unbound = self.emit("is_", [value, Constant(UNBOUND)], lineno)
        env, maybe = dict(self.env), set(self.maybe)
        no, yes = self.fork(unbound)
        self.follow(yes, dict(env), set(maybe))
        msg = f"cannot access local variable '{name}' where it is not associated with a value"
        exc = self.emit("call", [Constant(UnboundLocalError), Constant(1), Constant(()),
                                 Constant(msg)], lineno, canraise=False)
        self.emit_raise(exc, lineno)
        maybe.discard(name)
        env[name] = value
        self.follow(no, env, maybe)
        return value

    def expr_BinOp(self, node):
        left, right = self.expr(node.left), self.expr(node.right)
        opname = BINARY_OPS[type(node.op)]
        if isinstance(left, Constant) and isinstance(right, Constant):
            folded = _fold(opname, left.value, right.value)
            if folded is not None:
                return folded
        return self.emit(opname, [left, right], node.lineno)

    def expr_UnaryOp(self, node):
        operand = self.expr(node.operand)
        opname = UNARY_OPS[type(node.op)]
        if isinstance(operand, Constant) and opname != "not_":
            folded = _fold(opname, operand.value)
            if folded is not None:
                return folded
        return self.emit(opname, [operand], node.lineno)

    def expr_BoolOp(self, node):
        # ``a or b``: the first operand whose truth decides, each tested once.
        decides = isinstance(node.op, ast.Or)
        end = _Join()
        for operand in node.values[:-1]:
            value = self.expr(operand)
            if isinstance(value, Constant):
                if bool(value.value) == decides:
                    self.goto(end, [value])
                    break
                continue
            no, yes = self.fork(value)
            env, maybe = self.env, self.maybe
            decided, other = (yes, no) if decides else (no, yes)
            end.add(decided, env, maybe, [value])
            self.follow(other, dict(env), set(maybe))
        else:
            self.goto(end, [self.expr(node.values[-1])])
        return self.materialize(end, 1)[0]

    def expr_Compare(self, node):
        if len(node.ops) == 1:
            return self.compare(node.ops[0], self.expr(node.left),
                                self.expr(node.comparators[0]), node.lineno)
        end = _Join()
        left = self.expr(node.left)
        for i, (op, comparator) in enumerate(zip(node.ops, node.comparators)):
            right = self.expr(comparator)
            result = self.compare(op, left, right, node.lineno)
            if i == len(node.ops) - 1:
                self.goto(end, [result])
                break
            no, yes = self.fork(result)
            end.add(no, self.env, self.maybe, [result])
            self.follow(yes, dict(self.env), set(self.maybe))
            left = right
        return self.materialize(end, 1)[0]

    def compare(self, op, left, right, lineno):
        if isinstance(op, ast.In):
            return self.emit("contains", [right, left], lineno)
        if isinstance(op, ast.NotIn):
            return self.emit("not_", [self.emit("contains", [right, left], lineno)], lineno)
        return self.emit(COMPARE_OPS[type(op)], [left, right], lineno)

    def expr_IfExp(self, node):
        orelse, end = _Join(), _Join()
        self.jump_if(node.test, False, orelse)
        if self.block is not None:
            self.goto(end, [self.expr(node.body)])
        self.materialize(orelse)
        if self.block is not None:
            self.goto(end, [self.expr(node.orelse)])
        return self.materialize(end, 1)[0]

    def jump_if(self, node, cond: bool, target: _Join) -> None:
        """Go to ``target`` when the truth of ``node`` is ``cond``; otherwise carry
        on in the current block (CPython's jump compilation: ``not``, ``and``,
        ``or`` and chained comparisons test each value's truth once)."""
        if self.block is None:
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.jump_if(node.operand, not cond, target)
            return
        if isinstance(node, ast.BoolOp):
            decides = isinstance(node.op, ast.Or)
            if cond == decides:        # any operand with truth ``cond`` jumps
                for operand in node.values:
                    self.jump_if(operand, cond, target)
            else:                      # all operands must have truth ``cond``
                skip = _Join()
                for operand in node.values[:-1]:
                    self.jump_if(operand, not cond, skip)
                self.jump_if(node.values[-1], cond, target)
                if self.block is not None:
                    self.goto(skip)
                self.materialize(skip)
            return
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            skip = _Join()
            left = self.expr(node.left)
            last = len(node.ops) - 1
            for i, (op, comparator) in enumerate(zip(node.ops, node.comparators)):
                right = self.expr(comparator)
                result = self.compare(op, left, right, node.lineno)
                if i < last:
                    self.branch_to(result, False, skip if cond else target)
                else:
                    self.branch_to(result, cond, target)
                left = right
            if self.block is not None:
                self.goto(skip)
            self.materialize(skip)
            return
        self.branch_to(self.expr(node), cond, target)

    def branch_to(self, value, cond: bool, target: _Join) -> None:
        if self.block is None:
            return
        if isinstance(value, Constant):
            if bool(value.value) == cond:
                self.goto(target)
            return
        no, yes = self.fork(value)
        env, maybe = self.env, self.maybe
        jump, stay = (yes, no) if cond else (no, yes)
        target.add(jump, env, maybe)
        self.follow(stay, dict(env), set(maybe))

    def expr_Attribute(self, node):
        return self.emit("getattr", [self.expr(node.value), Constant(self.mangle(node.attr))],
                         node.lineno)

    def expr_Subscript(self, node):
        obj = self.expr(node.value)
        return self.emit("getitem", [obj, self.expr(node.slice)], node.lineno)

    def expr_Slice(self, node):
        parts = [Constant(None) if p is None else self.expr(p)
                 for p in (node.lower, node.upper, node.step)]
        return self.emit("newslice", parts, node.lineno)

    def expr_Tuple(self, node):
        items = [self.expr(e) for e in node.elts]
        if all(isinstance(i, Constant) for i in items):
            return Constant(tuple(i.value for i in items))
        return self.emit("newtuple", items, node.lineno)

    def expr_List(self, node):
        return self.emit("newlist", [self.expr(e) for e in node.elts], node.lineno)

    def expr_Dict(self, node):
        args = []
        for k, v in zip(node.keys, node.values):
            args.append(self.expr(k))
            args.append(self.expr(v))
        return self.emit("newdict", args, node.lineno)

    def expr_Set(self, node):
        items = self.emit("newtuple", [self.expr(e) for e in node.elts], node.lineno)
        return self.emit("call", [Constant(set), Constant(1), Constant(()), items],
                         node.lineno)

    def expr_JoinedStr(self, node):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(Constant(value.value))
            else:
                parts.append(self.formatted(value))
        if all(isinstance(p, Constant) for p in parts):
            return Constant("".join(p.value for p in parts))
        if len(parts) == 1:
            return parts[0]
        return self.emit("buildstr", parts, node.lineno)

    def formatted(self, node: ast.FormattedValue):
        value = self.expr(node.value)
        if node.conversion != -1:
            convert = {ord("s"): str, ord("r"): repr, ord("a"): ascii}[node.conversion]
            value = self.emit("call", [Constant(convert), Constant(1), Constant(()), value],
                              node.lineno)
        spec = Constant("") if node.format_spec is None else self.expr(node.format_spec)
        return self.emit("format", [value, spec], node.lineno)

    def expr_Call(self, node):
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in _HINT_METHODS
                and not node.args and node.keywords):
            driver = self.expr(func.value)
            names = tuple(k.arg for k in node.keywords)
            values = [self.expr(k.value) for k in node.keywords]
            return self.emit(func.attr, [driver, Constant(names)] + values, node.lineno)
        if isinstance(func, ast.Attribute):
            head = [self.expr(func.value), Constant(self.mangle(func.attr))]
            opname = "call_method"
        else:
            head = [self.expr(func)]
            opname = "call"
        args = [self.expr(a) for a in node.args]
        kwnames = tuple(k.arg for k in node.keywords)
        args += [self.expr(k.value) for k in node.keywords]
        return self.emit(opname, head + [Constant(len(node.args)), Constant(kwnames)] + args,
                         node.lineno)


def _fold(opname: str, *values):
    """Fold an arithmetic op on int/float constants, as CPython's compiler does;
    None when it raises or would build something large."""
    if not all(type(v) in _INLINE_FOLD_TYPES for v in values):
        return None
    import operator
    fn = getattr(operator, {"pos": "pos", "neg": "neg", "invert": "invert"}.get(opname, opname),
                 None)
    if fn is None:
        return None
    if opname in ("pow", "lshift") and abs(values[1]) > 128:
        return None
    try:
        result = fn(*values)
    except Exception:
        return None
    if isinstance(result, int) and result.bit_length() > 128:
        return None
    return Constant(result)


# -- clean-ups ---------------------------------------------------------------------

def simplify_graph(graph: FunctionGraph) -> None:
    thread_free_variables(graph)
    join_blocks(graph)
    remove_empty_blocks(graph)
    remove_dead_inputargs(graph)
    graph.iterblocks()


def _predecessors(graph) -> dict[Block, list[Link]]:
    preds: dict[Block, list[Link]] = {}
    for block in graph.iterblocks():
        preds.setdefault(block, [])
        for link in block.exits:
            preds.setdefault(link.target, []).append(link)
    return preds


def _uses(block: Block):
    for op in block.operations:
        yield from op.args
    if isinstance(block.exitswitch, Variable):
        yield block.exitswitch
    for link in block.exits:
        for a in link.args:
            if a is not link.last_exc_value:
                yield a


def thread_free_variables(graph: FunctionGraph) -> None:
    """Make each block use only its own variables: a Variable of a dominating
    block used further on becomes an inputarg of every block on the way."""
    preds = _predecessors(graph)
    defined = {b: set(b.inputargs) | {op.result for op in b.operations} for b in preds}
    free: dict[Block, dict[Variable, None]] = {b: {} for b in preds}
    work = []
    for block in preds:
        for v in _uses(block):
            if isinstance(v, Variable) and v not in defined[block] and v not in free[block]:
                free[block][v] = None
                work.append((block, v))
    while work:
        block, v = work.pop()
        assert preds[block], f"{graph}: {v} used in {block} without a definition"
        for link in preds[block]:
            src = link.prevblock
            assert not (link.exitcase is not None and src.operations
                        and src.operations[-1].result is v), "exception path uses result"
            if v not in defined[src] and v not in free[src]:
                free[src][v] = None
                work.append((src, v))
    rename = {b: {v: Variable(v.name) for v in fv} for b, fv in free.items()}
    for block, mapping in rename.items():
        if not mapping:
            continue
        for op in block.operations:
            op.args = [mapping.get(a, a) if isinstance(a, Variable) else a for a in op.args]
        if isinstance(block.exitswitch, Variable):
            block.exitswitch = mapping.get(block.exitswitch, block.exitswitch)
        for link in block.exits:
            link.args = [mapping.get(a, a) if isinstance(a, Variable) else a for a in link.args]
    for block, fv in free.items():
        if not fv:
            continue
        block.inputargs.extend(rename[block][v] for v in fv)
        for link in preds[block]:
            src_map = rename[link.prevblock]
            link.args.extend(src_map.get(v, v) for v in fv)


def _substitute(block: Block, mapping: dict) -> None:
    def sub(a):
        return mapping.get(a, a) if isinstance(a, Variable) else a
    for op in block.operations:
        op.args = [sub(a) for a in op.args]
    if isinstance(block.exitswitch, Variable):
        block.exitswitch = sub(block.exitswitch)
    for link in block.exits:
        link.args = [sub(a) for a in link.args]


def join_blocks(graph: FunctionGraph) -> None:
    """Merge a block into its only predecessor when that one simply goes to it."""
    preds = _predecessors(graph)
    special = (graph.startblock, graph.returnblock, graph.exceptblock)
    for block in list(preds):
        while (block.exitswitch is None and len(block.exits) == 1
               and len(preds.get(block.exits[0].target, ())) == 1):
            link = block.exits[0]
            nxt = link.target
            if nxt is block or nxt in special:
                break
            _substitute(nxt, dict(zip(nxt.inputargs, link.args)))
            block.operations.extend(nxt.operations)
            block.exitswitch = nxt.exitswitch
            block.closeblock(*nxt.exits)
            preds[nxt] = []
            nxt.operations, nxt.exits = [], []


def remove_empty_blocks(graph: FunctionGraph) -> None:
    """Skip blocks with no operation and one unconditional exit."""
    special = (graph.startblock, graph.returnblock, graph.exceptblock)

    def forwards(block):
        return (block not in special and not block.operations and block.exitswitch is None
                and len(block.exits) == 1)

    for block in graph.iterblocks():
        for link in block.exits:
            seen = set()
            while forwards(link.target) and link.target not in seen:
                tgt = link.target
                seen.add(tgt)
                mapping = dict(zip(tgt.inputargs, link.args))
                nxt = tgt.exits[0]
                link.args = [mapping.get(a, a) if isinstance(a, Variable) else a
                             for a in nxt.args]
                link.target = nxt.target


def remove_dead_inputargs(graph: FunctionGraph) -> None:
    """Drop inputargs that neither the block nor any successor reads."""
    blocks = graph.iterblocks()
    preds = _predecessors(graph)
    keep_all = (graph.startblock, graph.returnblock, graph.exceptblock)
    needed: dict[Block, set[Variable]] = {}
    for block in blocks:
        needed[block] = set(block.inputargs) if block in keep_all else set()
        for op in block.operations:
            needed[block].update(a for a in op.args if isinstance(a, Variable))
        if isinstance(block.exitswitch, Variable):
            needed[block].add(block.exitswitch)
    for block in (graph.returnblock, graph.exceptblock):
        needed.setdefault(block, set(block.inputargs))
    work = list(needed)
    while work:
        target = work.pop()
        tneed = needed[target]
        for link in preds.get(target, ()):
            src = link.prevblock
            grew = False
            for a, t in zip(link.args, target.inputargs):
                if t in tneed and isinstance(a, Variable) and a not in needed[src]:
                    needed[src].add(a)
                    grew = True
            if grew:
                work.append(src)
    for block in blocks:
        if block in keep_all:
            continue
        keep = [i for i, v in enumerate(block.inputargs) if v in needed[block]]
        if len(keep) == len(block.inputargs):
            continue
        block.inputargs = [block.inputargs[i] for i in keep]
        for link in preds[block]:
            link.args = [link.args[i] for i in keep]
