"""The Lua corpus (tests/lua): each program's output equals lua5.4's, stored in
NAME.expected; with the JIT on (low threshold, Python backend) the output is the
same and the stats show that compiled code ran."""
import pytest

from lua_support import (LUA, corpus_programs, program_args, read_optional,
                         run_ours, run_reference)

PROGRAMS = corpus_programs()
# programs whose JIT-on run takes long (many distinct loops to trace): slow profile
SLOW_JIT = {"nbody", "json", "fannkuch", "spectralnorm", "mandelbrot", "richards"}
# programs that never run a loop: a syntax error stops them before any code runs
NO_LOOP = {"err_syntax"}


def expected(name):
    out = read_optional(name, ".expected")
    err = read_optional(name, ".stderr")
    return out, (err.decode().rstrip("\n") if err is not None else "")


def run(name):
    stdin = read_optional(name, ".stdin") or b""
    return run_ours(name + ".lua", program_args(name), stdin)


def test_corpus_is_large_enough():
    assert len(PROGRAMS) >= 60, len(PROGRAMS)
    missing = [n for n in PROGRAMS if read_optional(n, ".expected") is None]
    assert not missing


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_jit_off(jit, name):
    jit(enabled=False)
    out, err, status = run(name)
    want_out, want_err = expected(name)
    assert out == want_out
    assert err == want_err
    status_file = read_optional(name, ".status")
    assert status == (int(status_file) if status_file else (1 if want_err else 0))


@pytest.mark.skipif(LUA is None, reason="lua5.4 is not installed")
@pytest.mark.parametrize("name", PROGRAMS)
def test_expected_output_is_lua54s(name):
    stdin = read_optional(name, ".stdin") or b""
    out, err, status = run_reference(name + ".lua", program_args(name), stdin)
    want_out, want_err = expected(name)
    assert out == want_out
    assert err == want_err


def check_jit_on(jit, name, backend="python"):
    jit(enabled=False)
    plain = run(name)
    stats = jit(backend=backend, threshold=7, bridge_threshold=3, trace_limit=8000)
    got = run(name)
    assert got == plain
    assert stats.loops >= 1, stats.summary()
    assert stats.compiled_entries >= 1 and stats.compiled_iterations >= 1, stats.summary()


@pytest.mark.parametrize("name", [n for n in PROGRAMS if n not in SLOW_JIT | NO_LOOP])
def test_program_jit_on(jit, name):
    check_jit_on(jit, name)


@pytest.mark.parametrize("name", ["fib", "sieve", "closures", "meta_arith", "loops"])
def test_program_jit_on_reference_backend(jit, name):
    check_jit_on(jit, name, backend="reference")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_JIT))
def test_program_jit_on_slow(jit, name):
    check_jit_on(jit, name)


def test_metajit_run_finds_lua_by_extension(tmp_path):
    """``metajit run prog.lua ARGS`` goes through the registered language: arguments
    reach ``arg``, an uncaught error is one message line and status 1."""
    import subprocess
    import sys
    prog = tmp_path / "prog.lua"
    prog.write_text('print(#arg, arg[1], ...)\nerror("stop here")\n')
    proc = subprocess.run([sys.executable, "-m", "metajit", "run", str(prog), "x", "y"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.stdout == "2\tx\tx\ty\n"
    assert proc.stderr.splitlines()[0] == "lua: %s:2: stop here" % prog
    assert proc.returncode == 1


# --- native code -----------------------------------------------------------------------

# programs whose hot loops native code runs: name -> JIT parameters (their traces
# depend on the threshold)
NATIVE_LOOPS = {"mandelbrot": {}, "loops": {"threshold": 7}, "bitwise": {"threshold": 7},
                "sieve": {}, "spectralnorm": {}}
NATIVE_QUICK = ["fib", "closures", "meta_arith", "sieve", "collatz", "heapsort"]


def check_native(jit, name, backend, expect_native=False, **params):
    """Identical output with the JIT on ``backend``, the stats showing that compiled
    code ran; with ``expect_native``, that native code ran."""
    from metajit.backend.base import native_available
    if not native_available():
        pytest.skip("llvmlite and numba are not installed")
    from metajit.backend import native
    jit(enabled=False)
    plain = run(name)
    stats = jit(backend=backend, native_threshold=0, **params)
    got = run(name)
    assert got == plain
    summary = stats.summary()
    assert stats.compiled_entries >= 1 and stats.compiled_iterations >= 1, summary
    if expect_native:
        assert stats.backend_counts["native"] >= 1, summary
        assert native.COUNTERS["entries"] >= 1, summary


@pytest.mark.parametrize("backend", ["native", "auto"])
@pytest.mark.parametrize("name", sorted(NATIVE_LOOPS))
def test_numeric_program_runs_native_loops(jit, name, backend):
    check_native(jit, name, backend, expect_native=True, **NATIVE_LOOPS[name])


@pytest.mark.parametrize("name", NATIVE_QUICK)
def test_program_on_native_backend(jit, name):
    check_native(jit, name, "native", threshold=7, bridge_threshold=3, trace_limit=8000)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["native", "auto"])
@pytest.mark.parametrize("name", [n for n in PROGRAMS if n not in NO_LOOP])
def test_program_on_native_backends_slow(jit, name, backend):
    check_native(jit, name, backend, threshold=7, bridge_threshold=3, trace_limit=8000)
