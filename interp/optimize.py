"""The bridge between the warm state and the optimiser (``tracer/opt``).

Every recorded trace goes through the pass pipeline that ``enable_opts`` selects;
the rules that fired are counted in the stats, and with ``--dump`` the trace is
written after every pass.  A peeled loop's body label then takes every preamble
value the body uses, and a bridge that ends where its loop starts enters the body
through its own copy of the preamble (``tracer/opt/body_entry.py``).
"""
from __future__ import annotations

from metajit.interp.stats import get_stats
from metajit.tracer.ir import Trace
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.body_entry import close_body_label, enter_body
from metajit.tracer.opt.pipeline import optimize


def optimize_trace(trace: Trace, warm, enter=None) -> Trace:
    """Optimise a loop or a bridge.  ``enter``, for a bridge that may enter its
    loop's body: ``(loop_trace, copied)``, the loop's optimised trace and a set
    that takes the ids of the guards of the bridge's copy of the preamble."""
    counts = get_stats().rule_counts
    ctx = OptContext(counts, warm._dump)
    if enter is not None:
        loop_trace, copied = enter
        guards = enter_body(trace, loop_trace, warm.params_get("bridge_preamble_limit"))
        if guards is not None:
            ctx.count("body_entry.bridge_enters_body")
            copied.update(id(g) for g in guards)
    trace = optimize(trace, warm.params_get("enable_opts"), ctx)
    closed = close_body_label(trace)
    if closed:
        ctx.count("body_entry.invariant_label_args", closed)
    return trace
