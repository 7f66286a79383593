"""The text form of traces: every trace prints to, and parses from, readable text.

::

    [i0, p1, f2]
    label(i0, p1, f2, descr=loop0)
    i3 = int_add_ovf(i0, 1)
    guard_no_overflow() [@portal#12: i0, p1 | @step#3: bool(i3), v0] {v0 = new(Point, x=i3, y=7)}
    p4 = getfield(p1, descr=Frame.pc)
    p5 = call_r(ConstPtr(len), p1, descr=len_2)
    jump(i3, p1, f2, descr=loop0)

- The first line lists the input boxes.  A box is its kind's letter (``i`` int,
  ``f`` float, ``p`` reference) and a number; printing renumbers the boxes in order
  of definition with one counter, so the printed text is canonical.  A box that was
  replaced by the optimiser (``Box.forwarded``) prints as what it stands for.
- Constants: ints ``5``, ``-3``; bools ``True``, ``False`` (they stay of class
  bool); floats in ``repr`` form, always with a ``.`` or an exponent, or ``inf``,
  ``-inf``, ``nan``, ``-nan`` (the quiet NaN with the sign bit) and
  ``nan(0x7ff8000000000001)`` for any other NaN bit pattern; the null reference
  ``null``; any other object ``ConstPtr(name)``.
- ``descr=name`` names a descriptor.  Names of objects, descriptors and jitcodes
  come from ``Trace.name_of`` and live in one namespace per trace
  (``trace.objects``).
- A guard may carry its snapshot: ``[frame | frame ...]``, outermost frame first.
  A frame is ``@code#pc:`` (``@code#pc exc:`` when it resumes by re-raising) and its
  live values: a value, ``bool(i5)`` for an int that resumes as a bool (the entry
  ``(value, True)`` of ``FrameSnapshot``), or a virtual ``v0``.  The virtuals follow
  in braces: ``v0 = new(SizeName, field=value, ...)`` (a field is written short
  when its descriptor is named ``SizeName.field``, else by its full name) and
  ``v1 = array(ArrayName, value, ...)`` (or ``array(ArrayName, 0=value, 5=value)``
  when the indices are not 0, 1, 2 ... in order).  Virtuals are numbered per guard
  in order of first appearance, may refer to each other and may form cycles.
  Stores the optimiser delayed past the guard follow the frames, in program order:
  ``store(p0, Frame.pc=i4)`` (resume performs them before the interpreter goes on).
- Blank lines and lines starting with ``#`` are skipped; ``# ...`` after an op is a
  comment.

Parsing takes a namespace (name -> object, descriptor or jitcode).  A name it does
not provide gets a placeholder: a descriptor of the class the op's spec names
(``Frame.pc`` a FieldDescr of field ``pc`` on a placeholder class ``Frame``), a
``CodeRef`` for a jitcode, and a placeholder class for ``ConstPtr(name)``.  One
placeholder class stands for each name, so ``new_with_vtable(descr=Point)`` builds
an instance of the owner of ``Point.x``.  Parsing a printed trace with
``namespace=trace.objects`` gives back the very same objects.
"""
from __future__ import annotations

import dataclasses
import math
import re
import struct
from typing import Any

from metajit.tracer import ir
from metajit.tracer.ir import (OPS, ArrayDescr, Box, CallDescr, Const, DelayedStore, ExitDescr,
                               FieldDescr, FrameSnapshot, GreenKeyDescr, Op, SizeDescr,
                               Snapshot, TargetDescr, Trace, Value, Virtual)

KIND_LETTER = {"i": "i", "f": "f", "r": "p"}
LETTER_KIND = {letter: kind for kind, letter in KIND_LETTER.items()}
KIND_WORD = {"i": "an int", "f": "a float", "r": "a reference"}

_NAN_BITS = 0x7FF8000000000000
_SIGN_BIT = 1 << 63


@dataclasses.dataclass(eq=False)
class CodeRef:
    """Stands for a jitcode named in a parsed snapshot that the namespace did not give."""
    name: str


class ParseError(ValueError):
    """Bad trace text: the message, the 1-based line and column, and the line itself."""

    def __init__(self, message: str, line: int, column: int, source: str = ""):
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        text = f"line {line}, column {column}: {message}"
        if source:
            text += f"\n    {source}\n    {' ' * (column - 1)}^"
        super().__init__(text)


# --- printing ----------------------------------------------------------------------

def float_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def float_from_bits(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def format_float(x: float) -> str:
    x = float(x)
    if x != x:
        bits = float_bits(x)
        if bits == _NAN_BITS:
            return "nan"
        if bits == _NAN_BITS | _SIGN_BIT:
            return "-nan"
        return f"nan(0x{bits:016x})"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)   # always has a '.' or an exponent: never mistaken for an int


def object_hint(obj: Any) -> str:
    """The name a constant object is printed under (before de-duplication):
    a class's or function's qualified name, else its class name in lower case."""
    for attr in ("__qualname__", "__name__"):
        name = getattr(obj, attr, None)
        if isinstance(name, str):
            return name
    return type(obj).__name__.lower()


class Namer:
    """The names of one trace's text: boxes numbered in order of definition (one
    counter for all kinds), objects and descriptors through ``trace.name_of``."""

    def __init__(self, trace: Trace):
        self.trace = trace
        self.boxes: dict[Box, str] = {}
        self._count = 0

    def define(self, box: Box) -> str:
        name = f"{KIND_LETTER[box.kind]}{self._count}"
        self._count += 1
        self.boxes[box] = name
        return name

    def box(self, box: Box) -> str:
        name = self.boxes.get(box)
        return name if name is not None else self.define(box)

    def obj(self, obj: Any, hint: str) -> str:
        return self.trace.name_of(obj, hint)

    def descr(self, descr) -> str:
        return self.trace.name_of(descr, descr.describe())


def format_value(value: Value, namer: Namer) -> str:
    if isinstance(value, Box):
        value = value.find()
    if isinstance(value, Box):
        return namer.box(value)
    if not isinstance(value, Const):
        raise TypeError(f"not a trace value: {value!r}")
    v = value.value
    if value.kind == "i":
        if isinstance(v, bool):
            return str(v)
        return str(int(v))
    if value.kind == "f":
        return format_float(v)
    if v is None:
        return "null"
    return f"ConstPtr({namer.obj(v, object_hint(v))})"


def format_snapshot(snapshot: Snapshot, namer: Namer) -> str:
    """``[frames]``, a `` store(...)`` per delayed store, and when there are
    virtuals, `` {definitions}``."""
    names: dict[int, str] = {}
    order: list[Virtual] = []

    def entry(e) -> str:
        if isinstance(e, tuple):
            value, as_bool = e
            return f"bool({entry(value)})" if as_bool else entry(value)
        if isinstance(e, Virtual):
            name = names.get(id(e))
            if name is None:
                name = names[id(e)] = f"v{len(order)}"
                order.append(e)
            return name
        return format_value(e, namer)

    frames = []
    for frame in snapshot.frames:
        code = namer.obj(frame.code, getattr(frame.code, "name", None) or "code")
        head = f"@{code}#{frame.pc}{' exc' if frame.exc_pending else ''}:"
        items = [entry(e) for e in frame.values]
        frames.append(head + (" " + ", ".join(items) if items else ""))
    text = "[" + " | ".join(frames) + "]"
    for obj, descr, value, index in snapshot.stores:
        item = "" if index is None else f"[{entry(index)}]"
        text += f" store({entry(obj)}, {namer.descr(descr)}{item}={entry(value)})"
    definitions = []
    n = 0
    while n < len(order):     # defining one virtual may name the next ones
        virtual = order[n]
        definitions.append(f"{names[id(virtual)]} = {_format_virtual(virtual, entry, namer)}")
        n += 1
    if definitions:
        text += " {" + ", ".join(definitions) + "}"
    return text


def _format_virtual(virtual: Virtual, entry, namer: Namer) -> str:
    descr_name = namer.descr(virtual.descr)
    if isinstance(virtual.descr, ArrayDescr):
        keys = list(virtual.fields)
        if keys == list(range(len(keys))):
            items = [entry(virtual.fields[k]) for k in keys]
        else:
            items = [f"{k}={entry(x)}" for k, x in virtual.fields.items()]
        return f"array({', '.join([descr_name, *items])})"
    items = []
    for field, x in virtual.fields.items():
        field_name = namer.descr(field)
        short = field_name[len(descr_name) + 1:]
        if field_name == f"{descr_name}.{short}" and short and "." not in short:
            field_name = short
        items.append(f"{field_name}={entry(x)}")
    return f"new({', '.join([descr_name, *items])})"


def format_op(op: Op, namer: Namer) -> str:
    """One op as a line of text (its result is defined in ``namer`` afterwards)."""
    parts = [format_value(a, namer) for a in op.args]
    if op.descr is not None:
        parts.append("descr=" + namer.descr(op.descr))
    text = f"{op.name}({', '.join(parts)})"
    if op.snapshot is not None:
        text += " " + format_snapshot(op.snapshot, namer)
    if op.result is not None:
        text = f"{namer.define(op.result)} = {text}"
    return text


def format_trace(trace: Trace) -> str:
    namer = Namer(trace)
    lines = ["[" + ", ".join(namer.define(box) for box in trace.inputargs) + "]"]
    lines.extend(format_op(op, namer) for op in trace.ops)
    return "\n".join(lines) + "\n"


# --- parsing -----------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<float>-?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+))
  | (?P<hex>0[xX][0-9a-fA-F]+)
  | (?P<int>-?\d+)
  | (?P<name>[^\W\d][\w.]*)
  | (?P<punct>[\[\](){},=|:@#-])
""", re.VERBOSE)

_BOX_NAME = re.compile(r"[ifp]\d+\Z")
_VIRTUAL_NAME = re.compile(r"v\d+\Z")


@dataclasses.dataclass
class _Token:
    kind: str     # 'float', 'hex', 'int', 'name', 'punct', 'end'
    text: str
    column: int   # 1-based


def _new_field_descr(parser: "_Parser", name: str, opname: str):
    owner, _, field = name.rpartition(".")
    return FieldDescr(parser.class_named(owner) if owner else object, field)


def _new_array_descr(parser: "_Parser", name: str, opname: str):
    if opname.startswith(("getarrayitem_", "setarrayitem_")):
        kind = opname[-1]
    else:
        kind = "i" if name == "bytearray" else "r"
    return ArrayDescr(name, kind)


# Placeholder descriptors for names the namespace does not give, by the spec's class.
_NEW_DESCR = {
    "FieldDescr": _new_field_descr,
    "ArrayDescr": _new_array_descr,
    "SizeDescr": lambda parser, name, opname: SizeDescr(parser.class_named(name)),
    "CallDescr": lambda parser, name, opname: CallDescr(
        name, result=OPS[opname].result if opname in OPS else "r",
        elidable=opname.startswith("call_pure")),
    "GreenKeyDescr": lambda parser, name, opname: GreenKeyDescr(name),
    "TargetDescr": lambda parser, name, opname: TargetDescr(name),
    "ExitDescr": lambda parser, name, opname: ExitDescr(name),
}


class _Parser:
    def __init__(self, text: str, namespace: dict | None):
        self.lines = text.splitlines()
        self.namespace = namespace or {}
        self.trace = Trace([], [])
        self.boxes: dict[str, Box] = {}
        self.classes: dict[str, type] = {}
        self.lineno = 0
        self.tokens: list[_Token] = []
        self.at = 0

    # -- tokens --
    def tokenize(self, line: str) -> list[_Token]:
        tokens = []
        pos = 0
        while pos < len(line):
            m = _TOKEN.match(line, pos)
            if m is None:
                self.fail(f"unexpected character {line[pos]!r}", pos + 1)
            if m.lastgroup != "ws":
                tokens.append(_Token(m.lastgroup, m.group(), pos + 1))
            pos = m.end()
        tokens.append(_Token("end", "", len(line) + 1))
        return tokens

    def fail(self, message: str, column: int | None = None):
        if column is None:
            column = self.peek().column
        raise ParseError(message, self.lineno, column, self.lines[self.lineno - 1].rstrip())

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def next(self) -> _Token:
        token = self.peek()
        self.at += 1
        return token

    def is_punct(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "punct" and token.text == text

    def expect(self, text: str) -> _Token:
        if not self.is_punct(text):
            self.fail(f"expected '{text}', found {self.describe(self.peek())}")
        return self.next()

    def expect_name(self, what: str) -> _Token:
        if self.peek().kind != "name":
            self.fail(f"expected {what}, found {self.describe(self.peek())}")
        return self.next()

    @staticmethod
    def describe(token: _Token) -> str:
        return "the end of the line" if token.kind == "end" else f"'{token.text}'"

    def at_line_end(self) -> bool:
        return self.peek().kind == "end" or self.is_punct("#")

    # -- names --
    def lookup(self, name: str) -> Any:
        """The object a name stands for (binding it into the trace), or a KeyError."""
        if name in self.trace.objects:
            return self.trace.objects[name]
        obj = self.namespace[name]
        self.bind(name, obj)
        return obj

    def bind(self, name: str, obj: Any) -> None:
        self.trace.objects[name] = obj
        self.trace.names.setdefault(id(obj), name)

    def class_named(self, name: str) -> type:
        """The class a descriptor name refers to: from the namespace (a class, or a
        SizeDescr's class), else one placeholder class per name."""
        obj = self.trace.objects.get(name, self.namespace.get(name))
        if isinstance(obj, type):
            return obj
        if isinstance(obj, SizeDescr):
            return obj.cls
        cls = self.classes.get(name)
        if cls is None:
            short = name.rpartition(".")[2] or "placeholder"
            cls = self.classes[name] = type(short, (), {"__qualname__": name,
                                                       "__module__": __name__})
        return cls

    def descr(self, token: _Token, cls_name: str, opname: str):
        cls = getattr(ir, cls_name)
        try:
            descr = self.lookup(token.text)
        except KeyError:
            descr = _NEW_DESCR[cls_name](self, token.text, opname)
            self.bind(token.text, descr)
        if not isinstance(descr, cls):
            self.fail(f"'{token.text}' is a {type(descr).__name__}, "
                      f"{opname} needs a {cls_name}", token.column)
        return descr

    # -- values --
    def box(self, token: _Token) -> Box:
        box = self.boxes.get(token.text)
        if box is None:
            self.fail(f"box {token.text} is not defined", token.column)
        return box

    def define(self, token: _Token, kind: str) -> Box:
        if not _BOX_NAME.match(token.text):
            self.fail(f"'{token.text}' is not a box name (a kind letter i, f or p "
                      f"and a number)", token.column)
        if token.text in self.boxes:
            self.fail(f"box {token.text} is defined twice", token.column)
        if LETTER_KIND[token.text[0]] != kind:
            self.fail(f"box {token.text} must be named {KIND_LETTER[kind]}..., "
                      f"it holds {KIND_WORD[kind]}", token.column)
        box = self.boxes[token.text] = Box(kind, name=token.text)
        return box

    def value(self) -> Value:
        token = self.next()
        if token.kind == "int":
            return Const("i", int(token.text))
        if token.kind == "float":
            return Const("f", float(token.text))
        if token.kind == "punct" and token.text == "-" and self.peek().text in ("inf", "nan"):
            return Const("f", -self.float_word(self.next()))
        if token.kind == "name":
            text = token.text
            if text in ("True", "False"):
                return Const("i", text == "True")
            if text == "null":
                return Const("r", None)
            if text in ("inf", "nan"):
                return Const("f", self.float_word(token))
            if text == "ConstPtr" and self.is_punct("("):
                self.next()
                name = self.expect_name("the name of an object")
                self.expect(")")
                try:
                    obj = self.lookup(name.text)
                except KeyError:
                    obj = self.class_named(name.text)
                    self.bind(name.text, obj)
                return Const("r", obj)
            if _BOX_NAME.match(text):
                return self.box(token)
        self.fail(f"expected a value (a box, a number, True, False, null or "
                  f"ConstPtr(name)), found {self.describe(token)}", token.column)

    def float_word(self, token: _Token) -> float:
        if token.text == "inf":
            return math.inf
        if not self.is_punct("("):
            return float_from_bits(_NAN_BITS)
        self.next()
        token = self.next()
        bits = int(token.text, 16) if token.kind == "hex" else -1
        if not (0 <= bits < 1 << 64 and bits & 0x7FF0000000000000 == 0x7FF0000000000000
                and bits & 0x000FFFFFFFFFFFFF):
            self.fail("nan(...) takes the 64-bit pattern of a NaN in hex", token.column)
        self.expect(")")
        return float_from_bits(bits)

    # -- snapshots --
    def entry(self, virtuals: dict):
        token = self.peek()
        if token.kind == "name" and token.text == "bool" and self.is_punct("(", 1):
            self.next()
            self.next()
            inner = self.entry(virtuals)
            self.expect(")")
            return (inner, True)
        if token.kind == "name" and _VIRTUAL_NAME.match(token.text):
            self.next()
            if token.text not in virtuals:
                virtuals[token.text] = [Virtual(None), token.column, False, False]
            record = virtuals[token.text]
            record[3] = True            # used
            return record[0]
        return self.value()

    def snapshot(self, virtuals: dict) -> Snapshot:
        self.expect("[")
        frames = []
        if not self.is_punct("]"):
            while True:
                frames.append(self.frame(virtuals))
                if self.is_punct("]"):
                    break
                self.expect("|")
        self.expect("]")
        return Snapshot(frames)

    def store(self, virtuals: dict) -> DelayedStore:
        """``store(obj, F=value)`` (a field) or ``store(array, A[index]=value)``."""
        self.next()
        self.expect("(")
        obj = self.entry(virtuals)
        self.expect(",")
        name = self.expect_name("a field or array descriptor's name")
        index = None
        if self.is_punct("["):
            self.next()
            descr = self.descr(name, "ArrayDescr", "store")
            index = self.entry(virtuals)
            self.expect("]")
        else:
            descr = self.descr(name, "FieldDescr", "store")
        self.expect("=")
        value = self.entry(virtuals)
        self.expect(")")
        return DelayedStore(obj, descr, value, index)

    def frame(self, virtuals: dict) -> FrameSnapshot:
        self.expect("@")
        name = self.expect_name("the name of a jitcode")
        try:
            code = self.lookup(name.text)
        except KeyError:
            code = CodeRef(name.text)
            self.bind(name.text, code)
        self.expect("#")
        pc = self.next()
        if pc.kind != "int" or pc.text.startswith("-"):
            self.fail(f"expected a position (a number >= 0), found {self.describe(pc)}",
                      pc.column)
        exc_pending = False
        if self.peek().kind == "name" and self.peek().text == "exc":
            self.next()
            exc_pending = True
        self.expect(":")
        values = []
        if not (self.is_punct("|") or self.is_punct("]")):
            while True:
                values.append(self.entry(virtuals))
                if self.is_punct("|") or self.is_punct("]"):
                    break
                self.expect(",")
        return FrameSnapshot(code, int(pc.text), values, exc_pending)

    def virtual_definitions(self, virtuals: dict) -> None:
        self.expect("{")
        while True:
            token = self.expect_name("a virtual's name (v0, v1 ...)")
            if not _VIRTUAL_NAME.match(token.text):
                self.fail(f"'{token.text}' is not a virtual's name (v0, v1 ...)",
                          token.column)
            record = virtuals.get(token.text)
            if record is None:
                self.fail(f"virtual {token.text} is not in the snapshot", token.column)
            if record[2]:
                self.fail(f"virtual {token.text} is defined twice", token.column)
            record[2] = True
            self.expect("=")
            self.virtual_body(record[0], virtuals)
            if self.is_punct("}"):
                break
            self.expect(",")
        self.expect("}")

    def virtual_body(self, virtual: Virtual, virtuals: dict) -> None:
        shape = self.expect_name("'new' or 'array'")
        if shape.text not in ("new", "array"):
            self.fail(f"a virtual is new(...) or array(...), not '{shape.text}'",
                      shape.column)
        self.expect("(")
        name = self.expect_name("a descriptor's name")
        if shape.text == "new":
            virtual.descr = self.descr(name, "SizeDescr", "new")
        else:
            virtual.descr = self.descr(name, "ArrayDescr", "array")
        index = 0
        while self.is_punct(","):
            self.next()
            key = self.peek()
            if shape.text == "new":
                self.expect_name("a field's name")
                self.expect("=")
                virtual.fields[self.virtual_field(key, name.text)] = self.entry(virtuals)
            elif key.kind == "int" and self.is_punct("=", 1):
                self.next()
                self.next()
                virtual.fields[int(key.text)] = self.entry(virtuals)
            else:
                virtual.fields[index] = self.entry(virtuals)
            index += 1
        self.expect(")")

    def virtual_field(self, key: _Token, size_name: str) -> FieldDescr:
        """``x`` in ``new(Point, x=...)`` is the field named ``Point.x`` (or, when no
        such name is known, a field descriptor named ``x`` itself)."""
        full = key.text
        if "." not in full:
            full = f"{size_name}.{key.text}"
            known = full in self.trace.objects or full in self.namespace
            own = self.trace.objects.get(key.text, self.namespace.get(key.text))
            if not known and isinstance(own, FieldDescr):
                full = key.text
        return self.descr(_Token("name", full, key.column), "FieldDescr", "new")

    # -- lines --
    def parse(self) -> Trace:
        started = False
        for self.lineno, line in enumerate(self.lines, 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            self.tokens = self.tokenize(line)
            self.at = 0
            if not started:
                self.inputargs()
                started = True
            else:
                self.trace.ops.append(self.op())
            if not self.at_line_end():
                self.fail(f"expected the end of the line, found {self.describe(self.peek())}")
        if not started:
            raise ParseError("empty trace: the first line lists the input boxes, e.g. [i0, p1]",
                             max(len(self.lines), 1), 1)
        return self.trace

    def inputargs(self) -> None:
        if not self.is_punct("["):
            self.fail("a trace starts with its input boxes, e.g. [i0, p1]")
        self.next()
        while not self.is_punct("]"):
            token = self.expect_name("a box name")
            if not _BOX_NAME.match(token.text):
                self.fail(f"'{token.text}' is not a box name (a kind letter i, f or p "
                          f"and a number)", token.column)
            self.trace.inputargs.append(self.define(token, LETTER_KIND[token.text[0]]))
            if not self.is_punct("]"):
                self.expect(",")
        self.next()

    def op(self) -> Op:
        result_token = None
        if self.peek().kind == "name" and self.is_punct("=", 1):
            result_token = self.next()
            self.next()
        name = self.expect_name("an operation")
        spec = OPS.get(name.text)
        if spec is None:
            self.fail(f"unknown operation '{name.text}'", name.column)
        self.expect("(")
        args: list[Value] = []
        columns: list[int] = []
        descr = None
        while not self.is_punct(")"):
            if self.peek().text == "descr" and self.is_punct("=", 1):
                token = self.next()
                self.next()
                if spec.descr is None:
                    self.fail(f"{spec.name} takes no descr", token.column)
                descr = self.descr(self.expect_name("a descriptor's name"), spec.descr,
                                   spec.name)
                break
            columns.append(self.peek().column)
            token = self.peek()
            if spec.name == "label" and token.kind == "name" and _BOX_NAME.match(token.text) \
                    and token.text not in self.boxes:
                # a label in the middle of a trace (the peeled loop's body) defines
                # the boxes it receives
                self.next()
                args.append(self.define(token, LETTER_KIND[token.text[0]]))
            else:
                args.append(self.value())
            if not self.is_punct(")"):
                self.expect(",")
        close = self.expect(")")
        self.check_args(spec, args, columns, close.column)
        snapshot = None
        virtuals: dict = {}
        if self.is_punct("["):
            if not spec.has(ir.Flag.GUARD):
                self.fail(f"only a guard carries a snapshot, {spec.name} is no guard")
            snapshot = self.snapshot(virtuals)
            while self.peek().kind == "name" and self.peek().text == "store" \
                    and self.is_punct("(", 1):
                snapshot.stores.append(self.store(virtuals))
            if self.is_punct("{"):
                self.virtual_definitions(virtuals)
        for vname, (_, column, defined, used) in virtuals.items():
            if not defined:
                self.fail(f"virtual {vname} is not defined (add {{{vname} = new(...)}} "
                          f"after the snapshot)", column)
        result = None
        if result_token is not None:
            if spec.result == "v":
                self.fail(f"{spec.name} has no result", result_token.column)
            result = self.define(result_token, spec.result)
        return Op(spec.name, args, descr, result, snapshot)

    def check_args(self, spec, args, columns, close_column) -> None:
        if spec.variadic:
            if spec.name == "label":
                for value, column in zip(args, columns):
                    if not isinstance(value, Box):
                        self.fail("label arguments must be boxes", column)
            return
        if len(args) != len(spec.args):
            self.fail(f"{spec.name} takes {len(spec.args)} argument"
                      f"{'' if len(spec.args) == 1 else 's'}, got {len(args)}", close_column)
        for n, (kind, value, column) in enumerate(zip(spec.args, args, columns), 1):
            if kind != "?" and value.kind != kind:
                self.fail(f"argument {n} of {spec.name} must be {KIND_WORD[kind]}, "
                          f"got {KIND_WORD[value.kind]}", column)


def parse_trace(text: str, namespace: dict | None = None) -> Trace:
    """Parse the text form.  ``namespace`` gives the objects, descriptors and
    jitcodes behind names; the others get placeholders (see the module docstring).
    Every name used is recorded in the trace's ``objects``, so printing the trace
    gives the same names back.  Bad text raises ParseError with line and column."""
    return _Parser(text, namespace).parse()
