"""The hint API a language implementer writes against (RPython's ``rlib.jit``).

With the JIT off every hint is plain Python: decorators return the function
unchanged (marked with an attribute the meta-interpreter reads), value hints return
their argument, merge points do nothing.  Only ``JitDriver.portal`` reaches into
``metajit.interp``, and only when it is called, so importing the hints stays light.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

from metajit.tracer.ir import INT64_MAX, INT64_MIN, intmask

__all__ = [
    "JitDriver", "promote", "promote_string", "elidable", "dont_look_inside",
    "look_inside", "unroll_safe", "look_inside_iff", "loop_invariant",
    "we_are_jitted", "isconstant", "isvirtual", "hint", "record_exact_class",
    "set_param", "intmask", "ovfcheck", "HintError",
]


class HintError(Exception):
    """A hint used wrongly; the message names the file and line."""


def _where(depth: int = 2) -> str:
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class JitDriver:
    """Declares the portal loop of an interpreter.

    ``greens`` are the variables that identify a position in the guest program
    (the trace is specialised to their values); ``reds`` are everything else live at
    the merge point.  ``virtualizables`` names reds whose class declares
    ``_virtualizable_``."""

    def __init__(self, greens: list[str], reds: list[str] | str,
                 virtualizables: list[str] = (), get_printable_location: Callable | None = None,
                 name: str = "jitdriver", is_recursive: bool = False,
                 confirm_enter_jit: Callable | None = None):
        where = _where()
        if not isinstance(greens, (list, tuple)) or not all(isinstance(g, str) for g in greens):
            raise HintError(f"{where}: JitDriver greens must be a list of variable names")
        if reds == "auto":
            raise HintError(f"{where}: JitDriver(reds='auto') is not supported: list the reds")
        if not isinstance(reds, (list, tuple)) or not all(isinstance(r, str) for r in reds):
            raise HintError(f"{where}: JitDriver reds must be a list of variable names")
        dup = set(greens) & set(reds)
        if dup:
            raise HintError(f"{where}: {sorted(dup)} declared both green and red")
        for v in virtualizables:
            if v not in reds:
                raise HintError(f"{where}: virtualizable {v!r} must be one of the reds")
        self.greens = list(greens)
        self.reds = list(reds)
        self.virtualizables = list(virtualizables)
        self.get_printable_location = get_printable_location
        self.name = name
        self.is_recursive = is_recursive
        self.where = where
        self.state = None   # the interp's warm state, created when a portal is decorated

    # With the JIT off (and in cold code) these are no-ops; the portal transform
    # replaces the merge point in the decorated portal by its inline fast path.
    def jit_merge_point(self, **live: Any) -> None:
        pass

    def can_enter_jit(self, **live: Any) -> None:
        pass

    def portal(self, func: Callable) -> Callable:
        """Decorate the function whose loop holds ``jit_merge_point``."""
        from metajit.interp.portal import make_portal
        return make_portal(self, func)

    def __repr__(self):
        return f"<JitDriver {self.name} greens={self.greens} reds={self.reds}>"


def _mark(func: Callable, attr: str, value: Any = True) -> Callable:
    setattr(func, attr, value)
    return func


def elidable(func: Callable) -> Callable:
    """The result depends only on the arguments and the call has no visible side
    effect: calls on constant arguments are folded, equal calls share one result."""
    return _mark(func, "_jit_elidable_")


def dont_look_inside(func: Callable) -> Callable:
    """Never trace into this function: it becomes a residual call."""
    return _mark(func, "_jit_look_inside_", False)


def look_inside(func: Callable) -> Callable:
    """Trace into this function even though it contains a loop."""
    return _mark(func, "_jit_look_inside_", True)


def unroll_safe(func: Callable) -> Callable:
    """The loops in this function are safe to unroll while tracing."""
    _mark(func, "_jit_unroll_safe_")
    return _mark(func, "_jit_look_inside_", True)


def loop_invariant(func: Callable) -> Callable:
    """The result (of a call without arguments) does not change inside a loop."""
    return _mark(func, "_jit_loop_invariant_")


def look_inside_iff(predicate: Callable) -> Callable:
    """Trace into the function only when ``predicate(*args)`` holds on constants."""
    def decorate(func: Callable) -> Callable:
        return _mark(func, "_jit_look_inside_iff_", predicate)
    return decorate


def promote(x: Any) -> Any:
    """Make ``x`` a constant in the trace (a guard on its current value)."""
    return x


def promote_string(x: str) -> str:
    """Like ``promote``, comparing strings by value."""
    return x


def we_are_jitted() -> bool:
    """True while tracing and in compiled code; False in the interpreter."""
    return False


def isconstant(x: Any) -> bool:
    """True when the trace knows ``x`` as a constant (False outside the JIT)."""
    return False


def isvirtual(x: Any) -> bool:
    """True when ``x`` is a virtual object of the trace (False outside the JIT)."""
    return False


def hint(x: Any, **flags: Any) -> Any:
    """RPython's generic hint: ``promote=True``, ``access_directly=True``, ..."""
    return x


def record_exact_class(x: Any, cls: type) -> None:
    """Tell the trace that ``type(x) is cls`` without a guard (checked when
    hint checking is on)."""
    assert type(x) is cls, f"record_exact_class: {type(x).__name__} is not {cls.__name__}"


def set_param(driver: JitDriver | None, name: str, value: Any) -> None:
    """Set a JIT parameter (``threshold``, ``trace_limit``, ...) at run time.
    ``set_param(driver, "threshold", -1)`` stops new tracing."""
    from metajit.interp.params import set_param as _set
    _set(driver, name, value)


def ovfcheck(value: int) -> int:
    """Raise OverflowError if ``value`` does not fit in a signed 64-bit int."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError("integer overflow")
    return value
