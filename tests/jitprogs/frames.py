"""Portals whose loops read and write fields of a frame object: the optimiser keeps
the field reads in the preamble and delays the stores to the exits, so that the
peeled body works on ints alone."""
from metajit import JitDriver


class Frame:
    def __init__(self, limit, step):
        self.limit = limit
        self.step = step


class Counter:
    def __init__(self):
        self.n = 0


limit_driver = JitDriver(greens=[], reds=["i", "acc", "frame", "counter"], name="limit")


@limit_driver.portal
def count_to_limit(frame, counter):
    """Reads ``frame.limit`` and ``frame.step`` every iteration, counts in
    ``counter.n``."""
    acc = 0
    i = 0
    while i < frame.limit:
        limit_driver.jit_merge_point(i=i, acc=acc, frame=frame, counter=counter)
        acc += i * frame.step
        if acc % 7 == 3:
            acc += 1
        counter.n += 1
        i += 1
    return acc


def run_frames(limits):
    """count_to_limit over frames of the given limits; returns every result and
    counter, in order."""
    out = []
    for k, limit in enumerate(limits):
        counter = Counter()
        out.append((count_to_limit(Frame(limit, k % 3 + 1), counter), counter.n))
    return out
