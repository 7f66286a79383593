"""Portals that the portal transform must reject, each with a clear HintError that
names this file and the line of the fault.

The functions are left undecorated: a test applies ``driver.portal(func)`` and checks
the error.  Each faulty line carries a marker comment ``# FAULT: <name>`` that the
test looks up to know which line the message must name.
"""
from metajit import JitDriver

d_not_first = JitDriver(greens=["pc"], reds=["n"])


def not_first(pc, n):
    while n > 0:
        n -= 1
        d_not_first.jit_merge_point(pc=pc, n=n)  # FAULT: not_first
    return n


d_nested_if = JitDriver(greens=["pc"], reds=["n"])


def nested_in_if(pc, n):
    while n > 0:
        if n > 1:
            d_nested_if.jit_merge_point(pc=pc, n=n)  # FAULT: nested_in_if
        n -= 1
    return n


d_two = JitDriver(greens=["pc"], reds=["n"])


def two_merge_points(pc, n):
    while n > 0:
        d_two.jit_merge_point(pc=pc, n=n)
        n -= 1
    while n < 5:
        d_two.jit_merge_point(pc=pc, n=n)  # FAULT: two_merge_points
        n += 1
    return n


d_none = JitDriver(greens=["pc"], reds=["n"])


def no_merge_point(pc, n):  # FAULT: no_merge_point
    while n > 0:
        n -= 1
    return n


d_unknown = JitDriver(greens=["pc"], reds=["n"])


def unknown_keyword(pc, n):
    m = 0
    while n > 0:
        d_unknown.jit_merge_point(pc=pc, n=n, m=m)  # FAULT: unknown_keyword
        n -= 1
        m = n
    return n


d_missing = JitDriver(greens=["pc"], reds=["n", "acc"])


def missing_red(pc, n):
    acc = 0
    while n > 0:
        d_missing.jit_merge_point(pc=pc, n=n)  # FAULT: missing_red
        acc += n
        n -= 1
    return acc


d_missing_green = JitDriver(greens=["pc", "code"], reds=["n"])


def missing_green(pc, code, n):
    while n > 0:
        d_missing_green.jit_merge_point(  # FAULT: missing_green
            pc=pc, n=n)
        n -= 1
    return n


d_positional = JitDriver(greens=["pc"], reds=["n"])


def positional(pc, n):
    while n > 0:
        d_positional.jit_merge_point(pc, n)  # FAULT: positional
        n -= 1
    return n


d_renamed = JitDriver(greens=["pc"], reds=["n"])


def renamed(pc, n):
    k = n
    while k > 0:
        d_renamed.jit_merge_point(pc=pc, n=k)  # FAULT: renamed
        k -= 1
    return k


d_stale = JitDriver(greens=["pc"], reds=["n", "acc"])


def stale_local(pc, n):
    step = 3
    acc = 0
    while n > 0:
        d_stale.jit_merge_point(pc=pc, n=n, acc=acc)  # FAULT: stale_local
        acc += step
        n -= 1
    return acc


d_varargs = JitDriver(greens=["pc"], reds=["n"])


def varargs(pc, n, *rest):  # FAULT: varargs
    while n > 0:
        d_varargs.jit_merge_point(pc=pc, n=n)
        n -= 1
    return n


d_closure = JitDriver(greens=["pc"], reds=["n"])


def make_closure(limit):
    def closure_portal(pc, n):  # FAULT: closure
        while n > limit:
            d_closure.jit_merge_point(pc=pc, n=n)
            n -= 1
        return n
    return closure_portal


d_for = JitDriver(greens=["pc"], reds=["n"])


def for_loop(pc, n):
    for n in range(n):  # FAULT: for_loop
        d_for.jit_merge_point(pc=pc, n=n)
    return n


d_carried = JitDriver(greens=["pc"], reds=["n"])


def loop_carried(pc, n):
    prev = 0
    while n > 0:
        d_carried.jit_merge_point(pc=pc, n=n)  # FAULT: loop_carried
        n = n - 1 - prev
        prev = 1
    return n


d_after = JitDriver(greens=["pc"], reds=["n"])


def read_after_loop(pc, n):
    result = 7
    while n > 0:
        d_after.jit_merge_point(pc=pc, n=n)  # FAULT: read_after_loop
        n -= 1
    return result + n


d_posonly = JitDriver(greens=["pc"], reds=["n"])


def posonly_param(pc, n, step, /):
    while n > 0:
        d_posonly.jit_merge_point(pc=pc, n=n)  # FAULT: posonly_param
        n -= step
    return n


d_can_enter = JitDriver(greens=["pc"], reds=["n", "acc"])


def can_enter_missing(pc, n):
    acc = 0
    while n > 0:
        d_can_enter.jit_merge_point(pc=pc, n=n, acc=acc)
        acc += n
        n -= 1
        d_can_enter.can_enter_jit(pc=pc, n=n)  # FAULT: can_enter_missing
    return acc


def make_both_colours_driver():
    return JitDriver(greens=["pc", "x"], reds=["x", "n"])  # FAULT: both_colours


d_shared = JitDriver(greens=["pc"], reds=["n"])


def first_portal(pc, n):
    while n > 0:
        d_shared.jit_merge_point(pc=pc, n=n)
        n -= 1
    return n


def second_portal(pc, n):  # FAULT: second_portal
    while n < 10:
        d_shared.jit_merge_point(pc=pc, n=n)
        n += 1
    return n


# --- accepted: the checks must not reject these ---------------------------------------

d_ok_temps = JitDriver(greens=["pc"], reds=["n", "acc"])


def ok_loop_temporaries(pc, n):
    """Locals assigned in the loop body before they are read (temporaries), and
    locals only read after the loop, are not live at the merge point."""
    acc = 0
    total = -1
    while n > 0:
        d_ok_temps.jit_merge_point(pc=pc, n=n, acc=acc)
        t = n * 2
        acc += t
        n -= 1
    total = acc + 1
    return total
