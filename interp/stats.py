"""The JIT's statistics: what was traced, compiled and run, and where time went.

One ``Stats`` per process (``get_stats()``); ``as_json()`` is the schema documented
in docs/stats.md, ``summary()`` the human summary ``metajit run --stats`` prints.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import statistics
import time
from typing import Any


@dataclasses.dataclass
class Stats:
    loops: int = 0                  # loops compiled
    bridges: int = 0                # bridges compiled
    aborts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    blacklisted: int = 0            # green keys that stopped being traced
    guard_failures: int = 0         # guard exits taken (to the blackhole or a bridge's trace)
    traced_ops: int = 0             # ops recorded, over all traces
    optimized_ops: int = 0          # ops left after optimisation, over all traces
    time_tracing: float = 0.0
    time_optimizing: float = 0.0
    time_compiling: float = 0.0
    time_in_compiled: float = 0.0
    time_blackhole: float = 0.0
    invalidations: int = 0          # compiled units invalidated (a quasi-immutable field written)
    compiled_entries: int = 0       # times compiled code was entered from the interpreter
    compiled_iterations: int = 0    # loop iterations run in compiled code
    backend_counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    rule_counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    native_ineligible: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    native: dict = dataclasses.field(default_factory=dict)    # filled by as_json

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.native = native_counters()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, collections.Counter):
                value = dict(sorted(value.items()))
            elif isinstance(value, float):
                value = round(value, 6)
            out[field.name] = value
        return out

    def write_json(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump(self.as_json(), f, indent=2, sort_keys=True)
            f.write("\n")

    def summary(self) -> str:
        aborts = sum(self.aborts.values())
        lines = [
            "metajit summary",
            f"  loops compiled      {self.loops:>10}   bridges {self.bridges}",
            f"  backends            {dict(self.backend_counts) or '-'}",
        ]
        for reason, count in self.native_ineligible.most_common(5):
            lines.append(f"      {count:>6} x not native: {reason}")
        lines += [
            f"  aborted traces      {aborts:>10}   blacklisted keys {self.blacklisted}",
        ]
        for reason, count in self.aborts.most_common(5):
            lines.append(f"      {count:>6} x {reason}")
        lines += [
            f"  ops traced          {self.traced_ops:>10}   after optimisation {self.optimized_ops}",
            f"  guard failures      {self.guard_failures:>10}   invalidations {self.invalidations}",
            f"  compiled entries    {self.compiled_entries:>10}   iterations in compiled code {self.compiled_iterations}",
            f"  time tracing        {self.time_tracing:>10.3f} s",
            f"  time optimising     {self.time_optimizing:>10.3f} s",
            f"  time compiling      {self.time_compiling:>10.3f} s" + self._native_compiles(),
            f"  time in compiled    {self.time_in_compiled:>10.3f} s",
            f"  time in blackhole   {self.time_blackhole:>10.3f} s",
        ]
        return "\n".join(lines)

    def _native_compiles(self) -> str:
        """``(native: N units, median M ms, max X ms)`` when native code was compiled."""
        native = self.native or native_counters()
        if not native.get("compile_ms_median"):
            return ""
        return (f"   (native: {native.get('compiles', 0)} compiles, median "
                f"{native['compile_ms_median']:.0f} ms, max {native['compile_ms_max']:.0f} ms)")


def native_counters() -> dict[str, Any]:
    """The native backend's counters (compiles, compile seconds, recompiles, ticks,
    bridge runs on Python, promotions, code bytes) when it was used."""
    import sys
    native = sys.modules.get("metajit.backend.native")
    if native is None:
        return {}
    out = {k: (round(v, 6) if isinstance(v, float) else v)
           for k, v in sorted(native.COUNTERS.items())}
    times = sorted(native.COMPILE_SECONDS)
    if times:
        out["compile_ms_median"] = round(statistics.median(times) * 1e3, 3)
        out["compile_ms_max"] = round(times[-1] * 1e3, 3)
        out["unit_compile_ms"] = [round(t * 1e3, 3) for t in native.COMPILE_SECONDS]
    out["code_bytes"] = native.llvm.code_bytes()
    out.update((f"cache_{k}", v) for k, v in sorted(native.llvm.CACHE.items()))
    return out


_stats = Stats()


def get_stats() -> Stats:
    return _stats


def reset_stats() -> Stats:
    global _stats
    _stats = Stats()
    import sys
    native = sys.modules.get("metajit.backend.native")
    if native is not None:
        native.COUNTERS.clear()
        native.COMPILE_SECONDS.clear()
        native.llvm.CACHE.clear()
    return _stats


class timed:
    """``with timed("time_tracing"):`` adds the elapsed seconds to that field."""
    __slots__ = ("field", "start")

    def __init__(self, field: str):
        self.field = field

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        stats = get_stats()
        setattr(stats, self.field, getattr(stats, self.field) + time.perf_counter() - self.start)
        return False
