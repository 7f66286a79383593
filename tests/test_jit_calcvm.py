"""The second interpreter (a stack-based calculator with frames, boxed values and
guest calls) under the JIT: the same differential tests as Brainfuck."""
import pytest

from calcvm import run_program
from calcvm.programs import ERROR_PROGRAMS, PROGRAMS

# the reference backend interprets every op: the quick programs run on it by default,
# all of them in the slow profile
QUICK = {"factorial_bigint", "fib_recursive", "branch_flip", "div_zero_in_loop"}
# guest recursion: the trace from a key closes one call deeper, so compiled code is
# entered and leaves through its guards or bridges without a whole iteration
RECURSIVE = {"fib_recursive"}


CASES = [pytest.param(backend, *program, id=f"{program[0]}-{backend}",
                      marks=[pytest.mark.slow] if backend == "reference"
                      and program[0] not in QUICK else [])
         for program in PROGRAMS for backend in ("python", "reference")]


@pytest.mark.parametrize("backend,name,source,expected", CASES)
def test_calcvm_jit_on_matches_off(jit, backend, name, source, expected):
    jit(enabled=False)
    off = run_program(source)
    stats = jit(backend=backend, threshold=3, bridge_threshold=2)
    on = run_program(source)
    assert on == off == expected
    assert stats.compiled_entries >= 1, stats.summary()
    if name not in RECURSIVE:
        # a loop that closes in the same guest frame runs whole iterations compiled
        assert stats.compiled_iterations >= 1, stats.summary()


@pytest.mark.parametrize("name,source,expected", ERROR_PROGRAMS,
                         ids=[p[0] for p in ERROR_PROGRAMS])
def test_calcvm_errors_same_with_jit(jit, name, source, expected):
    jit(enabled=False)
    off = run_program(source)
    jit(backend="python", threshold=2, bridge_threshold=2)
    assert run_program(source) == off == expected
