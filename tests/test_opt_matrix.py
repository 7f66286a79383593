"""End to end through the optimiser: every Brainfuck test program and every program
of the second interpreter gives the JIT-off output with the full pipeline, with no
passes, and with each pass (loop peeling included) disabled on its own; the stats
show that compiled code ran each time.

The default run covers every pipeline on every Brainfuck test program and on the
second interpreter's quick programs; the slow profile adds the rest of them and the
programs shipped with the Brainfuck example."""
import os

import pytest

from metajit.tracer.opt.pipeline import DEFAULT_ORDER, UNROLL
from test_jit_bf import PROGRAMS as BF_PROGRAMS, run_bf
from calcvm import run_program
from calcvm.programs import PROGRAMS as CALC_PROGRAMS
from test_jit_calcvm import QUICK, RECURSIVE

ALL = DEFAULT_ORDER + [UNROLL]
PIPELINES = {"all": "all", "none": ""}
PIPELINES.update({f"no-{name}": ":".join(n for n in ALL if n != name) for name in ALL})

SHIPPED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "examples", "bf", "programs")
SHIPPED_INPUT = {"rev.b": b"metajit\n"}


def run_jit(jit, enable_opts: str, run):
    jit(enabled=False)
    expected = run()
    stats = jit(backend="python", threshold=3, bridge_threshold=2, enable_opts=enable_opts)
    got = run()
    return expected, got, stats


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
@pytest.mark.parametrize("program", sorted(BF_PROGRAMS))
def test_brainfuck_programs_under_every_pipeline(jit, pipeline, program):
    source, data = BF_PROGRAMS[program]
    expected, got, stats = run_jit(jit, PIPELINES[pipeline], lambda: run_bf(source, data))
    assert got == expected
    assert stats.compiled_iterations >= 1, stats.summary()


CALC_CASES = [pytest.param(pipeline, name, source, expected, id=f"{name}-{pipeline}",
                           marks=[] if name in QUICK else [pytest.mark.slow])
              for name, source, expected in CALC_PROGRAMS for pipeline in sorted(PIPELINES)]


@pytest.mark.parametrize("pipeline,name,source,expected", CALC_CASES)
def test_calculator_programs_under_every_pipeline(jit, pipeline, name, source, expected):
    off, on, stats = run_jit(jit, PIPELINES[pipeline], lambda: run_program(source))
    assert on == off == expected
    assert stats.compiled_entries >= 1, stats.summary()
    if name not in RECURSIVE:
        assert stats.compiled_iterations >= 1, stats.summary()


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
@pytest.mark.parametrize("program", sorted(os.listdir(SHIPPED)))
def test_shipped_brainfuck_programs_under_every_pipeline(jit, pipeline, program):
    with open(os.path.join(SHIPPED, program)) as f:
        source = f.read()
    data = SHIPPED_INPUT.get(program, b"")
    expected, got, stats = run_jit(jit, PIPELINES[pipeline], lambda: run_bf(source, data))
    assert got == expected
    assert stats.compiled_entries >= 1, stats.summary()


def test_the_matrix_names_every_pass():
    assert {f"no-{name}" for name in DEFAULT_ORDER} <= set(PIPELINES)
    assert "no-unroll" in PIPELINES and len(PIPELINES) == len(ALL) + 2
