"""Arithmetic portals: Python's int and float semantics must survive tracing.

``binop`` applies one operator (a green string, so the dispatch folds away) to every
pair of a red list of left operands and a red list of right operands; the values
cross 64 bits, are negative, zero, INT64_MIN, floats and bools, so the compiled
loop meets every special case through its guards.  ``ZeroDivisionError`` and
friends are caught in the portal and recorded as text.
"""
from metajit import JitDriver

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

binop_driver = JitDriver(greens=["op"], reds=["i", "xs", "ys", "out"], name="binop")


@binop_driver.portal
def binop(op, xs, ys):
    out = []
    i = 0
    while i < len(xs) * len(ys):
        binop_driver.jit_merge_point(op=op, i=i, xs=xs, ys=ys, out=out)
        a = xs[i % len(xs)]
        b = ys[i // len(xs)]
        try:
            if op == "add":
                r = a + b
            elif op == "sub":
                r = a - b
            elif op == "mul":
                r = a * b
            elif op == "floordiv":
                r = a // b
            elif op == "mod":
                r = a % b
            elif op == "truediv":
                r = a / b
            elif op == "lshift":
                r = a << b
            elif op == "rshift":
                r = a >> b
            elif op == "and":
                r = a & b
            elif op == "or":
                r = a | b
            elif op == "xor":
                r = a ^ b
            elif op == "lt":
                r = a < b
            elif op == "eq":
                r = a == b
            elif op == "neg":
                r = -a + b
            elif op == "abs":
                r = abs(a) - b
            elif op == "invert":
                r = ~a
            elif op == "int":
                r = int(a) + b
            elif op == "float":
                r = float(a) + b
            elif op == "min":
                r = min(a, b)
            else:
                r = divmod(a, b)
        except ZeroDivisionError:
            r = "ZeroDivisionError"
        except OverflowError:
            r = "OverflowError"
        except ValueError:
            r = "ValueError"
        out.append(r)
        i += 1
    return out


accumulate_driver = JitDriver(greens=["op"], reds=["i", "n", "x", "step", "out"],
                              name="accumulate")


@accumulate_driver.portal
def accumulate(op, n, x, step):
    """``x`` walks by ``step`` (added, subtracted, multiplied or shifted) and crosses
    the 64-bit limits mid-loop; every value is kept."""
    out = []
    i = 0
    while i < n:
        accumulate_driver.jit_merge_point(op=op, i=i, n=n, x=x, step=step, out=out)
        if op == "add":
            x = x + step
        elif op == "sub":
            x = x - step
        elif op == "mul":
            x = x * step
        elif op == "shift":
            x = x << step
        elif op == "neg":
            x = -(x * 2) - step
        else:
            x = (x + step) * 2 - step
        out.append(x)
        i += 1
    return out


bigred_driver = JitDriver(greens=["pc"], reds=["i", "n", "x", "total"], name="bigred")


@bigred_driver.portal
def big_reds(pc, n, x):
    """``x`` and ``total`` are reds that leave 64 bits and come back: entering the
    compiled loop with a big int must not happen (entry check), and crossing inside
    it must resume before the operation."""
    total = 0
    i = 0
    while i < n:
        bigred_driver.jit_merge_point(pc=pc, i=i, n=n, x=x, total=total)
        if x > (1 << 62):
            x = x // 1000003
        else:
            x = x * 7 + i
        total = total + x * x
        i += 1
    return x, total


flag_driver = JitDriver(greens=["pc"], reds=["i", "n", "flag", "count", "out"],
                        name="flag")


@flag_driver.portal
def bool_flag(pc, n):
    """A red that alternates True/False, printed with repr, with a guard failing every
    fifth iteration (and on ``flag`` itself every other one)."""
    out = []
    flag = True
    count = 0
    i = 0
    while i < n:
        flag_driver.jit_merge_point(pc=pc, i=i, n=n, flag=flag, count=count, out=out)
        if i % 5 == 0:
            out.append("five " + repr(flag))
        if flag:
            count += 1
        flag = not flag
        out.append(repr(flag))
        i += 1
    out.append(repr(count))
    out.append(repr(flag))
    return out


mix_driver = JitDriver(greens=["pc"], reds=["i", "n", "x", "y", "out"], name="mix")


@mix_driver.portal
def int_float_mix(pc, n, x, y):
    """Ints and floats mixed: the int part grows, the float part is scaled."""
    out = []
    i = 0
    while i < n:
        mix_driver.jit_merge_point(pc=pc, i=i, n=n, x=x, y=y, out=out)
        y = y * 0.5 + x
        x = x + i
        z = x / 4
        w = y // 3
        v = y % 2.5
        out.append((x, y, z, w, v, x < y, x == z, float(x) + 1, int(y)))
        i += 1
    return out


mod_driver = JitDriver(greens=["m"], reds=["i", "n", "acc"], name="mod_branch")


@mod_driver.portal
def mod_branch(m, n):
    """Branches on the remainder reaching its extreme value ``m - 1`` (``m + 1`` for
    a negative ``m``)."""
    acc = 0
    i = -n
    while i < n:
        mod_driver.jit_merge_point(m=m, i=i, n=n, acc=acc)
        r = i % m
        if r == (m - 1 if m > 0 else m + 1):
            acc += 100
        elif r == 0:
            acc += 10
        else:
            acc += 1
        i += 1
    return acc
