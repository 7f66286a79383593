"""The bridge between the warm state and the optimiser (``tracer/opt``).

Every recorded trace goes through the pass pipeline that ``enable_opts`` selects;
the rules that fired are counted in the stats, and with ``--dump`` the trace is
written after every pass.
"""
from __future__ import annotations

from metajit.interp.stats import get_stats
from metajit.tracer.ir import Trace
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.pipeline import optimize


def optimize_trace(trace: Trace, warm) -> Trace:
    ctx = OptContext(get_stats().rule_counts, warm._dump)
    return optimize(trace, warm.params_get("enable_opts"), ctx)
