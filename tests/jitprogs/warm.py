"""Portals for the warm state: counting, thresholds, aborts, bridges, green keys."""
from metajit import JitDriver, unroll_safe

count_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc"], name="count")


@count_driver.portal
def count(pc, n):
    acc = 0
    i = 0
    while i < n:
        count_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc)
        acc += i * 3 + pc
        i += 1
    return acc


@unroll_safe
def sum_products(k, x):
    s = 0
    for j in range(k):
        s += j * x
    return s


long_driver = JitDriver(greens=["k"], reds=["i", "n", "acc"], name="long")


@long_driver.portal
def long_body(k, n):
    """Each iteration unrolls a loop of ``k`` steps: a long trace."""
    acc = 0
    i = 0
    while i < n:
        long_driver.jit_merge_point(k=k, i=i, n=n, acc=acc)
        acc += sum_products(k, i)
        i += 1
    return acc


branch_driver = JitDriver(greens=["period"], reds=["i", "n", "acc"], name="branchy")


@branch_driver.portal
def branchy(period, n):
    """Every ``period``-th iteration takes the other side of a branch."""
    acc = 0
    i = 1
    while i < n:
        branch_driver.jit_merge_point(period=period, i=i, n=n, acc=acc)
        if i % period == 0:
            acc += 1000 + i
        else:
            acc += 1
        i += 1
    return acc


green_driver = JitDriver(greens=["k"], reds=["i", "n", "out"], name="greens")


@green_driver.portal
def green_values(k, n):
    """Appends the green itself (so a loop entered for the wrong key shows)."""
    out = []
    i = 0
    while i < n:
        green_driver.jit_merge_point(k=k, i=i, n=n, out=out)
        out.append(k)
        i += 1
    return out


prog_driver = JitDriver(greens=["prog"], reds=["i", "n", "acc"], name="prog")


@prog_driver.portal
def sum_program(prog, n):
    """``prog`` (a list) is a green: keyed by identity."""
    acc = 0
    i = 0
    while i < n:
        prog_driver.jit_merge_point(prog=prog, i=i, n=n, acc=acc)
        acc += prog[i % len(prog)]
        i += 1
    return acc


nogreen_driver = JitDriver(greens=[], reds=["i", "n", "acc"], name="nogreens")


@nogreen_driver.portal
def no_greens(n):
    acc = 0
    i = 0
    while i < n:
        nogreen_driver.jit_merge_point(i=i, n=n, acc=acc)
        acc += i
        i += 1
    return acc


can_enter_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc"], name="can_enter")


@can_enter_driver.portal
def with_can_enter(pc, n):
    """Counting happens at ``can_enter_jit`` (every other pass), not at the merge
    point."""
    acc = 0
    i = 0
    while i < n:
        can_enter_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc)
        acc += i
        i += 1
        if i % 2 == 0:
            can_enter_driver.can_enter_jit(pc=pc, i=i, n=n, acc=acc)
    return acc


rare_driver = JitDriver(greens=["period", "k"], reds=["i", "n", "acc"], name="rare_long")


@rare_driver.portal
def rare_long(period, k, n):
    """The rare side of the branch unrolls a loop of ``k`` steps: a long bridge."""
    acc = 0
    i = 1
    while i < n:
        rare_driver.jit_merge_point(period=period, k=k, i=i, n=n, acc=acc)
        if i % period == 0:
            acc += sum_products(k, i)
        else:
            acc += 1
        i += 1
    return acc


class Tally:
    """Made once per iteration of ``tallies``; its ``__init__`` calls a loop that
    unrolls to ``k`` steps, so that a long trace aborts inside the constructor."""

    def __init__(self, k, x):
        self.total = sum_products(k, x)


tally_driver = JitDriver(greens=["k"], reds=["i", "n", "acc"], name="tallies")


@tally_driver.portal
def tallies(k, n):
    acc = 0
    i = 0
    while i < n:
        tally_driver.jit_merge_point(k=k, i=i, n=n, acc=acc)
        acc += Tally(k, i).total
        i += 1
    return acc
