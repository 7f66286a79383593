"""Interpreter-style functions for the flow graph tests (tests/test_flowgraph.py).

Each is ordinary Python in the looked-inside subset; the tests run each on random
inputs in CPython, in the flow graph interpreter and in the blackhole (from the
start and from random mid-points) and compare.  Keep them deterministic and free
of global state so that a run can be repeated.
"""
from metajit.tracer.hints import JitDriver

LIMIT = 50
OPCODES = ("push", "add", "sub", "mul", "dup", "swap", "pop", "jz", "jmp", "call", "ret",
           "print", "halt")


class VMError(Exception):
    """A guest program failed."""


class StackUnderflow(VMError):
    def __init__(self, pc, needed):
        VMError.__init__(self, f"stack underflow at {pc}", pc, needed)
        self.pc = pc


class Halt(Exception):
    pass


# -- loops ----------------------------------------------------------------------

def sum_loop(n):
    total = 0
    i = 0
    while i < n:
        total += i * i
        i += 1
    return total


def nested_break_continue(n, m):
    out = []
    for i in range(n):
        if i % 3 == 2:
            continue
        for j in range(m):
            if j > i:
                break
            if (i + j) % 2:
                continue
            out.append((i, j))
        else:
            out.append(-i)
        if len(out) > 12:
            break
    else:
        out.append("done")
    return out


def for_else_search(xs, target):
    for index, x in enumerate(xs):
        if x == target:
            result = index
            break
    else:
        result = -1
    return result, len(xs)


def while_else(n, stop):
    k = 0
    while k < n:
        k += 2
        if k == stop:
            break
    else:
        return ("exhausted", k)
    return ("stopped", k)


def complex_while(a, b):
    steps = 0
    while (a > 0 or b > 0) and not (a == b and steps > 3) and steps < 40:
        if a >= b and a:
            a -= 3
        elif b:
            b -= 2
        else:
            a -= 1
        steps += 1
    return a, b, steps


def loop_var_after(n):
    for i in range(n):
        pass
    return i


# -- classes ------------------------------------------------------------------------

class Shape:
    sides = 0

    def __init__(self, name):
        self.name = name

    def area(self):
        return 0

    def describe(self, prefix="shape"):
        return f"{prefix}:{self.name}:{self.sides}:{self.area()}"


class Rect(Shape):
    sides = 4

    def __init__(self, w, h):
        self.name = "rect"
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h


class Square(Rect):
    def __init__(self, s):
        Rect.__init__(self, s, s)
        self.name = "square"

    def describe(self, prefix="sq"):
        return prefix + "!" + str(self.w)


class Tri(Shape):
    sides = 3

    def __init__(self, b, h):
        self.name = "tri"
        self.b, self.h = b, h

    def area(self):
        return self.b * self.h // 2


def shapes(specs):
    made = []
    for kind, a, b in specs:
        if kind == 0:
            made.append(Rect(a, b))
        elif kind == 1:
            made.append(Square(a))
        elif kind == 2:
            made.append(Tri(a, b))
        else:
            made.append(Shape("blob"))
    total = 0
    names = []
    for s in made:
        if isinstance(s, Rect):
            total += s.area() * 2
        elif isinstance(s, (Tri, Square)):
            total -= s.area()
        else:
            total += s.sides
        names.append(s.describe())
    return total, names


def isinstance_dispatch(values):
    out = []
    for v in values:
        if v is None:
            out.append("none")
        elif isinstance(v, bool):
            out.append("bool" if v else "false")
        elif isinstance(v, int):
            out.append(v * 2)
        elif isinstance(v, str):
            out.append(v.upper())
        elif isinstance(v, list):
            out.append(len(v))
        else:
            out.append(type(v).__name__)
    return out


class Stack:
    def __init__(self):
        self.items = []
        self.__pushes = 0

    def push(self, value, times=1):
        for _ in range(times):
            self.items.append(value)
            self.__pushes += 1

    def pop(self):
        if not self.items:
            raise IndexError("pop from empty Stack")
        return self.items.pop()

    def pushes(self):
        return self.__pushes


def method_calls(ops):
    s = Stack()
    popped = []
    for op, arg in ops:
        if op == "push":
            s.push(arg, times=arg % 3)
        else:
            try:
                popped.append(s.pop())
            except IndexError as e:
                popped.append(str(e))
    return popped, s.pushes(), len(s.items)


class Counter:
    def __init__(self):
        self.x = 0
        self.hist = {}


def augmented(xs):
    c = Counter()
    a = [0, 0, 0]
    alias = a
    for x in xs:
        c.x += x
        a[x % 3] += 1
        c.hist[x % 4] = c.hist.get(x % 4, 0) + 1
        a += [x]
        t = (x,)
        t += (1,)
    s = "s"
    s *= 3
    return c.x, a, alias is a, len(alias), sorted(c.hist.items()), s


# -- data structures -------------------------------------------------------------

def list_ops(xs):
    ys = list(xs)
    ys.append(len(ys))
    first = ys.pop(0) if ys else None
    if len(ys) > 3:
        del ys[1]
        ys[0] = ys[-1] * 2
    ys.insert(0, first)
    ys.sort(key=abs, reverse=True)
    return ys, ys[:2], ys[::-2], 3 in ys, ys.count(0)


def dict_ops(words):
    counts = {}
    for w in words:
        if w in counts:
            counts[w] += 1
        else:
            counts[w] = 1
    best = None
    for word, n in counts.items():
        if best is None or n > counts[best] or (n == counts[best] and word < best):
            best = word
    if "a" in counts:
        del counts["a"]
    return best, sorted(counts), {"n": len(counts), "best": best}


def tuple_unpack(pairs):
    acc = []
    a, b = 0, 1
    for (x, y), z in pairs:
        a, b = b, a + x
        [p, q] = y, z
        acc.append((p - q, a))
    (first, second), third = (a, b), len(acc)
    return first, second, third, acc


def slicing(xs, i, j, k):
    step = k if k != 0 else None
    part = xs[i:j:step]
    head = xs[:i]
    tail = xs[j:]
    ys = list(xs)
    ys[i:j] = [0] * 2
    del ys[::3]
    s = "abcdefghij"[i:j]
    return part, head, tail, ys, s, xs[-1:], xs[i:][:j]


def bytes_and_str(data, text):
    total = 0
    for byte in data:
        total = (total * 31 + byte) % 1000003
    chars = []
    for ch in text:
        if "a" <= ch <= "z":
            chars.append(chr(ord(ch) - 32))
        elif ch.isdigit():
            chars.append(str(int(ch) * 2))
        else:
            chars.append("_")
    return total, "".join(chars), data[:2], bytes(reversed(data)), text.split("x")


def set_display(xs):
    seen = {0, -1}
    dups = []
    for x in xs:
        if x in seen:
            dups.append(x)
        seen.add(x)
    return sorted(seen), dups, {len(dups), len(seen) % 3}


def matrix_mult(n, seed):
    a = []
    b = []
    for i in range(n):
        a.append([(i * 7 + seed) % 5] * n)
        b.append([(i + seed) % 3] * n)
    c = []
    for i in range(n):
        row = []
        for j in range(n):
            s = 0
            for k in range(n):
                s += a[i][k] * b[k][j]
            row.append(s)
        c.append(row)
    return c


def iteration_helpers(d, xs):
    out = []
    for key, value in sorted(d.items()):
        out.append(f"{key}={value}")
    for i, (x, y) in enumerate(zip(xs, reversed(xs))):
        out.append(i * x - y)
    return out, max(xs, default=None), min(xs + [100]), sum(xs), abs(-len(xs))


# -- calls ----------------------------------------------------------------------------

def helper(a, b=10, *, scale=1, offset=0):
    return (a * scale - b) + offset


def kwargs_defaults(a, b):
    r1 = helper(a)
    r2 = helper(a, b)
    r3 = helper(a, scale=b)
    r4 = helper(b=a, a=b, offset=3)
    r5 = helper(a, b, scale=2, offset=-1)
    return [r1, r2, r3, r4, r5], sorted([a, b], reverse=True), dict(x=a, y=b)


def early_returns(x, y):
    if x < 0:
        return "negative"
    if x == 0:
        return None
    while x > 0:
        x -= y if y > 0 else 1
        if x == 7:
            return x, "seven"
    if not y:
        return
    return x


def conditional_expr(x, flag):
    a = x if flag else -x
    b = "big" if x > 10 else "mid" if x > 5 else "small"
    c = (x and flag) if x % 2 else (flag or x)
    return a, b, c, not x, -a if a < 0 else a


def chained_cmp(a, b, c):
    r = []
    r.append(a < b < c)
    r.append(a <= b == c)
    r.append(a < b > c != a)
    r.append(1 < a + 1 <= 10)
    if a < b < c:
        r.append("asc")
    elif not a > b >= c:
        r.append("not desc")
    r.append(a is not None is not b)
    r.append(a in [b, c] not in [[1], [2]])
    return r


def short_circuit_values(a, b, c):
    x = a or b
    y = a and b
    z = a or b or c
    w = a and b and c
    v = (a or b) and c
    u = not a or (b and not c)
    return x, y, z, w, v, u


def string_building(n, sep, width):
    parts = []
    for i in range(n):
        parts.append(f"{i:>{width}}|{i * 1.5:.2f}|{sep!r}|{i!s:3}")
    s = sep.join(parts)
    label = f"total={n}" + f"{'':->{width}}" + f"{{{n}}}"
    return s, label, len(s), f"{s[:3]!a}"


def globals_and_builtins(n):
    acc = LIMIT
    for op in OPCODES[:n]:
        acc += len(op)
    try:
        return acc + undefined_name_for_tests  # noqa: F821
    except NameError as e:
        return acc, str(e)


# -- exceptions ------------------------------------------------------------------------

def try_except_finally(x):
    log = []
    try:
        log.append("try")
        if x == 0:
            raise ValueError("zero")
        if x == 1:
            return log, "early"
        if x == 2:
            log.append(10 // (x - 2))
        if x == 3:
            raise KeyError(x)
        log.append("body-end")
    except ValueError as e:
        log.append(("value", e.args))
    except (ZeroDivisionError, TypeError):
        log.append("arith")
    else:
        log.append("else")
    finally:
        log.append("finally")
    return log


def finally_paths(xs):
    log = []
    for x in xs:
        try:
            try:
                if x < 0:
                    continue
                if x == 0:
                    break
                if x > 50:
                    raise OverflowError(x)
                log.append(x)
            finally:
                log.append("f1")
        except OverflowError:
            log.append("big")
        finally:
            log.append("f2")
    return log


def return_in_finally(x):
    try:
        if x:
            raise RuntimeError("boom")
        return "try"
    finally:
        if x > 1:
            return "finally"


def finally_reraises(x):
    log = []
    try:
        try:
            log.append(1)
            if x:
                raise LookupError(x)
        finally:
            log.append(2)
    except LookupError as e:
        log.append(e.args)
    return log


def custom_exceptions(code):
    log = []
    for c in code:
        try:
            try:
                if c == 0:
                    raise StackUnderflow(len(log), 2)
                if c == 1:
                    raise VMError("generic", c)
                if c == 2:
                    raise Halt
                if c == 3:
                    log.append({}["missing"])
                log.append(c)
            except StackUnderflow as e:
                log.append(("underflow", e.pc, e.args))
                if len(log) > 6:
                    raise
            except VMError:
                log.append("vm")
                raise
        except VMError as outer:
            log.append(("outer", outer.args[0]))
        except Halt:
            log.append("halt")
            if len(log) > 8:
                raise VMError("too long")
        except Exception as other:
            log.append(type(other).__name__)
    return log


def nested_try(x):
    try:
        try:
            if x == 1:
                raise ValueError("inner")
            r = 10 // x
        except ValueError:
            r = 1 // 0
        finally:
            x += 100
    except ZeroDivisionError as e:
        return "outer", x, str(e)
    return r, x


def divide_errors(a, b):
    try:
        q = a // b
        r = a % b
    except ZeroDivisionError:
        return "div0"
    except TypeError as e:
        return "type", str(e)
    else:
        return q, r
    finally:
        a = None


def unbound_local(flag, n):
    if flag:
        value = n * 2
    while n > 0:
        n -= 1
        if n == 3:
            other = n
    try:
        return value + other
    except UnboundLocalError as e:
        return str(e)


def except_as_unbinding(x):
    e = "before"
    try:
        raise ValueError(x)
    except ValueError as e:
        got = e.args
    if x:
        return got
    return e


def del_local(x):
    y = x + 1
    if x > 3:
        del y
    return y


def assert_check(x, y):
    assert x >= 0, f"negative: {x}"
    assert x != y
    return x - y


def raise_in_loop(items):
    total = 0
    for item in items:
        if item < 0:
            raise VMError("negative item", item)
        total += item
    return total


def unpack_errors(seq):
    try:
        a, b = seq
        return a + b
    except ValueError as e:
        return str(e)
    except TypeError as e:
        return "type: " + str(e)


# -- a tiny bytecode interpreter --------------------------------------------------------

class Frame:
    def __init__(self, code, arg):
        self.code = code
        self.pc = 0
        self.stack = [arg]
        self.output = []

    def push(self, v):
        self.stack.append(v)

    def pop(self):
        if not self.stack:
            raise StackUnderflow(self.pc, 1)
        return self.stack.pop()


def tiny_vm(program, arg):
    frame = Frame(program, arg)
    calls = []
    steps = 0
    try:
        while frame.pc < len(frame.code) and steps < 200:
            steps += 1
            op, oparg = frame.code[frame.pc]
            frame.pc += 1
            if op == "push":
                frame.push(oparg)
            elif op == "add" or op == "sub" or op == "mul":
                b = frame.pop()
                a = frame.pop()
                if op == "add":
                    frame.push(a + b)
                elif op == "sub":
                    frame.push(a - b)
                else:
                    frame.push(a * b % 1000)
            elif op == "dup":
                v = frame.pop()
                frame.push(v)
                frame.push(v)
            elif op == "swap":
                frame.stack[-1], frame.stack[-2] = frame.stack[-2], frame.stack[-1]
            elif op == "pop":
                frame.pop()
            elif op == "jz":
                if frame.pop() == 0:
                    frame.pc = oparg
            elif op == "jmp":
                frame.pc = oparg
            elif op == "call":
                calls.append(frame.pc)
                frame.pc = oparg
            elif op == "ret":
                if not calls:
                    raise VMError("ret without call", frame.pc)
                frame.pc = calls.pop()
            elif op == "print":
                frame.output.append(frame.stack[-1] if frame.stack else None)
            elif op == "halt":
                raise Halt()
            else:
                raise VMError("bad opcode", op)
    except Halt:
        return "halted", frame.output, frame.stack
    except VMError as e:
        return "error", e.args, frame.output
    except IndexError:
        return "index", frame.pc
    return "end", frame.output, frame.stack, steps


# -- the portal ------------------------------------------------------------------------

class RecordingDriver(JitDriver):
    """A JitDriver whose merge point records its keyword values (CPython runs)."""

    def __init__(self, **kwds):
        JitDriver.__init__(self, **kwds)
        self.seen = []

    def jit_merge_point(self, **live):
        self.seen.append(live)


driver = RecordingDriver(greens=["pc", "program"], reds=["acc", "n"])


def portal_counter(program, n):
    pc = 0
    acc = 0
    while True:
        driver.jit_merge_point(pc=pc, program=program, acc=acc, n=n)
        if pc >= len(program) or n > 60:
            break
        op = program[pc]
        n += 1
        if op == 0:
            acc += 1
            pc += 1
        elif op == 1:
            acc *= 2
            pc += 1
        elif op == 2:
            pc = 0 if acc % 5 else pc + 1
            driver.can_enter_jit(pc=pc, program=program, acc=acc, n=n)
        else:
            pc += 1
    return acc, n


# -- more corners ------------------------------------------------------------------

class FlakyIterator:
    """Yields 0, 1, ... and raises VMError at ``fail_at`` (an iterator without
    surprises otherwise)."""

    def __init__(self, n, fail_at):
        self.i = 0
        self.n = n
        self.fail_at = fail_at

    def __iter__(self):
        return self

    def __next__(self):
        if self.i == self.fail_at:
            raise VMError("flaky", self.i)
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return self.i - 1


def for_in_try(n, fail_at):
    seen = []
    try:
        for x in FlakyIterator(n, fail_at):
            if x == 5:
                break
            seen.append(x)
        else:
            seen.append("exhausted")
    except VMError as e:
        seen.append(e.args)
    return seen


def finally_replaces_exception(x):
    try:
        try:
            if x:
                raise KeyError(x)
            return "body"
        finally:
            if x > 1:
                raise ValueError("from finally")
    except KeyError as e:
        return ("key", e.args)
    except ValueError as e:
        return ("value", e.args)


def break_in_handler(xs):
    for x in xs:
        try:
            if x < 0:
                raise IndexError(x)
        except IndexError as err:
            if x < -5:
                break
            continue
        finally:
            xs = xs + [0] if len(xs) < 3 else xs
    return err.args if xs and xs[-1] == 0 else len(xs)


def del_in_loop(n):
    k = 0
    while k < n:
        tmp = k * 2
        if k % 3 == 0:
            del tmp
        k += 1
    return tmp


def reraise_after_inner(x):
    try:
        try:
            raise ValueError("outer", x)
        except ValueError:
            try:
                if x:
                    raise KeyError("inner")
            except KeyError:
                pass
            raise
    except ValueError as e:
        return e.args


def nested_finally_return(x):
    log = []
    for i in range(3):
        try:
            try:
                if i == x:
                    return log, "returned"
                if i == x - 1:
                    break
            finally:
                log.append(("inner", i))
        finally:
            log.append(("outer", i))
    return log, "fell out"


def multi_target_and_nested_aug(n):
    a = b = [0] * 3
    grid = [[0, 0], [0, 0]]
    for i in range(n):
        grid[i % 2][(i // 2) % 2] += i
        a[i % 3] -= 1
    d = {"k": [1, 2]}
    d["k"][0] *= 5
    total: int = 0
    total += sum(b)
    return a is b, a, grid, d, total


def keyword_only(a, *, scale=2, shift=0):
    return a * scale + shift


def call_keyword_only(x):
    return [keyword_only(x), keyword_only(x, scale=3), keyword_only(x, shift=1, scale=0)]


def exceptions_in_conditions(d, key):
    try:
        if d[key] and key not in ("a",):
            r = "truthy"
        elif d[key] is not None:
            r = "falsy"
        else:
            r = "none"
    except (KeyError, TypeError) as e:
        r = type(e).__name__
    return r


def unhashable_and_errors(x):
    try:
        s = {x, 1}
        d = {x: 1, "y": x}
        return len(s), len(d)
    except TypeError as e:
        return str(e)


def assert_without_message(x):
    assert x
    return x


def dead_code_after_exits(x):
    while True:
        if x > 2:
            return "big"
            x = 100
        break
        x = -1
    raise VMError("small", x)
    return x
