"""Lua 5.4 numbers: printing, parsing and arithmetic, exactly as lua5.4 on x86-64 Linux.

Values are Python ``int`` (always inside the signed 64-bit range) for Lua integers and
``float`` for Lua floats; strings are ``bytes``. Errors raise ``LuaLibError`` with
lua5.4's message (no position: the VM adds it).

Printing and parsing
    ``tostring_number(n) -> bytes``      ``print``/``tostring``/concat form
    ``str2number(s) -> int | float | None``  the lexer's and ``tonumber(s)``'s rules
    ``tonumber_base(s, base) -> int | None``  ``tonumber(s, base)``, bases 2..36
    ``tonumber_value(v) -> int | float | None``  a number, or a string that converts

Arithmetic (operands already numbers; strings are the VM's coercion)
    ``arith(op, a, b)`` for ``op`` in ``+ - * / % ^ // & | ~ << >>``;
    ``unm(a)``, ``bnot(a)``; the typed pieces ``int_add`` ... ``float_mod`` below.
    Integer ops wrap at 64 bits; ``/`` and ``^`` are always float; bitwise ops
    convert floats with an exact integer value and raise otherwise.

Comparison
    ``lt(a, b)``, ``le(a, b)``, ``eq(a, b)``: exact for mixed integer/float operands
    (Python's own int/float comparisons are exact, which is Lua's rule too).

Conversion and ``math`` helpers
    ``float_to_integer(f) -> int | None``, ``to_integer_strict(n)`` (raises),
    ``math_type(v)``, ``math_tointeger(v)``, ``math_floor``, ``math_ceil``,
    ``math_abs``, ``math_fmod``, ``math_ult``, ``arg_integer(v)`` (luaL_checkinteger's
    conversion: ``3.0`` and ``"3"`` give 3), ``basic_typename(v)``.
"""
import math
import re

from .lerrors import LuaLibError

MAXINTEGER = (1 << 63) - 1
MININTEGER = -(1 << 63)
_MASK = (1 << 64) - 1
_TWO63 = 2.0 ** 63

NO_INTEGER_REP = "number has no integer representation"


def wrap(n):
    """``n`` reduced to the signed 64-bit range, two's complement."""
    n &= _MASK
    return n - (1 << 64) if n >> 63 else n


# --- printing -------------------------------------------------------------

def tostring_float(f):
    """``%.14g``, with ``.0`` added to integral-looking results, and the sign of a NaN
    shown as glibc's printf shows it (``0/0`` is ``-nan`` on x86-64)."""
    if f != f:
        return b"-nan" if math.copysign(1.0, f) < 0 else b"nan"
    text = "%.14g" % f
    if text.lstrip("-").isdigit():
        text += ".0"
    return text.encode("ascii")


def tostring_number(n):
    """The text lua5.4 prints for the number ``n``."""
    if isinstance(n, int):
        return str(n).encode("ascii")
    return tostring_float(n)


# --- parsing --------------------------------------------------------------

_SPACE = b" \t\n\v\f\r"
_DEC_FLOAT = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT = re.compile(
    rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?")


def _str2int(s):
    """Lua's integer numeral rule: decimal (rejected on overflow, so it becomes a
    float) or hexadecimal (wrapping modulo 2^64), optional sign, spaces around."""
    s = s.strip(_SPACE)
    neg = False
    if s[:1] in (b"-", b"+"):
        neg = s[:1] == b"-"
        s = s[1:]
    if s[:2] in (b"0x", b"0X"):
        digits = s[2:]
        if not digits or not all(c in b"0123456789abcdefABCDEF" for c in digits):
            return None
        value = int(digits, 16)
    else:
        if not s or not all(48 <= c <= 57 for c in s):
            return None
        s = s.lstrip(b"0") or b"0"
        if len(s) > 19:  # overflows: a float (and clear of Python's int-text limit)
            return None
        value = int(s)
        if value > MAXINTEGER + neg:
            return None
    return wrap(-value if neg else value)


def _clamped_int(digits):
    """A decimal exponent, held within +-10**9 (past that the result is 0 or inf
    whatever the digits; Python refuses to read very long integers)."""
    sign = -1 if digits[:1] == b"-" else 1
    digits = digits.lstrip(b"+-").lstrip(b"0") or b"0"
    return sign * (10**9 if len(digits) > 9 else int(digits))


def _hex_float(sign, mantissa, exponent):
    whole, _, frac = mantissa.partition(b".")
    digits = (whole + frac).lstrip(b"0") or b"0"
    # exact value: int(digits, 16) * 2**(exp - 4*len(frac)); build it as a hex
    # float literal so that the rounding is float.fromhex's correct rounding
    exp = _clamped_int(exponent or b"0") - 4 * len(frac)
    text = "%s0x%sp%d" % (sign.decode(), digits.decode(), exp)
    try:
        return float.fromhex(text)
    except OverflowError:
        return -math.inf if sign == b"-" else math.inf


def _str2float(s):
    """strtod on the whole string (spaces around allowed), with Lua's refusal of
    ``inf`` and ``nan`` (any ``n`` in the text)."""
    if b"n" in s or b"N" in s:
        return None
    s = s.strip(_SPACE)
    m = _HEX_FLOAT.fullmatch(s)
    if m:
        return _hex_float(m.group(1), m.group(2), m.group(3))
    if _DEC_FLOAT.fullmatch(s):
        return float(s)
    return None


def str2number(s):
    """The number the string ``s`` (bytes) denotes under Lua's rules, or None."""
    if b"\0" in s:
        return None
    n = _str2int(s)
    if n is not None:
        return n
    return _str2float(s)


def tonumber_base(s, base):
    """``tonumber(s, base)``: an integer written in ``base`` (2..36), optional sign,
    spaces around; wraps modulo 2^64. None when ``s`` is not such a numeral."""
    if not 2 <= base <= 36:
        raise LuaLibError("bad argument #2 to 'tonumber' (base out of range)")
    s = s.strip(_SPACE)
    neg = False
    if s[:1] in (b"-", b"+"):
        neg = s[:1] == b"-"
        s = s[1:]
    if not s:
        return None
    value = 0
    for c in s:
        if 48 <= c <= 57:
            digit = c - 48
        elif 65 <= c <= 90:
            digit = c - 55
        elif 97 <= c <= 122:
            digit = c - 87
        else:
            return None
        if digit >= base:
            return None
        value = value * base + digit
    return wrap(-value if neg else value)


def tonumber_value(v):
    """A number as is; a string converted by :func:`str2number`; else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return str2number(bytes(v))
    return None


# --- conversions ----------------------------------------------------------

def float_to_integer(f):
    """The integer equal to the float ``f``, or None (fraction, out of range, NaN)."""
    if f != f or f in (math.inf, -math.inf):
        return None
    if not (-_TWO63 <= f < _TWO63):
        return None
    i = int(f)
    return i if i == f else None


def to_integer_strict(n):
    """An integer for the number ``n``; a float must have an exact integer value."""
    if isinstance(n, int):
        return n
    i = float_to_integer(n)
    if i is None:
        raise LuaLibError(NO_INTEGER_REP)
    return i


def arg_integer(v):
    """luaL_checkinteger's conversion of an argument: an integer, a float with an
    integral value, or a string that converts to one. Raises LuaLibError with the
    argument-error detail (``number has no integer representation``) when ``v`` is a
    number without an integer value; returns None when ``v`` is not a number at all,
    so that the caller can word the type error."""
    n = tonumber_value(v)
    if n is None:
        return None
    return to_integer_strict(n)


def basic_typename(v):
    """Lua's type name for a plain Python value (the default where the VM gives no
    ``typename`` callback): nil, boolean, number, string, function, else table."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, (bytes, bytearray)):
        return "string"
    return "function" if callable(v) else "table"


def math_type(v):
    """``math.type``: b"integer", b"float", or None for a non-number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return b"integer"
    if isinstance(v, float):
        return b"float"
    return None


def math_tointeger(v):
    """``math.tointeger`` of lua5.4.4: integers, integral floats and strings that
    convert to those give an integer; anything else None (fail)."""
    n = tonumber_value(v)
    if n is None:
        return None
    return n if isinstance(n, int) else float_to_integer(n)


def math_floor(n):
    """``math.floor``: an integer when the result fits, else the float floor."""
    if isinstance(n, int):
        return n
    f = float_floor(n)
    i = float_to_integer(f)
    return f if i is None else i


def math_ceil(n):
    """``math.ceil``: an integer when the result fits, else the float ceiling."""
    if isinstance(n, int):
        return n
    f = -float_floor(-n) if n == n else n
    i = float_to_integer(f)
    return f if i is None else i


def math_abs(n):
    """``math.abs``: wraps for math.mininteger, as lua5.4."""
    if isinstance(n, int):
        return wrap(-n) if n < 0 else n
    return math.fabs(n)


def math_ult(a, b):
    """``math.ult``: unsigned integer comparison."""
    return (a & _MASK) < (b & _MASK)


def math_fmod(a, b):
    """``math.fmod``: C fmod (result has the sign of ``a``); integers stay integers
    and a zero integer divisor is an argument error."""
    if isinstance(a, int) and isinstance(b, int):
        if b == 0:
            raise LuaLibError("bad argument #2 to 'fmod' (zero)")
        if b == -1:
            return 0
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return _c_fmod(float(a), float(b))


# --- integer arithmetic ---------------------------------------------------

def int_add(a, b):
    return wrap(a + b)


def int_sub(a, b):
    return wrap(a - b)


def int_mul(a, b):
    return wrap(a * b)


def int_unm(a):
    return wrap(-a)


def int_idiv(a, b):
    """Floor division; ``math.mininteger // -1`` wraps to math.mininteger."""
    if b == 0:
        raise LuaLibError("attempt to divide by zero")
    return wrap(a // b)


def int_mod(a, b):
    """Floor modulo (the result has the sign of ``b``)."""
    if b == 0:
        raise LuaLibError("attempt to perform 'n%0'")
    return a % b


def shift_left(a, n):
    """``a << n`` on 64 bits; a negative ``n`` shifts right (logically); a count of
    64 or more either way gives 0."""
    if n <= -64 or n >= 64:
        return 0
    if n >= 0:
        return wrap(a << n)
    return wrap((a & _MASK) >> -n)


def shift_right(a, n):
    """``a >> n``: logical shift, i.e. ``shift_left(a, -n)`` with 64-bit negation."""
    return shift_left(a, wrap(-n))


def band(a, b):
    return a & b


def bor(a, b):
    return a | b


def bxor(a, b):
    return a ^ b


def int_bnot(a):
    return ~a


# --- float arithmetic -----------------------------------------------------

# x86-64's default NaN (what 0/0, inf-inf, fmod(x, 0) produce) has the sign bit set;
# lua5.4 prints it as "-nan". Python's float("nan") is the positive one.
DEFAULT_NAN = -math.nan


def float_div(a, b):
    """IEEE division as the hardware does it, including division by zero."""
    if b == 0.0:
        if a != a:
            return a
        if a == 0.0:
            return DEFAULT_NAN
        negative = (math.copysign(1.0, a) < 0) != (math.copysign(1.0, b) < 0)
        return -math.inf if negative else math.inf
    return a / b


def float_floor(f):
    """C floor() on a float, returning a float (inf and NaN pass through)."""
    if f != f or f in (math.inf, -math.inf):
        return f
    r = float(math.floor(f))
    return math.copysign(r, f) if r == 0.0 else r


def float_idiv(a, b):
    """Lua's float ``//``: floor(a / b), so ``1.0 // 0.1`` is 10.0."""
    return float_floor(float_div(a, b))


def _c_fmod(a, b):
    """C fmod, NaN results as x86-64 glibc gives them."""
    if a != a:
        return a
    if b != b:
        return b
    if b == 0.0 or a in (math.inf, -math.inf):
        return DEFAULT_NAN
    return math.fmod(a, b)


def float_mod(a, b):
    """Lua's float ``%``: fmod, then moved into the sign of ``b`` when they differ."""
    m = _c_fmod(a, b)
    if (b < 0) if m > 0 else (m < 0 and b > 0):
        m += b
    return m


def _is_odd_integer(y):
    return y == y and abs(y) != math.inf and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def float_pow(a, b):
    """C pow() with its special values (``^`` is always float in Lua)."""
    if b == 2.0:
        return a * a
    if a != a:
        # glibc squares a NaN base, flips its sign for an odd integer exponent when
        # the NaN is negative, and inverts for a negative exponent (NaN stays NaN)
        if b == 0.0:
            return 1.0
        r = a * a
        return -r if math.copysign(1.0, a) < 0 and _is_odd_integer(b) else r
    try:
        return math.pow(a, b)
    except OverflowError:
        return -math.inf if a < 0 and _is_odd_integer(b) else math.inf
    except ValueError:
        if a == 0.0:  # zero to a negative power: a pole
            return math.copysign(math.inf, a) if _is_odd_integer(b) else math.inf
        return DEFAULT_NAN  # negative base, non-integer exponent


def float_unm(a):
    return -a


# --- generic dispatch -----------------------------------------------------

_INT_OPS = {"+": int_add, "-": int_sub, "*": int_mul, "//": int_idiv, "%": int_mod}
_FLOAT_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b,
              "*": lambda a, b: a * b, "/": float_div, "%": float_mod,
              "//": float_idiv, "^": float_pow}
_BIT_OPS = {"&": band, "|": bor, "~": bxor, "<<": shift_left, ">>": shift_right}


def arith(op, a, b):
    """Lua's binary arithmetic ``a op b`` on two numbers (int or float)."""
    fn = _BIT_OPS.get(op)
    if fn is not None:
        return fn(to_integer_strict(a), to_integer_strict(b))
    if isinstance(a, int) and isinstance(b, int):
        fn = _INT_OPS.get(op)
        if fn is not None:
            return fn(a, b)
    return _FLOAT_OPS[op](float(a), float(b))


def unm(a):
    """Unary minus: wrapping for integers."""
    return int_unm(a) if isinstance(a, int) else -a


def bnot(a):
    """Bitwise not; a float operand must have an exact integer value."""
    return ~to_integer_strict(a)


def lt(a, b):
    """``a < b`` for numbers, exact across integer/float (NaN compares false)."""
    return a < b


def le(a, b):
    """``a <= b`` for numbers, exact across integer/float."""
    return a <= b


def eq(a, b):
    """``a == b`` for numbers: ``math.maxinteger + 0.0 == math.maxinteger`` is false."""
    return a == b
