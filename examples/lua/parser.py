"""The Lua 5.4 parser: tokens to a syntax tree of ``Node`` objects.

A node has a ``kind`` (the names below) and a ``line``, and the fields its kind
needs.  Expressions: ``nil true false number string vararg function table binop
unop name index call method paren``.  Statements: ``local assign callstat do while
repeat if numfor genfor localfunction return break goto label``.  Precedence and
associativity are lua5.4's (lparser.c's priority table); error messages too.
"""
from __future__ import annotations

from metajit.examples.lua.lexer import Lexer, LuaSyntaxError

# operator: (left priority, right priority), from lparser.c
BINARY_PRIORITY = {
    "+": (10, 10), "-": (10, 10), "*": (11, 11), "%": (11, 11), "^": (14, 13),
    "/": (11, 11), "//": (11, 11), "&": (6, 6), "|": (4, 4), "~": (5, 5),
    "<<": (7, 7), ">>": (7, 7), "..": (9, 8), "==": (3, 3), "<": (3, 3),
    "<=": (3, 3), "~=": (3, 3), ">": (3, 3), ">=": (3, 3), "and": (2, 2), "or": (1, 1),
}
UNARY_PRIORITY = 12
BLOCK_END = frozenset(["else", "elseif", "end", "until", "eof"])
MAX_VARS = 200          # lua5.4's limit of local variables per function


class Node:
    def __init__(self, kind: str, line: int, **fields):
        self.kind = kind
        self.line = line
        self.__dict__.update(fields)

    def __repr__(self):
        fields = ", ".join("%s=%r" % kv for kv in self.__dict__.items()
                           if kv[0] not in ("kind", "line"))
        return "%s(%s)" % (self.kind, fields)


class Parser:
    def __init__(self, source: bytes, chunkname: str):
        self.lexer = Lexer(source, chunkname)
        self.toks = self.lexer.tokens()
        self.i = 0

    # -- token helpers --------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.toks[self.i][0]

    @property
    def line(self) -> int:
        return self.toks[self.i][2]

    def peek_kind(self) -> str:
        return self.toks[min(self.i + 1, len(self.toks) - 1)][0]

    def advance(self):
        tok = self.toks[self.i]
        if self.i < len(self.toks) - 1:
            self.i += 1
        return tok

    def error(self, message: str, near: bool = True) -> LuaSyntaxError:
        tok = self.toks[self.i]
        return self.lexer.error(message, tok[3] if near else None, tok[2])

    def check(self, kind: str) -> None:
        if self.kind != kind:
            raise self.error("'%s' expected" % kind if kind != "name" else "<name> expected")

    def expect(self, kind: str):
        self.check(kind)
        return self.advance()

    def accept(self, kind: str) -> bool:
        if self.kind == kind:
            self.advance()
            return True
        return False

    def check_match(self, what: str, who: str, line: int) -> None:
        if self.kind != what:
            if line == self.line:
                raise self.error("'%s' expected" % what)
            raise self.error("'%s' expected (to close '%s' at line %d)" % (what, who, line))
        self.advance()

    def name(self) -> str:
        return self.expect("name")[1]

    # -- chunks and blocks ----------------------------------------------------------
    def chunk(self) -> Node:
        body = self.block()
        if self.kind != "eof":
            raise self.error("<eof> expected")
        return Node("function", 0, params=[], is_vararg=True, body=body, name="main chunk",
                    end_line=self.line, is_method=False)

    def block(self) -> list:
        stats = []
        while self.kind not in BLOCK_END:
            if self.kind == "return":
                stats.append(self.return_stat())
                break
            stat = self.statement()
            if stat is not None:
                stats.append(stat)
        return stats

    def return_stat(self) -> Node:
        line = self.line
        self.advance()
        exprs = []
        if self.kind not in BLOCK_END and self.kind != ";":
            exprs = self.exprlist()
        self.accept(";")
        return Node("return", line, exprs=exprs)

    def statement(self):
        line = self.line
        k = self.kind
        if k == ";":
            self.advance()
            return None
        if k == "if":
            return self.if_stat()
        if k == "while":
            self.advance()
            cond = self.expr()
            self.expect("do")
            body = self.block()
            self.check_match("end", "while", line)
            return Node("while", line, cond=cond, body=body)
        if k == "do":
            self.advance()
            body = self.block()
            self.check_match("end", "do", line)
            return Node("do", line, body=body)
        if k == "for":
            return self.for_stat()
        if k == "repeat":
            self.advance()
            body = self.block()
            self.check_match("until", "repeat", line)
            cond = self.expr()
            return Node("repeat", line, body=body, cond=cond)
        if k == "function":
            self.advance()
            target = Node("name", self.line, name=self.name())
            full = target.name
            is_method = False
            while self.kind in (".", ":"):
                sep = self.advance()[0]
                key_line = self.line
                key = self.name()
                full += sep + key
                target = Node("index", key_line, obj=target,
                              key=Node("string", key_line, value=key.encode("latin-1")))
                if sep == ":":
                    is_method = True
                    break
            func = self.funcbody(line, is_method, full)
            return Node("assign", line, targets=[target], exprs=[func])
        if k == "local":
            self.advance()
            if self.accept("function"):
                name = self.name()
                func = self.funcbody(line, False, name)
                return Node("localfunction", line, name=name, func=func)
            names = []
            attribs = []
            while True:
                names.append(self.name())
                if self.accept("<"):
                    attr = self.name()
                    if attr not in ("const", "close"):
                        raise self.lexer.error("unknown attribute '%s'" % attr, None, self.line)
                    self.expect(">")
                    attribs.append(attr)
                else:
                    attribs.append(None)
                if not self.accept(","):
                    break
            exprs = []
            if self.accept("="):
                exprs = self.exprlist()
            if attribs.count("close") > 1:
                raise self.lexer.error("multiple to-be-closed variables in local list",
                                       None, self.line)
            return Node("local", line, names=names, attribs=attribs, exprs=exprs)
        if k == "::":
            self.advance()
            name = self.name()
            self.expect("::")
            return Node("label", line, name=name)
        if k == "return":
            raise self.error("unexpected symbol")
        if k == "break":
            self.advance()
            return Node("break", line)
        if k == "goto":
            self.advance()
            return Node("goto", line, name=self.name())
        return self.expr_stat()

    def if_stat(self) -> Node:
        line = self.line
        conds = []
        blocks = []
        self.advance()
        conds.append(self.expr())
        self.expect("then")
        blocks.append(self.block())
        orelse = None
        while True:
            if self.kind == "elseif":
                self.advance()
                conds.append(self.expr())
                self.expect("then")
                blocks.append(self.block())
            elif self.kind == "else":
                self.advance()
                orelse = self.block()
                self.check_match("end", "if", line)
                break
            else:
                self.check_match("end", "if", line)
                break
        return Node("if", line, conds=conds, blocks=blocks, orelse=orelse)

    def for_stat(self) -> Node:
        line = self.line
        self.advance()
        first = self.name()
        if self.kind == "=":
            self.advance()
            start = self.expr()
            self.expect(",")
            limit = self.expr()
            step = None
            if self.accept(","):
                step = self.expr()
            self.expect("do")
            body = self.block()
            self.check_match("end", "for", line)
            return Node("numfor", line, var=first, start=start, limit=limit, step=step, body=body)
        if self.kind in (",", "in"):
            names = [first]
            while self.accept(","):
                names.append(self.name())
            self.expect("in")
            exprs = self.exprlist()
            self.expect("do")
            body = self.block()
            self.check_match("end", "for", line)
            return Node("genfor", line, names=names, exprs=exprs, body=body)
        raise self.error("'=' or 'in' expected")

    def expr_stat(self) -> Node:
        line = self.line
        e = self.suffixedexp()
        if self.kind in ("=", ","):
            targets = [e]
            while self.accept(","):
                targets.append(self.suffixedexp())
            self.expect("=")
            exprs = self.exprlist()
            for t in targets:
                if t.kind not in ("name", "index"):
                    raise self.error("syntax error")
            return Node("assign", line, targets=targets, exprs=exprs)
        if e.kind not in ("call", "method"):
            raise self.error("syntax error")
        return Node("callstat", line, call=e)

    # -- expressions ----------------------------------------------------------------
    def exprlist(self) -> list:
        exprs = [self.expr()]
        while self.accept(","):
            exprs.append(self.expr())
        return exprs

    def expr(self, limit: int = 0) -> Node:
        line = self.line
        k = self.kind
        if k in ("not", "-", "#", "~"):
            self.advance()
            operand = self.expr(UNARY_PRIORITY)
            left = fold_unary(k, operand, line)
        else:
            left = self.simpleexp()
        while True:
            op = self.kind
            prio = BINARY_PRIORITY.get(op)
            if prio is None or prio[0] <= limit:
                return left
            op_line = self.line
            self.advance()
            right = self.expr(prio[1])
            left = Node("binop", op_line, op=op, left=left, right=right)

    def simpleexp(self) -> Node:
        line = self.line
        k = self.kind
        if k == "number":
            return Node("number", line, value=self.advance()[1])
        if k == "string":
            return Node("string", line, value=self.advance()[1])
        if k == "nil":
            self.advance()
            return Node("nil", line)
        if k == "true":
            self.advance()
            return Node("true", line)
        if k == "false":
            self.advance()
            return Node("false", line)
        if k == "...":
            self.advance()
            return Node("vararg", line)
        if k == "{":
            return self.table()
        if k == "function":
            self.advance()
            return self.funcbody(line, False, None)
        return self.suffixedexp()

    def primaryexp(self) -> Node:
        line = self.line
        if self.kind == "name":
            return Node("name", line, name=self.advance()[1])
        if self.kind == "(":
            self.advance()
            e = self.expr()
            self.check_match(")", "(", line)
            return Node("paren", line, expr=e)
        raise self.error("unexpected symbol")

    def suffixedexp(self) -> Node:
        line = self.line
        e = self.primaryexp()
        while True:
            k = self.kind
            if k == ".":
                self.advance()
                key_line = self.line
                key = self.name()
                e = Node("index", key_line, obj=e,
                         key=Node("string", key_line, value=key.encode("latin-1")))
            elif k == "[":
                self.advance()
                key = self.expr()
                self.expect("]")
                e = Node("index", self.line, obj=e, key=key)
            elif k == ":":
                self.advance()
                name = self.name()
                args = self.callargs()
                e = Node("method", line, obj=e, name=name, args=args)
            elif k in ("(", "string", "{"):
                args = self.callargs()
                e = Node("call", line, func=e, args=args)
            else:
                return e

    def callargs(self) -> list:
        k = self.kind
        if k == "string":
            return [Node("string", self.line, value=self.advance()[1])]
        if k == "{":
            return [self.table()]
        if k == "(":
            line = self.line
            self.advance()
            if self.kind == ")":
                self.advance()
                return []
            args = self.exprlist()
            self.check_match(")", "(", line)
            return args
        raise self.error("function arguments expected")

    def table(self) -> Node:
        line = self.line
        self.expect("{")
        items = []          # ("pos", expr) or ("key", keyexpr, valexpr)
        while self.kind != "}":
            if self.kind == "name" and self.peek_kind() == "=":
                key_line = self.line
                key = self.advance()[1]
                self.advance()
                items.append(("key", Node("string", key_line, value=key.encode("latin-1")),
                              self.expr()))
            elif self.kind == "[":
                self.advance()
                key = self.expr()
                self.expect("]")
                self.expect("=")
                items.append(("key", key, self.expr()))
            else:
                items.append(("pos", self.expr()))
            if not self.accept(",") and not self.accept(";"):
                break
        self.check_match("}", "{", line)
        return Node("table", line, items=items)

    def funcbody(self, line: int, is_method: bool, name) -> Node:
        params = ["self"] if is_method else []
        is_vararg = False
        self.expect("(")
        if self.kind != ")":
            while True:
                if self.kind == "...":
                    self.advance()
                    is_vararg = True
                    break
                if self.kind != "name":
                    raise self.error("<name> or '...' expected")
                params.append(self.name())
                if not self.accept(","):
                    break
        self.expect(")")
        body = self.block()
        end_line = self.line
        self.check_match("end", "function", line)
        return Node("function", line, params=params, is_vararg=is_vararg, body=body,
                    name=name, end_line=end_line, is_method=is_method)


def fold_unary(op: str, operand: Node, line: int) -> Node:
    """Negation of a numeric literal is folded, as lua5.4's constant folding does
    (``-9223372036854775808`` stays a float there too: the literal overflows to a
    float before the minus applies)."""
    if op == "-" and operand.kind == "number":
        v = operand.value
        if type(v) is int:
            return Node("number", line, value=-v if v != -(1 << 63) else v)
        if v == v and v != 0.0:
            return Node("number", line, value=-v)
    return Node("unop", line, op=op, operand=operand)


def parse(source: bytes, chunkname: str) -> Node:
    """The main chunk of ``source`` as a vararg function node."""
    return Parser(source, chunkname).chunk()
