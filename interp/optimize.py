"""The bridge between the warm state and the optimiser.

The pass pipeline (``tracer/opt``) rewrites a recorded trace before it is
compiled; until it lands, traces are compiled as recorded (the recorder already
folds constants as it records).
"""
from __future__ import annotations

from metajit.tracer.ir import Trace


def optimize_trace(trace: Trace, warm) -> Trace:
    try:
        from metajit.tracer.opt.pipeline import optimize
    except ImportError:
        return trace
    return optimize(trace, warm.params_get("enable_opts"))
