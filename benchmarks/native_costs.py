"""What the native backend costs and gives, measured on generated traces.

    python benchmarks/native_costs.py [--out benchmarks/results/native.md]

- compile time per trace size: the native backend at its cheap level and at full
  O2 (lowering included), and the Python-source backend, for trace-shaped loops
  (int and float ops, a guard every fifth op);
- the cost of one run that leaves at once (entering and leaving), native and
  Python, and of the bare trampoline call;
- a counted loop's time per iteration, native and Python.

Each figure is the best of a few repetitions; the machine is shared, so the
load average is printed with them.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
import timeit

from metajit.backend import llvm, native
from metajit.backend.pysource import compile_unit as python_unit
from metajit.tracer.ir import Box, Const, FrameSnapshot, Op, Snapshot, TargetDescr, Trace


class _Code:
    name = "bench"


def _op(ops, name, args, kind):
    result = Box(kind) if kind != "v" else None
    snapshot = None
    if name.startswith("guard"):
        snapshot = Snapshot([FrameSnapshot(_Code(), len(ops), list(args[1:]))])
        args = args[:1]
    ops.append(Op(name, args, None, result, snapshot))
    return result


def trace_shaped(nops: int, salt: int = 0) -> Trace:
    """label(i0, f1, n); ~nops int and float ops, a guard every fifth op; i0 counts
    up to n.  A different ``salt`` gives different constants: code that LLVM must
    compile again (the process keeps what it compiled by the code's text)."""
    i0, f1, n = Box("i"), Box("f"), Box("i")
    target = TargetDescr("bench")
    ops = [Op("label", [i0, f1, n], target)]
    i, f = i0, f1
    k = 0
    while len(ops) < nops:
        k += 1
        if k % 5 == 0:
            test = _op(ops, "int_lt", [i, n], "i")
            _op(ops, "guard_true", [test, i, f, n], "v")
        elif k % 3 == 0:
            f = _op(ops, "float_add", [f, Const("f", 0.5)], "f")
        elif k % 3 == 1:
            i = _op(ops, "int_xor", [i, Const("i", k + (salt << 20))], "i")
        else:
            i = _op(ops, "int_and", [i, Const("i", 0x7FFFFFFF)], "i")
    nxt = _op(ops, "int_add", [i0, Const("i", 1)], "i")
    test = _op(ops, "int_lt", [nxt, n], "i")
    _op(ops, "guard_true", [test, nxt, f, n], "v")
    ops.append(Op("jump", [nxt, f, n], target))
    return Trace([i0, f1, n], ops, "bench")


def best(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def counted_loop() -> Trace:
    i0, n = Box("i"), Box("i")
    target = TargetDescr("count")
    ops = [Op("label", [i0, n], target)]
    i1 = _op(ops, "int_add_ovf", [i0, Const("i", 1)], "i")
    ops.append(Op("guard_no_overflow", [], None, None,
                  Snapshot([FrameSnapshot(_Code(), 1, [i0, n])])))
    test = _op(ops, "int_lt", [i1, n], "i")
    _op(ops, "guard_true", [test, i1, n], "v")
    ops.append(Op("jump", [i1, n], target))
    return Trace([i0, n], ops, "count")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the tables (markdown) to this file")
    args = parser.parse_args()
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}; load average before: {os.getloadavg()[0]:.2f}", ""]
    llvm.get_trampoline()     # numba's import and the trampoline, once, not timed below
    native.configure_cache("off")   # compile every time: no object code from a cache

    lines += ["| trace ops | native cheap ms | native full (O2) ms | Python backend ms |",
              "|---:|---:|---:|---:|"]
    for nops in (200, 1000, 3000):
        trace = trace_shaped(nops)
        fresh = [trace_shaped(nops, salt) for salt in range(1, 6)]   # built before timing
        cheap = best(lambda: native.NativeUnit(fresh.pop(), level="cheap"))
        full = best(lambda: native.NativeUnit(fresh.pop(), level="full"), repeat=2)
        py = best(lambda: python_unit(trace))
        lines.append(f"| {nops} | {cheap * 1e3:.0f} | {full * 1e3:.0f} | {py * 1e3:.1f} |")
    lines.append("")

    loop = counted_loop()
    ours, theirs = native.NativeUnit(loop), python_unit(loop)
    n = 200_000
    enter = llvm.get_trampoline()
    slots = ours._slots()
    ours._fill(slots, 0, [0, 1])
    bare = min(timeit.repeat(lambda: enter(ours.address, slots.address), number=n, repeat=3)) / n
    run_native = min(timeit.repeat(lambda: ours.run([0, 1]), number=n, repeat=3)) / n
    run_python = min(timeit.repeat(lambda: theirs.run([0, 1]), number=n, repeat=3)) / n
    lines += ["| one run that leaves at once | ns |", "|---|---:|",
              f"| trampoline call alone | {bare * 1e9:.0f} |",
              f"| native unit `run()` (fill, enter, read the exit) | {run_native * 1e9:.0f} |",
              f"| Python-source unit `run()` | {run_python * 1e9:.0f} |", ""]

    iterations = 50_000_000
    t_native = best(lambda: ours.run([0, iterations]))
    t_python = best(lambda: theirs.run([0, iterations // 50]), repeat=2) * 50
    lines += ["| counted loop (int_add_ovf, int_lt, guard) | ns per iteration |", "|---|---:|",
              f"| native | {t_native / iterations * 1e9:.2f} |",
              f"| Python backend | {t_python / iterations * 1e9:.1f} |", ""]
    lines.append(f"load average after: {os.getloadavg()[0]:.2f}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("# Native backend costs (`python benchmarks/native_costs.py`)\n\n" + text)


if __name__ == "__main__":
    main()
