"""Lua 5.4's string.format, byte for byte as lua5.4 (5.4.4, glibc) prints.

API
    ``format(fmt, args, tostring=None, typename=None, fname="format") -> bytes``
        ``fmt`` is bytes; ``args`` the values after it (None for nil, bool, int, float,
        bytes, or opaque VM objects). ``tostring(value) -> bytes`` serves ``%s`` (the
        VM's, with ``__tostring``/``__name``); ``typename(value) -> str`` names a value
        in "number expected, got X" (the VM's, with ``__name``). Both default to the
        plain-value versions. ``fname`` is the function name in argument errors.

Conversions: ``%d %i %u %c %x %X %o %e %E %f %g %G %a %A %q %s %p %%`` with the flags
``-+ #0``, a width and a precision of at most two digits each; each conversion accepts
only the flags C gives it a meaning for (``%+x`` is an error, as in lua5.4). ``%F`` is
not a conversion in lua5.4.4. Errors are lua5.4's, raised as ``LuaLibError``: a missing
argument is ``bad argument #N to 'format' (no value)``, a bad one ``(number expected,
got string)`` or ``(number has no integer representation)``; a bad specifier
``invalid conversion '%y' to 'format'``, bad flags ``invalid conversion
specification: '%+x'``, a spec longer than 20 characters ``invalid format (too long)``.
"""
import math

from .lerrors import LuaLibError
from .lnumbers import MININTEGER, arg_integer, basic_typename, str2number, tostring_number

_MASK = (1 << 64) - 1
_SPEC_CHARS = b"-+ #0123456789."
MAX_SPEC = 21  # flags, width, precision and the conversion: at most this many bytes

# the flags each conversion accepts (the rest are errors)
FLAGS_FLOAT = b"-+ #0"
FLAGS_HEX_OCT = b"-#0"
FLAGS_SIGNED = b"-+ 0"
FLAGS_UNSIGNED = b"-0"
FLAGS_CHAR = b"-"


def _plain_tostring(v):
    if v is None:
        return b"nil"
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, (int, float)):
        return tostring_number(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    return ("%s: 0x%014x" % (basic_typename(v), id(v))).encode()


class _Spec:
    """One ``%...`` item: its text between ``%`` and the conversion byte; ``check``
    validates it and sets flags, width and precision (None when absent)."""

    def __init__(self, text, conv):
        self.text = text
        self.conv = conv
        self.flags = b""
        self.width = 0
        self.precision = None

    def form(self):
        return "%" + (self.text + bytes([self.conv])).split(b"\0")[0].decode("latin-1")

    def check(self, allowed, precision_ok):
        """lua5.4's checkformat: only ``allowed`` flags, then a width of at most two
        digits (not starting with 0), then (if ``precision_ok``) ``.`` and at most two
        digits, and nothing else."""
        text = self.text
        j = 0
        while j < len(text) and text[j] in allowed:
            j += 1
        self.flags = text[:j]
        if j < len(text) and text[j] != 0x30:
            k = _skip_two_digits(text, j)
            self.width = int(text[j:k] or b"0")
            j = k
            if j < len(text) and text[j] == 0x2E and precision_ok:
                k = _skip_two_digits(text, j + 1)
                self.precision = int(text[j + 1:k] or b"0")
                j = k
        if j != len(text):
            raise LuaLibError("invalid conversion specification: '%s'" % self.form())

    def pad(self, body, zero_pad_at=None):
        """``body`` padded to the width: left-justified with ``-``, else with zeros
        inserted at index ``zero_pad_at`` when given, else spaces on the left."""
        missing = self.width - len(body)
        if missing <= 0:
            return body
        if b"-" in self.flags:
            return body + b" " * missing
        if zero_pad_at is not None:
            return body[:zero_pad_at] + b"0" * missing + body[zero_pad_at:]
        return b" " * missing + body


def _skip_two_digits(text, j):
    for _ in range(2):
        if j < len(text) and 0x30 <= text[j] <= 0x39:
            j += 1
    return j


def _sign(spec, negative):
    if negative:
        return b"-"
    if b"+" in spec.flags:
        return b"+"
    return b" " if b" " in spec.flags else b""


def _format_integer(spec, n):
    conv = chr(spec.conv)
    if conv in "di":
        negative = n < 0
        digits = b"%d" % abs(n)
    else:
        negative = False
        u = n & _MASK
        digits = (b"%d" % u if conv == "u" else b"%o" % u if conv == "o"
                  else b"%x" % u if conv == "x" else b"%X" % u)
        n = u
    prefix = b""
    if spec.precision is not None:
        if spec.precision == 0 and n == 0:
            digits = b""
        digits = digits.rjust(spec.precision, b"0")
    if b"#" in spec.flags:
        if conv == "o" and not digits.startswith(b"0"):
            digits = b"0" + digits
        elif conv in "xX" and n != 0:
            prefix = b"0" + conv.encode()
    head = _sign(spec, negative) + prefix
    zero_at = len(head) if b"0" in spec.flags and spec.precision is None else None
    return spec.pad(head + digits, zero_at)


def _format_nonfinite(spec, x, upper):
    body = b"nan" if x != x else b"inf"
    negative = math.copysign(1.0, x) < 0
    body = _sign(spec, negative) + (body.upper() if upper else body)
    return spec.pad(body)


def _format_float(spec, x):
    conv = chr(spec.conv)
    if x != x or x in (math.inf, -math.inf):
        return _format_nonfinite(spec, x, conv.isupper())
    form = "%" + spec.text.decode("ascii") + conv
    return (form % x).encode("ascii")


def hex_float(x, upper=False, spec=None):
    """C's ``%a``: ``0x1.8p+1``; a precision rounds the hex digits half to even;
    subnormals print as ``0x0.<digits>p-1022`` as glibc does."""
    if x != x or x in (math.inf, -math.inf):
        return _format_nonfinite(spec, x, upper) if spec else tostring_number(x)
    text = float.hex(abs(x))  # '0x1.8000000000000p+1', '0x0.0p+0' for zero
    mantissa, _, exponent = text[2:].partition("p")
    lead, _, frac = mantissa.partition(".")
    exp = int(exponent)
    if x == 0.0:
        exp = 0
    frac = frac.ljust(13, "0")
    precision = spec.precision if spec else None
    if precision is None:
        frac = frac.rstrip("0")
    elif precision < 13:
        value = int(lead + frac, 16)
        shift = 4 * (13 - precision)
        q, r = divmod(value, 1 << shift)
        half = 1 << (shift - 1)
        if r > half or (r == half and q & 1):
            q += 1
        lead = "%x" % (q >> (4 * precision))
        frac = ("%x" % (q & ((1 << (4 * precision)) - 1))).rjust(precision, "0") \
            if precision else ""
    else:
        frac = frac.ljust(precision, "0")
    alternate = spec is not None and b"#" in spec.flags
    digits = lead + ("." + frac if frac or alternate else "")
    body = "%sp%+d" % (digits, exp)
    prefix = b"0X" if upper else b"0x"
    if upper:
        body = body.upper()
    negative = math.copysign(1.0, x) < 0
    head = (_sign(spec, negative) if spec else b"-" if negative else b"") + prefix
    if spec is None:
        return head + body.encode("ascii")
    zero_at = len(head) if b"0" in spec.flags else None
    return spec.pad(head + body.encode("ascii"), zero_at)


def _quoted_string(s):
    out = [b'"']
    for i, c in enumerate(s):
        if c in (0x22, 0x5C, 0x0A):  # '"', '\\', newline: backslash then the byte
            out.append(b"\\" + bytes([c]))
        elif c < 32 or c == 127:
            following = s[i + 1] if i + 1 < len(s) else 0
            # three digits when a digit follows, so that it is not read as part of it
            out.append(b"\\%03d" % c if 48 <= following <= 57 else b"\\%d" % c)
        else:
            out.append(bytes([c]))
    out.append(b'"')
    return b"".join(out)


def quote_literal(v):
    """``%q``: the value as Lua source that reads back as the same value, or None for
    a value with no literal form."""
    if isinstance(v, (bytes, bytearray)):
        return _quoted_string(bytes(v))
    if v is None or isinstance(v, bool):
        return _plain_tostring(v)
    if isinstance(v, int):
        return b"0x8000000000000000" if v == MININTEGER else b"%d" % v
    if isinstance(v, float):
        if v == math.inf:
            return b"1e9999"
        if v == -math.inf:
            return b"-1e9999"
        if v != v:
            return b"(0/0)"
        return hex_float(v)
    return None


def format(fmt, args, tostring=None, typename=None, fname="format"):
    """``string.format(fmt, *args)`` as lua5.4 computes it."""
    tostring = tostring or _plain_tostring
    typename = typename or basic_typename

    def arg_error(argnum, detail):
        return LuaLibError("bad argument #%d to '%s' (%s)" % (argnum, fname, detail))

    def check_number(value, argnum):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, (bytes, bytearray)):
            n = str2number(bytes(value))
            if n is not None:
                return n
        raise arg_error(argnum, "number expected, got %s" % typename(value))

    def check_integer(value, argnum):
        try:
            n = arg_integer(value)
        except LuaLibError as e:
            raise arg_error(argnum, e.args[0]) from None
        if n is None:
            raise arg_error(argnum, "number expected, got %s" % typename(value))
        return n

    out = []
    i = 0
    n = len(fmt)
    argi = 0
    while i < n:
        j = fmt.find(b"%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        if i < n and fmt[i] == 0x25:
            out.append(b"%")
            i += 1
            continue
        argnum = argi + 2
        if argi >= len(args):
            raise arg_error(argnum, "no value")
        value = args[argi]
        argi += 1
        k = i
        while k < n and fmt[k] in _SPEC_CHARS:
            k += 1
        if k - i + 1 > MAX_SPEC:
            raise LuaLibError("invalid format (too long)")
        spec = _Spec(fmt[i:k], fmt[k] if k < n else 0)
        i = k + 1
        conv = chr(spec.conv)
        if conv == "c":
            spec.check(FLAGS_CHAR, False)
            out.append(spec.pad(bytes([check_integer(value, argnum) & 0xFF])))
        elif conv in "diuoxX":
            number = check_integer(value, argnum)
            spec.check(FLAGS_SIGNED if conv in "di" else FLAGS_UNSIGNED if conv == "u"
                       else FLAGS_HEX_OCT, True)
            out.append(_format_integer(spec, number))
        elif conv in "aA":
            spec.check(FLAGS_FLOAT, True)
            out.append(hex_float(float(check_number(value, argnum)), conv == "A", spec))
        elif conv in "eEfgG":
            number = float(check_number(value, argnum))
            spec.check(FLAGS_FLOAT, True)
            out.append(_format_float(spec, number))
        elif conv == "p":
            spec.check(FLAGS_CHAR, False)
            plain = value is None or isinstance(value, (bool, int, float))
            out.append(spec.pad(b"(null)" if plain else b"0x%014x" % id(value)))
        elif conv == "q":
            if spec.text:
                raise LuaLibError("specifier '%q' cannot have modifiers")
            literal = quote_literal(value)
            if literal is None:
                raise arg_error(argnum, "value has no literal form")
            out.append(literal)
        elif conv == "s":
            text = tostring(value)
            if not spec.text:
                out.append(text)
                continue
            if b"\0" in text:
                raise arg_error(argnum, "string contains zeros")
            spec.check(FLAGS_CHAR, True)
            if spec.precision is None and len(text) >= 100:
                out.append(text)  # too long for lua5.4's buffer: no padding
            else:
                if spec.precision is not None:
                    text = text[:spec.precision]
                out.append(spec.pad(text))
        else:
            raise LuaLibError("invalid conversion '%s' to '%s'" % (spec.form(), fname))
    return b"".join(out)

