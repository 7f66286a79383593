"""The bridge between the warm state and the optimiser (``tracer/opt``).

Every recorded trace goes through the pass pipeline that ``enable_opts`` selects;
the rules that fired are counted in the stats, and with ``--dump`` the trace is
written after every pass.  A peeled loop's body label then takes every preamble
value the body uses.  A trace that ends with a jump to the start of a compiled,
peeled loop (a bridge going round to its own loop, a bridge or a loop going on to
another loop) enters that loop's body instead, through its own copy of the loop's
preamble (``tracer/opt/body_entry.py``), except:

- from a guard of such a copy: copies of copies would stack up a new bridge for
  every turn of a path that keeps failing in the preamble;
- into a loop whose preamble has seen a guard fail: the copy's guards would fail
  as well (the loop's own bridges for them are not the copy's);
- into a loop that was invalidated: its preamble's constants are out of date.
"""
from __future__ import annotations

from metajit.interp.stats import get_stats
from metajit.tracer.ir import Trace
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.body_entry import close_body_label, enter_body, preamble_guards
from metajit.tracer.opt.pipeline import optimize


def optimize_trace(trace: Trace, warm, owner=None, guard=None):
    """Optimise the trace of a loop (``owner`` the CompiledLoop being compiled) or
    of a bridge (``owner`` its loop, ``guard`` the guard it starts from).  Returns
    the optimised trace and the compiled loop whose body it enters (or None)."""
    ctx = OptContext(get_stats().rule_counts, warm._dump)
    entered = None
    if owner is not None:
        entered = _enter_body(trace, warm, owner, guard, ctx)
    trace = optimize(trace, warm.params_get("enable_opts"), ctx)
    closed = close_body_label(trace)
    if closed:
        ctx.count("body_entry.invariant_label_args", closed)
    return trace, entered


def _enter_body(trace: Trace, warm, owner, guard, ctx: OptContext):
    """Give ``trace`` the preamble of the loop its jump goes to, when it may (see
    the module docstring); returns that loop, or None."""
    jump = trace.ops[-1] if trace.ops else None
    if jump is None or jump.name != "jump":
        return None
    other = getattr(jump.descr, "owner", None)
    if other is None or jump.descr is not getattr(other, "target", None):
        return None
    if guard is not None and id(guard) in owner.copied_guards:
        return None
    unit = other.unit
    loop_trace = getattr(unit, "trace", None)
    if loop_trace is None or getattr(unit, "invalidated", False):
        return None
    if any(other.guard_counts.get(id(g)) for g in preamble_guards(loop_trace)):
        return None
    guards = enter_body(trace, loop_trace, warm.params_get("bridge_preamble_limit"))
    if guards is None:
        return None
    owner.copied_guards.update(id(g) for g in guards)
    ctx.count("body_entry.bridge_enters_body" if guard is not None
              else "body_entry.loop_enters_body")
    return other
