"""Loops over the items of buffers (bytearray, array.array, numpy arrays).

``buffer_loop`` runs one green ``op`` over a red buffer ``xs`` (and ``ys`` where
it writes, ``at`` where it gathers): sums, counts, scales, copies, gathers by
indexes, and grows ``xs`` by a residual call while it walks it.  Items are read
through ``int()``/``float()``/``bool()``, as a guest that wants Python numbers
out of a numpy array writes it (in the same block: not inside a ``try``, where
each op that may raise ends a block).  ``buffer_loop`` returns the total and the
name of the error that stopped the loop, if any.
"""
from metajit import JitDriver

buffer_driver = JitDriver(greens=["op"], reds=["i", "total", "xs", "ys", "at"], name="buffers")


def buffer_loop(op, xs, ys=None, at=None):
    try:
        return _walk(op, xs, ys, at), None
    except (IndexError, OverflowError, ValueError) as exc:
        return None, type(exc).__name__


@buffer_driver.portal
def _walk(op, xs, ys, at):
    total = 0.0 if op in ("sum_float", "scale_float") else 0
    i = 0
    while i < len(xs):
        buffer_driver.jit_merge_point(op=op, i=i, total=total, xs=xs, ys=ys, at=at)
        if op == "sum_int":
            total += int(xs[i])
        elif op == "sum_float":
            total += float(xs[i])
        elif op == "count_true":
            if bool(xs[i]):
                total += 1
        elif op == "scale_int":
            ys[i] = int(xs[i]) * 3 - 1
        elif op == "scale_float":
            ys[i] = float(xs[i]) * 0.5 + total
            total += 0.25
        elif op == "copy_int":
            ys[i] = int(xs[i])
        elif op == "copy_bool":
            ys[i] = bool(xs[i])
        elif op == "gather":
            total += int(xs[at[i]])
            if i + 1 >= len(at):
                break
        elif op == "grow":
            total += int(xs[i])
            if i % 7 == 0 and len(xs) < 200:
                xs.append(i % 50)
        i += 1
    return total
