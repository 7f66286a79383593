"""Generate the larger Brainfuck example programs and check their output.

    python examples/bf/tools/make_programs.py          # rewrite primes.b and table.b
    python examples/bf/tools/make_programs.py --check  # only check the files on disk

A small macro assembler: variables live in slots of three cells, the variable
followed by two pad cells that are zero between macros.  The pads give every
variable a constant-time, non-destructive zero test (``if_zero``), so the programs'
cost comes from their arithmetic, not from copying values around to test them.
hello.b and rev.b are written by hand.
"""
from __future__ import annotations

import argparse
import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(os.path.dirname(HERE), "programs")
COMMAND_CHARS = set("><+-.,[]")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)   # run from a clone: its metajit/ finds the sibling folders


class Assembler:
    def __init__(self):
        self.code: list[str] = []
        self.ptr = 0
        self.free: list[int] = []
        self.next_slot = 0

    # -- cells ----------------------------------------------------------------------
    def var(self) -> int:
        """A fresh zero variable (the first cell of a three-cell slot)."""
        if self.free:
            return self.free.pop()
        cell = 3 * self.next_slot
        self.next_slot += 1
        return cell

    def release(self, *cells: int) -> None:
        """Give back variables that the caller has left at zero."""
        self.free.extend(cells)

    # -- emitting -------------------------------------------------------------------
    def comment(self, text: str) -> None:
        bad = COMMAND_CHARS & set(text)
        if bad:
            raise ValueError(f"comment {text!r} contains command characters {sorted(bad)}")
        self.code.append("\n" + text + "\n")

    def emit(self, text: str) -> None:
        self.code.append(text)

    def go(self, cell: int) -> None:
        delta = cell - self.ptr
        self.emit(">" * delta if delta > 0 else "<" * -delta)
        self.ptr = cell

    def add(self, cell: int, n: int) -> None:
        n %= 256
        self.go(cell)
        self.emit("+" * n if n <= 128 else "-" * (256 - n))

    def clear(self, cell: int) -> None:
        self.go(cell)
        self.emit("[-]")

    def set(self, cell: int, n: int) -> None:
        self.clear(cell)
        self.add(cell, n)

    def while_nonzero(self, cell: int, body) -> None:
        self.go(cell)
        self.emit("[")
        body()
        self.go(cell)
        self.emit("]")

    def repeat(self, counter: int, body) -> None:
        """Run body ``counter`` times, counting it down to zero."""
        def step():
            body()
            self.add(counter, -1)
        self.while_nonzero(counter, step)

    def move(self, src: int, *dsts: int) -> None:
        """Add ``src`` to each of ``dsts``; ``src`` ends at zero."""
        def step():
            self.add(src, -1)
            for dst in dsts:
                self.add(dst, 1)
        self.while_nonzero(src, step)

    def copy(self, src: int, dst: int) -> None:
        """Add ``src`` to ``dst``, keeping ``src``."""
        tmp = self.var()
        self.move(src, dst, tmp)
        self.move(tmp, src)
        self.release(tmp)

    def if_zero(self, cell: int, body) -> None:
        """Run body when ``cell`` is zero, in O(1), keeping ``cell``.

        With T and Z the two pads: set T; at the variable, ``[>-]`` clears T and stops
        on it when the variable is non-zero, or is skipped; one step right is then Z
        (zero: skip) or T (one: clear it and run the body there); both paths end on Z.
        """
        pad, end = cell + 1, cell + 2
        self.add(pad, 1)
        self.go(cell)
        self.emit("[>-]>[-")
        self.ptr = pad
        body()
        self.go(pad)
        self.emit(">]")
        self.ptr = end

    def if_nonzero(self, cell: int, body) -> None:
        """Run body when ``cell`` is non-zero, keeping ``cell``."""
        flag = self.var()
        self.add(flag, 1)
        self.if_zero(cell, lambda: self.clear(flag))
        self.while_nonzero(flag, lambda: (body(), self.clear(flag)))
        self.release(flag)

    def put(self, cell: int) -> None:
        self.go(cell)
        self.emit(".")

    def put_char(self, char: str) -> None:
        tmp = self.var()
        self.add(tmp, ord(char))
        self.put(tmp)
        self.clear(tmp)
        self.release(tmp)

    # -- arithmetic -----------------------------------------------------------------
    def divmod_const(self, n: int, divisor: int, quotient: int, remainder: int) -> None:
        """quotient, remainder += divmod(n, divisor) for zero quotient and remainder
        (``n`` is kept): count ``n`` down, ``remainder`` up and a countdown from
        ``divisor`` down; when the countdown reaches zero, ``remainder`` (now equal to
        the divisor) moves back into it."""
        left, countdown = self.var(), self.var()
        self.copy(n, left)
        self.add(countdown, divisor)

        def wrap():
            self.move(remainder, countdown)
            self.add(quotient, 1)

        def step():
            self.add(remainder, 1)
            self.add(countdown, -1)
            self.if_zero(countdown, wrap)
        self.repeat(left, step)
        self.clear(countdown)
        self.release(left, countdown)

    def mod_var(self, n: int, d: int, remainder: int) -> None:
        """remainder += n % d for a zero remainder and d > 0, as ``divmod_const``
        does it, but counting ``n`` itself down (and back up at the end): the
        variables the hot loop touches are the caller's, allocated side by side."""
        saved, countdown = self.var(), self.var()
        self.copy(d, countdown)

        def step():
            self.add(saved, 1)
            self.add(remainder, 1)
            self.add(countdown, -1)
            self.if_zero(countdown, lambda: self.move(remainder, countdown))
        self.repeat(n, step)
        self.move(saved, n)
        self.clear(countdown)
        self.release(saved, countdown)

    def put_decimal(self, n: int, width: int = 0) -> None:
        """Print n (0..255) in decimal, right-aligned in ``width`` columns."""
        tens_and_more, ones, hundreds, tens = self.var(), self.var(), self.var(), self.var()
        self.divmod_const(n, 10, tens_and_more, ones)
        self.divmod_const(tens_and_more, 10, hundreds, tens)
        self.clear(tens_and_more)
        for _ in range(width - 3):
            self.put_char(" ")
        if width >= 3:
            self.if_zero(hundreds, lambda: self.put_char(" "))
        show_tens = self.var()
        self.if_nonzero(hundreds, lambda: self.set(show_tens, 1))
        self.if_nonzero(tens, lambda: self.set(show_tens, 1))
        if width >= 2:
            self.if_zero(show_tens, lambda: self.put_char(" "))
        self.if_nonzero(hundreds, lambda: self.put_digit(hundreds))
        self.if_nonzero(show_tens, lambda: self.put_digit(tens))
        self.put_digit(ones)
        for cell in (ones, hundreds, tens, show_tens):
            self.clear(cell)
        self.release(tens_and_more, ones, hundreds, tens, show_tens)

    def put_digit(self, digit: int) -> None:
        self.add(digit, 48)
        self.put(digit)
        self.add(digit, -48)

    def text(self) -> str:
        out = "".join(self.code)
        lines = []
        for line in out.split("\n"):
            while len(line) > 72 and not (set(line) - COMMAND_CHARS):
                lines.append(line[:72])
                line = line[72:]
            lines.append(line)
        return "\n".join(line for line in lines if line.strip()) + "\n"


def primes_program(limit: int) -> str:
    """The primes below ``limit`` (at most 256), by trial division: for each n, try
    d = 2, 3, ... n/2 until one divides it, each remainder found by counting n down."""
    asm = Assembler()
    asm.comment(f"primes below {limit} by trial division")
    asm.comment("generated by examples/bf/tools/make_programs")
    # n last, so that the remainder loop's cells sit next to it
    numbers_left, first, divisors, trials, d, n = [asm.var() for _ in range(6)]
    asm.set(numbers_left, limit - 2)
    asm.set(first, 1)
    asm.set(n, 2)

    def try_divisor():
        remainder = asm.var()
        asm.mod_var(n, d, remainder)
        # a divisor: remember it, and set the countdown so that this is the last try
        asm.if_zero(remainder, lambda: (asm.set(divisors, 1), asm.set(trials, 1)))
        asm.clear(remainder)
        asm.release(remainder)
        asm.add(d, 1)

    def print_prime():
        asm.if_zero(first, lambda: asm.put_char(" "))
        asm.clear(first)
        asm.put_decimal(n)

    def test_number():
        half, odd = asm.var(), asm.var()
        asm.divmod_const(n, 2, half, odd)
        asm.clear(odd)
        asm.move(half, trials)
        asm.add(trials, -1)
        asm.release(half, odd)
        asm.set(d, 2)
        asm.repeat(trials, try_divisor)
        asm.if_zero(divisors, print_prime)
        asm.clear(divisors)
        asm.add(n, 1)

    asm.comment("for each n from 2 up")
    asm.repeat(numbers_left, test_number)
    asm.put_char("\n")
    return asm.text()


def primes_expected(limit: int) -> bytes:
    primes = [n for n in range(2, limit) if all(n % d for d in range(2, n))]
    return (" ".join(str(p) for p in primes) + "\n").encode()


def table_program(size: int) -> str:
    """The multiplication table up to size x size, three columns per entry: two
    nested counting loops, each product built by repeated addition."""
    asm = Assembler()
    asm.comment(f"multiplication table {size} by {size}")
    asm.comment("generated by examples/bf/tools/make_programs")
    row, rows_left = asm.var(), asm.var()
    asm.set(row, 1)
    asm.set(rows_left, size)

    def one_row():
        column, columns_left = asm.var(), asm.var()
        asm.set(column, 1)
        asm.set(columns_left, size)

        def one_entry():
            product, times = asm.var(), asm.var()
            asm.copy(column, times)
            asm.repeat(times, lambda: asm.copy(row, product))
            asm.put_decimal(product, width=4 if size * size >= 100 else 3)
            asm.clear(product)
            asm.release(product, times)
            asm.add(column, 1)
        asm.repeat(columns_left, one_entry)
        asm.put_char("\n")
        asm.clear(column)
        asm.release(column, columns_left)
        asm.add(row, 1)
    asm.repeat(rows_left, one_row)
    return asm.text()


def table_expected(size: int) -> bytes:
    width = 4 if size * size >= 100 else 3
    lines = ["".join(str(r * c).rjust(width) for c in range(1, size + 1))
             for r in range(1, size + 1)]
    return ("\n".join(lines) + "\n").encode()


PRIMES_LIMIT = 200
TABLE_SIZE = 12

PROGRAMS_TO_MAKE = {
    "primes.b": (lambda: primes_program(PRIMES_LIMIT), lambda: primes_expected(PRIMES_LIMIT)),
    "table.b": (lambda: table_program(TABLE_SIZE), lambda: table_expected(TABLE_SIZE)),
}


def run_bf(path: str) -> bytes:
    from metajit.interp.params import configure
    configure(enabled=False, reset=True)
    from metajit.examples.bf.interpreter import run_file
    out = io.BytesIO()
    status = run_file(path, [], io.BytesIO(), out)
    if status:
        raise SystemExit(f"{path}: exit status {status}")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write: run the programs on disk and compare their output")
    ns = parser.parse_args()
    for name, (make, expected) in PROGRAMS_TO_MAKE.items():
        path = os.path.join(PROGRAMS, name)
        if not ns.check:
            with open(path, "w") as f:
                f.write(make())
        got = run_bf(path)
        ok = got == expected()
        print(f"{name}: {'ok' if ok else 'WRONG OUTPUT'} ({len(got)} bytes)", file=sys.stderr)
        if not ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
