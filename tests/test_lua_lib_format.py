"""lformat against lua5.4: a table whose expected column was printed by lua5.4
(string.format called from a Lua function, so errors name 'format'), and
hypothesis-drawn format specifications and arguments run in one lua5.4 process."""
import math

import pytest
from hypothesis import strategies as st

from lua_reference import compare, gather, lua_literal, needs_lua, outcome
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.lformat import format, quote_literal

NAN = -math.nan  # 0/0 on x86-64
INF = math.inf

FORMAT = [
    (b'%--------------------d', [1], 's31'),
    (b'%---------------------d', [1], 'einvalid format (too long)'),
    (b'%--------------------y', [1], "einvalid conversion '%--------------------y' to 'format'"),
    (b'%d', [], "ebad argument #2 to 'format' (no value)"),
    (b'%y', [], "ebad argument #2 to 'format' (no value)"),
    (b'%d', [b'x'], "ebad argument #2 to 'format' (number expected, got string)"),
    (b'%d', [1.5], "ebad argument #2 to 'format' (number has no integer representation)"),
    (b'%d', [b'1.5'], "ebad argument #2 to 'format' (number has no integer representation)"),
    (b'%d', [b'3.0'], 's33'),
    (b'%d', [b' 0x10 '], 's3136'),
    (b'%d', [None], "ebad argument #2 to 'format' (number expected, got nil)"),
    (b'%d', [True], "ebad argument #2 to 'format' (number expected, got boolean)"),
    (b'%f', [b'x'], "ebad argument #2 to 'format' (number expected, got string)"),
    (b'%f', [b'1e2'], 's3130302e303030303030'),
    (b'%c', [3.5], "ebad argument #2 to 'format' (number has no integer representation)"),
    (b'%c', [321], 's41'),
    (b'%c', [0], 's00'),
    (b'%s', [], "ebad argument #2 to 'format' (no value)"),
    (b'%s %s', [1], "ebad argument #3 to 'format' (no value)"),
    (b'%10s', [b'a\x00b'], "ebad argument #2 to 'format' (string contains zeros)"),
    (b'%s', [b'a\x00b'], 's610062'),
    (b'%q', [INF], 's316539393939'),
    (b'%q', [-INF], 's2d316539393939'),
    (b'%q', [NAN], 's28302f3029'),
    (b'%q', [-NAN], 's28302f3029'),
    (b'%q', [-9223372036854775808], 's307838303030303030303030303030303030'),
    (b'%q', [9223372036854775807], 's39323233333732303336383534373735383037'),
    (b'%q', [1e+100], 's3078312e32343961643235393463333764702b333332'),
    (b'%q', [1.0], 's307831702b30'),
    (b'%q', [0.1], 's3078312e39393939393939393939393961702d34'),
    (b'%q', [-0.0], 's2d307830702b30'),
    (b'%q', [255], 's323535'),
    (b'%q', [9.223372036854776e+18], 's307831702b3633'),
    (b'%q', [5e-324], 's3078302e30303030303030303030303031702d31303232'),
    (b'%q', [-1.5], 's2d3078312e38702b30'),
    (b'%q', [b'a\nb"c\\d\x00e\x001\r\x7f\xc8x\t9'], 's22615c0a625c22635c5c645c30655c303030315c31335c313237c8785c3030393922'),
    (b'%q %q %q', [True, False, None], 's747275652066616c7365206e696c'),
    (b'%5q', [b'x'], "especifier '%q' cannot have modifiers"),
    (b'%5.1s|%-3s|%.0s|', [b'hello', b'ab', b'xyz'], 's20202020687c6162207c7c'),
    (b'%s', [b'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'], 's787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878'),
    (b'%5s', [b'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'], 's787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878'),
    (b'%.5s', [b'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'], 's7878787878'),
    (b'%x %X %o %u', [-1, -1, -1, -1], 's6666666666666666666666666666666620464646464646464646464646464646462031373737373737373737373737373737373737373737203138343436373434303733373039353531363135'),
    (b'%#x %#o %.0d %.0x %#.0o %#.0x', [0, 0, 0, 0, 0, 0], 's3020302020203020'),
    (b'%a %a %a %a %A %.1a %.0a %a', [0.0, -0.0, INF, NAN, 255.5, 1.03125, 1.5, 5e-324], 's307830702b30202d307830702b3020696e66202d6e616e203058312e4646502b37203078312e30702b3020307832702b30203078302e30303030303030303030303031702d31303232'),
    (b'%.1a %.1a %.1a %.2a', [1.09375, 1.03125, 1.15625, 1.0000000000000002], 's3078312e32702b30203078312e30702b30203078312e32702b30203078312e3030702b30'),
    (b'%5.1f|%-8.3e|%+g|% g|%010.2f|%-010.2f|', [3.14159, 31415.9, 1e+20, 1e-05, -3.14159, 2.5], 's2020332e317c332e313432652b30347c2b31652b32307c2031652d30357c2d3030303030332e31347c322e35302020202020207c'),
    (b'%05f|%-6f|%+f|% f|%E|%G', [INF, -INF, NAN, -NAN, INF, NAN], 's2020696e667c2d696e6620207c2d6e616e7c206e616e7c494e467c2d4e414e'),
    (b'%g %g %g %g', [100000, 1000000, 0.0001, 1e-05], 's3130303030302031652b303620302e303030312031652d3035'),
    (b'%5.2s|', [1.5], 's202020312e7c'),
    (b'%s %s %s', [None, True, 10], 's6e696c2074727565203130'),
    (b'%d %5.1f', [3, 2], 's33202020322e30'),
    (b'%i', [-9223372036854775808], 's2d39323233333732303336383534373735383038'),
    (b'%+.3d|% 05d|%-+5d|', [7, 7, 7], 's2b3030377c20303030377c2b372020207c'),
    (b'%.3x|%#.3o|%#10.4X', [255, 8, 255], 's3066667c3031307c20202020305830304646'),
    (b'%.14g', [0.1], 's302e31'),
    (b'%.17g', [0.1], 's302e3130303030303030303030303030303031'),
    (b'%.0f %.0f %.0f', [0.5, 1.5, 2.5], 's3020322032'),
    (b'%e', [0.0], 's302e303030303030652b3030'),
    (b'%g', [-0.0], 's2d30'),
    (b'%99.99f', [1e+308], 's3130303030303030303030303030303030313039373930363336323934343034353534313734303439323330393637373331313834363333363831303638323930333135373538353430343931313439313533373136333332383937383439343638383839393036313234393636393732313137323531353631313539303238333734333134303038383332383330373030393139383134363034363033313237313636343530323933333032373138353639373438393639393538383535393034333333383338343436363136353030313137383432363839373632363231323934353137373632383039313139353738363730373435383132323738333937303137313738343431353130353239313830323839333230373837333237323937343838353731353433303232333131383333362e303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030'),
    (b'%.3f', [b'0x10'], 's31362e303030'),
    (b'%x', [3.0], 's33'),
    (b'%5%', [1], "einvalid conversion '%5%' to 'format'"),
    (b'100%%', [], 's31303025'),
    (b'%', [1], "einvalid conversion '%' to 'format'"),
    (b'%5.3.2d', [1], "einvalid conversion specification: '%5.3.2d'"),
    (b'%.d|%.f|%.e', [5, 2.5, 2.5], 's357c327c32652b3030'),
    (b'%#.3g|%#x', [1.0, 255], 's312e30307c30786666'),
    (b'abc\x00def%d', [1], 's6162630064656631'),
    (b'%-#10.3a|%+a|% A', [0.3, 2.0, -2.0], 's3078312e333333702d327c2b307831702b317c2d305831502b31'),
    (b'%.13a %.14a %.0a', [0.1, 0.1, 0.0], 's3078312e39393939393939393939393961702d34203078312e3939393939393939393939396130702d3420307830702b30'),
    (b'%a', [1.5e-323], 's3078302e30303030303030303030303033702d31303232'),
    (b'%.0a %.1a', [1.5e-323, 2.225073858507201e-308], 's307830702d31303232203078312e30702d31303232'),
]


@pytest.mark.parametrize("fmt, args, expected", FORMAT)
def test_format_table(fmt, args, expected):
    assert outcome(format, fmt, args) == expected


class Opaque:
    """A VM object: %s goes through the tostring callback, errors through typename."""


def test_callbacks_for_opaque_values():
    obj = Opaque()
    text = format(b"[%s|%5.2s]", [obj, obj], tostring=lambda v: b"OBJ", typename=lambda v: "x")
    assert text == b"[OBJ|   OB]"
    with pytest.raises(LuaLibError) as info:
        format(b"%d", [obj], typename=lambda v: "MyType")
    assert info.value.args[0] == "bad argument #2 to 'format' (number expected, got MyType)"
    with pytest.raises(LuaLibError) as info:
        format(b"%q", [obj])
    assert info.value.args[0] == "bad argument #2 to 'format' (value has no literal form)"
    assert format(b"%p", [None]) == b"(null)" and format(b"%p", [obj]).startswith(b"0x")


def test_function_name_in_errors():
    with pytest.raises(LuaLibError) as info:
        format(b"%d %d", [1], fname="string.format")
    assert info.value.args[0] == "bad argument #3 to 'string.format' (no value)"


def test_quote_literal_reads_back():
    assert quote_literal(1e100) == b"0x1.249ad2594c37dp+332"
    assert quote_literal(-2**63) == b"0x8000000000000000"
    assert quote_literal(b"\x01" + b"2") == b'"\\0012"'
    assert quote_literal(Opaque()) is None


# --- against lua5.4 --------------------------------------------------------

FLAGS = st.lists(st.sampled_from("-+ #0"), max_size=3).map("".join)
WIDTH = st.sampled_from(["", "", "1", "5", "12", "30", "99", "100", "05"])
PRECISION = st.sampled_from(["", "", "", ".", ".0", ".1", ".3", ".10", ".17", ".60", ".100"])
CONV = st.sampled_from(list("diuoxXcaAeEfgGsq") * 3 + ["F", "y", "p", ""])


@st.composite
def spec_and_arg(draw):
    conv = draw(CONV)
    spec = "%" + draw(FLAGS) + draw(WIDTH) + draw(PRECISION) + conv
    if conv in "cp":  # (no strings for %p: their addresses differ)
        arg = draw(st.integers(0, 300) | st.sampled_from([None, 1.5] + [b"65"] * (conv == "c")))
    elif conv in "sq":
        arg = draw(st.binary(max_size=12) | st.integers() | st.floats() | st.sampled_from(
            [None, True, b"x" * 120, b"1\n2\r\0" + b"9", -2**63]))
    else:
        arg = draw(st.one_of(
            st.integers(-2**63, 2**63 - 1), st.integers(-1000, 1000),
            st.floats(), st.floats(-1e6, 1e6), st.sampled_from([INF, -INF, NAN, -NAN, 0.5, 2.5]),
            st.sampled_from([b"12", b" 0x1F ", b"1e3", b"2.5", b"abc", None, True])))
    return spec.encode(), arg


@st.composite
def format_calls(draw):
    items = draw(st.lists(spec_and_arg(), min_size=1, max_size=3))
    text = draw(st.sampled_from([b"", b"x", b"%%", b" | "]))
    fmt = text.join(spec for spec, _ in items)
    args = [arg for _, arg in items]
    if draw(st.integers(0, 9)) == 0:
        args = args[:-1]  # a missing argument
    return fmt, args


def _check_format(n):
    cases = gather(format_calls(), n)
    bad = compare(cases,
                  lambda c: "show(pcall(function() return string.format(%s) end))"
                  % ", ".join(lua_literal(v) for v in [c[0]] + c[1]),
                  lambda c: outcome(format, c[0], c[1]))
    assert not bad, "\n".join("%r: lua5.4 %s, ours %s" % row for row in bad[:20])


@needs_lua
def test_format_against_lua():
    _check_format(1500)


@needs_lua
@pytest.mark.slow
def test_format_against_lua_deep():
    _check_format(20000)
