"""What every backend gives: a compiled unit that runs a trace and exits.

A unit is built from one loop trace (``ops[0]`` is ``label(*inputargs,
descr=T)``, the last op a ``jump`` or ``finish``); bridges attach to its guards.
``run(inputs)`` executes until the trace leaves the unit and says how:

- a guard failed (and no bridge is attached to it): ``guard`` is the failing guard
  op and ``values`` the values of ``failargs(guard)``, in that order; ``exc`` is the
  pending exception when a ``guard_no_exception`` failed (or a ``guard_exception``
  saw another class), else None;
- ``finish``: ``guard`` is None, ``target`` its ExitDescr, ``values`` its args;
- a ``jump`` to a TargetDescr that is no label of this unit: ``target`` is that
  descr and ``values`` the jump's args (the caller enters the unit that owns it).

``iterations`` counts the jumps taken to labels inside the unit.
"""
from __future__ import annotations

import dataclasses

from metajit.tracer.ir import Descr, Op, Trace


@dataclasses.dataclass
class ExitResult:
    guard: Op | None
    values: list
    exc: BaseException | None = None
    target: Descr | None = None
    iterations: int = 0


class CompiledUnit:
    """Base of the backends' units."""
    backend_name = "?"

    def __init__(self, trace: Trace):
        self.trace = trace
        self.bridges: dict[int, Trace] = {}   # id(guard op) -> bridge trace

    def run(self, inputs: list) -> ExitResult:
        raise NotImplementedError

    def enter(self, target: Descr, inputs: list) -> ExitResult:
        """Run from the label ``target`` of the unit's own trace (a peeled loop's
        body: code that copied the preamble jumps there), its args ``inputs``."""
        raise NotImplementedError(f"{type(self).__name__} cannot be entered at "
                                  f"{target.describe()}")

    def attach_bridge(self, guard: Op, bridge: Trace) -> None:
        """From now on a failure of ``guard`` runs ``bridge`` (its inputargs match
        ``failargs(guard)``) instead of exiting."""
        self.bridges[id(guard)] = bridge
        self.changed()

    def changed(self) -> None:
        """Called after a bridge attaches; a backend regenerates what it must."""

    def bridge_runs_on(self, guard: Op) -> str:
        """The backend that runs the bridge attached to ``guard``."""
        return self.backend_name


def passes_invalidation(*parts: str) -> property:
    """The ``invalidated`` flag of a unit that runs other units (its attributes
    ``parts``): a quasi-immutable field one of them read as a constant was
    written, and every one's ``guard_not_invalidated`` must fail from now on."""
    def get(unit) -> bool:
        return getattr(unit, "_invalidated", False)

    def set_(unit, value: bool) -> None:
        unit._invalidated = value
        for name in parts:
            getattr(unit, name).invalidated = value
    return property(get, set_)


def native_available() -> bool:
    """llvmlite and numba can be imported (without importing them)."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("llvmlite", "numba"))


def get_backend(name: str, native_threshold: int | None = None,
                max_code_mb: float | None = None, cache_dir: str | None = None):
    """The ``compile(trace) -> CompiledUnit`` function of a backend by name.

    ``native``: native code where the trace is eligible, else the Python backend
    (the unit's ``native_reason`` says why).  ``auto``: the Python backend first,
    native code once a unit has run ``native_threshold`` iterations there (when
    llvmlite and numba are installed).  Past ``max_code_mb`` of native code, new units stay on
    Python.  ``cache_dir``: where native object code is cached ("" the user's cache
    directory, "off" nowhere)."""
    if name == "reference":
        from metajit.backend.reference import compile_unit
        return compile_unit
    if name == "python" or (name == "auto" and not native_available()):
        from metajit.backend.pysource import compile_unit
        return compile_unit
    if name in ("native", "auto") and cache_dir is not None:
        from metajit.backend.native import configure_cache
        configure_cache(cache_dir)
    if name == "native":
        import functools
        from metajit.backend.native import compile_unit_or_python
        if max_code_mb is None:
            return compile_unit_or_python
        return functools.partial(compile_unit_or_python, max_code_mb=max_code_mb)
    if name == "auto":
        from metajit.backend.native import tiered_compile
        return tiered_compile(100_000 if native_threshold is None else native_threshold,
                              max_code_mb)
    raise ValueError(f"unknown backend {name!r}: choose reference, python, native or auto")
