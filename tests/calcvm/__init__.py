"""calcvm: a stack-based bytecode calculator VM, the second example interpreter used
to show that the JIT core is not specialised to Brainfuck (see vm.py)."""
from .vm import (  # noqa: F401
    AssemblerError, CalcError, Code, Frame, W_Float, W_Int, W_Object, assemble,
    assemble_all, disassemble, driver, run, run_program,
)

__all__ = [
    "AssemblerError", "CalcError", "Code", "Frame", "W_Float", "W_Int", "W_Object",
    "assemble", "assemble_all", "disassemble", "driver", "run", "run_program",
]
