"""Helpers that use constructs outside the interpreter subset, called from a portal
that the JIT looks inside.

``run_helper`` takes the helper as a green, so the trace calls a constant function
and looks inside it.  Each unsupported construct's line carries ``# UNSUPPORTED:
<name>``; the ``*_residual`` twins are the same code marked ``dont_look_inside``.
"""
from metajit import JitDriver, dont_look_inside

driver = JitDriver(greens=["helper"], reds=["i", "n", "acc"], name="strict")


@driver.portal
def run_helper(helper, n):
    i = 0
    acc = 0
    while i < n:
        driver.jit_merge_point(helper=helper, i=i, n=n, acc=acc)
        acc += helper(i)
        i += 1
    return acc


class Quiet:
    """A context manager that does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _gen(x):
    yield x  # UNSUPPORTED: yield
    yield x + 1


def plain(x):
    return x * 2 + 1


def comprehension(x):
    squares = [k * k for k in range(3)]  # UNSUPPORTED: comprehension
    return x + squares[2]


def generator_expression(x):
    return x + sum(k for k in range(3))  # UNSUPPORTED: generator_expression


def generator_function(x):
    values = list(_gen(x))
    return values[0] + values[1]


def with_lambda(x):
    f = lambda k: k + 1  # UNSUPPORTED: lambda  # noqa: E731
    return f(x)


def with_statement(x):
    with Quiet():  # UNSUPPORTED: with
        x = x + 3
    return x


def nested_def(x):
    def inner(k):  # UNSUPPORTED: nested_def
        return k * 2
    return inner(x)


@dont_look_inside
def comprehension_residual(x):
    squares = [k * k for k in range(3)]
    return x + squares[2]


@dont_look_inside
def generator_expression_residual(x):
    return x + sum(k for k in range(3))


@dont_look_inside
def generator_function_residual(x):
    values = list(_gen(x))
    return values[0] + values[1]


@dont_look_inside
def with_lambda_residual(x):
    f = lambda k: k + 1  # noqa: E731
    return f(x)


@dont_look_inside
def with_statement_residual(x):
    with Quiet():
        x = x + 3
    return x


@dont_look_inside
def nested_def_residual(x):
    def inner(k):
        return k * 2
    return inner(x)


# --- the portal itself uses an unsupported construct ---------------------------------

portal_driver = JitDriver(greens=["pc"], reds=["i", "n", "acc"], name="strict_portal")


@portal_driver.portal
def portal_with_statement(pc, n):
    i = 0
    acc = 0
    while i < n:
        portal_driver.jit_merge_point(pc=pc, i=i, n=n, acc=acc)
        with Quiet():  # UNSUPPORTED: portal_with
            acc += i
        i += 1
    return acc
