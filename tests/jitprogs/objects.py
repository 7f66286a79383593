"""Portals over objects, hints, exceptions and containers: what the meta-interpreter
folds, guards and calls residually must not change what the guest sees."""
from metajit import (JitDriver, dont_look_inside, elidable, promote, unroll_safe)

# --- methods, inheritance, guard_class ------------------------------------------------


class Shape:
    def __init__(self, size):
        self.size = size

    def area(self):
        return self.size * self.size

    def describe(self):
        return self.kind() * 100 + self.area()

    def kind(self):
        return 0


class Square(Shape):
    def kind(self):
        return 1


class Triangle(Shape):
    def area(self):
        return self.size * self.size // 2

    def kind(self):
        return 2


shapes_driver = JitDriver(greens=["pc"], reds=["i", "items", "total", "out"],
                          name="shapes")


@shapes_driver.portal
def shapes(pc, items):
    total = 0
    out = []
    i = 0
    while i < len(items):
        shapes_driver.jit_merge_point(pc=pc, i=i, items=items, total=total, out=out)
        item = items[i]
        total += item.describe()
        if isinstance(item, Triangle):
            out.append(item.area())
        i += 1
    return total, out


def make_shapes(n, period):
    """Squares, with a Triangle every ``period``-th item and a plain Shape every 7th."""
    items = []
    for k in range(n):
        if k % 7 == 6:
            items.append(Shape(k))
        elif k % period == period - 1:
            items.append(Triangle(k))
        else:
            items.append(Square(k))
    return items


# --- immutable fields of a constant object -----------------------------------------


class Code:
    _immutable_fields_ = ["step", "name", "consts[*]"]

    def __init__(self, step, name, consts):
        self.step = step
        self.name = name
        self.consts = consts
        self.hits = 0           # mutable: read with getfield


code_driver = JitDriver(greens=["code"], reds=["i", "n", "acc"], name="code")


@code_driver.portal
def run_code(code, n):
    acc = 0
    i = 0
    while i < n:
        code_driver.jit_merge_point(code=code, i=i, n=n, acc=acc)
        acc += code.step * i + code.consts[1]
        i += 1
    return acc


mutable_driver = JitDriver(greens=["code"], reds=["i", "n", "acc"], name="mutable")


@mutable_driver.portal
def run_code_mutable(code, n):
    acc = 0
    i = 0
    while i < n:
        mutable_driver.jit_merge_point(code=code, i=i, n=n, acc=acc)
        acc += code.hits + i
        i += 1
    return acc


# --- promote -----------------------------------------------------------------------

promote_driver = JitDriver(greens=["pc"], reds=["i", "n", "scale", "acc"], name="promote")


@promote_driver.portal
def promoted(pc, n, scale):
    acc = 0
    i = 0
    while i < n:
        promote_driver.jit_merge_point(pc=pc, i=i, n=n, scale=scale, acc=acc)
        s = promote(scale)
        acc += i * s
        if i == n // 2:
            scale += 1
        i += 1
    return acc


# --- elidable ------------------------------------------------------------------------

CALLS = []


@elidable
def table_lookup(table, key):
    CALLS.append(key)
    index = 0
    while index < len(table):
        if table[index] == key:
            return index
        index += 1
    return -1


elidable_driver = JitDriver(greens=["table", "key"], reds=["i", "n", "acc"],
                            name="elidable")


@elidable_driver.portal
def elidable_constant(table, key, n):
    acc = 0
    i = 0
    while i < n:
        elidable_driver.jit_merge_point(table=table, key=key, i=i, n=n, acc=acc)
        acc += table_lookup(table, key) + i
        i += 1
    return acc


elidable_red_driver = JitDriver(greens=["table"], reds=["i", "n", "acc"],
                                name="elidable_red")


@elidable_red_driver.portal
def elidable_variable(table, n):
    acc = 0
    i = 0
    while i < n:
        elidable_red_driver.jit_merge_point(table=table, i=i, n=n, acc=acc)
        acc += table_lookup(table, i % 4)
        i += 1
    return acc


# --- exceptions ---------------------------------------------------------------------


class GuestError(Exception):
    def __init__(self, value):
        Exception.__init__(self, "guest error %d" % (value,))
        self.value = value


def checked(x):
    if x % 4 == 3:
        raise GuestError(x)
    return x * 2


@dont_look_inside
def residual_checked(x):
    if x % 5 == 4:
        raise GuestError(-x)
    return x + 1


catch_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc", "caught"], name="catch")


@catch_driver.portal
def catching(pc, n):
    acc = 0
    caught = 0
    i = 0
    while i < n:
        catch_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc, caught=caught)
        try:
            acc += checked(i)
            acc += residual_checked(i)
        except GuestError as e:
            caught += 1
            acc -= e.value
        i += 1
    return acc, caught


escape_driver = JitDriver(greens=["pc"], reds=["i", "n", "limit", "acc"], name="escape")


@escape_driver.portal
def escaping(pc, n, limit):
    """An exception leaves the portal at iteration ``limit``: raised by the portal
    (``pc`` 0), by a residual call (1) or by an inlined helper (2); or the portal
    returns from inside the loop (3) or breaks out of it (4)."""
    acc = 0
    i = 0
    while i < n:
        escape_driver.jit_merge_point(pc=pc, i=i, n=n, limit=limit, acc=acc)
        acc += i
        if pc == 1:
            acc += residual_step(i, limit, acc)
        elif pc == 2:
            acc += inlined_step(i, limit)
        elif i == limit:
            if pc == 3:
                return -acc
            if pc == 4:
                break
            raise GuestError(acc)
        i += 1
    return acc + 1000000


@dont_look_inside
def residual_step(i, limit, acc):
    if i == limit:
        raise ValueError("residual failure at %d with %d" % (i, acc))
    return 0


def inlined_step(i, limit):
    if i == limit:
        raise GuestError(-i)
    return 0


class E1(Exception):
    pass


class E2(E1):
    pass


def inner(x, log):
    try:
        if x % 3 == 0:
            raise E2("e2 %d" % x)
        if x % 5 == 0:
            raise KeyError(x)
        return x
    finally:
        log.append(x)


def middle(x, log):
    try:
        return inner(x, log) * 2
    except E1:
        log.append(-1)
        raise
    except KeyError as e:
        return -e.args[0]


flow_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc", "log"], name="flow")


@flow_driver.portal
def exception_flow(pc, n):
    """try/except/else/finally in the portal, a bare re-raise and a finally in the
    inlined helpers, exception classes matched by subclass and by tuple."""
    acc = 0
    log = []
    i = 0
    while i < n:
        flow_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc, log=log)
        try:
            acc += middle(i, log)
        except (E2, ValueError) as e:
            acc += len(str(e))
        else:
            acc += 1
        finally:
            acc += 3
        i += 1
    return acc, log


# --- loops inside unroll_safe helpers ---------------------------------------------------


@unroll_safe
def sum_range(k):
    s = 0
    for j in range(k):
        s += j * j
    return s


@unroll_safe
def sum_list(values):
    s = 0
    for v in values:
        if v < 0:
            continue
        s += v
    return s


unroll_driver = JitDriver(greens=["k"], reds=["i", "n", "values", "acc"], name="unroll")


@unroll_driver.portal
def unrolled(k, n, values):
    acc = 0
    i = 0
    while i < n:
        unroll_driver.jit_merge_point(k=k, i=i, n=n, values=values, acc=acc)
        acc += sum_range(k) + sum_list(values)
        values[i % len(values)] = i - 3
        i += 1
    return acc


# --- objects made in the loop: allocation removal -------------------------------------


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def scaled(self, k):
        return Vec(self.x * k, self.y * k)


vec_driver = JitDriver(greens=["pc"], reds=["i", "n", "pos", "kept"], name="vectors")


@vec_driver.portal
def vectors(pc, n):
    """A position moved by temporary vectors; every 7th step one of them escapes into
    a list, and from step 40 on a branch flips (the guards there fail while the new
    position is still a virtual, then a bridge takes over)."""
    pos = Vec(0, 1)
    kept = []
    i = 0
    while i < n:
        vec_driver.jit_merge_point(pc=pc, i=i, n=n, pos=pos, kept=kept)
        step = Vec(i, 2).scaled(3)
        pos = pos.add(step)
        if i >= 40:
            pos = Vec(pos.y, pos.x - i)
        if i % 7 == 6:
            kept.append(step)
        i += 1
    return vec_summary(pos, kept)


@dont_look_inside
def vec_summary(pos, kept):
    return pos.x, pos.y, [(v.x, v.y) for v in kept], type(pos).__name__


# --- quasi-immutable fields ------------------------------------------------------------


class Config:
    _immutable_fields_ = ["scale?", "name"]

    def __init__(self, scale, name):
        self.scale = scale
        self.name = name


class SlotConfig:
    __slots__ = ("scale",)
    _immutable_fields_ = ["scale?"]

    def __init__(self, scale):
        self.scale = scale


quasi_driver = JitDriver(greens=["cfg"], reds=["i", "n", "acc", "change_at"], name="quasi")


@quasi_driver.portal
def scaled_sum(cfg, n, change_at):
    """Reads cfg.scale every iteration; at ``change_at`` the loop itself changes it
    (the compiled code that read it as a constant must not go on using the old
    value), and every 50 steps after that it changes again."""
    acc = 0
    i = 0
    while i < n:
        quasi_driver.jit_merge_point(cfg=cfg, i=i, n=n, acc=acc, change_at=change_at)
        acc += cfg.scale * i
        if i == change_at or (i > change_at and i % 50 == 0):
            cfg.scale = cfg.scale + 1
        i += 1
    return acc, cfg.scale


# --- fields written every iteration: delayed stores ------------------------------------


class Tally:
    def __init__(self):
        self.count = 0
        self.total = 0
        self.last = None


@dont_look_inside
def audit(tally, log):
    log.append((tally.count, tally.total))


tally_driver = JitDriver(greens=["pc"], reds=["i", "n", "tally", "log"], name="tally")


@tally_driver.portal
def tallied(pc, n):
    """Writes three fields of an object every iteration; a branch taken every 9th
    step (its guard fails with the stores still pending) and a residual call every
    25th that reads the fields must see them all written."""
    tally = Tally()
    log = []
    i = 0
    while i < n:
        tally_driver.jit_merge_point(pc=pc, i=i, n=n, tally=tally, log=log)
        tally.count = tally.count + 1
        tally.total = tally.total + i
        tally.last = i
        if i % 9 == 4:
            log.append(tally.total - tally.count)
        if i % 25 == 24:
            audit(tally, log)
        i += 1
    return tally.count, tally.total, tally.last, log


# --- a virtualizable frame ------------------------------------------------------------


class Frame:
    _virtualizable_ = ["acc", "steps"]

    def __init__(self):
        self.acc = 0
        self.steps = 0


@dont_look_inside
def note(value, log):
    if value % 50 == 0:
        log.append(value)


@dont_look_inside
def inspect_frame(frame, log):
    log.append((frame.acc, frame.steps))


frame_driver = JitDriver(greens=["pc"], reds=["i", "n", "frame", "log"],
                         virtualizables=["frame"], name="frame")


@frame_driver.portal
def frame_loop(pc, n):
    """The frame's fields change every iteration around a residual call that is not
    given the frame (they stay in registers); every 30th step a call that is given
    it must see them written."""
    frame = Frame()
    log = []
    i = 0
    while i < n:
        frame_driver.jit_merge_point(pc=pc, i=i, n=n, frame=frame, log=log)
        frame.acc = frame.acc + i
        note(i, log)
        frame.steps = frame.steps + 1
        if i % 30 == 29:
            inspect_frame(frame, log)
        i += 1
    return frame.acc, frame.steps, log


# --- lists made in the loop -------------------------------------------------------------

pairs_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc", "kept"], name="pairs")


@pairs_driver.portal
def pairs(pc, n):
    """A two-item list made every iteration and read back (never built); every 11th
    one is kept (built where it escapes); past step 60 a branch flips while a list
    is still virtual."""
    acc = 0
    kept = []
    i = 0
    while i < n:
        pairs_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc, kept=kept)
        pair = [i, i * 3]
        pair[1] = pair[1] - 1
        acc += pair[0] + pair[1] + len(pair)
        if i > 60:
            acc -= pair[0]
        if i % 11 == 10:
            kept.append(pair)
        i += 1
    return acc, kept


# --- type(x) checks, as dynamic languages' VMs make them --------------------------------

typecheck_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc", "items"], name="typecheck")


@typecheck_driver.portal
def typed_sum(pc, items, n):
    """Adds ints, floats and the lengths of strings, by ``type(x) is ...`` tests."""
    acc = 0
    i = 0
    while i < n:
        typecheck_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc, items=items)
        x = items[i % len(items)]
        if type(x) is int:
            acc += x
        elif type(x) is float:
            acc += int(x * 2.0)
        else:
            acc += len(x)
        i += 1
    return acc


# --- tuples, dicts, lists, globals -------------------------------------------------------

LIMIT = 7


def split(x):
    return x // 10, x % 10


tuple_driver = JitDriver(greens=["pc"], reds=["i", "n", "a", "b", "pair"], name="tuples")


@tuple_driver.portal
def tuples(pc, n):
    a, b = 0, 1
    pair = (a, b)
    i = 0
    while i < n:
        tuple_driver.jit_merge_point(pc=pc, i=i, n=n, a=a, b=b, pair=pair)
        a, b = b, (a + b) % 1000
        hi, lo = split(b)
        pair = (hi + lo, pair[0])
        x, y = pair
        a = a + x - y
        i += 1
    return a, b, pair


containers_driver = JitDriver(greens=["pc"], reds=["i", "n", "counts", "stack", "acc"],
                              name="containers")


@containers_driver.portal
def containers(pc, n):
    counts = {}
    stack = []
    acc = 0
    i = 0
    while i < n:
        containers_driver.jit_merge_point(pc=pc, i=i, n=n, counts=counts, stack=stack,
                                          acc=acc)
        key = i % LIMIT
        counts[key] = counts.get(key, 0) + 1
        stack.append(i)
        if len(stack) > 3:
            acc += stack.pop(0) + stack.pop()
        if key in counts and (key * 2) not in counts:
            acc += 1
        acc += len(counts)
        i += 1
    keys = sorted(counts)
    return acc, keys, counts[keys[0]], stack


global_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc"], name="global")


@global_driver.portal
def read_global(pc, n):
    acc = 0
    i = 0
    while i < n:
        global_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc)
        acc += i % LIMIT
        i += 1
    return acc


window_driver = JitDriver(greens=["pc"], reds=["i", "n", "window"], name="window")


@window_driver.portal
def sliding_window(pc, n):
    """A list made anew every iteration from the last one's items: it never needs
    to exist while the loop runs, and the last one is returned."""
    window = [0, 1, 1]
    i = 0
    while i < n:
        window_driver.jit_merge_point(pc=pc, i=i, n=n, window=window)
        window = [window[1], window[2], (window[0] + window[1] + window[2]) % 10007]
        i += 1
    return window
