"""Lua 5.4, an example VM written against the metajit hints (see docs/lua.md).

``LANGUAGE`` is what the ``metajit.languages`` entry point names.  The VM is
imported only when a program runs, after the JIT is configured.
"""
from metajit.languages import Language


def run(program_path: str, args: list, stdin, stdout) -> int:
    from metajit.examples.lua.interp import run_file
    return run_file(program_path, args, stdin, stdout)


LANGUAGE = Language(
    name="lua",
    extensions=(".lua",),
    run=run,
    description="Lua 5.4: the language, its basic/string/table/math/io/os libraries "
                "and require, checked against lua5.4",
)

__all__ = ["LANGUAGE"]
