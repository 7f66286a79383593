"""A Brainfuck-to-C translator: the "native limit" the benchmarks compare with.

The C program does what examples/bf does: byte cells that wrap, a tape that starts
at the program's first cell and grows to the right (here: a fixed 16 MiB tape with a
bounds check that stops the program), ``,`` giving 0 at the end of the input, and
output flushed at the end.  Runs of ``+``/``-`` and of ``<``/``>`` become one
statement each (a C compiler does that too; it keeps the source short).

    python benchmarks/bf2c.py PROGRAM.b > prog.c && cc -O2 -o prog prog.c
"""
from __future__ import annotations

import itertools
import sys

TAPE_CELLS = 1 << 24

PRELUDE = """\
#include <stdio.h>
#include <stdlib.h>
static unsigned char tape[%d];
static void off_tape(void) { fputs("walked off the tape\\n", stderr); exit(2); }
int main(void) {
    long p = 0;
    int c;
""" % TAPE_CELLS

EPILOGUE = """\
    fflush(stdout);
    return 0;
}
"""


def translate(source: str) -> str:
    """C source for the Brainfuck program ``source`` (non-commands are comments)."""
    commands = [c for c in source if c in "+-<>[].,"]
    lines = [PRELUDE]
    depth = 1
    for command, run in itertools.groupby(commands):
        count = len(list(run))
        if command in "+-":
            step = count if command == "+" else -count
            lines.append(f"{'    ' * depth}tape[p] += {step};\n")
            continue
        if command in "<>":
            step = count if command == ">" else -count
            lines.append(f"{'    ' * depth}p += {step}; if (p < 0 || p >= {TAPE_CELLS}) "
                         f"off_tape();\n")
            continue
        for _ in range(count):
            if command == "[":
                lines.append(f"{'    ' * depth}while (tape[p]) {{\n")
                depth += 1
            elif command == "]":
                depth -= 1
                lines.append(f"{'    ' * depth}}}\n")
            elif command == ".":
                lines.append(f"{'    ' * depth}putchar(tape[p]);\n")
            else:
                lines.append(f"{'    ' * depth}c = getchar(); tape[p] = c == EOF ? 0 : c;\n")
    if depth != 1:
        raise ValueError("unbalanced brackets")
    lines.append(EPILOGUE)
    return "".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    with open(argv[0], encoding="latin-1") as f:
        sys.stdout.write(translate(f.read()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
