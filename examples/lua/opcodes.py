"""The register bytecode: one table of opcodes.

An instruction is four ints ``op, a, b, c`` in a function's ``code`` tuple; ``pc``
counts ints, so the next instruction is at ``pc + 4`` and jump targets are such
offsets.  ``R(x)`` is register x of the frame; ``RK(x)`` is R(x) for x >= 0 and
constant ``-1 - x`` for x < 0; ``K(x)`` is constant x; ``U(x)`` upvalue x.
"""

OPCODES = [
    # name        what it does
    ("MOVE",      "R(a) = R(b)"),
    ("LOADK",     "R(a) = K(b)"),
    ("LOADNIL",   "R(a) .. R(a+b-1) = nil"),
    ("LOADBOOL",  "R(a) = bool(b)"),
    ("GETUPVAL",  "R(a) = U(b).value"),
    ("SETUPVAL",  "U(b).value = R(a)"),
    ("GETCELL",   "R(a) = R(b).value (a captured local)"),
    ("SETCELL",   "R(a).value = RK(b)"),
    ("NEWCELL",   "R(a) = Cell(R(a))"),
    ("GETTABLE",  "R(a) = R(b)[RK(c)]"),
    ("GETTABUP",  "R(a) = U(b).value[RK(c)]"),
    ("SETTABLE",  "R(a)[RK(b)] = RK(c)"),
    ("SETTABUP",  "U(a).value[RK(b)] = RK(c)"),
    ("NEWTABLE",  "R(a) = {}"),
    ("SETLIST",   "R(a)[c+i] = R(a+i), 1 <= i <= b (b = 0: up to top)"),
    ("SELF",      "R(a+1) = R(b); R(a) = R(b)[RK(c)]"),
    ("ADD",       "R(a) = RK(b) + RK(c)"),
    ("SUB",       "R(a) = RK(b) - RK(c)"),
    ("MUL",       "R(a) = RK(b) * RK(c)"),
    ("DIV",       "R(a) = RK(b) / RK(c)"),
    ("MOD",       "R(a) = RK(b) % RK(c)"),
    ("POW",       "R(a) = RK(b) ^ RK(c)"),
    ("IDIV",      "R(a) = RK(b) // RK(c)"),
    ("BAND",      "R(a) = RK(b) & RK(c)"),
    ("BOR",       "R(a) = RK(b) | RK(c)"),
    ("BXOR",      "R(a) = RK(b) ~ RK(c)"),
    ("SHL",       "R(a) = RK(b) << RK(c)"),
    ("SHR",       "R(a) = RK(b) >> RK(c)"),
    ("UNM",       "R(a) = -R(b)"),
    ("BNOT",      "R(a) = ~R(b)"),
    ("NOT",       "R(a) = not R(b)"),
    ("LEN",       "R(a) = #R(b)"),
    ("CONCAT",    "R(a) = R(b) .. ... .. R(c)"),
    ("JMP",       "pc = b"),
    ("EQ",        "if (RK(b) == RK(c)) ~= a then skip the next instruction"),
    ("LT",        "if (RK(b) <  RK(c)) ~= a then skip the next instruction"),
    ("LE",        "if (RK(b) <= RK(c)) ~= a then skip the next instruction"),
    ("TEST",      "if truthy(R(a)) ~= c then skip the next instruction"),
    ("CALL",      "R(a) .. R(a+c-2) = R(a)(R(a+1) .. R(a+b-1)); b = 0: args up to top; "
                  "c = 0: all results, top set"),
    ("TAILCALL",  "return R(a)(R(a+1) .. R(a+b-1))"),
    ("RETURN",    "return R(a) .. R(a+b-2); b = 0: up to top"),
    ("FORPREP",   "numeric for: check and prepare R(a) .. R(a+2); if no iteration, pc = b"),
    ("FORLOOP",   "numeric for: next step; if it runs, R(a+3) = index and pc = b"),
    ("TFORLOOP",  "generic for: if R(a+4) ~= nil then R(a+2) = R(a+4); pc = b"),
    ("CLOSURE",   "R(a) = closure(protos[b])"),
    ("VARARG",    "R(a) .. R(a+b-2) = ...; b = 0: all, top set"),
    ("TBC",       "R(a) is a to-be-closed variable"),
    ("CLOSE",     "close the to-be-closed variables in R(a) and above"),
]

NAMES = [name for name, _ in OPCODES]

# the numbers, as plain constants (the JIT folds a module constant it can see)
OP_MOVE = 0
OP_LOADK = 1
OP_LOADNIL = 2
OP_LOADBOOL = 3
OP_GETUPVAL = 4
OP_SETUPVAL = 5
OP_GETCELL = 6
OP_SETCELL = 7
OP_NEWCELL = 8
OP_GETTABLE = 9
OP_GETTABUP = 10
OP_SETTABLE = 11
OP_SETTABUP = 12
OP_NEWTABLE = 13
OP_SETLIST = 14
OP_SELF = 15
OP_ADD = 16
OP_SUB = 17
OP_MUL = 18
OP_DIV = 19
OP_MOD = 20
OP_POW = 21
OP_IDIV = 22
OP_BAND = 23
OP_BOR = 24
OP_BXOR = 25
OP_SHL = 26
OP_SHR = 27
OP_UNM = 28
OP_BNOT = 29
OP_NOT = 30
OP_LEN = 31
OP_CONCAT = 32
OP_JMP = 33
OP_EQ = 34
OP_LT = 35
OP_LE = 36
OP_TEST = 37
OP_CALL = 38
OP_TAILCALL = 39
OP_RETURN = 40
OP_FORPREP = 41
OP_FORLOOP = 42
OP_TFORLOOP = 43
OP_CLOSURE = 44
OP_VARARG = 45
OP_TBC = 46
OP_CLOSE = 47

assert [globals()["OP_" + n] for n in NAMES] == list(range(len(NAMES)))

class Op:
    """The opcodes as class attributes: the JIT reads an interpreter class's
    attributes as constants (a module-level int would be a global read at run time)."""


for _number, _name in enumerate(NAMES):
    setattr(Op, _name, _number)

ARITH_OPS = {"+": OP_ADD, "-": OP_SUB, "*": OP_MUL, "/": OP_DIV, "%": OP_MOD,
             "^": OP_POW, "//": OP_IDIV, "&": OP_BAND, "|": OP_BOR,
             "~": OP_BXOR, "<<": OP_SHL, ">>": OP_SHR}
