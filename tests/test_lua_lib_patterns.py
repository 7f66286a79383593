"""lpatterns against lua5.4: tables whose expected column was printed by lua5.4, and
hypothesis-drawn subjects and patterns (valid and malformed) run through string.find,
match, gmatch and gsub in one lua5.4 process per test."""
import pytest
from hypothesis import strategies as st

from lua_reference import compare, encode, gather, lua_literal, needs_lua, outcome
from metajit.examples.lua import lpatterns as P
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.lnumbers import tostring_number

FIND = [
    (b'hello world', b'o', 1, 'i5,i5'),
    (b'hello world', b'o', 6, 'i8,i8'),
    (b'hello world', b'o', -3, 'nil'),
    (b'hello world', b'l+', 1, 'i3,i4'),
    (b'hello', b'', 10, 'nil'),
    (b'hello', b'', 6, 'i6,i5'),
    (b'hello', b'', -100, 'i1,i0'),
    (b'hello', b'h', 0, 'i1,i1'),
    (b'a.b', b'.', 1, 'i1,i1'),
    (b'a+b', b'+', 1, 'i2,i2'),
    (b'a+b', b'a+', 1, 'i1,i1'),
    (b'THE (quick) fox', b'%((%a+)%)', 1, 'i5,i11,s717569636b'),
    (b'THE (quick) fox', b'%b()', 1, 'i5,i11'),
    (b'f(a(b)c)d)', b'%b()', 1, 'i2,i8'),
    (b'key=val', b'^(%w+)=(%w*)$', 1, 'i1,i7,s6b6579,s76616c'),
    (b'  x', b'^x', 1, 'nil'),
    (b'x^y', b'x^y', 1, 'i1,i3'),
    (b'abc', b'b$', 1, 'nil'),
    (b'a$c', b'$c', 1, 'i2,i3'),
    (b'THE (quick) fox', b'%f[%a]%a+', 5, 'i6,i10'),
    (b'hello', b'()ll()', 1, 'i3,i4,i3,i5'),
    (b'aaa', b'a-', 1, 'i1,i0'),
    (b'aaab', b'a-b', 1, 'i1,i4'),
    (b'abcabc', b'(abc)%1', 1, 'i1,i6,s616263'),
    (b'[x]', b'[]]', 1, 'i3,i3'),
    (b'a]b', b'[^]a]', 1, 'i3,i3'),
    (b'a-b', b'[a-]', 2, 'i2,i2'),
    (b'5 %', b'[%d%%]+', 1, 'i1,i1'),
    (b'x', b'[a-', 1, "emalformed pattern (missing ']')"),
    (b'abc', b'%', 1, "emalformed pattern (ends with '%')"),
    (b'abc', b'(()', 1, 'eunfinished capture'),
    (b'abc', b'%g+', 1, 'i1,i3'),
    (b'\x00a\x00', b'%z', 1, 'i1,i1'),
    (b'\x00a\x00', b'\x00a', 1, 'i1,i2'),
    (b'\x00a\x00', b'[\x00]', 2, 'i3,i3'),
    (b'one two', b'%s', 1, 'i4,i4'),
    (b'CamelCase', b'%u%l+', 2, 'i6,i9'),
    (b'end', b'%f[%z]', 1, 'i4,i3'),
    (b'end', b'%f[%Z]', 1, 'i1,i0'),
    (b'word.', b'%f[%W]', 1, 'i5,i4'),
    (b'0x1F', b'%x+$', 1, 'i3,i4'),
]
MATCH = [
    (b'hello world', b'(%w+) (%w+)', 1, 's68656c6c6f,s776f726c64'),
    (b'  trim  ', b'^%s*(.-)%s*$', 1, 's7472696d'),
    (b'2024-01-02', b'(%d+)-(%d+)-(%d+)', 1, 's32303234,s3031,s3032'),
    (b'hello', b'(h)(e)(l)(l)(o)', 1, 's68,s65,s6c,s6c,s6f'),
    (b'hello', b'()', 3, 'i3'),
    (b'hello', b'.-', 1, 's'),
    (b'hello', b'l*', 3, 's6c6c'),
    (b'hello', b'x?h', 1, 's68'),
    (b'abc', b'((a)(b))', 1, 's6162,s61,s62'),
    (b'abc', b'a(b?)c', 1, 's62'),
    (b'ac', b'a(b?)c', 1, 's'),
    (b'hello', b'h', 7, 'nil'),
    (b'hello', b'', 6, 's'),
    (b'$100', b'%$(%d+)', 1, 's313030'),
    (b'a.b.c', b'^(.-)%.', 1, 's61'),
    (b'a.b.c', b'^(.*)%.', 1, 's612e62'),
    (b'x = 1, y = 2', b'(%a)%s*=%s*(%d)', 4, 's79,s32'),
    (b'aXb', b'%u', -2, 's58'),
    (b'abc', b'()a()', -10, 'i1,i2'),
    (b'abab', b'(ab)%1$', 1, 's6162'),
    (b'((a)', b'%b()', 1, 's286129'),
]
GSUB = [
    (b'hello world', b'o', b'0', None, 's68656c6c30207730726c64,i2'),
    (b'hello world', b'(o)', b'[%1]', 1, 's68656c6c5b6f5d20776f726c64,i1'),
    (b'abc', b'', b'-', None, 's2d612d622d632d,i4'),
    (b'hello world', b'%w+', b'%0 %0', None, 's68656c6c6f2068656c6c6f20776f726c6420776f726c64,i2'),
    (b'hello', b'l', b'%%', None, 's686525256f,i2'),
    (b'abc', b'%w', b'%1', None, 's616263,i3'),
    (b'abc', b'^a', b'A', None, 's416263,i1'),
    (b'aaa', b'^a', b'A', None, 's416161,i1'),
    (b'hello world', b'(%w+) (%w+)', b'%2 %1', None, 's776f726c642068656c6c6f,i1'),
    (b'abc', b'b*', b'X', None, 's5861586358,i3'),
    (b'abc', b'()', b'%1', None, 's31613262336334,i4'),
    (b'abc', b'x*', b'-', 2, 's2d612d6263,i2'),
    (b'abc', b'a', b'x', 0, 's616263,i0'),
    (b'abc', b'a', b'x', -1, 's616263,i0'),
    (b'a,b,,c', b',', b';', None, 's613b623b3b63,i3'),
    (b'one  two', b'%s+', b' ', None, 's6f6e652074776f,i1'),
    (b'$x$', b'%$', b'%%', None, 's257825,i2'),
]
GMATCH = [
    (b'hello world from Lua', b'%a+', 1, 's68656c6c6f;s776f726c64;s66726f6d;s4c7561'),
    (b'k1=v1, k2=v2', b'(%w+)=(%w+)', 1, 's6b31,s7631;s6b32,s7632'),
    (b'abc', b'', 1, 's;s;s;s'),
    (b'abc', b'x*', 1, 's;s;s;s'),
    (b'abc', b'()', 1, 'i1;i2;i3;i4'),
    (b'a,b,,c', b'([^,]*)', 1, 's61;s62;s;s63'),
    (b'hello', b'l', 4, 's6c'),
    (b'hello', b'.', -2, 's6c;s6f'),
    (b'^a^a', b'^a', 1, 's5e61;s5e61'),
    (b'abc', b'a-', 1, 's;s;s;s'),
    (b'abab', b'b*', 1, 's;s62;s62'),
    (b'one two', b'%a+', 10, ''),
]

# lua5.4 side of gmatch: all iterations, each encoded, joined by ';'
GMATCH_LUA = r'''
local function gm(s, p, init)
  local ok, res = pcall(function()
    local out = {}
    local it = string.gmatch(s, p, init)
    while true do
      local t = table.pack(it())
      if t[1] == nil then break end
      out[#out + 1] = enc(true, table.unpack(t, 1, t.n))
    end
    return table.concat(out, ";")
  end)
  if ok then return res end
  return enc(false, res)
end
local function wrap(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  if #t[1] % 2 == 0 then return nil end
  return "<" .. table.concat(t, "|") .. ">"
end
'''


def gmatch_outcome(s, pat, init):
    try:
        return ";".join(encode(*caps) for caps in P.gmatch(s, pat, init))
    except LuaLibError as e:
        return "e" + e.args[0]


def _text(c):
    return tostring_number(c) if isinstance(c, int) else c


def wrap_captures(caps):
    """The Python twin of GMATCH_LUA's ``wrap`` replacement function."""
    texts = [_text(c) for c in caps]
    if len(texts[0]) % 2 == 0:
        return None
    return b"<" + b"|".join(texts) + b">"


@pytest.mark.parametrize("s, pat, init, expected", FIND)
def test_find(s, pat, init, expected):
    assert outcome(P.find, s, pat, init) == expected


@pytest.mark.parametrize("s, pat, init, expected", MATCH)
def test_match(s, pat, init, expected):
    assert outcome(P.match, s, pat, init) == expected


@pytest.mark.parametrize("s, pat, repl, max_n, expected", GSUB)
def test_gsub(s, pat, repl, max_n, expected):
    assert outcome(P.gsub, s, pat, repl, max_n) == expected


@pytest.mark.parametrize("s, pat, init, expected", GMATCH)
def test_gmatch(s, pat, init, expected):
    assert gmatch_outcome(s, pat, init) == expected


ERRORS = [  # (function, args, lua5.4's message)
    (P.find, (b"abc", b"[a"), "malformed pattern (missing ']')"),
    (P.find, (b"abc", b"%b"), "malformed pattern (missing arguments to '%b')"),
    (P.find, (b"abc", b"%f"), "missing '[' after '%f' in pattern"),
    (P.find, (b"abc", b"%f["), "malformed pattern (missing ']')"),
    (P.find, (b"abc", b"%1"), "invalid capture index %1"),
    (P.find, (b"abc", b"(a)%2"), "invalid capture index %2"),
    (P.find, (b"abc", b"(a%1)"), "invalid capture index %1"),
    (P.match, (b"abc", b")"), "invalid pattern capture"),
    (P.match, (b"abc", b"(a"), "unfinished capture"),
    (P.find, (b"abc", b"()" * 33), "too many captures"),
    (P.gsub, (b"abc", b"a", b"%2"), "invalid capture index %2"),
    (P.gsub, (b"abc", b"a", b"%x"), "invalid use of '%' in replacement string"),
    (P.gsub, (b"abc", b"a", b"x%"), "invalid use of '%' in replacement string"),
    (P.gsub, (b"abc", b"a", lambda caps: True), "invalid replacement value (a boolean)"),
    (P.find, (b"a" * 300, b"a?" * 200), "pattern too complex"),
]


@pytest.mark.parametrize("fn, args, message", ERRORS)
def test_errors(fn, args, message):
    with pytest.raises(LuaLibError) as info:
        fn(*args)
    assert info.value.args[0] == message


def test_matchdepth_limit_is_lua54s():
    # 199 optional items nest 200 matcher calls: the deepest lua5.4 allows
    assert P.find(b"a" * 300, b"a?" * 199) == (1, 199)


def test_long_subjects_do_not_recurse():
    s = b"x" * 100000
    assert P.find(s, b"x*$") == (1, 100000)
    assert P.match(s + b"y", b"(x-)y") == (s,)
    assert P.gsub(s, b"x", b"yy")[1] == 100000


def test_gsub_callable_and_keep():
    assert P.gsub(b"hello world", b"%w+", lambda caps: caps[0].upper()) == (b"HELLO WORLD", 2)
    assert P.gsub(b"a b", b"%w", lambda caps: None) == (b"a b", 2)
    assert P.gsub(b"a b", b"%w", False) == (b"a b", 2)
    assert P.gsub(b"a=1", b"(%w)=(%w)", lambda caps: b"%s:%s" % caps[::-1]) == (b"1:a", 1)
    assert P.gsub(b"abc", b"()b", lambda caps: caps[0]) == (b"a2c", 1)


# --- against lua5.4 --------------------------------------------------------

SUBJECT = st.binary(max_size=0) | st.lists(
    st.sampled_from([b"a", b"a", b"a", b"b", b"b", b"x", b"A", b"1", b"9", b" ", b".", b"(",
                     b")", b"[", b"]", b"%", b"-", b"\n", b"\0", b"\xe9"]),
    max_size=20).map(b"".join)
SUBJECT = SUBJECT | SUBJECT.map(lambda s: s * 5)  # longer runs between matches
SINGLE = st.sampled_from(
    [b"a", b"a", b"a", b"b", b"b", b"x", b".", b".", b"%a", b"%d", b"%s", b"%w", b"%p", b"%l", b"%u", b"%x", b"%c",
     b"%g", b"%A", b"%D", b"%S", b"%W", b"%.", b"%%", b"%(", b"%]", b"[ab]", b"[^a]",
     b"[a-c]", b"[%d.]", b"[]]", b"[^]a]", b"[%a-]", b"[a-%%]", b"%z", b"\0", b"-", b"1"])
ITEM = st.one_of(
    st.tuples(SINGLE, st.sampled_from([b"", b"", b"*", b"+", b"-", b"?"])).map(b"".join),
    st.sampled_from([b"()", b"%1", b"%2", b"%b()", b"%bab", b"%f[%w]", b"%f[^a]", b"%f[%z]",
                     b"$", b"^"]))
MALFORMED = st.sampled_from([b"", b"", b"", b"", b"%", b"[a", b"(", b")", b"%b", b"%f", b"[%"])


@st.composite
def patterns(draw):
    items = draw(st.lists(ITEM, max_size=4))
    if items and draw(st.booleans()):  # one capture around a run of items
        i = draw(st.integers(0, len(items) - 1))
        j = draw(st.integers(i, len(items)))
        items = items[:i] + [b"("] + items[i:j] + [b")"] + items[j:]
    anchor = draw(st.sampled_from([b"", b"", b"^"]))
    return anchor + b"".join(items) + draw(MALFORMED)


INIT = st.sampled_from([1, 1, 1, 2, 0, -1, -3, 5, 20])


def _mismatches(bad):
    return "\n".join("%r: lua5.4 %s, ours %s" % row for row in bad[:20])


def _check_find_match(n):
    plain = st.sampled_from([False] * 5 + [True])
    cases = gather(st.tuples(SUBJECT, patterns(), INIT, plain), n)
    bad = compare(cases,
                  lambda c: "show(pcall(string.find, %s, %s, %d, %s)) "
                  "show(pcall(string.match, %s, %s, %d))" % (
                      lua_literal(c[0]), lua_literal(c[1]), c[2], "true" if c[3] else "nil",
                      lua_literal(c[0]), lua_literal(c[1]), c[2]),
                  lambda c: outcome(P.find, c[0], c[1], c[2], c[3]) + "\n"
                  + outcome(P.match, c[0], c[1], c[2]), lines_per_case=2)
    assert not bad, _mismatches(bad)


@needs_lua
def test_find_match_against_lua():
    _check_find_match(1200)


@needs_lua
@pytest.mark.slow
def test_find_match_against_lua_deep():
    _check_find_match(15000)


def _check_gsub_gmatch(n):
    repl = st.sampled_from([b"<%0>", b"%1", b"[%2]", b"%%", b"", b"x%", b"%1%1", None])
    cases = gather(st.tuples(SUBJECT, patterns(), repl, st.sampled_from([None, None, 1, 0, 2]),
                             INIT), n)

    def lua_line(c):
        s, pat, r, max_n, init = map(lua_literal, c)
        return ("show(pcall(string.gsub, {s}, {p}, {r}, {n})) print(gm({s}, {p}, {i}))"
                .format(s=s, p=pat, r="wrap" if c[2] is None else r, n=max_n, i=init))

    def ours(c):
        s, pat, r, max_n, init = c
        return (outcome(P.gsub, s, pat, wrap_captures if r is None else r, max_n) + "\n"
                + gmatch_outcome(s, pat, init))

    bad = compare(cases, lua_line, ours, prefix=GMATCH_LUA, lines_per_case=2)
    assert not bad, _mismatches(bad)


@needs_lua
def test_gsub_gmatch_against_lua():
    _check_gsub_gmatch(1000)


@needs_lua
@pytest.mark.slow
def test_gsub_gmatch_against_lua_deep():
    _check_gsub_gmatch(12000)


@needs_lua
def test_depth_limit_against_lua():
    # patterns whose nesting reaches lua5.4's 200 matcher calls in different ways
    cases = [(subject, pat)
             for n in (98, 99, 100, 199, 200)
             for pat in [b"a?" * n, b"(" + b"a?" * n + b")", b"()" + b"a?" * n,
                         b"a?" * n + b"()", b"x?" * n + b"%f[a]a?", b"a-" * n, b"a*" * n,
                         b"a?" * (n // 2) + b"(a)" + b"a?" * (n // 2)]
             for subject in [b"a" * 300, b"", b"ab"]]
    bad = compare(cases,
                  lambda c: "show(pcall(string.find, {s}, {p})) "
                  "show(pcall(string.gsub, {s}, {p}, 'x', 1))".format(
                      s=lua_literal(c[0]), p=lua_literal(c[1])),
                  lambda c: outcome(P.find, *c) + "\n" + outcome(P.gsub, *c, b"x", 1),
                  lines_per_case=2)
    assert not bad, _mismatches(bad)


def test_gmatch_error_repeats_on_each_call():
    it = P.gmatch(b"abc", b"b%")
    for _ in range(2):
        with pytest.raises(LuaLibError, match="ends with"):
            next(it)
