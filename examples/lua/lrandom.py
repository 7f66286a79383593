"""math.random and math.randomseed, bit-exact with lua5.4 (5.4.4).

The generator is xoshiro256** on 64-bit words. ``randomseed(n1, n2)`` sets the state
to ``{n1, 0xff, n2, 0}`` and discards 16 outputs; a float seed must have an exact
integer value (lua5.4.4 raises otherwise). ``random()`` is the top 53 bits of one
output scaled to [0, 1); ``random(m, n)`` projects an output onto [0, n - m] by masking
to the smallest all-ones number covering the range and drawing again while the result
is too large (no modulo bias), then adds ``m``; ``random(0)`` is a whole 64-bit output.

API
    ``LuaRandom(seed=None)``: a generator; ``seed`` is an integer, or None for lua5.4's
        seeding from the time and an address.
    ``rng.random(args) -> int | float``: ``math.random(*args)`` with lua5.4's argument
        checks (``args`` as the VM passes them; strings convert as luaL_checkinteger).
    ``rng.randomseed(args) -> (n1, n2)``: ``math.randomseed(*args)``; returns the two
        seed parts as lua5.4.4 does (the time-based ones when ``args`` is empty).
    ``rng.random_float()``, ``rng.random_integer()``, ``rng.random_range(low, up)``,
    ``rng.seed(n1, n2)``, ``rng.seed_randomly()``, ``rng.next_u64()``: the pieces, for
        a VM that checks the arguments itself (note that lua5.4 draws before it
        checks, so a failing ``math.random(2, 1)`` still advances the state).
Errors raise ``LuaLibError`` with lua5.4's message, e.g. ``bad argument #1 to 'random'
(interval is empty)``.
"""
import time

from .lerrors import LuaLibError
from .lnumbers import arg_integer, basic_typename, wrap

_MASK = (1 << 64) - 1
_TWO_TO_MINUS_53 = 2.0 ** -53


def _rotl(x, n):
    return ((x << n) | (x >> (64 - n))) & _MASK


class LuaRandom:
    """The state of one Lua random generator (lua5.4 keeps one per Lua state)."""

    def __init__(self, seed=None):
        self.state = [0, 0, 0, 0]
        if seed is None:
            self.seed_randomly()
        else:
            self.seed(seed, 0)

    def next_u64(self):
        """The next xoshiro256** output as an unsigned 64-bit integer."""
        s0, s1, s2, s3 = self.state
        result = (_rotl((s1 * 5) & _MASK, 7) * 9) & _MASK
        s2 ^= s0
        s3 ^= s1
        self.state = [s0 ^ s3, s1 ^ s2, s2 ^ ((s1 << 17) & _MASK), _rotl(s3, 45)]
        return result

    def seed(self, n1, n2):
        """Seed with two integers, as math.randomseed(n1, n2); returns them."""
        self.state = [n1 & _MASK, 0xFF, n2 & _MASK, 0]
        for _ in range(16):
            self.next_u64()
        return wrap(n1), wrap(n2)

    def seed_randomly(self):
        """lua5.4's seeding without arguments: the time and an address."""
        return self.seed(int(time.time()), id(self))

    def _project(self, ran, n):
        """A value in [0, n] (n unsigned) from ``ran`` and, when needed, more draws."""
        if n & (n + 1) == 0:  # n + 1 is a power of two: masking has no bias
            return ran & n
        lim = (1 << n.bit_length()) - 1  # the smallest 2^b - 1 not below n
        ran &= lim
        while ran > n:
            ran = self.next_u64() & lim
        return ran

    def random_float(self):
        """``math.random()``: the top 53 bits of one output, in [0, 1)."""
        return (self.next_u64() >> 11) * _TWO_TO_MINUS_53

    def random_integer(self):
        """``math.random(0)``: one whole output as a signed integer."""
        return wrap(self.next_u64())

    def random_range(self, low, up):
        """``math.random(low, up)`` for integers with ``low <= up``."""
        return self._in_range(self.next_u64(), low, up)

    def _in_range(self, rv, low, up):
        return wrap(self._project(rv, (up - low) & _MASK) + low)

    def random(self, args, fname="random", typename=basic_typename):
        """``math.random(*args)`` with lua5.4's argument checks; the generator
        advances even when the call fails, as lua5.4 draws before checking."""
        rv = self.next_u64()
        if len(args) == 0:
            return (rv >> 11) * _TWO_TO_MINUS_53
        if len(args) == 1:
            low = 1
            up = _check_integer(args[0], 1, fname, typename)
            if up == 0:
                return wrap(rv)
        elif len(args) == 2:
            low = _check_integer(args[0], 1, fname, typename)
            up = _check_integer(args[1], 2, fname, typename)
        else:
            raise LuaLibError("wrong number of arguments")
        if low > up:
            raise LuaLibError("bad argument #1 to '%s' (interval is empty)" % fname)
        return self._in_range(rv, low, up)

    def randomseed(self, args, fname="randomseed", typename=basic_typename):
        """``math.randomseed(*args)``: returns the two seed parts."""
        if len(args) == 0:
            return self.seed_randomly()
        n1 = _check_integer(args[0], 1, fname, typename)
        n2 = 0 if len(args) < 2 or args[1] is None else \
            _check_integer(args[1], 2, fname, typename)
        return self.seed(n1, n2)


def _check_integer(value, argnum, fname, typename):
    try:
        n = arg_integer(value)
    except LuaLibError as e:
        raise LuaLibError("bad argument #%d to '%s' (%s)" % (argnum, fname, e.args[0])) from None
    if n is None:
        raise LuaLibError("bad argument #%d to '%s' (number expected, got %s)"
                          % (argnum, fname, typename(value)))
    return n
