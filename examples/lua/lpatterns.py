"""Lua 5.4 string patterns over ``bytes``: string.find, match, gmatch and gsub.

API (positions are Lua's: 1-based, inclusive; ``init`` as lua5.4 reads it, negative
counting from the end)
    ``find(s, pat, init=1, plain=False)`` -> None or (start, end, *captures)
    ``match(s, pat, init=1)`` -> None or a tuple of captures (the whole match when the
        pattern has none)
    ``gmatch(s, pat, init=1)`` -> iterator of capture tuples
    ``gsub(s, pat, repl, max_n=None, typename=...)`` -> (result bytes, number of
        substitutions);
        ``repl`` is bytes (``%0``-``%9``, ``%%``) or a callable taking the capture tuple
        and returning bytes (or a number), or None/False to keep the matched text.
A capture is ``bytes``, or an ``int`` for a position capture ``()``.

Errors raise ``LuaLibError`` with lua5.4's messages, found when the matcher reaches the
faulty part of the pattern, as in lua5.4 (``string.find("abc", "x[")`` is nil, no error).

The matcher follows lstrlib's structure: ``match`` consumes pattern items left to
right and calls itself for each choice point (``?``, ``*``, ``+``, ``-`` and captures,
so that a failure can undo a capture). Those calls are generators run by an explicit
stack, so no Python recursion happens; the stack holds at most 200 frames, past which
the match fails with "pattern too complex" exactly where lua5.4's C recursion limit
(MAXCCALLS) does.
"""
import re

from .lerrors import LuaLibError
from .lnumbers import basic_typename, tostring_number

MAXCCALLS = 200
MAXCAPTURES = 32
CAP_UNFINISHED = -1
CAP_POSITION = -2
ESC = 0x25  # '%'
SPECIALS = b"^$*+?.([%-"


def _class_table(pred):
    return frozenset(c for c in range(256) if pred(c))


def _isalpha(c):
    return 65 <= c <= 90 or 97 <= c <= 122


def _isdigit(c):
    return 48 <= c <= 57


# The C locale's character classes, by pattern letter (the upper-case letter is the
# complement).
_CLASSES = {
    ord("a"): _class_table(_isalpha),
    ord("c"): _class_table(lambda c: c < 32 or c == 127),
    ord("d"): _class_table(_isdigit),
    ord("g"): _class_table(lambda c: 33 <= c <= 126),
    ord("l"): _class_table(lambda c: 97 <= c <= 122),
    ord("p"): _class_table(lambda c: 33 <= c <= 126 and not (_isalpha(c) or _isdigit(c))),
    ord("s"): _class_table(lambda c: 9 <= c <= 13 or c == 32),
    ord("u"): _class_table(lambda c: 65 <= c <= 90),
    ord("w"): _class_table(lambda c: _isalpha(c) or _isdigit(c)),
    ord("x"): _class_table(lambda c: _isdigit(c) or 65 <= c <= 70 or 97 <= c <= 102),
    ord("z"): frozenset([0]),  # deprecated in 5.2, still accepted by lua5.4
}


def _match_class(c, cl):
    """Does byte ``c`` belong to the class named by the byte after a ``%``?"""
    members = _CLASSES.get(cl | 0x20 if 65 <= cl <= 90 else cl)
    if members is None:
        return cl == c
    return (c in members) != (65 <= cl <= 90)


class _MatchState:
    """One subject and pattern; ``captures`` is the capture stack as (start, len)."""

    def __init__(self, src, pat, pstart):
        self.src = src
        self.pat = pat
        self.pstart = pstart
        self.captures = []
        self.items = {}  # pattern index -> (end index, _ItemSet)

    # --- pattern items ----------------------------------------------------

    def class_end(self, p):
        """Index just past the single-character class starting at ``p``."""
        pat = self.pat
        c = pat[p]
        p += 1
        if c == ESC:
            if p >= len(pat):
                raise LuaLibError("malformed pattern (ends with '%')")
            return p + 1
        if c == 0x5B:  # '['
            if p < len(pat) and pat[p] == 0x5E:  # '^'
                p += 1
            while True:  # the first character is always part of the set: "[]]"
                if p >= len(pat):
                    raise LuaLibError("malformed pattern (missing ']')")
                c = pat[p]
                p += 1
                if c == ESC and p < len(pat):
                    p += 1
                if p < len(pat) and pat[p] == 0x5D:  # ']'
                    return p + 1
        return p

    def match_set(self, c, p, ec):
        """Does byte ``c`` match the set ``[...]`` at ``p`` whose ``]`` is at ``ec``?"""
        pat = self.pat
        found = True
        if pat[p + 1] == 0x5E:
            found = False
            p += 1
        p += 1
        while p < ec:
            if pat[p] == ESC:
                p += 1
                if _match_class(c, pat[p]):
                    return found
            elif pat[p + 1] == 0x2D and p + 2 < ec:  # a range 'x-y'
                if pat[p] <= c <= pat[p + 2]:
                    return found
                p += 2
            elif pat[p] == c:
                return found
            p += 1
        return not found

    def item_accepts(self, c, p, ep):
        """Does byte ``c`` match the single-character class ``pat[p:ep]``?"""
        pc = self.pat[p]
        if pc == 0x2E:  # '.'
            return True
        if pc == ESC:
            return _match_class(c, self.pat[p + 1])
        if pc == 0x5B:
            return self.match_set(c, p, ep - 1)
        return pc == c

    def item(self, p):
        """(end index, _ItemSet) of the single-character class at ``p``; raises the
        malformed-pattern errors of class_end the first time it is reached."""
        cached = self.items.get(p)
        if cached is None:
            ep = self.class_end(p)
            text = self.pat[p:ep]
            cls = _ITEM_SETS.get(text)
            if cls is None:
                if len(_ITEM_SETS) > 1024:
                    _ITEM_SETS.clear()
                cls = _ItemSet(bytes(c for c in range(256) if self.item_accepts(c, p, ep)))
                _ITEM_SETS[text] = cls
            cached = self.items[p] = (ep, cls)
        return cached

    def first_item_finder(self):
        """A function giving the next position where a match can start, when the
        pattern opens with a single-character class that must match once (no ``*``,
        ``?`` or ``-``): a match attempt elsewhere fails at that first item without
        looking further, so skipping it changes nothing. None otherwise."""
        pat, p = self.pat, self.pstart
        if p >= len(pat) or pat[p] in b"()" or (pat[p] == 0x24 and p + 1 == len(pat)):
            return None
        if pat[p] == ESC and p + 1 < len(pat) and pat[p + 1] in b"bf0123456789":
            return None
        try:
            ep, cls = self.item(p)
        except LuaLibError:
            return None  # let the matcher raise it where lua5.4 does
        if (ep < len(pat) and pat[ep] in b"*?-") or cls.everything:
            return None
        return cls.find

    def match_balance(self, s, p):
        pat, src = self.pat, self.src
        if p + 1 >= len(pat):
            raise LuaLibError("malformed pattern (missing arguments to '%b')")
        if s >= len(src) or src[s] != pat[p]:
            return -1
        opening, closing = pat[p], pat[p + 1]
        depth = 1
        for i in range(s + 1, len(src)):
            c = src[i]
            if c == closing:
                depth -= 1
                if depth == 0:
                    return i + 1
            elif c == opening:
                depth += 1
        return -1

    def check_capture(self, digit):
        level = digit - 0x31
        if level < 0 or level >= len(self.captures) or \
                self.captures[level][1] == CAP_UNFINISHED:
            raise LuaLibError("invalid capture index %%%d" % (level + 1))
        return level

    def match_back_reference(self, s, digit):
        start, length = self.captures[self.check_capture(digit)]
        # a position capture (length -2) never matches, as in lua5.4
        if 0 <= length <= len(self.src) - s and \
                self.src[start:start + length] == self.src[s:s + length]:
            return s + length
        return -1

    def capture_to_close(self):
        for level in range(len(self.captures) - 1, -1, -1):
            if self.captures[level][1] == CAP_UNFINISHED:
                return level
        raise LuaLibError("invalid pattern capture")

    # --- the matcher --------------------------------------------------------

    def match(self, s, p):
        """Generator for lstrlib's ``match(s, p)``: yields (s, p) for each nested
        match it needs and receives its result; returns the end index or -1."""
        pat, src = self.pat, self.src
        plen = len(pat)
        while True:
            if p == plen:
                return s
            pc = pat[p]
            if pc == 0x28:  # '('
                if p + 1 < plen and pat[p + 1] == 0x29:
                    what, p = CAP_POSITION, p + 2
                else:
                    what, p = CAP_UNFINISHED, p + 1
                if len(self.captures) >= MAXCAPTURES:
                    raise LuaLibError("too many captures")
                self.captures.append([s, what])
                res = yield s, p
                if res < 0:
                    self.captures.pop()
                return res
            if pc == 0x29:  # ')'
                level = self.capture_to_close()
                cap = self.captures[level]
                cap[1] = s - cap[0]
                res = yield s, p + 1
                if res < 0:
                    cap[1] = CAP_UNFINISHED
                return res
            if pc == 0x24 and p + 1 == plen:  # '$' at the end
                return s if s == len(src) else -1
            if pc == ESC and p + 1 < plen:
                nc = pat[p + 1]
                if nc == 0x62:  # 'b'
                    s = self.match_balance(s, p + 2)
                    if s < 0:
                        return -1
                    p += 4
                    continue
                if nc == 0x66:  # 'f'
                    p += 2
                    if p >= plen or pat[p] != 0x5B:
                        raise LuaLibError("missing '[' after '%f' in pattern")
                    ep, cls = self.item(p)
                    previous = src[s - 1] if s > 0 else 0
                    current = src[s] if s < len(src) else 0
                    if not cls.table[previous] and cls.table[current]:
                        p = ep
                        continue
                    return -1
                if 0x30 <= nc <= 0x39:
                    s = self.match_back_reference(s, nc)
                    if s < 0:
                        return -1
                    p += 2
                    continue
            # a single-character class with an optional quantifier
            ep, cls = self.item(p)
            suffix = pat[ep] if ep < plen else 0
            if s >= len(src) or not cls.table[src[s]]:
                if suffix in (0x2A, 0x3F, 0x2D):  # '*' '?' '-': accept empty
                    p = ep + 1
                    continue
                return -1
            if suffix == 0x3F:  # '?'
                res = yield s + 1, ep + 1
                if res >= 0:
                    return res
                p = ep + 1
                continue
            if suffix in (0x2B, 0x2A):  # '+' (one match done) or '*'
                i = 1 if suffix == 0x2B else 0
                i += cls.run(src, s + i)
                while i >= 0 if suffix == 0x2A else i >= 1:
                    res = yield s + i, ep + 1
                    if res >= 0:
                        return res
                    i -= 1
                return -1
            if suffix == 0x2D:  # '-'
                while True:
                    res = yield s, ep + 1
                    if res >= 0:
                        return res
                    if s >= len(src) or not cls.table[src[s]]:
                        return -1
                    s += 1
            s += 1
            p = ep

    def do_match(self, s):
        """Run ``match(s, pstart)`` with a fresh capture stack; end index or -1."""
        self.captures = []
        stack = []
        frame = self.match(s, self.pstart)
        result = None
        while True:
            try:
                s, p = frame.send(result)
            except StopIteration as done:
                if not stack:
                    return done.value
                result = done.value
                frame = stack.pop()
                continue
            if p == len(self.pat) and len(stack) + 1 < MAXCCALLS:
                result = s  # the end of the pattern: no frame needed
                continue
            stack.append(frame)
            if len(stack) >= MAXCCALLS:
                raise LuaLibError("pattern too complex")
            frame = self.match(s, p)
            result = None

    # --- results --------------------------------------------------------------

    def get_capture(self, i, s, e):
        if i >= len(self.captures):
            if i != 0:
                raise LuaLibError("invalid capture index %%%d" % (i + 1))
            return self.src[s:e]
        start, length = self.captures[i]
        if length == CAP_UNFINISHED:
            raise LuaLibError("unfinished capture")
        if length == CAP_POSITION:
            return start + 1
        return self.src[start:start + length]

    def captures_of(self, s, e, whole=True):
        """All captures as a tuple; the whole match ``s:e`` when there are none and
        ``whole`` is set."""
        n = len(self.captures)
        if n == 0 and whole:
            return (self.src[s:e],)
        return tuple(self.get_capture(i, s, e) for i in range(n))


class _ItemSet:
    """The bytes one single-character class accepts (``table[c]`` is 1 or 0), with
    scans at C speed: ``run(src, pos)`` counts accepted bytes from ``pos``,
    ``find(src, pos)`` gives the next accepted position or -1."""

    __slots__ = ("table", "everything", "run", "find")

    def __init__(self, accepted):
        table = bytearray(256)
        for c in accepted:
            table[c] = 1
        self.table = bytes(table)
        self.everything = len(accepted) == 256
        if not accepted:
            self.run = lambda src, pos: 0
            self.find = lambda src, pos: -1
            return
        byte_class = b"[" + b"".join(re.escape(bytes([c])) for c in accepted) + b"]"
        run_regex = re.compile(byte_class + b"*")
        self.run = lambda src, pos: run_regex.match(src, pos).end() - pos
        if len(accepted) == 1:
            self.find = lambda src, pos: src.find(accepted, pos)
        else:
            search = re.compile(byte_class).search

            def find(src, pos):
                m = search(src, pos)
                return m.start() if m else -1
            self.find = find


# item sets by the item's text ("a", "%d", "[^%s,]"): the text alone decides the set
_ITEM_SETS = {}


def _start_index(init, length):
    """lua5.4's posrelatI(init) - 1: a 0-based start that may exceed ``length``."""
    if init > 0:
        return init - 1
    if init == 0 or init < -length:
        return 0
    return length + init


def find(s, pat, init=1, plain=False):
    """``string.find``: None, or (start, end, *captures)."""
    start = _start_index(init, len(s))
    if start > len(s):
        return None
    if plain or not any(c in SPECIALS for c in pat):
        i = s.find(pat, start)
        return None if i < 0 else (i + 1, i + len(pat))
    return _search(s, pat, start, True)


def match(s, pat, init=1):
    """``string.match``: None, or the tuple of captures."""
    start = _start_index(init, len(s))
    if start > len(s):
        return None
    return _search(s, pat, start, False)


def _search(s, pat, start, want_positions):
    anchor = pat[:1] == b"^"
    ms = _MatchState(s, pat, 1 if anchor else 0)
    skip = None if anchor else ms.first_item_finder()
    s1 = start
    while s1 <= len(s):
        if skip is not None:
            s1 = skip(s, s1)
            if s1 < 0:
                return None
        e = ms.do_match(s1)
        if e >= 0:
            if want_positions:
                return (s1 + 1, e) + ms.captures_of(s1, e, whole=False)
            return ms.captures_of(s1, e)
        if anchor:
            break
        s1 += 1
    return None


def gmatch(s, pat, init=1):
    """``string.gmatch``: an iterator of the capture tuples of successive matches. A
    ``^`` is an ordinary character here, and an empty match right after the previous
    match's end is skipped (Lua 5.4's rule)."""
    return _GMatchIterator(s, pat, min(_start_index(init, len(s)), len(s) + 1))


class _GMatchIterator:
    """gmatch's state between calls; an error leaves it as it was, so the next call
    raises again, as lua5.4's iterator does."""

    def __init__(self, s, pat, start):
        self.ms = _MatchState(s, pat, 0)
        self.src = start
        self.last = -1
        self.skip = None
        self.skip_known = False

    def __iter__(self):
        return self

    def __next__(self):
        ms = self.ms
        n = len(ms.src)
        if not self.skip_known:
            self.skip = ms.first_item_finder()
            self.skip_known = True
        src = self.src
        while src <= n:
            if self.skip is not None:
                src = self.skip(ms.src, src)
                if src < 0:
                    break
            e = ms.do_match(src)
            if e >= 0 and e != self.last:
                self.src = self.last = e
                return ms.captures_of(src, e)
            src += 1
        self.src = n + 1
        raise StopIteration


def _expand_replacement(ms, repl, s, e, out):
    i = 0
    while True:
        j = repl.find(b"%", i)
        if j < 0:
            out.append(repl[i:])
            return
        out.append(repl[i:j])
        c = repl[j + 1] if j + 1 < len(repl) else 0
        if c == ESC:
            out.append(b"%")
        elif c == 0x30:
            out.append(ms.src[s:e])
        elif 0x31 <= c <= 0x39:
            cap = ms.get_capture(c - 0x31, s, e)
            out.append(tostring_number(cap) if isinstance(cap, int) else cap)
        else:
            raise LuaLibError("invalid use of '%' in replacement string")
        i = j + 2


def gsub(s, pat, repl, max_n=None, typename=basic_typename):
    """``string.gsub``: (new bytes, number of matches replaced). ``typename(value)``
    names a replacement value that is neither a string, a number nor nil/false."""
    anchor = pat[:1] == b"^"
    ms = _MatchState(s, pat, 1 if anchor else 0)
    if max_n is None:
        max_n = len(s) + 1
    out = []
    src = 0
    last = -1
    n = 0
    skip = None if anchor else ms.first_item_finder()
    while n < max_n:
        if skip is not None:
            nxt = skip(s, src)
            nxt = len(s) if nxt < 0 else nxt
            out.append(s[src:nxt])
            src = nxt
        e = ms.do_match(src)
        if e >= 0 and e != last:
            n += 1
            if isinstance(repl, (bytes, bytearray)):
                _expand_replacement(ms, bytes(repl), src, e, out)
            else:
                value = repl(ms.captures_of(src, e)) if callable(repl) else repl
                if value is None or value is False:
                    out.append(s[src:e])
                elif isinstance(value, (bytes, bytearray)):
                    out.append(bytes(value))
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.append(tostring_number(value))
                else:
                    raise LuaLibError("invalid replacement value (a %s)" % typename(value))
            src = last = e
        elif src < len(s):
            out.append(s[src:src + 1])
            src += 1
        else:
            break
        if anchor:
            break
    out.append(s[src:])
    return b"".join(out), n
