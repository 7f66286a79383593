"""The portal transform: ``@driver.portal`` rewrites the interpreter's main loop.

Two versions of the portal are compiled from its source:

- the JIT version, where ``driver.jit_merge_point(...)`` becomes an inline fast
  path: look the raw green key up in the driver's cell dict and count down; only at
  zero call ``WarmState.on_hot``, whose answer is assigned straight into the
  portal's locals (or returned);
- the plain version, with the merge point and ``can_enter_jit`` removed and the
  value hints (``promote(x)`` ...) compiled away: the baseline of every ratio.

Which one runs is decided per call by the process configuration (``--no-jit``).
Decoration checks the merge point's place and arguments and reports the file and
line of what is wrong.
"""
from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from typing import Any

from metajit.tracer import hints
from metajit.tracer.hints import HintError

VALUE_TYPES = frozenset([int, str, float, bool, bytes, type(None)])


def raw_key(greens: tuple):
    """The cold path's key: the green values themselves where they are plain values,
    their identity otherwise (the cell holds them alive)."""
    key = tuple(g if g.__class__ in VALUE_TYPES else id(g) for g in greens)
    return key[0] if len(key) == 1 else key


def _is_hint_call(node: ast.AST, attr: str) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == attr)


class _Finder(ast.NodeVisitor):
    """Finds the merge point and every can_enter_jit, checking where they stand."""

    def __init__(self, where):
        self.where = where
        self.merge_points: list[tuple[ast.Expr, ast.AST]] = []
        self.can_enters: list[ast.Expr] = []
        self.misplaced: list[ast.Expr] = []

    def generic_visit(self, node):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if _is_hint_call(item, "jit_merge_point"):
                        if isinstance(node, (ast.While, ast.For)) and field == "body" and i == 0:
                            self.merge_points.append((item, node))
                        else:
                            self.misplaced.append(item)
                    elif _is_hint_call(item, "can_enter_jit"):
                        self.can_enters.append(item)
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)


def _check_keywords(call: ast.Call, driver, where, what: str) -> list[str]:
    names = []
    if call.args:
        raise HintError(f"{where(call)}: {what} takes keyword arguments only "
                        f"(greens and reds by name)")
    for kw in call.keywords:
        if kw.arg is None:
            raise HintError(f"{where(call)}: {what}(**...) is not supported: name each "
                            f"green and red")
        if not (isinstance(kw.value, ast.Name) and kw.value.id == kw.arg):
            raise HintError(f"{where(call)}: {what}: pass each variable as itself "
                            f"({kw.arg}={kw.arg})")
        names.append(kw.arg)
    declared = set(driver.greens) | set(driver.reds)
    unknown = [n for n in names if n not in declared]
    missing = [n for n in driver.greens + driver.reds if n not in names]
    if unknown:
        raise HintError(f"{where(call)}: {what}: {', '.join(unknown)} "
                        f"{'is' if len(unknown) == 1 else 'are'} neither green nor red "
                        f"(declared at {driver.where})")
    if missing:
        raise HintError(f"{where(call)}: {what}: missing {', '.join(missing)} "
                        f"(declared green or red at {driver.where})")
    return names


def _names_in(nodes, ctx) -> set[str]:
    out = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ctx):
                out.add(sub.id)
    return out


def _check_live(fdef: ast.FunctionDef, loop: ast.AST, driver, where, mp) -> None:
    """Every local read inside the loop must be a green or a red, or be assigned
    inside the loop (then it does not survive from one iteration to the next in a
    way the JIT must know... conservatively: it is assigned in the body)."""
    params = {a.arg for a in fdef.args.args + fdef.args.kwonlyargs}
    assigned_anywhere = _names_in(fdef.body, (ast.Store, ast.Del)) | params
    body = loop.body[1:] + getattr(loop, "orelse", [])
    read = _names_in(body + [getattr(loop, "test", ast.Pass())], ast.Load)
    assigned_in_loop = _names_in(body, (ast.Store,))
    declared = set(driver.greens) | set(driver.reds)
    stale = sorted(n for n in read if n in assigned_anywhere and n not in declared
                   and n not in assigned_in_loop)
    if stale:
        raise HintError(f"{where(mp)}: {', '.join(stale)} "
                        f"{'is' if len(stale) == 1 else 'are'} live at the merge point but "
                        f"neither green nor red: add to the JitDriver's reds")


def _check_live_in_graph(func, driver, where, mp) -> None:
    """The exact check, on the portal's flow graph: what is live just after the merge
    point (a local carried from one iteration to the next, or read after the loop)
    must be one of its arguments, since tracing starts there from the greens and reds
    alone.  A portal whose graph cannot be built is left to the tracer, which aborts
    with the reason."""
    try:
        from metajit.interp.flowmodel import Variable, live_before
        from metajit.interp.jitcode import get_jitcode
        jitcode = get_jitcode(func)
    except Exception:
        return
    for block in jitcode.blocks:
        for index, op in enumerate(block.operations):
            if op.opname != "jit_merge_point":
                continue
            passed = {a for a in op.args if isinstance(a, Variable)}
            stale = sorted({v.name for v in live_before(block, index + 1)
                            if v not in passed})
            if stale:
                raise HintError(f"{where(mp)}: {', '.join(stale)} "
                                f"{'is' if len(stale) == 1 else 'are'} live at the merge "
                                f"point but neither green nor red: add to the JitDriver's "
                                f"reds")


class _Mangler(ast.NodeTransformer):
    """Python mangles ``__name`` inside a class body; the portal's source is compiled
    again outside it, so a method portal's private names are mangled here."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def mangle(self, name: str) -> str:
        if name.startswith("__") and not name.endswith("__") and "." not in name:
            return self.prefix + name
        return name

    def visit_Name(self, node):
        node.id = self.mangle(node.id)
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.attr = self.mangle(node.attr)
        return node

    def visit_arg(self, node):
        node.arg = self.mangle(node.arg)
        return node


def _mangle_private_names(fdef: ast.FunctionDef, qualname: str) -> None:
    parts = qualname.split(".")
    cls = parts[-2] if len(parts) >= 2 and parts[-2] != "<locals>" else ""
    if cls.strip("_"):
        prefix = "_" + cls.lstrip("_")
        for node in fdef.body + [fdef.args]:
            _Mangler(prefix).visit(node)


def _tuple_src(names: str, n: int) -> str:
    """Source of a tuple of ``n`` comma-separated names (``()`` for none)."""
    return f"({names},)" if n == 1 else f"({names})"


class _Rewriter(ast.NodeTransformer):
    def __init__(self, driver, jit: bool, merge_point, has_can_enter: bool,
                 hint_names: dict[str, Any]):
        self.driver = driver
        self.jit = jit
        self.merge_point = merge_point
        self.has_can_enter = has_can_enter
        self.hint_names = hint_names

    def visit_Expr(self, node):
        if _is_hint_call(node, "jit_merge_point"):
            return self._fast_path(node) if self.jit else ast.copy_location(ast.Pass(), node)
        if _is_hint_call(node, "can_enter_jit"):
            return self._can_enter(node) if self.jit else ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if self.jit or not isinstance(node.func, ast.Name):
            return node
        hint = self.hint_names.get(node.func.id)
        if hint in (hints.promote, hints.promote_string) and len(node.args) == 1 \
                and not node.keywords:
            return node.args[0]
        if hint is hints.hint and node.args:
            return node.args[0]
        if hint is hints.we_are_jitted and not node.args:
            return ast.copy_location(ast.Constant(False), node)
        return node

    def _key_expr(self) -> str:
        parts = [f"({g} if {g}.__class__ in __mj_valtypes else __mj_id({g}))"
                 for g in self.driver.greens]
        if not parts:
            return "()"
        return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ",)"

    def _fast_path(self, node):
        greens = ", ".join(self.driver.greens)
        reds = ", ".join(self.driver.reds)
        tup = _tuple_src
        assign = ", ".join(self.driver.greens + self.driver.reds)
        count = "" if self.has_can_enter else "    __mj_cell.counter -= 1\n"
        src = (
            "while True:\n"
            f"    __mj_key = {self._key_expr()}\n"
            "    __mj_cell = __mj_get(__mj_key)\n"
            "    if __mj_cell is None:\n"
            f"        __mj_cell = __mj_state.new_cell(__mj_key, {tup(greens, len(self.driver.greens))})\n"
            f"{count}"
            "    if __mj_cell.counter > 0:\n"
            "        break\n"
            f"    __mj_r = __mj_state.on_hot(__mj_cell, {tup(greens, len(self.driver.greens))}, "
            f"{tup(reds, len(self.driver.reds))})\n"
            "    if __mj_r is None:\n"
            "        break\n"
            "    if __mj_r[0]:\n"
            "        return __mj_r[1]\n"
            f"    {assign} = __mj_r[1]\n"
        )
        new = ast.parse(src).body[0]
        for sub in ast.walk(new):
            ast.copy_location(sub, node)
        return new

    def _can_enter(self, node):
        greens = ", ".join(self.driver.greens)
        src = (
            "if True:\n"
            f"    __mj_key = {self._key_expr()}\n"
            "    __mj_cell = __mj_get(__mj_key)\n"
            "    if __mj_cell is None:\n"
            f"        __mj_cell = __mj_state.new_cell(__mj_key, "
            f"{_tuple_src(greens, len(self.driver.greens))})\n"
            "    __mj_cell.counter -= 1\n"
        )
        new = ast.parse(src).body[0]
        for sub in ast.walk(new):
            ast.copy_location(sub, node)
        return new


def _compile_version(fdef: ast.FunctionDef, func, filename: str, closure_names: dict):
    module = ast.Module(body=[ast.FunctionDef(
        name="__mj_factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in closure_names],
                           kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=[fdef, ast.Return(ast.Name(fdef.name, ast.Load()))],
        decorator_list=[], returns=None, type_params=[])], type_ignores=[])
    for sub in ast.walk(module.body[0]):
        if not hasattr(sub, "lineno"):
            ast.copy_location(sub, fdef)
    ast.fix_missing_locations(module)
    code = compile(module, filename, "exec")
    namespace: dict = {}
    exec(code, func.__globals__, namespace)
    new = namespace["__mj_factory"](*closure_names.values())
    new.__defaults__ = func.__defaults__
    new.__kwdefaults__ = func.__kwdefaults__
    new.__qualname__ = func.__qualname__
    new.__module__ = func.__module__
    new.__doc__ = func.__doc__
    return new


def make_portal(driver, func):
    """Decorate ``func`` (whose loop holds ``driver.jit_merge_point``) as the portal."""
    from metajit.interp.params import get_config
    from metajit.interp.warmstate import WarmState

    filename = inspect.getsourcefile(func) or func.__code__.co_filename
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        raise HintError(f"{filename}: cannot read the source of portal "
                        f"{func.__qualname__}: {exc}") from None
    tree = ast.parse(textwrap.dedent("".join(lines)))
    ast.increment_lineno(tree, first - 1)
    fdef = tree.body[0]

    def where(node) -> str:
        return f"{filename}:{getattr(node, 'lineno', first)}"

    if not isinstance(fdef, ast.FunctionDef):
        raise HintError(f"{where(fdef)}: the portal must be a plain function")
    if func.__code__.co_freevars:
        raise HintError(f"{where(fdef)}: the portal {func.__name__} must not be a closure")
    if fdef.args.vararg or fdef.args.kwarg:
        raise HintError(f"{where(fdef)}: the portal {func.__name__} must not take *args or "
                        f"**kwargs")
    finder = _Finder(where)
    for stmt in fdef.body:
        finder.visit(ast.Module(body=[stmt], type_ignores=[]))
    if finder.misplaced:
        raise HintError(f"{where(finder.misplaced[0])}: jit_merge_point must be the first "
                        f"statement of the portal's loop")
    if not finder.merge_points:
        raise HintError(f"{where(fdef)}: portal {func.__name__} has no "
                        f"driver.jit_merge_point(...) as the first statement of a loop")
    if len(finder.merge_points) > 1:
        raise HintError(f"{where(finder.merge_points[1][0])}: a portal has one jit_merge_point")
    mp, loop = finder.merge_points[0]
    if isinstance(loop, ast.For):
        raise HintError(f"{where(loop)}: the merge point's loop must be a while loop")
    _check_keywords(mp.value, driver, where, "jit_merge_point")
    for ce in finder.can_enters:
        _check_keywords(ce.value, driver, where, "can_enter_jit")
    _check_live(fdef, loop, driver, where, mp)
    _check_live_in_graph(func, driver, where, mp)
    fdef.decorator_list = []
    _mangle_private_names(fdef, func.__qualname__)

    hint_names = {name: value for name, value in func.__globals__.items()
                  if value in (hints.promote, hints.promote_string, hints.hint,
                               hints.we_are_jitted)
                  if callable(value)}
    state = WarmState(driver, func)
    if driver.state is not None:
        raise HintError(f"{where(fdef)}: JitDriver {driver.name} already has a portal")
    driver.state = state
    closure = {"__mj_get": state.cells.get, "__mj_state": state,
               "__mj_valtypes": VALUE_TYPES, "__mj_id": id}

    import copy
    jit_def = _Rewriter(driver, True, mp, bool(finder.can_enters), hint_names).visit(
        copy.deepcopy(fdef))
    plain_def = _Rewriter(driver, False, mp, False, hint_names).visit(fdef)
    jit_version = _compile_version(jit_def, func, filename, closure)
    plain_version = _compile_version(plain_def, func, filename, closure)
    state.jit_version = jit_version
    state.plain_version = plain_version
    config = get_config

    @functools.wraps(func)
    def portal(*args, **kwargs):
        if config().enabled:
            return jit_version(*args, **kwargs)
        return plain_version(*args, **kwargs)

    portal._jit_portal_ = state
    portal.__wrapped__ = func
    # a guest call that calls the portal again is a residual call (its callee runs
    # its own compiled loops); recursive inlining would come with is_recursive
    portal._jit_look_inside_ = False
    return portal
