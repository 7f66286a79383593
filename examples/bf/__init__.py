"""Brainfuck, the smallest example VM (see docs/tutorial.md).

``LANGUAGE`` is what the ``metajit.languages`` entry point names.  The interpreter
module is imported only when a program runs, after the JIT is configured.
"""
from metajit.languages import Language


def run(program_path: str, args: list, stdin, stdout) -> int:
    from metajit.examples.bf.interpreter import run_file
    return run_file(program_path, args, stdin, stdout)


LANGUAGE = Language(
    name="bf",
    extensions=(".b", ".bf"),
    run=run,
    description="Brainfuck: 8-bit wrapping cells, a tape that grows to the right, "
                "',' reads 0 at end of input",
)

__all__ = ["LANGUAGE"]
