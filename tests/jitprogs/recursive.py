"""A portal that calls itself for a guest call: a residual call by default."""
from metajit import JitDriver

driver = JitDriver(greens=["depth"], reds=["i", "n", "acc"], name="recursive")


@driver.portal
def run(depth, n):
    acc = 0
    i = 0
    while i < n:
        driver.jit_merge_point(depth=depth, i=i, n=n, acc=acc)
        if depth > 0 and i % 10 == 0:
            acc += run(depth - 1, 12)
        else:
            acc += i
        i += 1
    return acc
