"""The warm state: hot counters, thresholds, aborts with backoff and blacklisting,
bridges, parameters, and green keys (how greens compare, what they keep alive)."""
import gc
import struct

import pytest

from metajit import set_param
from metajit.interp.params import DEFAULTS, ParamError, configure

from jitprogs import arith, warm


def differential(jit, func, *args, **params):
    """``func(*args)`` with the JIT off, then on (python backend unless given);
    returns (result, stats) after checking that both agree exactly."""
    jit(enabled=False)
    expected = func(*args)
    backend = params.pop("backend", "python")
    stats = jit(backend=backend, **params)
    got = func(*args)
    assert repr(got) == repr(expected)
    return got, stats


# --- counting ----------------------------------------------------------------------

def test_no_loop_before_threshold_passes(jit):
    stats = jit(threshold=10)
    warm.count(0, 9)
    assert stats.loops == 0 and not stats.aborts and stats.compiled_entries == 0
    stats = jit(threshold=10)
    warm.count(0, 12)
    assert stats.loops == 1 and stats.compiled_entries == 1, stats.summary()


def test_counts_accumulate_across_portal_calls(jit):
    stats = jit(threshold=10)
    for _ in range(3):
        assert warm.count(0, 3) == count_result(0, 3)
    assert stats.loops == 0      # 9 passes
    assert warm.count(0, 3) == count_result(0, 3)
    assert stats.loops == 1      # the 10th pass traces, the 11th closes the loop
    assert warm.count(0, 5) == count_result(0, 5)
    assert stats.loops == 1 and stats.compiled_entries >= 1, stats.summary()


def test_keys_count_separately(jit):
    stats = jit(threshold=10)
    for pc in range(5):
        warm.count(pc, 9)
    assert stats.loops == 0
    warm.count(2, 20)
    assert stats.loops == 1


def test_can_enter_jit_does_the_counting(jit):
    _, stats = differential(jit, warm.with_can_enter, 0, 80, threshold=3,
                            bridge_threshold=2)
    assert stats.loops == 1 and stats.compiled_iterations > 60, stats.summary()
    stats = jit(threshold=10)
    warm.with_can_enter(0, 19)       # 9 can_enter_jit passes, 19 merge points
    assert stats.loops == 0, stats.summary()


def count_result(pc, n):
    return 3 * n * (n - 1) // 2 + pc * n


def test_set_param_threshold_minus_one_stops_new_tracing(jit):
    stats = jit(threshold=3)
    assert warm.count(1, 50) == count_result(1, 50)
    assert stats.loops == 1
    set_param(warm.count_driver, "threshold", -1)
    assert warm.count(2, 50) == count_result(2, 50)
    assert stats.loops == 1, "no new loop once the threshold is -1"
    entries = stats.compiled_entries
    # compiled code that exists still runs
    assert warm.count(1, 50) == count_result(1, 50)
    assert stats.compiled_entries == entries + 1
    # the parameter belongs to that driver only
    assert warm.long_body(2, 30) == long_body_result(2, 30)
    assert stats.loops == 2


def long_body_result(k, n):
    return sum(sum(j * i for j in range(k)) for i in range(n))


def test_set_param_before_any_run(jit):
    stats = jit(threshold=3)
    set_param(warm.count_driver, "threshold", -1)
    assert warm.count(0, 100) == count_result(0, 100)
    assert stats.loops == 0 and stats.compiled_entries == 0 and not stats.aborts


def test_set_param_threshold_back_from_minus_one_starts_tracing_again(jit):
    stats = jit(threshold=3)
    set_param(warm.count_driver, "threshold", -1)
    assert warm.count(0, 50) == count_result(0, 50)
    assert stats.loops == 0
    set_param(warm.count_driver, "threshold", 3)
    assert warm.count(0, 50) == count_result(0, 50)      # a key seen while stopped
    assert warm.count(1, 50) == count_result(1, 50)      # a new key
    assert stats.loops == 2 and stats.compiled_iterations > 80, stats.summary()


def test_set_param_threshold_for_every_driver(jit):
    stats = jit(threshold=3)
    set_param(None, "threshold", -1)
    assert warm.count(0, 50) == count_result(0, 50)
    assert warm.no_greens(50) == 1225
    assert stats.loops == 0
    set_param(None, "threshold", 5)
    assert warm.count(0, 50) == count_result(0, 50)
    assert warm.no_greens(50) == 1225
    assert stats.loops == 2, stats.summary()


def test_blacklisted_key_stays_blacklisted_when_the_threshold_changes(jit):
    stats = jit(threshold=3, trace_limit=60)
    warm.long_body(30, 1000)
    assert stats.blacklisted == 1 and sum(stats.aborts.values()) == 3
    set_param(warm.long_driver, "threshold", 2)
    assert warm.long_body(30, 200) == long_body_result(30, 200)
    assert sum(stats.aborts.values()) == 3 and stats.loops == 0, stats.summary()


# --- aborts, backoff, blacklist --------------------------------------------------------

@pytest.mark.parametrize("n,aborts", [(10, 1), (40, 2), (1000, 3)])
def test_trace_limit_aborts_back_off_then_blacklist(jit, n, aborts):
    _, stats = differential(jit, warm.long_body, 30, n, threshold=3, trace_limit=60)
    assert stats.loops == 0 and stats.compiled_entries == 0
    assert stats.aborts == {"trace too long (trace_limit=60)": aborts}, stats.summary()
    assert stats.blacklisted == (1 if aborts == DEFAULTS["max_aborts"] else 0)


def test_backoff_parameter_spaces_the_retries(jit):
    _, stats = differential(jit, warm.long_body, 30, 10, threshold=3, trace_limit=60,
                            abort_backoff=1)
    assert sum(stats.aborts.values()) == 3 and stats.blacklisted == 1, stats.summary()


def test_max_aborts_parameter(jit):
    _, stats = differential(jit, warm.long_body, 30, 2000, threshold=3, trace_limit=60,
                            max_aborts=5, abort_backoff=2)
    assert sum(stats.aborts.values()) == 5 and stats.blacklisted == 1, stats.summary()


def test_trace_aborted_inside_a_constructor_resumes_with_the_new_object(jit):
    """The abort stops the meta-interpreter inside ``Tally.__init__`` (in the loop
    it calls): the blackhole resumes the portal after ``Tally(...)`` with the new
    object, and ``__init__`` after its call with the call's result."""
    _, stats = differential(jit, warm.tallies, 30, 40, threshold=3, trace_limit=60)
    assert stats.aborts == {"trace too long (trace_limit=60)": 2}, stats.summary()

def test_long_trace_within_the_limit_compiles(jit):
    _, stats = differential(jit, warm.long_body, 30, 100, threshold=3)
    assert stats.loops == 1 and not stats.aborts
    assert stats.compiled_iterations > 90, stats.summary()


# --- bridges ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["python", "reference"])
def test_frequent_guard_failure_gets_a_bridge(jit, backend):
    _, stats = differential(jit, warm.branchy, 10, 1000, threshold=3, bridge_threshold=5,
                            backend=backend)
    assert stats.loops == 1 and stats.bridges >= 1, stats.summary()
    # without the bridge the guard fails 99 times; with it, five times (then the
    # bridge is traced; twice if loop peeling left a copy of the guard in the
    # preamble), plus the loop's exit at the end
    assert stats.guard_failures <= 2 * 5 + 1, stats.summary()
    assert stats.compiled_entries <= 2 * 5 + 1
    # iterations count jumps: the bridge runs once every 10 iterations and enters
    # the body through its copy of the preamble, one jump for two iterations
    assert stats.rule_counts["body_entry.bridge_enters_body"] == 1, stats.summary()
    assert stats.compiled_iterations > 980 - 1000 // 10, stats.summary()


def test_no_bridge_below_bridge_threshold(jit):
    _, stats = differential(jit, warm.branchy, 10, 1000, threshold=3, bridge_threshold=10**6)
    assert stats.loops == 1 and stats.bridges == 0
    # 99 failures of the branch's guard and the loop's exit
    assert stats.guard_failures == 100 and stats.compiled_entries == 100, stats.summary()


def test_bridge_too_long_aborts_and_stops_retrying(jit):
    """A bridge trace over ``trace_limit`` aborts; after ``max_aborts`` tries that
    guard is left to the blackhole, and the results stay right."""
    _, stats = differential(jit, warm.rare_long, 5, 30, 600, threshold=3, trace_limit=60,
                            bridge_threshold=3)
    assert stats.loops == 1 and stats.bridges == 0, stats.summary()
    (reason, count), = stats.aborts.items()
    assert reason == "trace too long (trace_limit=60)"
    # max_aborts tries per guard (loop peeling may leave a copy of the guard in the
    # preamble, with its own tries), then the failures go to the blackhole
    assert count in (3, 6), stats.summary()
    assert stats.guard_failures == 600 // 5, stats.summary()
    assert stats.compiled_iterations > 400
    _, stats = differential(jit, warm.rare_long, 5, 30, 600, threshold=3, bridge_threshold=3)
    assert stats.bridges == 1 and not stats.aborts and stats.guard_failures <= 5


# --- parameters ----------------------------------------------------------------------

def test_unknown_parameter_is_refused(jit):
    jit()
    with pytest.raises(ParamError, match="unknown JIT parameter 'nope'.*threshold"):
        configure(params={"nope": 1})
    with pytest.raises(ParamError, match="nope"):
        set_param(warm.count_driver, "nope", 1)
    with pytest.raises(ParamError, match="nope"):
        set_param(None, "nope", 1)


def test_parameter_values_are_checked(jit):
    jit()
    with pytest.raises(ParamError, match="threshold takes an integer"):
        configure(params={"threshold": "soon"})
    with pytest.raises(ParamError, match="integer"):
        set_param(warm.count_driver, "trace_limit", None)
    with pytest.raises(ParamError, match="backend"):
        configure(backend="fortran")
    assert configure(params={"threshold": "7"}).params["threshold"] == 7


# --- green keys -------------------------------------------------------------------------

def test_one_one_point_zero_and_true_are_three_keys(jit):
    jit(enabled=False)
    expected = [warm.green_values(k, 20) for k in (1, 1.0, True)]
    stats = jit(threshold=3)
    for _ in range(2):
        got = [warm.green_values(k, 20) for k in (1, 1.0, True)]
        assert repr(got) == repr(expected)
    assert stats.loops == 3, stats.summary()
    assert stats.compiled_entries == 6 and stats.compiled_iterations > 90, stats.summary()


def test_nan_green_matches_itself(jit):
    nan = float("nan")
    stats = jit(threshold=3)
    got = warm.green_values(nan, 20)
    assert all(x is nan for x in got)
    assert stats.loops == 1 and stats.compiled_entries == 1
    warm.green_values(nan, 20)
    assert stats.loops == 1 and stats.compiled_entries == 2, stats.summary()


def test_nan_green_from_another_object_finds_the_loop(jit):
    stats = jit(threshold=3)
    warm.green_values(float("nan"), 20)
    other = float("nan")
    got = warm.green_values(other, 20)
    assert len(got) == 20 and all(x != x for x in got)
    assert stats.loops == 1 and stats.compiled_entries == 2, stats.summary()


def test_floats_compare_by_bits(jit):
    nan = float("nan")
    negative_nan = -nan                # the sign bit differs
    assert struct.pack("<d", nan) != struct.pack("<d", negative_nan)
    stats = jit(threshold=3)
    results = {}
    for k in (0.0, -0.0, nan, negative_nan, 0.0, -0.0):
        results[struct.pack("<d", k)] = warm.green_values(k, 20)
    for bits, values in results.items():
        assert all(struct.pack("<d", v) == bits for v in values)
    assert stats.loops == 4, stats.summary()
    assert stats.compiled_entries == 6


def test_identity_green_is_held_alive(jit):
    jit(enabled=False)
    expected = warm.sum_program([3, 1, 4, 1, 5], 50)
    stats = jit(threshold=3)
    prog = [3, 1, 4, 1, 5]
    assert warm.sum_program(prog, 50) == expected
    assert stats.loops == 1 and stats.compiled_iterations > 40
    key = id(prog)
    del prog
    gc.collect()
    cell = warm.prog_driver.state.cells[key]
    assert cell.greens == ([3, 1, 4, 1, 5],)    # still alive: no id() reuse
    # new lists, equal or not, are new keys; none reaches the old loop's code
    for k in range(5):
        other = [k, 2 * k, 7]
        assert warm.sum_program(other, 30) == sum(other[i % 3] for i in range(30))
    assert stats.loops == 6, stats.summary()
    same = [3, 1, 4, 1, 5]
    assert warm.sum_program(same, 50) == expected
    assert stats.loops == 7, "an equal list is a different identity key"


# --- big ints as reds ----------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["python", "reference"])
@pytest.mark.parametrize("start", [3, 2 ** 70, -(2 ** 64)])
def test_int_red_beyond_64_bits(jit, backend, start):
    result, stats = differential(jit, arith.big_reds, 0, 200, start, threshold=3,
                                 bridge_threshold=2, backend=backend)
    assert abs(result[1]) > 2 ** 64      # the total really is a big int
    assert stats.compiled_entries >= 1 and stats.compiled_iterations >= 1, stats.summary()


@pytest.mark.parametrize("backend", ["python", "reference"])
def test_big_int_red_is_refused_at_the_loop_entry(jit, backend):
    """The loop is compiled for small ints; a red grown past 64 bits leaves through
    an overflow guard and is not let back in (an entry check), so the big value is
    computed by the interpreter, exactly."""
    result, stats = differential(jit, arith.accumulate, "mul", 120, 1, 3, threshold=3,
                                 backend=backend)
    assert result[-1] == 3 ** 120
    assert stats.loops == 1 and stats.compiled_entries == 1, stats.summary()
    assert stats.guard_failures == 1
