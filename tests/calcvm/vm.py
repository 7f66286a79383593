"""calcvm: a stack-based bytecode calculator VM written against metajit's hint API.

A second example interpreter, deliberately of a different shape from the Brainfuck VM:
boxed values dispatched through methods (``W_Int``, ``W_Float``, ``Code``), a frame
object per guest call kept on an explicit frame list (guest calls and returns happen
inside the one portal loop, so the JIT traces through them), exact big-int arithmetic,
and guest errors raised as a Python exception (``CalcError``) that leaves the portal.

Everything the portal reaches stays inside the interpreter subset the JIT can look
inside (see docs in DESIGN.md, "Flow graphs, jitcodes and the interpreter subset"):
no comprehensions, generators, lambdas, closures, ``with``, ``*args``, f-strings or
``global``.  String formatting happens only in ``@dont_look_inside`` helpers.  The
assembler (text -> ``Code``) runs before the portal and is ordinary Python.

Bytecode: two bytes per instruction, an opcode and a one-byte argument.  ``pc`` is a
byte offset; a jump's argument is the target's *instruction index* (byte offset // 2),
so a function holds at most 256 instructions, 256 constants and 256 locals.

Assembly syntax (one instruction per line, ``#`` or ``;`` starts a comment)::

    # top-level instructions (outside any func ... end) form the main code
        LOAD_CONST 0
        STORE_LOCAL 0
    loop:                       # a label; also allowed before an instruction
        LOAD_LOCAL 0
        ...
        JUMP loop

    func square 1               # func NAME NARGS; arguments arrive in locals 0..NARGS-1
        LOAD_LOCAL 0
        DUP
        MUL
        RETURN
    end

``LOAD_CONST`` takes an int literal (any size), a float literal (``1.5``, ``1e3``,
``.5``) or a function name, which pushes the function.  ``CALL n`` calls the function
found below its ``n`` arguments on the stack (push the function, then the arguments)
and leaves its result in their place.  Code that falls off its end returns 0.
"""
from __future__ import annotations

import re

from metajit import JitDriver, dont_look_inside, elidable, promote


# ---------------------------------------------------------------------------
# guest errors

class CalcError(Exception):
    """A guest run-time error; the top-level driver prints ``error: <message>``."""


class AssemblerError(Exception):
    """Malformed assembly; the message starts with ``line N, column C:``."""

    def __init__(self, lineno, column, message):
        Exception.__init__(self, "line %d, column %d: %s" % (lineno, column, message))
        self.lineno = lineno
        self.column = column
        self.message = message


@dont_look_inside
def type_error(opname, w_a, w_b):
    return CalcError("unsupported operand types for %s: %s and %s"
                     % (opname, w_a.typename(), w_b.typename()))


@dont_look_inside
def arity_error(callee, nargs):
    return CalcError("function %s takes %d argument%s, %d given"
                     % (callee.name, callee.nargs, "" if callee.nargs == 1 else "s", nargs))


@dont_look_inside
def not_callable_error(w_obj):
    return CalcError("%s object is not callable" % (w_obj.typename(),))


@dont_look_inside
def unbound_local_error(code, index):
    return CalcError("local %d of %s read before assignment" % (index, code.name))


# ---------------------------------------------------------------------------
# boxed values

class W_Object:
    """Base of every guest value.  Arithmetic on unsupported types is a guest error."""

    def typename(self):
        return "object"

    def add(self, other):
        raise type_error("+", self, other)

    def sub(self, other):
        raise type_error("-", self, other)

    def mul(self, other):
        raise type_error("*", self, other)

    def truediv(self, other):
        raise type_error("/", self, other)

    def floordiv(self, other):
        raise type_error("//", self, other)

    def mod(self, other):
        raise type_error("%", self, other)

    def lt(self, other):
        raise type_error("<", self, other)

    def eq(self, other):
        return bool_w(self is other)

    def is_true(self):
        return True

    def str(self):
        return "<" + self.typename() + ">"


def bool_w(flag):
    """Comparison results are the ints 1 and 0."""
    if flag:
        return W_Int(1)
    return W_Int(0)


def int_to_float(value):
    """int -> float as Python converts it, an error for ints beyond the float range."""
    try:
        return float(value)
    except OverflowError:
        raise CalcError("int too large to convert to float")


class W_Int(W_Object):
    """An exact integer of any size (a Python int)."""
    _immutable_fields_ = ['intval']
    intval: int

    def __init__(self, intval):
        self.intval = intval

    def typename(self):
        return "int"

    def add(self, other):
        if isinstance(other, W_Int):
            return W_Int(self.intval + other.intval)
        if isinstance(other, W_Float):
            return W_Float(int_to_float(self.intval) + other.floatval)
        raise type_error("+", self, other)

    def sub(self, other):
        if isinstance(other, W_Int):
            return W_Int(self.intval - other.intval)
        if isinstance(other, W_Float):
            return W_Float(int_to_float(self.intval) - other.floatval)
        raise type_error("-", self, other)

    def mul(self, other):
        if isinstance(other, W_Int):
            return W_Int(self.intval * other.intval)
        if isinstance(other, W_Float):
            return W_Float(int_to_float(self.intval) * other.floatval)
        raise type_error("*", self, other)

    def truediv(self, other):
        if isinstance(other, W_Int):
            if other.intval == 0:
                raise CalcError("division by zero")
            try:
                # Python's int / int: correctly rounded, even for big ints
                return W_Float(self.intval / other.intval)
            except OverflowError:
                raise CalcError("integer division result too large for a float")
        if isinstance(other, W_Float):
            return W_Float(int_to_float(self.intval)).truediv(other)
        raise type_error("/", self, other)

    def floordiv(self, other):
        if isinstance(other, W_Int):
            if other.intval == 0:
                raise CalcError("division by zero")
            return W_Int(self.intval // other.intval)
        if isinstance(other, W_Float):
            return W_Float(int_to_float(self.intval)).floordiv(other)
        raise type_error("//", self, other)

    def mod(self, other):
        if isinstance(other, W_Int):
            if other.intval == 0:
                raise CalcError("division by zero")
            return W_Int(self.intval % other.intval)
        if isinstance(other, W_Float):
            return W_Float(int_to_float(self.intval)).mod(other)
        raise type_error("%", self, other)

    def lt(self, other):
        if isinstance(other, W_Int):
            return bool_w(self.intval < other.intval)
        if isinstance(other, W_Float):
            return bool_w(self.intval < other.floatval)   # exact, as Python compares
        raise type_error("<", self, other)

    def eq(self, other):
        if isinstance(other, W_Int):
            return bool_w(self.intval == other.intval)
        if isinstance(other, W_Float):
            return bool_w(self.intval == other.floatval)
        return W_Int(0)

    def is_true(self):
        return self.intval != 0

    def str(self):
        return str(self.intval)


class W_Float(W_Object):
    """A float (a Python float, IEEE double)."""
    _immutable_fields_ = ['floatval']
    floatval: float

    def __init__(self, floatval):
        self.floatval = floatval

    def typename(self):
        return "float"

    def add(self, other):
        if isinstance(other, W_Float):
            return W_Float(self.floatval + other.floatval)
        if isinstance(other, W_Int):
            return W_Float(self.floatval + int_to_float(other.intval))
        raise type_error("+", self, other)

    def sub(self, other):
        if isinstance(other, W_Float):
            return W_Float(self.floatval - other.floatval)
        if isinstance(other, W_Int):
            return W_Float(self.floatval - int_to_float(other.intval))
        raise type_error("-", self, other)

    def mul(self, other):
        if isinstance(other, W_Float):
            return W_Float(self.floatval * other.floatval)
        if isinstance(other, W_Int):
            return W_Float(self.floatval * int_to_float(other.intval))
        raise type_error("*", self, other)

    def _other_float(self, opname, other):
        if isinstance(other, W_Float):
            return other.floatval
        if isinstance(other, W_Int):
            return int_to_float(other.intval)
        raise type_error(opname, self, other)

    def truediv(self, other):
        y = self._other_float("/", other)
        if y == 0.0:
            raise CalcError("division by zero")
        return W_Float(self.floatval / y)

    def floordiv(self, other):
        y = self._other_float("//", other)
        if y == 0.0:
            raise CalcError("division by zero")
        return W_Float(self.floatval // y)

    def mod(self, other):
        y = self._other_float("%", other)
        if y == 0.0:
            raise CalcError("division by zero")
        return W_Float(self.floatval % y)

    def lt(self, other):
        if isinstance(other, W_Float):
            return bool_w(self.floatval < other.floatval)
        if isinstance(other, W_Int):
            return bool_w(self.floatval < other.intval)   # exact, as Python compares
        raise type_error("<", self, other)

    def eq(self, other):
        if isinstance(other, W_Float):
            return bool_w(self.floatval == other.floatval)
        if isinstance(other, W_Int):
            return bool_w(self.floatval == other.intval)
        return W_Int(0)

    def is_true(self):
        return self.floatval != 0.0

    def str(self):
        return repr(self.floatval)


class Code(W_Object):
    """A guest function: bytecode, constants and frame sizes.  Also a guest value
    (``LOAD_CONST fname`` pushes it, ``CALL`` calls it).

    ``consts`` is filled in by the assembler before any code runs (functions may
    refer to each other and to themselves); it never changes after that."""
    _immutable_fields_ = ['bytecode', 'consts[*]', 'name', 'nlocals', 'nargs', 'stacksize']
    bytecode: bytes
    consts: list
    name: str
    nargs: int
    nlocals: int
    stacksize: int

    def __init__(self, name, bytecode, consts, nargs, nlocals, stacksize, lines=None):
        self.name = name
        self.bytecode = bytecode
        self.consts = consts
        self.nargs = nargs
        self.nlocals = nlocals
        self.stacksize = stacksize
        self.lines = lines          # source line of each instruction (for tools only)

    def typename(self):
        return "function"

    def str(self):
        return "<function " + self.name + ">"

    def __repr__(self):
        return "<Code %s>" % (self.name,)


@elidable
def get_const(code, index):
    """A constant of a code object (folded while tracing: code is green)."""
    return code.consts[index]


# ---------------------------------------------------------------------------
# frames

class Frame:
    """One activation of a guest function: its value stack and locals.  ``pc`` holds
    the return position while the frame waits for a callee."""
    _immutable_fields_ = ['code', 'stack', 'locals']
    code: Code
    pc: int
    stack: list
    sp: int
    locals: list

    def __init__(self, code):
        self.code = code
        self.pc = 0
        self.stack = [None] * code.stacksize
        self.sp = 0
        self.locals = [None] * code.nlocals

    def push(self, w_value):
        sp = self.sp
        self.stack[sp] = w_value
        self.sp = sp + 1

    def pop(self):
        sp = self.sp - 1
        w_value = self.stack[sp]
        self.stack[sp] = None
        self.sp = sp
        return w_value

    def peek(self, depth):
        return self.stack[self.sp - 1 - depth]


# ---------------------------------------------------------------------------
# opcodes

LOAD_CONST = 1
LOAD_LOCAL = 2
STORE_LOCAL = 3
ADD = 4
SUB = 5
MUL = 6
DIV = 7
FLOORDIV = 8
MOD = 9
LT = 10
EQ = 11
JUMP = 12
JUMP_IF_FALSE = 13
CALL = 14
RETURN = 15
PRINT = 16
POP = 17
DUP = 18

OPNAMES = {
    LOAD_CONST: "LOAD_CONST", LOAD_LOCAL: "LOAD_LOCAL", STORE_LOCAL: "STORE_LOCAL",
    ADD: "ADD", SUB: "SUB", MUL: "MUL", DIV: "DIV", FLOORDIV: "FLOORDIV", MOD: "MOD",
    LT: "LT", EQ: "EQ", JUMP: "JUMP", JUMP_IF_FALSE: "JUMP_IF_FALSE", CALL: "CALL",
    RETURN: "RETURN", PRINT: "PRINT", POP: "POP", DUP: "DUP",
}
OPCODES = dict((name, num) for num, name in OPNAMES.items())

# instructions taking an argument, and how each changes the stack depth
# (pops, pushes); CALL pops nargs + 1 (the arguments and the function)
_HAS_ARG = {"LOAD_CONST", "LOAD_LOCAL", "STORE_LOCAL", "JUMP", "JUMP_IF_FALSE", "CALL"}
_STACK_EFFECT = {
    "LOAD_CONST": (0, 1), "LOAD_LOCAL": (0, 1), "STORE_LOCAL": (1, 0),
    "ADD": (2, 1), "SUB": (2, 1), "MUL": (2, 1), "DIV": (2, 1), "FLOORDIV": (2, 1),
    "MOD": (2, 1), "LT": (2, 1), "EQ": (2, 1), "JUMP": (0, 0), "JUMP_IF_FALSE": (1, 0),
    "RETURN": (1, 0), "PRINT": (1, 0), "POP": (1, 0), "DUP": (1, 2),
}

MAX_DEPTH = 10000       # guest call depth before "maximum recursion depth exceeded"


# ---------------------------------------------------------------------------
# the interpreter

def get_printable_location(pc, code):
    op = code.bytecode[pc]
    return "%s:%d %s %d" % (code.name, pc // 2, OPNAMES.get(op, "?"), code.bytecode[pc + 1])


driver = JitDriver(greens=['pc', 'code'], reds=['frame', 'frames', 'out'],
                   get_printable_location=get_printable_location, name="calcvm")


@dont_look_inside
def print_value(out, w_value):
    out.append(w_value.str() + "\n")


@driver.portal
def run(code, out):
    """Run ``code`` (a function of no arguments) to its RETURN; PRINT appends lines
    to ``out``.  Returns the guest's result; a guest error raises ``CalcError``."""
    frame = Frame(code)
    frames = []
    pc = 0
    while True:
        driver.jit_merge_point(pc=pc, code=code, frame=frame, frames=frames, out=out)
        op = code.bytecode[pc]
        arg = code.bytecode[pc + 1]
        pc += 2
        if op == LOAD_LOCAL:
            w_value = frame.locals[arg]
            if w_value is None:
                raise unbound_local_error(code, arg)
            frame.push(w_value)
        elif op == LOAD_CONST:
            frame.push(get_const(code, arg))
        elif op == STORE_LOCAL:
            frame.locals[arg] = frame.pop()
        elif op == ADD:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.add(w_b))
        elif op == SUB:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.sub(w_b))
        elif op == MUL:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.mul(w_b))
        elif op == LT:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.lt(w_b))
        elif op == EQ:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.eq(w_b))
        elif op == DIV:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.truediv(w_b))
        elif op == FLOORDIV:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.floordiv(w_b))
        elif op == MOD:
            w_b = frame.pop()
            w_a = frame.pop()
            frame.push(w_a.mod(w_b))
        elif op == JUMP:
            target = arg * 2
            if target < pc:
                pc = target
                driver.can_enter_jit(pc=pc, code=code, frame=frame, frames=frames, out=out)
            else:
                pc = target
        elif op == JUMP_IF_FALSE:
            w_cond = frame.pop()
            if not w_cond.is_true():
                target = arg * 2
                if target < pc:
                    pc = target
                    driver.can_enter_jit(pc=pc, code=code, frame=frame, frames=frames,
                                         out=out)
                else:
                    pc = target
        elif op == CALL:
            w_callee = frame.peek(arg)
            if not isinstance(w_callee, Code):
                raise not_callable_error(w_callee)
            # the callee's code becomes the green ``code``: make it a trace constant
            callee = promote(w_callee)
            if callee.nargs != arg:
                raise arity_error(callee, arg)
            if len(frames) >= MAX_DEPTH:
                raise CalcError("maximum recursion depth exceeded")
            new_frame = Frame(callee)
            i = arg - 1
            while i >= 0:
                new_frame.locals[i] = frame.pop()
                i -= 1
            frame.pop()                 # the function itself
            frame.pc = pc
            frames.append(frame)
            frame = new_frame
            code = callee
            pc = 0
        elif op == RETURN:
            w_result = frame.pop()
            if len(frames) == 0:
                return w_result
            frame = frames.pop()
            # the caller's position is data on the frame list: promote it back to greens
            code = promote(frame.code)
            pc = promote(frame.pc)
            frame.push(w_result)
        elif op == PRINT:
            print_value(out, frame.pop())
        elif op == POP:
            frame.pop()
        elif op == DUP:
            frame.push(frame.peek(0))
        else:
            raise CalcError("bad opcode")


# ---------------------------------------------------------------------------
# the assembler (plain Python: runs before the portal, never traced)

_LABEL_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT_RE = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT_RE = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?\Z")
_MAX_ARG = 255


class _Token:
    __slots__ = ("text", "lineno", "column")

    def __init__(self, text, lineno, column):
        self.text = text
        self.lineno = lineno
        self.column = column


def _split(line, lineno):
    """The tokens of one line, comments stripped, with their 1-based columns."""
    for marker in ("#", ";"):
        cut = line.find(marker)
        if cut >= 0:
            line = line[:cut]
    tokens = []
    for m in re.finditer(r"\S+", line):
        tokens.append(_Token(m.group(), lineno, m.start() + 1))
    return tokens


class _FunctionBuilder:
    def __init__(self, name, nargs, lineno):
        self.name = name
        self.nargs = nargs
        self.lineno = lineno
        self.instrs = []        # (opname, operand token or None, lineno, column)
        self.labels = {}        # name -> instruction index
        self.label_lines = {}

    def add_label(self, tok):
        name = tok.text
        if name in self.labels:
            raise AssemblerError(tok.lineno, tok.column, "duplicate label %r (first defined "
                                 "on line %d)" % (name, self.label_lines[name]))
        self.labels[name] = len(self.instrs)
        self.label_lines[name] = tok.lineno


def _parse(source):
    main = _FunctionBuilder("<main>", 0, 1)
    functions = {}
    order = [main]
    current = main
    lineno = 0
    for lineno, line in enumerate(source.splitlines(), 1):
        tokens = _split(line, lineno)
        # leading labels: "loop:" or "loop: ADD"
        while tokens:
            m = _LABEL_RE.match(tokens[0].text)
            if m is None:
                break
            rest = tokens[0].text[m.end():]
            current.add_label(_Token(m.group(1), lineno, tokens[0].column))
            if rest:
                tokens[0] = _Token(rest, lineno, tokens[0].column + m.end())
            else:
                tokens.pop(0)
        if not tokens:
            continue
        head = tokens[0]
        word = head.text.upper()
        if head.text == "func":
            if current is not main:
                raise AssemblerError(lineno, head.column, "func inside func %s (missing "
                                     "'end' for the func on line %d)"
                                     % (current.name, current.lineno))
            if len(tokens) != 3:
                raise AssemblerError(lineno, head.column, "expected 'func NAME NARGS'")
            name_tok, nargs_tok = tokens[1], tokens[2]
            if not _NAME_RE.match(name_tok.text):
                raise AssemblerError(lineno, name_tok.column,
                                     "bad function name %r" % (name_tok.text,))
            if name_tok.text in functions:
                raise AssemblerError(lineno, name_tok.column, "duplicate function %r (first "
                                     "defined on line %d)"
                                     % (name_tok.text, functions[name_tok.text].lineno))
            if not _INT_RE.match(nargs_tok.text) or not 0 <= int(nargs_tok.text) <= _MAX_ARG:
                raise AssemblerError(lineno, nargs_tok.column, "NARGS must be an integer "
                                     "0..%d, not %r" % (_MAX_ARG, nargs_tok.text))
            current = _FunctionBuilder(name_tok.text, int(nargs_tok.text), lineno)
            functions[current.name] = current
            order.append(current)
            continue
        if head.text == "end":
            if current is main:
                raise AssemblerError(lineno, head.column, "'end' outside a func")
            if len(tokens) != 1:
                raise AssemblerError(lineno, tokens[1].column, "unexpected text after 'end'")
            current = main
            continue
        if word not in OPCODES:
            raise AssemblerError(lineno, head.column, "unknown instruction %r" % (head.text,))
        if word in _HAS_ARG:
            if len(tokens) < 2:
                raise AssemblerError(lineno, head.column + len(head.text),
                                     "%s needs an operand" % (word,))
            if len(tokens) > 2:
                raise AssemblerError(lineno, tokens[2].column, "unexpected text after the "
                                     "operand of %s" % (word,))
            operand = tokens[1]
        else:
            if len(tokens) > 1:
                raise AssemblerError(lineno, tokens[1].column,
                                     "%s takes no operand" % (word,))
            operand = None
        current.instrs.append((word, operand, lineno, head.column))
    if current is not main:
        raise AssemblerError(current.lineno, 1, "func %s has no 'end'" % (current.name,))
    return order, functions, lineno


def _small_int(tok, what):
    if not _INT_RE.match(tok.text) or not 0 <= int(tok.text) <= _MAX_ARG:
        raise AssemblerError(tok.lineno, tok.column, "%s must be an integer 0..%d, not %r"
                             % (what, _MAX_ARG, tok.text))
    return int(tok.text)


def _encode(fb, functions, last_line):
    """Bytecode, constants (function names still as strings) and frame sizes."""
    consts = []
    const_index = {}
    nlocals = fb.nargs
    lines = []
    code = bytearray()

    def const(key, value, tok):
        if key not in const_index:
            if len(consts) > _MAX_ARG:
                raise AssemblerError(tok.lineno, tok.column, "too many constants in %s "
                                     "(at most %d)" % (fb.name, _MAX_ARG + 1))
            const_index[key] = len(consts)
            consts.append(value)
        return const_index[key]

    # code that can fall off its end returns 0
    instrs = list(fb.instrs)
    if (not instrs or instrs[-1][0] not in ("RETURN", "JUMP")
            or len(instrs) in fb.labels.values()):
        zero_tok = _Token("0", last_line, 1)
        instrs += [("LOAD_CONST", zero_tok, last_line, 1), ("RETURN", None, last_line, 1)]
    if len(instrs) > _MAX_ARG + 1:
        word, tok, lineno, column = instrs[min(_MAX_ARG + 1, len(fb.instrs) - 1)]
        raise AssemblerError(lineno, column, "%s is too long: at most %d instructions, "
                             "with the implicit 'LOAD_CONST 0; RETURN' at the end of code "
                             "that can fall off its end" % (fb.name, _MAX_ARG + 1))
    for word, tok, lineno, column in instrs:
        arg = 0
        if word == "LOAD_CONST":
            text = tok.text
            if _INT_RE.match(text):
                arg = const(("int", int(text)), W_Int(int(text)), tok)
            elif _FLOAT_RE.match(text):
                value = float(text)
                arg = const(("float", repr(value)), W_Float(value), tok)
            elif _NAME_RE.match(text):
                if text not in functions:
                    raise AssemblerError(tok.lineno, tok.column,
                                         "unknown function %r" % (text,))
                arg = const(("func", text), text, tok)
            else:
                raise AssemblerError(tok.lineno, tok.column, "bad constant %r: expected an "
                                     "int, a float or a function name" % (text,))
        elif word in ("LOAD_LOCAL", "STORE_LOCAL"):
            arg = _small_int(tok, "local index")
            nlocals = max(nlocals, arg + 1)
        elif word in ("JUMP", "JUMP_IF_FALSE"):
            if tok.text not in fb.labels:
                raise AssemblerError(tok.lineno, tok.column, "undefined label %r"
                                     % (tok.text,))
            arg = fb.labels[tok.text]
        elif word == "CALL":
            arg = _small_int(tok, "CALL's argument count")
        code.append(OPCODES[word])
        code.append(arg)
        lines.append(lineno)
    stacksize = _stack_depth(fb, instrs)
    return bytes(code), consts, nlocals, stacksize, lines


def _stack_depth(fb, instrs):
    """Check that no instruction can underflow the stack and that every path reaches
    an instruction with the same depth; return the maximum depth."""
    depth_at = [-1] * len(instrs)
    came_from = [0] * len(instrs)
    todo = [(0, 0, instrs[0][2])]
    maximum = 0
    while todo:
        index, depth, from_line = todo.pop()
        if depth_at[index] >= 0:
            if depth_at[index] != depth:
                word, tok, lineno, column = instrs[index]
                raise AssemblerError(lineno, column, "stack depth %d here on the path from "
                                     "line %d, but %d on the path from line %d"
                                     % (depth, from_line, depth_at[index], came_from[index]))
            continue
        depth_at[index] = depth
        came_from[index] = from_line
        word, tok, lineno, column = instrs[index]
        if word == "CALL":
            pops, pushes = int(tok.text) + 1, 1
        else:
            pops, pushes = _STACK_EFFECT[word]
        if depth < pops:
            raise AssemblerError(lineno, column, "%s needs %d value%s on the stack, there "
                                 "%s only %d" % (word, pops, "" if pops == 1 else "s",
                                                 "is" if depth == 1 else "are", depth))
        depth = depth - pops + pushes
        maximum = max(maximum, depth)
        if word == "RETURN":
            continue
        if word in ("JUMP", "JUMP_IF_FALSE"):
            todo.append((fb.labels[tok.text], depth, lineno))
            if word == "JUMP":
                continue
        todo.append((index + 1, depth, lineno))
    return maximum


def assemble_all(source):
    """Assemble ``source``; returns a dict of name -> ``Code`` (main is ``"<main>"``).
    Raises ``AssemblerError`` naming the line and column of the first problem."""
    order, functions, last_line = _parse(source)
    codes = {}
    pending = []
    for fb in order:
        bytecode, consts, nlocals, stacksize, lines = _encode(fb, functions, max(last_line, 1))
        codes[fb.name] = Code(fb.name, bytecode, consts, fb.nargs, nlocals, stacksize, lines)
        pending.append(consts)
    # resolve function constants (functions may be recursive or refer to each other)
    for consts in pending:
        for i in range(len(consts)):
            if isinstance(consts[i], str):
                consts[i] = codes[consts[i]]
    return codes


def assemble(source):
    """Assemble ``source`` into its main ``Code``."""
    return assemble_all(source)["<main>"]


def disassemble(code):
    """A readable listing of one code object."""
    out = []
    for i in range(0, len(code.bytecode), 2):
        op, arg = code.bytecode[i], code.bytecode[i + 1]
        name = OPNAMES.get(op, "?%d" % op)
        text = "%4d  %-14s" % (i // 2, name)
        if name == "LOAD_CONST":
            w = code.consts[arg]
            text += "%d (%s)" % (arg, w.str())
        elif name in ("LOAD_LOCAL", "STORE_LOCAL", "JUMP", "JUMP_IF_FALSE", "CALL"):
            text += "%d" % arg
        out.append(text.rstrip())
    return "\n".join(out)


# ---------------------------------------------------------------------------
# the top-level driver

def run_program(source):
    """Assemble and run ``source``; return what it printed.  A guest error ends the
    run with the line ``error: <message>`` after the output so far.  Malformed
    assembly raises ``AssemblerError``.  Leaves no state behind between runs."""
    code = assemble(source)
    out = []
    try:
        run(code, out)
    except CalcError as e:
        out.append("error: " + str(e) + "\n")
    return "".join(out)
