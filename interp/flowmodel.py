"""The flow model: a function of the user's interpreter as a graph of blocks.

In the shape of RPython's flow model.  A ``FunctionGraph`` has a start block, a
return block (one input: the returned value) and an except block (one input: the
exception object).  A ``Block`` has input variables, a list of ``SpaceOperation``
and exits (``Link``\\ s).  Variables are local to a block (SSA per block): a link
passes values into the target block's input variables, so the variables live at any
point are the block's own.

Exits of a block:
- no exit: only the return and except blocks;
- one link (``exitswitch is None``): unconditional;
- two links with ``exitcase`` False and True (``exitswitch`` a Variable or Constant):
  a branch on the truth of the switch value (the builder inserts a ``bool`` op so
  the switch is always a real bool);
- ``exitswitch is LAST_EXCEPTION``: the block's *last* operation may raise.  The
  first link (exitcase None) is taken when it does not; each further link has an
  exception class as ``exitcase`` and is taken when the exception is an instance
  of it (first match wins); its ``last_exc_value`` is the Variable that stands for
  the caught exception object in that link's ``args``.  An exception no link
  matches leaves the function.  An operation that raises outside such a block
  leaves the function too.

Operations (``SpaceOperation.opname``) and their meaning, in Python terms (``r`` is
``op.result``; args are Variables or Constants):

  unary:   pos neg invert not_ bool  abs          r = +a, -a, ~a, not a, bool(a), abs(a)
  binary:  add sub mul truediv floordiv mod pow lshift rshift and_ or_ xor matmul
  inplace: inplace_add inplace_sub ... inplace_matmul (one per binary op)
                                                  r = a; r op= b  (``x += y``: the same as
                                                  the binary op unless type(a) defines the
                                                  in-place method, e.g. list ``+=`` extends)
  compare: lt le eq ne gt ge is_ is_not           r = a < b, ..., a is b, a is not b
           contains(container, item)              r = item in container
  attrs:   getattr(obj, Constant(name))           r = obj.name
           setattr(obj, Constant(name), value)    obj.name = value
  items:   getitem(obj, key) setitem(obj, key, value) delitem(obj, key)
           newslice(start, stop, step)            r = slice(start, stop, step)
  build:   newtuple(*items) newlist(*items) newdict(k0, v0, k1, v1, ...)
           unpack(seq, Constant(n))               r = tuple(seq), checked len == n
  calls:   call(f, Constant(nargs), Constant(kwnames), *args)
                                                  r = f(*args[:nargs], **dict(zip(kwnames, args[nargs:])))
           call_method(obj, Constant(name), Constant(nargs), Constant(kwnames), *args)
                                                  r = obj.name(...); same argument layout
  globals: load_global(Constant(name))            r = the function's global (or builtin) name
  loops:   iter(x)                                r = iter(x)
           next(it)                               r = next(it); the builder puts it last
                                                  in a block with a StopIteration link
  strings: format(value, spec)                    r = format(value, spec); spec is a
                                                  Constant str, or a value for a nested
                                                  f-string spec (``f"{x:{w}}"``)
           buildstr(*parts)                       r = "".join(parts)  (f-strings)
  raise:   raise_(exc)                            raises exc (class or instance, as
                                                  ``raise exc`` does); always the last op
                                                  of its block, in a LAST_EXCEPTION block
                                                  or one that leaves the function
  same:    same_as(a)                             r = a
  hints:   jit_merge_point(driver, Constant(names), *values)
           can_enter_jit(driver, Constant(names), *values)
                                                  the keyword call ``driver.jit_merge_point(
                                                  pc=pc, ...)``; ``names`` the keywords in
                                                  source order, ``values`` their values

Conventions of the builder (interp/flowbuilder.py):
- A branch block's exits are ``[False link, True link]``; the switch is the result of
  a ``bool`` op, or of an op that already gives a real bool (is_, is_not, not_, bool,
  contains), or a Constant.
- A block whose last operation is ``raise_`` has exitswitch LAST_EXCEPTION and only
  exception links (no exitcase-None link: ``raise_`` never completes); its last link
  is a catch-all (exitcase ``BaseException``), to a handler or to the graph's
  ``exceptblock`` (args ``[last_exc_value]``: the exception leaves the function).
- Unassigned locals: at a merge point a local that is unassigned on some path is
  passed as ``Constant(UNBOUND)``.  Before such a local is read (or ``del``-ed) the
  builder emits ``t = is_(x, Constant(UNBOUND))`` and a branch whose True side raises
  ``UnboundLocalError`` (a ``call`` of ``Constant(UnboundLocalError)`` then ``raise_``).
  UNBOUND is never seen by user code.
- ``call`` may have a Constant callee: the builder calls ``Constant(set)`` for set
  displays, ``Constant(delattr)`` for ``del o.x``, ``Constant(repr/str/ascii)`` for
  f-string conversions, ``Constant(AssertionError)`` for ``assert``.
- ``except`` classes are resolved when the graph is built (globals, builtins,
  ``module.Class``), so exitcases are classes, never expressions.
- The start block's inputargs are the parameters: positional ones, then
  keyword-only ones (``flowbuilder.bind_arguments`` maps a call onto them).
- Private names are already mangled (``self.__x`` in class ``C``: ``_C__x``);
  arithmetic on int/float constants (``-1``, ``2 ** 8``) and constant tuples are
  folded into Constants, as CPython's compiler does.

Every operation carries ``lineno`` (the source line) so that errors can name the
place; the graph carries ``filename`` and ``func``.
"""
from __future__ import annotations

from typing import Any


class Variable:
    __slots__ = ("name",)
    _count = 0

    def __init__(self, name: str | None = None):
        if name is None:
            Variable._count += 1
            name = f"v{Variable._count}"
        self.name = name

    def __repr__(self):
        return self.name


class Constant:
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other):
        return (isinstance(other, Constant) and type(self.value) is type(other.value)
                and self.value is other.value or
                (isinstance(other, Constant) and type(self.value) is type(other.value)
                 and _hashable(self.value) and self.value == other.value))

    def __hash__(self):
        try:
            return hash((type(self.value), self.value))
        except TypeError:
            return id(self.value)

    def __repr__(self):
        return f"Constant({self.value!r})"


def _hashable(value: Any) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False


class _Unbound:
    """The value of a local variable that is not assigned (see the module doc)."""

    def __repr__(self):
        return "UNBOUND"

    def __reduce__(self):
        return "UNBOUND"


UNBOUND = _Unbound()


class _LastException:
    def __repr__(self):
        return "LAST_EXCEPTION"


LAST_EXCEPTION = _LastException()


class SpaceOperation:
    __slots__ = ("opname", "args", "result", "lineno")

    def __init__(self, opname: str, args: list, result: Variable | None = None,
                 lineno: int = 0):
        self.opname = opname
        self.args = args
        self.result = result if result is not None else Variable()
        self.lineno = lineno

    def __repr__(self):
        return f"{self.result} = {self.opname}({', '.join(map(repr, self.args))})"


class Link:
    __slots__ = ("args", "target", "exitcase", "last_exc_value", "prevblock")

    def __init__(self, args: list, target: "Block", exitcase: Any = None,
                 last_exc_value: Variable | None = None):
        self.args = args               # Variables of the source block, Constants,
        self.target = target           # or last_exc_value
        self.exitcase = exitcase
        self.last_exc_value = last_exc_value
        self.prevblock: Block | None = None

    def __repr__(self):
        return f"Link({self.args} -> {self.target}, case={self.exitcase!r})"


class Block:
    __slots__ = ("inputargs", "operations", "exitswitch", "exits", "number")

    def __init__(self, inputargs: list[Variable]):
        self.inputargs = inputargs
        self.operations: list[SpaceOperation] = []
        self.exitswitch: Any = None
        self.exits: list[Link] = []
        self.number = -1

    def closeblock(self, *links: Link) -> None:
        self.exits = list(links)
        for link in links:
            link.prevblock = self

    @property
    def canraise(self) -> bool:
        return self.exitswitch is LAST_EXCEPTION

    def __repr__(self):
        return f"<Block {self.number}>"


class FunctionGraph:
    def __init__(self, name: str, startblock: Block, func: Any = None,
                 filename: str = "?", firstlineno: int = 0):
        self.name = name
        self.startblock = startblock
        self.returnblock = Block([Variable("result")])
        self.exceptblock = Block([Variable("exc")])
        self.func = func
        self.filename = filename
        self.firstlineno = firstlineno

    def iterblocks(self):
        """Every block reachable from the start, in a stable order (numbered)."""
        seen: set[int] = set()
        order: list[Block] = []
        stack = [self.startblock]
        while stack:
            block = stack.pop()
            if id(block) in seen:
                continue
            seen.add(id(block))
            order.append(block)
            for link in reversed(block.exits):
                stack.append(link.target)
        for n, block in enumerate(order):
            block.number = n
        return order

    def __repr__(self):
        return f"<FunctionGraph {self.name} at {self.filename}:{self.firstlineno}>"


def live_before(block: Block, index: int) -> list[Variable]:
    """The variables of ``block`` that are live just before operation ``index``
    (``index == len(block.operations)`` means: at the exits), in first-use order."""
    live: dict[Variable, None] = {}

    def use(value):
        if isinstance(value, Variable):
            live.setdefault(value, None)

    defined: set[Variable] = set()
    for op in block.operations[index:]:
        for a in op.args:
            if a not in defined:
                use(a)
        defined.add(op.result)
    if isinstance(block.exitswitch, Variable) and block.exitswitch not in defined:
        use(block.exitswitch)
    for link in block.exits:
        for a in link.args:
            if a is not link.last_exc_value and a not in defined:
                use(a)
    return list(live)
