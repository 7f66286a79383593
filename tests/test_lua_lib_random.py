"""lrandom against lua5.4: seeded sequences printed by lua5.4 and checked in, and
hypothesis-drawn seeds and ranges compared with one lua5.4 process."""
import pytest
from hypothesis import strategies as st

from lua_reference import compare, gather, lua_literal, needs_lua, outcome
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.lrandom import LuaRandom

CALLS = [[], [10], [1, 6], [0], [-100, 100], [-9223372036854775808, 9223372036854775807], [3, 1099511627776], [1, 3], [], [4611686018427387905], [5, 5]]
SEQUENCES = [  # (seed arguments, lua5.4's result of randomseed, then of each call in CALLS)
    ([0], 'i0,i0', [
        'f0.24691184196099/3fcf9acea71bda18',
        'i9',
        'i4',
        'i-7628392839634014443',
        'i75',
        'i-4328615546445571860',
        'i802627069018',
        'i1',
        'f0.85854409919724/3feb793179873aae',
        'i2854383942152437264',
        'i5',
    ]),
    ([1], 'i1,i0', [
        'f0.81558781554723/3fea194b9e595371',
        'i8',
        'i2',
        'i9198441137422714871',
        'i72',
        'i6160638248560218070',
        'i1071686356960',
        'i1',
        'f0.25820899503021/3fd0867f054c04b0',
        'i598410319343431902',
        'i5',
    ]),
    ([42], 'i42,i0', [
        'f0.93081217803957/3fedc9369eecc04e',
        'i2',
        'i4',
        'i-3807604385970496171',
        'i81',
        'i-9046270629122405825',
        'i934954126601',
        'i2',
        'f0.27455699358752/3fd192577f162cf4',
        'i3570341730643388675',
        'i5',
    ]),
    ([-1], 'i-1,i0', [
        'f0.64588803338814/3fe4ab1d6188f460',
        'i8',
        'i4',
        'i-1971808131736728457',
        'i68',
        'i-5360066708548511738',
        'i957380141280',
        'i3',
        'f0.97995837599517/3fef5bd1ab0ae599',
        'i3122042499350457752',
        'i5',
    ]),
    ([9223372036854775807], 'i9223372036854775807,i0', [
        'f0.11436433852017/3fbd46fb35c5d550',
        'i9',
        'i1',
        'i3393585829705759053',
        'i-27',
        'i1283242126576518390',
        'i641459885978',
        'i2',
        'f0.1180247006698/3fbe36dde57f39c0',
        'i1239915096847667629',
        'i5',
    ]),
    ([-9223372036854775808], 'i-9223372036854775808,i0', [
        'f0.27300533623139/3fd178eb5fafd3a0',
        'i2',
        'i5',
        'i2046947298972887762',
        'i-33',
        'i3289843455537670329',
        'i771104011072',
        'i3',
        'f0.49589325369439/3fdfbcb70ebb2a0c',
        'i520830643082210829',
        'i5',
    ]),
    ([7, 9], 'i7,i9', [
        'f0.25138976101885/3fd016c51488037e',
        'i8',
        'i3',
        'i-3029688419669184069',
        'i-60',
        'i503301333645779968',
        'i872730881333',
        'i3',
        'f0.42690918177135/3fdb527ae3847c38',
        'i1314205148018536900',
        'i5',
    ]),
    ([3.0], 'i3,i0', [
        'f0.9549996979309/3fee8f5b86c9b31a',
        'i10',
        'i4',
        'i5956246008085191347',
        'i24',
        'i1120346561900908663',
        'i922002233575',
        'i2',
        'f0.87885641353951/3fec1f977c410681',
        'i2891053036466222776',
        'i5',
    ]),
    ([b'12'], 'i12,i0', [
        'f0.41627652888552/3fdaa4464f69f6ee',
        'i3',
        'i3',
        'i6725023943426490395',
        'i-12',
        'i-8002412468322054420',
        'i437143885020',
        'i1',
        'f0.099407152861086/3fb972bf4686ded0',
        'i3596766016346332610',
        'i5',
    ]),
]


@pytest.mark.parametrize("seed, seeded, results", SEQUENCES)
def test_seeded_sequences(seed, seeded, results):
    rng = LuaRandom()
    assert outcome(rng.randomseed, seed) == seeded
    assert [outcome(rng.random, call) for call in CALLS] == results


ERRORS = [  # (arguments to math.random, lua5.4's message)
    ([2, 1], "bad argument #1 to 'random' (interval is empty)"),
    ([-5], "bad argument #1 to 'random' (interval is empty)"),
    ([1.5], "bad argument #1 to 'random' (number has no integer representation)"),
    ([1, 2, 3], "wrong number of arguments"),
    ([b"x"], "bad argument #1 to 'random' (number expected, got string)"),
    ([1, None], "bad argument #2 to 'random' (number expected, got nil)"),
]


@pytest.mark.parametrize("args, message", ERRORS)
def test_random_errors(args, message):
    with pytest.raises(LuaLibError) as info:
        LuaRandom(1).random(args)
    assert info.value.args[0] == message


def test_failed_call_still_draws():
    # lua5.4 draws before checking the arguments
    a, b = LuaRandom(5), LuaRandom(5)
    with pytest.raises(LuaLibError):
        a.random([2, 1])
    b.random([])
    assert a.random([]) == b.random([])


def test_randomseed_errors_and_time_seed():
    rng = LuaRandom(1)
    for arg in (1.5, 2.0**70, float("inf")):
        with pytest.raises(LuaLibError, match="no integer representation"):
            rng.randomseed([arg])
    n1, n2 = rng.randomseed([])
    assert isinstance(n1, int) and isinstance(n2, int)
    assert LuaRandom(n1).randomseed([n1, n2]) == (n1, n2)


def test_random_float_range():
    rng = LuaRandom(3)
    values = [rng.random([]) for _ in range(2000)]
    assert all(0.0 <= v < 1.0 for v in values) and len(set(values)) == 2000


# --- against lua5.4 --------------------------------------------------------

INTS = st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-50, 50),
                 st.sampled_from([0, 1, 2, 3, 2**32, 2**62, -2**63, 2**63 - 1]))
CALL = st.one_of(st.just([]), st.tuples(INTS).map(list), st.tuples(INTS, INTS).map(list),
                 st.tuples(st.integers(-10, 10), st.integers(0, 2**40)).map(list))


def _check_sequences(n):
    cases = gather(st.tuples(st.lists(INTS, min_size=1, max_size=2), st.lists(CALL, max_size=8)),
                   n)

    def lua_line(case):
        seed, calls = case
        lines = ["local out = {enc(pcall(math.randomseed, %s))}"
                 % ", ".join(map(lua_literal, seed))]
        lines += ["out[#out + 1] = enc(pcall(math.random%s))"
                  % "".join(", " + lua_literal(a) for a in call) for call in calls]
        return "do %s print(table.concat(out, ' ')) end" % " ".join(lines)

    def ours(case):
        seed, calls = case
        rng = LuaRandom()
        return " ".join([outcome(rng.randomseed, seed)]
                        + [outcome(rng.random, call, "math.random") for call in calls])

    bad = compare(cases, lua_line, ours)
    assert not bad, "\n".join("%r: lua5.4 %s, ours %s" % row for row in bad[:10])


@needs_lua
def test_sequences_against_lua():
    _check_sequences(400)


@needs_lua
@pytest.mark.slow
def test_sequences_against_lua_deep():
    _check_sequences(5000)


def test_pieces_follow_the_same_sequence():
    a, b = LuaRandom(), LuaRandom()
    assert a.randomseed([42]) == b.seed(42, 0) == (42, 0)
    assert a.random([]) == b.random_float()
    assert a.random([0]) == b.random_integer()
    assert a.random([-100, 100]) == b.random_range(-100, 100)
    assert a.random([10]) == b.random_range(1, 10)
