"""The portal transform's decoration checks, and strict mode.

Every wrongly written portal is rejected when it is decorated, with a HintError that
names the file and the line of the fault (marked ``# FAULT: <name>`` in
tests/jitprogs/bad_portals.py).  An unsupported construct in code the JIT looks
inside is an error in strict mode (naming the construct, file, line and the advice
to mark the function dont_look_inside), an abort otherwise (counted with the same
facts, the guest's result unchanged), and nothing at all once the helper is
marked ``dont_look_inside``.
"""
import pytest

from metajit import HintError, JitDriver
from metajit.interp.calls import UnsupportedInStrict

from jitprogs import bad_portals as bad
from jitprogs import strict


def marked_line(module, tag: str) -> str:
    """``file:line`` of the line of ``module`` that carries ``tag``."""
    with open(module.__file__) as f:
        lines = [n for n, line in enumerate(f, 1) if tag in line]
    assert len(lines) == 1, (tag, lines)
    return f"{module.__file__}:{lines[0]}"


def fresh(driver: JitDriver) -> JitDriver:
    """A new driver declaring the same greens and reds (a driver takes one portal)."""
    return JitDriver(greens=list(driver.greens), reds=list(driver.reds), name=driver.name)


def rejected(driver, func) -> str:
    with pytest.raises(HintError) as info:
        fresh(driver).portal(func)
    return str(info.value)


# --- decoration checks -------------------------------------------------------------

FAULTS = [
    # (function and marker name, its driver, words the message must contain)
    ("not_first", bad.d_not_first, ["first statement"]),
    ("nested_in_if", bad.d_nested_if, ["first statement"]),
    ("two_merge_points", bad.d_two, ["one jit_merge_point"]),
    ("no_merge_point", bad.d_none, ["no_merge_point", "has no"]),
    ("unknown_keyword", bad.d_unknown, ["m is neither green nor red"]),
    ("missing_red", bad.d_missing, ["missing acc"]),
    ("missing_green", bad.d_missing_green, ["missing code"]),
    ("positional", bad.d_positional, ["keyword arguments only"]),
    ("renamed", bad.d_renamed, ["(n=n)"]),
    ("stale_local", bad.d_stale, ["step is live at the merge point", "reds"]),
    ("loop_carried", bad.d_carried, ["prev is live at the merge point"]),
    ("read_after_loop", bad.d_after, ["result is live at the merge point"]),
    ("posonly_param", bad.d_posonly, ["step is live at the merge point"]),
    ("can_enter_missing", bad.d_can_enter, ["can_enter_jit", "missing acc"]),
    ("varargs", bad.d_varargs, ["*args"]),
    ("for_loop", bad.d_for, ["while loop"]),
]


@pytest.mark.parametrize("name,driver,words", FAULTS, ids=[f[0] for f in FAULTS])
def test_decoration_rejects_with_file_and_line(name, driver, words):
    message = rejected(driver, getattr(bad, name))
    assert message.startswith(marked_line(bad, f"# FAULT: {name}") + ": "), message
    for word in words:
        assert word in message, message


def test_closure_portal_is_rejected():
    func = bad.make_closure(0)
    message = rejected(bad.d_closure, func)
    assert message.startswith(marked_line(bad, "# FAULT: closure") + ": "), message
    assert "closure" in message


def test_driver_with_a_name_both_green_and_red():
    with pytest.raises(HintError) as info:
        bad.make_both_colours_driver()
    message = str(info.value)
    assert message.startswith(marked_line(bad, "# FAULT: both_colours") + ": "), message
    assert "['x']" in message and "both green and red" in message


def test_one_driver_cannot_decorate_two_portals(jit):
    driver = fresh(bad.d_shared)
    first = driver.portal(bad.first_portal)
    with pytest.raises(HintError) as info:
        driver.portal(bad.second_portal)
    message = str(info.value)
    assert message.startswith(marked_line(bad, "# FAULT: second_portal") + ": "), message
    assert "already has a portal" in message
    # the first portal is unharmed and still compiles
    stats = jit(threshold=3)
    assert first(0, 50) == 0
    assert stats.loops == 1 and stats.compiled_iterations > 0, stats.summary()


def test_keyword_errors_name_the_declaration():
    message = rejected(bad.d_unknown, bad.unknown_keyword)
    assert "declared at" in message and __file__ in message


def test_loop_temporaries_are_not_live(jit):
    """Locals assigned in the body before they are read, and locals assigned after
    the loop, need not be declared."""
    portal = fresh(bad.d_ok_temps).portal(bad.ok_loop_temporaries)
    jit(enabled=False)
    expected = portal(0, 40)
    stats = jit(threshold=3)
    assert portal(0, 40) == expected == 1641
    assert stats.loops == 1 and stats.compiled_iterations > 30, stats.summary()


def test_driver_without_greens(jit):
    from jitprogs import warm
    jit(enabled=False)
    expected = warm.no_greens(60)
    stats = jit(threshold=3)
    assert warm.no_greens(60) == expected == 1770
    assert stats.loops == 1 and stats.compiled_iterations > 50, stats.summary()


def test_method_portal_with_private_names(jit):
    """Python mangles ``self.__steps`` in a class body; the portal transform compiles
    the method again outside the class and must mangle the same way."""
    from jitprogs.method_portal import Machine
    jit(enabled=False)
    expected = Machine().run(0, 40)
    assert expected == (2 * 820, 40)
    stats = jit(threshold=3)
    assert Machine().run(0, 40) == expected
    assert stats.loops == 1 and stats.compiled_iterations > 30, stats.summary()


# --- strict mode: unsupported constructs in looked-inside code ------------------------

CONSTRUCTS = [
    # (helper, construct as the error names it, marker of its line)
    ("comprehension", "comprehension", "comprehension"),
    ("generator_expression", "generator expression", "generator_expression"),
    ("generator_function", "yield (generator)", "yield"),
    ("with_lambda", "lambda", "lambda"),
    ("with_statement", "with statement", "with"),
    ("nested_def", "nested function definition", "nested_def"),
]
N = 200     # enough passes for three aborts with the default backoff


def expected_result(helper_name: str) -> int:
    helper = getattr(strict, helper_name)
    return sum(helper(i) for i in range(N))


@pytest.mark.parametrize("helper,construct,tag", CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
def test_strict_mode_unsupported_construct_is_an_error(jit, helper, construct, tag):
    jit(threshold=3, strict=1)
    with pytest.raises(UnsupportedInStrict) as info:
        strict.run_helper(getattr(strict, helper), N)
    message = str(info.value)
    assert construct in message, message
    assert marked_line(strict, f"# UNSUPPORTED: {tag}") in message, message
    assert "dont_look_inside" in message, message


@pytest.mark.parametrize("helper,construct,tag", CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
def test_unsupported_construct_aborts_without_strict(jit, helper, construct, tag):
    jit(enabled=False)
    expected = strict.run_helper(getattr(strict, helper), N)
    assert expected == expected_result(helper)
    stats = jit(threshold=3, strict=0)
    assert strict.run_helper(getattr(strict, helper), N) == expected
    assert stats.loops == 0, stats.summary()
    (reason, count), = stats.aborts.items()
    assert construct in reason and marked_line(strict, f"# UNSUPPORTED: {tag}") in reason
    assert "dont_look_inside" in reason
    # backed off, then blacklisted after max_aborts
    assert count == 3 and stats.blacklisted == 1, stats.summary()


@pytest.mark.parametrize("strict_mode", [1, 0])
@pytest.mark.parametrize("helper", [c[0] for c in CONSTRUCTS])
def test_dont_look_inside_helper_compiles(jit, helper, strict_mode):
    residual = getattr(strict, helper + "_residual")
    jit(enabled=False)
    expected = strict.run_helper(residual, N)
    assert expected == expected_result(helper)
    stats = jit(threshold=3, strict=strict_mode)
    assert strict.run_helper(residual, N) == expected
    assert stats.loops >= 1 and not stats.aborts, stats.summary()
    assert stats.compiled_entries >= 1 and stats.compiled_iterations > N // 2, stats.summary()


def test_supported_helper_is_looked_inside(jit):
    jit(enabled=False)
    expected = strict.run_helper(strict.plain, N)
    stats = jit(threshold=3, strict=1)
    assert strict.run_helper(strict.plain, N) == expected == N * N
    assert stats.loops == 1 and not stats.aborts
    assert stats.compiled_iterations > N // 2


def test_strict_mode_unsupported_construct_in_the_portal_itself(jit):
    jit(threshold=3, strict=1)
    with pytest.raises(UnsupportedInStrict) as info:
        strict.portal_with_statement(0, 50)
    message = str(info.value)
    assert "with statement" in message and "dont_look_inside" in message
    assert marked_line(strict, "# UNSUPPORTED: portal_with") in message, message


def test_unsupported_construct_in_the_portal_aborts_without_strict(jit):
    jit(enabled=False)
    expected = strict.portal_with_statement(0, 50)
    stats = jit(threshold=3)
    assert strict.portal_with_statement(0, 50) == expected == 1225
    (reason, count), = stats.aborts.items()
    assert "with statement" in reason
    assert marked_line(strict, "# UNSUPPORTED: portal_with") in reason
    # the portal's own graph cannot be built: no second try
    assert count == 1 and stats.blacklisted == 1 and stats.loops == 0
