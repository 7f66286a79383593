"""The Lua 5.4 lexer: source bytes to tokens.

A token is ``(kind, value, line)``.  ``kind`` is ``'name'``, ``'number'``,
``'string'``, ``'eof'``, or the text of a keyword or symbol itself (``'while'``,
``'..'``).  Names are ``str`` (latin-1, one character per source byte), string
literals are ``bytes``, numbers are ``int`` or ``float``.  Errors are
``LuaSyntaxError`` with lua5.4's wording: ``chunk:line: message near 'token'``.
"""
from __future__ import annotations

from metajit.examples.lua.lnumbers import str2number

KEYWORDS = frozenset([
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
    "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
    "true", "until", "while"])

SYMBOLS3 = ("...",)
SYMBOLS2 = ("==", "~=", "<=", ">=", "//", "::", "<<", ">>", "..")
SYMBOLS1 = "+-*/%^#&~|<>=(){}[];:,."

NAME_START = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
NAME_CHARS = NAME_START | frozenset(b"0123456789")
DIGITS = frozenset(b"0123456789")
HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
SPACE = frozenset(b" \t\r\n\f\v")


class LuaSyntaxError(Exception):
    """A compile-time error; ``message`` is complete (``chunk:line: ... near 'x'``)."""

    def __init__(self, message: str):
        Exception.__init__(self, message)
        self.message = message


def chunk_id(chunkname: str) -> str:
    """The source name as lua5.4 shows it in messages (``luaO_chunkid``)."""
    if chunkname.startswith("=") or chunkname.startswith("@"):
        return chunkname[1:]
    if len(chunkname) < 45 and "\n" not in chunkname:
        return '[string "%s"]' % chunkname
    return '[string "%s..."]' % chunkname.split("\n", 1)[0][:45]


class Lexer:
    def __init__(self, source: bytes, chunkname: str):
        self.src = source
        self.pos = 0
        self.line = 1
        self.chunk = chunk_id(chunkname)
        if source.startswith(b"#"):          # a first line '#!...' is skipped
            while self.pos < len(source) and source[self.pos] != 10:
                self.pos += 1

    def error(self, message: str, near: str | None, line: int | None = None) -> LuaSyntaxError:
        text = "%s:%d: %s" % (self.chunk, self.line if line is None else line, message)
        if near == "<eof>":
            text += " near <eof>"
        elif near is not None:
            text += " near '%s'" % near
        return LuaSyntaxError(text)

    def tokens(self) -> list:
        """Every token, each as ``(kind, value, line, raw)`` where ``raw`` is its
        source text (for 'near' in messages)."""
        out = []
        while True:
            self.skip_space_and_comments()
            start = self.pos
            kind, value, line = self.next_token()
            raw = "<eof>" if kind == "eof" else self.src[start:self.pos].decode("latin-1")
            out.append((kind, value, line, raw))
            if kind == "eof":
                return out

    def skip_space_and_comments(self) -> None:
        src = self.src
        n = len(src)
        while self.pos < n:
            c = src[self.pos]
            if c == 10:
                self.line += 1
                self.pos += 1
            elif c in SPACE:
                self.pos += 1
            elif c == 45 and src[self.pos + 1:self.pos + 2] == b"-":     # '--'
                self.pos += 2
                if src[self.pos:self.pos + 1] == b"[":
                    level = self.long_bracket_level()
                    if level >= 0:
                        self.read_long_string(level, "comment")
                        continue
                while self.pos < n and src[self.pos] != 10:
                    self.pos += 1
            else:
                return

    def long_bracket_level(self) -> int:
        """At '[': the level of '[==[' (number of '='), or -1 if it is not one."""
        p = self.pos + 1
        level = 0
        while p < len(self.src) and self.src[p] == 61:
            level += 1
            p += 1
        if p < len(self.src) and self.src[p] == 91:
            return level
        return -1

    def read_long_string(self, level: int, what: str) -> bytes:
        start_line = self.line
        self.pos += level + 2
        src = self.src
        if src[self.pos:self.pos + 1] == b"\r":
            self.pos += 1
            if src[self.pos:self.pos + 1] == b"\n":
                self.pos += 1
            self.line += 1
        elif src[self.pos:self.pos + 1] == b"\n":
            self.pos += 1
            if src[self.pos:self.pos + 1] == b"\r":
                self.pos += 1
            self.line += 1
        close = b"]" + b"=" * level + b"]"
        buf = bytearray()
        while True:
            if self.pos >= len(src):
                raise self.error("unfinished long %s (starting at line %d)" % (what, start_line),
                                 "<eof>")
            c = src[self.pos]
            if c == 93 and src.startswith(close, self.pos):
                self.pos += len(close)
                return bytes(buf)
            if c == 10 or c == 13:
                self.pos += 1
                nxt = src[self.pos:self.pos + 1]
                if nxt in (b"\n", b"\r") and nxt[0] != c:
                    self.pos += 1
                self.line += 1
                buf.append(10)
                continue
            buf.append(c)
            self.pos += 1

    def next_token(self):
        self.skip_space_and_comments()
        src = self.src
        if self.pos >= len(src):
            return ("eof", None, self.line)
        c = src[self.pos]
        line = self.line
        if c in NAME_START:
            start = self.pos
            while self.pos < len(src) and src[self.pos] in NAME_CHARS:
                self.pos += 1
            word = src[start:self.pos].decode("latin-1")
            if word in KEYWORDS:
                return (word, None, line)
            return ("name", word, line)
        if c in DIGITS or (c == 46 and src[self.pos + 1:self.pos + 2] in
                           (b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9")):
            return self.read_number()
        if c == 34 or c == 39:
            return ("string", self.read_string(c), line)
        if c == 91:
            level = self.long_bracket_level()
            if level >= 0:
                return ("string", self.read_long_string(level, "string"), line)
            if src[self.pos + 1:self.pos + 2] == b"=":
                raise self.error("invalid long string delimiter", "[=")
        for sym in SYMBOLS3:
            if src.startswith(sym.encode(), self.pos):
                self.pos += 3
                return (sym, None, line)
        two = src[self.pos:self.pos + 2].decode("latin-1")
        if two in SYMBOLS2:
            self.pos += 2
            return (two, None, line)
        ch = chr(c)
        if ch in SYMBOLS1:
            self.pos += 1
            return (ch, None, line)
        if c < 32 or c >= 127:
            raise self.error("unexpected symbol", "<\\%d>" % c)
        raise self.error("unexpected symbol", ch)

    def read_number(self):
        src = self.src
        start = self.pos
        expo = b"Ee"
        if src[self.pos:self.pos + 2] in (b"0x", b"0X"):
            self.pos += 2
            expo = b"Pp"
        while self.pos < len(src):
            c = src[self.pos:self.pos + 1]
            if c in expo and c:
                self.pos += 1
                if src[self.pos:self.pos + 1] in (b"+", b"-"):
                    self.pos += 1
            elif c and (c[0] in HEX_DIGITS or c == b"."):
                self.pos += 1
            else:
                break
        # lua's read_numeral also swallows letters and digits that follow
        while self.pos < len(src) and src[self.pos] in NAME_CHARS:
            self.pos += 1
        text = src[start:self.pos]
        value = str2number(text)
        if value is None:
            raise self.error("malformed number", text.decode("latin-1"))
        return ("number", value, self.line)

    def read_string(self, quote: int) -> bytes:
        src = self.src
        start = self.pos
        self.pos += 1
        buf = bytearray()
        n = len(src)
        while True:
            if self.pos >= n:
                raise self.error("unfinished string", "<eof>")
            c = src[self.pos]
            if c == quote:
                self.pos += 1
                return bytes(buf)
            if c == 10 or c == 13:
                raise self.error("unfinished string", src[start:self.pos].decode("latin-1"))
            if c != 92:
                buf.append(c)
                self.pos += 1
                continue
            self.pos += 1
            if self.pos >= n:
                raise self.error("unfinished string", "<eof>")
            e = src[self.pos]
            simple = {110: 10, 116: 9, 114: 13, 97: 7, 98: 8, 102: 12, 118: 11,
                      92: 92, 34: 34, 39: 39}
            if e in simple:
                buf.append(simple[e])
                self.pos += 1
            elif e == 10 or e == 13:
                buf.append(10)
                self.line += 1
                self.pos += 1
                if self.pos < n and src[self.pos] in (10, 13) and src[self.pos] != e:
                    self.pos += 1
            elif e == 120:          # \xXX
                self.pos += 1
                digits = src[self.pos:self.pos + 2]
                if len(digits) < 2 or not all(d in HEX_DIGITS for d in digits):
                    bad = src[start:self.pos + min(len(digits), 2)]
                    k = 0
                    while k < len(digits) and digits[k] in HEX_DIGITS:
                        k += 1
                    bad = src[start:self.pos + k + 1]
                    raise self.error("hexadecimal digit expected", bad.decode("latin-1"))
                buf.append(int(digits, 16))
                self.pos += 2
            elif e == 122:          # \z skips following white space
                self.pos += 1
                while self.pos < n and src[self.pos] in SPACE:
                    if src[self.pos] == 10:
                        self.line += 1
                    self.pos += 1
            elif e in DIGITS:
                k = 0
                value = 0
                while k < 3 and self.pos < n and src[self.pos] in DIGITS:
                    value = value * 10 + src[self.pos] - 48
                    self.pos += 1
                    k += 1
                if value > 255:
                    raise self.error("decimal escape too large",
                                     src[start:self.pos + 1].decode("latin-1"))
                buf.append(value)
            elif e == 117:          # \u{XXX}
                self.pos += 1
                if src[self.pos:self.pos + 1] != b"{":
                    raise self.error("missing '{' in \\u{xxxx}",
                                     src[start:self.pos + 1].decode("latin-1"))
                self.pos += 1
                value = 0
                k = 0
                while self.pos < n and src[self.pos] in HEX_DIGITS:
                    value = value * 16 + int(chr(src[self.pos]), 16)
                    if value > 0x7FFFFFFF:
                        raise self.error("UTF-8 value too large",
                                         src[start:self.pos + 1].decode("latin-1"))
                    self.pos += 1
                    k += 1
                if k == 0:
                    raise self.error("hexadecimal digit expected",
                                     src[start:self.pos + 1].decode("latin-1"))
                if src[self.pos:self.pos + 1] != b"}":
                    raise self.error("missing '}' in \\u{xxxx}",
                                     src[start:self.pos + 1].decode("latin-1"))
                self.pos += 1
                buf += utf8_encode(value)
            else:
                raise self.error("invalid escape sequence",
                                 src[start:self.pos + 1].decode("latin-1"))


def utf8_encode(x: int) -> bytes:
    """lua5.4's luaO_utf8esc: up to 6 bytes, for values up to 0x7FFFFFFF."""
    if x < 0x80:
        return bytes([x])
    out = []
    mfb = 0x3F
    while True:
        out.append(0x80 | (x & 0x3F))
        x >>= 6
        mfb >>= 1
        if x <= mfb:
            break
    out.append(((~mfb << 1) & 0xFF) | x)
    return bytes(reversed(out))
