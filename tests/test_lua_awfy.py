"""The Are-We-Fast-Yet benchmarks in Lua (../shared/data/lua-awfy), unmodified:
``harness.lua NAME 1 1`` passes the harness's own result check with the JIT off
and on.  Slow; skipped where the folder is absent (a fresh clone)."""
import os

import pytest

from lua_support import run_ours

AWFY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                    "data", "lua-awfy")
# with one iteration the others are too short (Mandelbrot, NBody) or have no loop
# (Towers recurses) to get hot
HOT = {"Sieve", "Queens", "Permute", "Bounce", "List", "Richards", "DeltaBlue", "Json",
       "Storage"}
BENCHMARKS = ["Mandelbrot", "NBody", "Sieve", "Queens", "Towers", "Permute", "Bounce",
              "List", "Richards", "DeltaBlue", "Json", "Storage"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.isdir(AWFY), reason="lua-awfy data is absent")]


def check_run(name):
    out, err, status = run_ours("harness.lua", [name, "1", "1"], cwd=AWFY)
    assert status == 0 and err == "", err
    text = out.decode("latin-1")
    assert text.startswith("Starting %s benchmark" % name), text
    assert "Total Runtime" in text, text


@pytest.mark.parametrize("name", BENCHMARKS)
def test_awfy_jit_off(jit, name):
    jit(enabled=False)
    check_run(name)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_awfy_jit_on(jit, name):
    stats = jit(backend="python", threshold=30, trace_limit=8000)
    check_run(name)
    if name in HOT:
        assert stats.loops >= 1 and stats.compiled_iterations >= 1, stats.summary()
