"""metajit: a meta-tracing JIT toolkit.

A language implementer writes ``from metajit import JitDriver, promote, elidable``;
this module re-exports the hint API and imports nothing heavy.
"""
import os as _os

# The folders tracer/, interp/, backend/ and examples/ sit beside this one in a
# clone and install as metajit.tracer, ... .  When the clone's own metajit/ is
# imported (python -m ... from the clone, editable or not), let its submodules be
# found in the sibling folders; an installed copy has them inside and skips this.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if (not _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "tracer"))
        and _os.path.isfile(_os.path.join(_root, "tracer", "ir.py"))):
    __path__.append(_root)  # noqa: F821 - the package's own __path__
del _root

from metajit.tracer.hints import (  # noqa: E402
    HintError, JitDriver, dont_look_inside, elidable, hint, intmask, isconstant,
    isvirtual, look_inside, look_inside_iff, loop_invariant, ovfcheck, promote,
    promote_string, record_exact_class, set_param, unroll_safe, we_are_jitted,
)

__version__ = "0.1.0"

__all__ = [
    "JitDriver", "promote", "promote_string", "elidable", "dont_look_inside",
    "look_inside", "unroll_safe", "look_inside_iff", "loop_invariant",
    "we_are_jitted", "isconstant", "isvirtual", "hint", "record_exact_class",
    "set_param", "intmask", "ovfcheck", "HintError", "get_stats",
]


def get_stats():
    """The JIT's statistics for this process (a ``metajit.interp.stats.Stats``)."""
    from metajit.interp.stats import get_stats as _get
    return _get()
