"""The cost of the cold merge point: nanoseconds per loop iteration that the portal
transform's inline fast path adds when nothing is hot.

A small portal loop (one green, two reds, a few bytecode-like operations per
iteration) runs N iterations as the plain interpreter (``--no-jit``) and as the
JIT's version with tracing switched off (``threshold=-1``: every pass through the
merge point is the cold path: build the key, look the cell up, count down).  The
difference of the medians over the iterations is the cost.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# `python benchmarks/merge_point_cost.py` from a clone measures the clone's code,
# installed or not (sys.path[0] is benchmarks/, not the project root)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from metajit import JitDriver  # noqa: E402
from metajit.interp.params import configure  # noqa: E402

driver = JitDriver(greens=["pc"], reds=["n", "acc"], name="merge-point-cost")


@driver.portal
def count(n):
    acc = 0
    pc = 0
    while n > 0:
        driver.jit_merge_point(pc=pc, n=n, acc=acc)
        acc = (acc + n) & 0xFFFF
        n = n - 1
        pc = 1 - pc
    return acc


def measure(iterations: int, repeats: int) -> dict[str, float]:
    results: dict[str, list[float]] = {"plain": [], "cold merge point": []}
    for _ in range(repeats):
        for label, enabled in (("plain", False), ("cold merge point", True)):
            configure(enabled=enabled, params={"threshold": -1}, reset=True)
            t0 = time.perf_counter()
            count(iterations)
            results[label].append((time.perf_counter() - t0) / iterations * 1e9)
    configure(reset=True)
    return {label: statistics.median(times) for label, times in results.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--iterations", type=int, default=2_000_000)
    parser.add_argument("-r", "--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    medians = measure(args.iterations, args.repeats)
    for label, ns in medians.items():
        print(f"{label:>18}: {ns:7.1f} ns per iteration")
    print(f"{'merge point cost':>18}: {medians['cold merge point'] - medians['plain']:7.1f} ns "
          f"per iteration (median of {args.repeats})")


if __name__ == "__main__":
    main()
