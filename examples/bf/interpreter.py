"""A Brainfuck interpreter written against the metajit hints alone.

The program is parsed once into a compact form: ``commands``, a str holding only
the eight command characters, and ``bracket_map``, a tuple giving for each ``[``
the index of its ``]`` and back.  Both are greens of the portal, together with
``pc``: a trace is specialised to one position in one program, so the command
character and the bracket targets are constants in it.  The tape (a ``bytearray``
that grows to the right) and the position on it are reds, as are the input and
output objects.

The portal and the helpers the JIT looks inside keep to the interpreter subset of
DESIGN.md (no generators, comprehensions, ``with`` or closures); the I/O helpers
are residual calls (``dont_look_inside``) and may use anything.
"""
from __future__ import annotations

import io
import sys

from metajit import JitDriver, dont_look_inside, elidable

COMMANDS = "><+-.,[]"
INITIAL_TAPE = 1024     # cells; the tape doubles when the position walks off its end
FLUSH_AT = 1 << 16      # bytes of buffered output written out at once


class BFSyntaxError(Exception):
    """An unbalanced bracket, at ``line``:``column`` of the source (1-based)."""

    def __init__(self, line: int, column: int, message: str):
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


class MovedLeftError(Exception):
    """``<`` on cell 0; ``pc`` is the index of that ``<`` in the commands."""

    def __init__(self, pc):
        Exception.__init__(self, "moved left of cell 0")
        self.pc = pc


class Program:
    """A parsed program: the commands, the bracket map, and for each command its
    (line, column) in the source, for error messages."""

    def __init__(self, commands: str, bracket_map: tuple, positions: tuple):
        self.commands = commands
        self.bracket_map = bracket_map
        self.positions = positions


def parse(source: str) -> Program:
    """Keep the eight commands, match the brackets, remember where each command was."""
    commands = []
    positions = []
    open_brackets = []      # indices into commands of the '[' not yet closed
    bracket_map = []
    line = 1
    column = 0
    for char in source:
        column += 1
        if char == "\n":
            line += 1
            column = 0
            continue
        if char not in COMMANDS:
            continue
        index = len(commands)
        commands.append(char)
        positions.append((line, column))
        bracket_map.append(0)
        if char == "[":
            open_brackets.append(index)
        elif char == "]":
            if not open_brackets:
                raise BFSyntaxError(line, column, "']' has no matching '['")
            start = open_brackets.pop()
            bracket_map[start] = index
            bracket_map[index] = start
    if open_brackets:
        start_line, start_column = positions[open_brackets[-1]]
        raise BFSyntaxError(start_line, start_column, "'[' is never closed")
    return Program("".join(commands), tuple(bracket_map), tuple(positions))


# -- input and output: residual calls, buffered ------------------------------------

class ByteOutput:
    """Collects the guest's output bytes and writes them to a binary stream (or a
    text stream, one character per byte) when the buffer is large, at the end, and
    at each newline when the stream is a terminal."""

    def __init__(self, stream):
        self.buffer = bytearray()
        self.text = None
        self.binary = None
        self.line_buffered = False
        if stream is None:
            return
        try:
            self.line_buffered = bool(stream.isatty())
        except (AttributeError, ValueError):
            pass
        if isinstance(stream, io.TextIOBase):
            stream.flush()  # what was printed before goes out first
            binary = getattr(stream, "buffer", None)
            if binary is None:
                self.text = stream
                return
            self.binary = binary
        else:
            self.binary = stream

    def flush(self) -> None:
        if not self.buffer:
            return
        data = bytes(self.buffer)
        del self.buffer[:]
        if self.binary is not None:
            self.binary.write(data)
            self.binary.flush()
        elif self.text is not None:
            self.text.write(data.decode("latin-1"))
            self.text.flush()


class ByteInput:
    """Reads the guest's input one byte at a time; ``None`` or an exhausted stream
    reads as end of input."""

    def __init__(self, stream, output: ByteOutput):
        self.output = output
        self.pending = b""
        self.text = None
        self.binary = None
        if stream is None:
            return
        if isinstance(stream, io.TextIOBase):
            binary = getattr(stream, "buffer", None)
            if binary is None:
                self.text = stream
                return
            self.binary = binary
        else:
            self.binary = stream

    def read_byte(self) -> int:
        if not self.pending:
            self.output.flush()     # a prompt is visible before the program waits
            if self.binary is not None:
                self.pending = self.binary.read(1) or b""
            elif self.text is not None:
                self.pending = self.text.read(1).encode("utf-8")
            if not self.pending:
                return 0
        byte = self.pending[0]
        self.pending = self.pending[1:]
        return byte


@dont_look_inside
def write_byte(out: ByteOutput, value: int) -> None:
    out.buffer.append(value)
    if len(out.buffer) >= FLUSH_AT or (value == 10 and out.line_buffered):
        out.flush()


@dont_look_inside
def read_byte(inp: ByteInput) -> int:
    return inp.read_byte()


@dont_look_inside
def grow_tape(tape: bytearray) -> None:
    """Double the tape in place (the red keeps its identity)."""
    tape.extend(bytes(len(tape)))


# -- the portal ---------------------------------------------------------------------

@elidable
def get_matching_bracket(bracket_map: tuple, pc: int) -> int:
    return bracket_map[pc]


def get_printable_location(pc: int, program: str, bracket_map: tuple) -> str:
    return "bf %d: %s" % (pc, program[pc:pc + 16])


driver = JitDriver(
    greens=["pc", "program", "bracket_map"],
    reds=["tape", "pos", "inp", "out"],
    get_printable_location=get_printable_location,
    name="bf",
)


@driver.portal
def mainloop(program: str, bracket_map: tuple, tape: bytearray, inp: ByteInput,
             out: ByteOutput) -> int:
    """Run ``program`` from its first command; return the final tape position."""
    pc = 0
    pos = 0
    while pc < len(program):
        driver.jit_merge_point(pc=pc, program=program, bracket_map=bracket_map,
                               tape=tape, pos=pos, inp=inp, out=out)
        code = program[pc]
        if code == ">":
            pos += 1
            if pos == len(tape):
                grow_tape(tape)
        elif code == "<":
            if pos == 0:
                raise MovedLeftError(pc)
            pos -= 1
        elif code == "+":
            tape[pos] = (tape[pos] + 1) & 255
        elif code == "-":
            tape[pos] = (tape[pos] - 1) & 255
        elif code == ".":
            write_byte(out, tape[pos])
        elif code == ",":
            tape[pos] = read_byte(inp)
        elif code == "[":
            if tape[pos] == 0:
                pc = get_matching_bracket(bracket_map, pc)
        elif code == "]":
            if tape[pos] != 0:
                pc = get_matching_bracket(bracket_map, pc)
        pc += 1
    return pos


# -- the language's entry point -------------------------------------------------------

def run_file(program_path: str, args: list, stdin, stdout) -> int:
    """Run a Brainfuck file: 0 on success, 1 on a guest error, 2 on a usage error;
    errors are one line on stderr, ``bf: FILE:LINE:COLUMN: message``."""
    if args:
        print(f"bf: unexpected argument {args[0]!r}: Brainfuck programs take no "
              f"arguments (they read their input from stdin)", file=sys.stderr)
        return 2
    try:
        with open(program_path, "rb") as f:
            source = f.read().decode("latin-1")
    except OSError as exc:
        print(f"bf: cannot read {program_path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        program = parse(source)
    except BFSyntaxError as exc:
        print(f"bf: {program_path}:{exc.line}:{exc.column}: {exc.message}", file=sys.stderr)
        return 1
    out = ByteOutput(stdout)
    inp = ByteInput(stdin, out)
    try:
        mainloop(program.commands, program.bracket_map, bytearray(INITIAL_TAPE), inp, out)
    except MovedLeftError as exc:
        line, column = program.positions[exc.pc]
        out.flush()
        print(f"bf: {program_path}:{line}:{column}: moved left of cell 0", file=sys.stderr)
        return 1
    finally:
        out.flush()
    return 0
