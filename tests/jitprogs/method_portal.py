"""A portal that is a method and uses a private (name-mangled) attribute."""
from metajit import JitDriver

driver = JitDriver(greens=["pc"], reds=["self", "n", "acc"], name="method")


class Machine:
    def __init__(self):
        self.__steps = 0

    @driver.portal
    def run(self, pc, n):
        acc = 0
        while n > 0:
            driver.jit_merge_point(pc=pc, self=self, n=n, acc=acc)
            self.__steps += 1
            acc += n * self.__scale()
            n -= 1
        return acc, self.__steps

    def __scale(self):
        return 2
