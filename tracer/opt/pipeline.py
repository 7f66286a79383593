"""The pass pipeline: the default order, ``enable_opts``, and registration.

``DEFAULT_ORDER`` lists the passes the JIT runs on every trace.  ``enable_opts``
(``--param enable_opts=fold:cse:dce``) picks passes by name, in the order given;
``all`` is the default order, an empty string runs none.  ``register_pass`` adds a
pass of one's own (it then runs where ``after=`` / ``before=`` put it, or by name
in ``enable_opts``); ``register_hook`` sees every trace as it is optimised.
"""
from __future__ import annotations

from typing import Callable

from metajit.tracer.ir import Trace
from metajit.tracer.opt.base import OptContext, Pass
from metajit.tracer.opt.unroll import (CARRIED_FIELDS, VIRTUAL_LABEL_ARGS, LabelShapeMismatch, copy_trace,
                                       drop_invariant_label_args, export_loads, peel,
                                       unbox_label_args)

UNROLL = "unroll"   # loop peeling: not a pass of its own, the driver of the others

# name -> a callable returning a fresh Pass
PASSES: dict[str, Callable[[], Pass]] = {}
DEFAULT_ORDER: list[str] = []
HOOKS: dict[str, list[Callable]] = {"before_pass": [], "after_pass": [], "optimized": []}


class PipelineError(ValueError):
    pass


def register_pass(name: str, factory: Callable[[], Pass], *, after: str | None = None,
                  before: str | None = None, default: bool = True) -> None:
    """Make a pass known by ``name``; with ``default`` it joins the default order
    (at the end, or after/before the named pass)."""
    PASSES[name] = factory
    if name in DEFAULT_ORDER:
        DEFAULT_ORDER.remove(name)
    if not default:
        return
    if after is not None:
        DEFAULT_ORDER.insert(DEFAULT_ORDER.index(after) + 1, name)
    elif before is not None:
        DEFAULT_ORDER.insert(DEFAULT_ORDER.index(before), name)
    else:
        DEFAULT_ORDER.append(name)


def unregister_pass(name: str) -> None:
    PASSES.pop(name, None)
    if name in DEFAULT_ORDER:
        DEFAULT_ORDER.remove(name)


def register_hook(event: str, hook: Callable) -> None:
    """``before_pass``/``after_pass``: ``hook(trace, pass_name)``; ``optimized``:
    ``hook(trace)`` once the pipeline is done."""
    if event not in HOOKS:
        raise PipelineError(f"unknown hook event {event!r}; known: {', '.join(HOOKS)}")
    HOOKS[event].append(hook)


def pass_names(enable_opts: str) -> list[str]:
    if enable_opts == "all":
        return list(DEFAULT_ORDER) + [UNROLL]
    names = [n for n in enable_opts.split(":") if n]
    unknown = [n for n in names if n not in PASSES and n != UNROLL]
    if unknown:
        raise PipelineError(f"unknown pass {', '.join(unknown)} in enable_opts; "
                            f"known: {', '.join(list(PASSES) + [UNROLL])}")
    return names


def optimize(trace: Trace, enable_opts: str = "all", ctx: OptContext | None = None) -> Trace:
    """Run the passes over ``trace``.  Loop peeling (``unroll``) drives the rest: the
    passes run over the loop, the loop is peeled into preamble and body, and the
    passes run again over both, so the body profits from what the preamble proved."""
    ctx = ctx or OptContext()
    names = pass_names(enable_opts)
    passes = [n for n in names if n != UNROLL]
    _run_passes(trace, passes, ctx, "")
    if UNROLL in names and peel(trace):
        if ctx.dump is not None:
            ctx.dump(trace, "after-unroll")
        _run_body_round(trace, passes, ctx)
        try:
            _refine_label(trace, passes, ctx)
        finally:
            ctx.loop_state.pop(CARRIED_FIELDS, None)
    for hook in HOOKS["optimized"]:
        hook(trace)
    return trace


MAX_LABEL_ROUNDS = 4


def _refine_label(trace: Trace, names: list[str], ctx: OptContext) -> None:
    """After the body round, the label's arguments are refined and the passes run
    again, until nothing changes (at most MAX_LABEL_ROUNDS rounds): an argument the
    body passes back unchanged becomes the preamble's value, one passed as a boxed
    number travels as the number, and loads of fixed locations at the body's start
    become arguments (``export_loads``; CARRIED_FIELDS tells the heap pass what
    each such argument holds, and the fields among them keep their stores pending
    across the label).  Each step can make the next
    possible: a location becomes fixed once its object stops being an argument."""
    carried_fields = ctx.loop_state.setdefault(CARRIED_FIELDS, {})
    for n in range(MAX_LABEL_ROUNDS):
        changed = drop_invariant_label_args(trace)
        if unbox_label_args(trace):
            changed = True
        carried = export_loads(trace, carried_fields.values())
        carried_fields.update({arg: (load.name, list(load.args), load.descr)
                               for arg, load in carried})
        if not (changed or carried):
            return
        if ctx.dump is not None:
            ctx.dump(trace, f"after-label-{n + 1}")
        _run_passes(trace, names, ctx, f"label{n + 1}-")


def _run_body_round(trace: Trace, names: list[str], ctx: OptContext) -> None:
    """The passes over the peeled loop.  In this round a pass may give the body's
    label a new shape (``virtualize`` passes a virtual object as its fields); when
    the body's jump cannot match it, the round is redone from a copy with that label
    argument left alone."""
    left_alone: set[int] = set()
    while True:
        saved = copy_trace(trace)
        ctx.loop_state[VIRTUAL_LABEL_ARGS] = left_alone
        try:
            _run_passes(trace, names, ctx, "body-")
            return
        except LabelShapeMismatch as mismatch:
            if mismatch.index in left_alone:
                raise
            left_alone.add(mismatch.index)
            ctx.count("unroll.label_shape_mismatch")
            trace.inputargs, trace.ops = saved.inputargs, saved.ops
        finally:
            ctx.loop_state.pop(VIRTUAL_LABEL_ARGS, None)


def _run_passes(trace: Trace, names: list[str], ctx: OptContext, prefix: str) -> None:
    for name in names:
        for hook in HOOKS["before_pass"]:
            hook(trace, name)
        PASSES[name]().run(trace, ctx)
        for hook in HOOKS["after_pass"]:
            hook(trace, name)
        if ctx.dump is not None:
            ctx.dump(trace, f"after-{prefix}{name}")


# The toolkit's passes, in their default order; each module's register() adds it.
BUILTIN_PASSES = ("fold", "intbounds", "virtualize", "heap", "cse", "guards", "dce")


def _register_builtin_passes() -> None:
    import importlib
    import importlib.util
    for module in BUILTIN_PASSES:
        name = f"metajit.tracer.opt.{module}"
        if importlib.util.find_spec(name) is None:
            continue     # not written yet
        importlib.import_module(name).register()


_register_builtin_passes()
