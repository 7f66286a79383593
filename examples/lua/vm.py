"""The Lua VM: one portal loop over an explicit stack of Lua frames.

All registers of all active Lua functions live in one list, ``state.stack``, laid
out as lua5.4 lays out its stack: a called function sits in the caller's register
``a``, its arguments above it, and the callee's register 0 is the slot after the
function.  A Lua-to-Lua call pushes a ``Frame`` and carries on in the same loop (no
Python recursion), so guest recursion is limited by the stack's size in slots, as in
lua5.4 (``LUAI_MAXSTACK``, a million).  A call from Python (a library function or a
metamethod calling a Lua function) runs a nested portal, counted against
``LUAI_MAXCCALLS`` (200), past which the error is ``C stack overflow``.

Greens: the prototype and the pc, so a trace is specialised to one position of one
function.  Reds: the frame and the state.  ``can_enter_jit`` sits on the guest's
back edges (JMP backwards, FORLOOP, TFORLOOP).
"""
from __future__ import annotations

from metajit import JitDriver, dont_look_inside, intmask, promote, unroll_safe

from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.objects import (Builtin, Cell, LuaArgError, LuaError, LuaFunction,
                                          LuaTable)
from metajit.examples.lua.opcodes import Op
from metajit.examples.lua import runtime
from metajit.examples.lua.runtime import (LuaOpError, arith, concat_pair, equals, index,
                                          length, less_equal, less_than, setindex,
                                          unary_arith)

LUAI_MAXSTACK = 1000000
LUAI_MAXCCALLS = 200


class Frame:
    """One active call of a Lua function.  ``pc`` is the instruction running (or,
    in a caller, the CALL it waits in); ``top`` the end of a variable number of
    values (after a call with all results, or VARARG); ``nresults`` how many
    results the caller wants (-1: all); ``is_entry`` marks the first frame of a
    portal run, whose return leaves the portal."""
    closure: LuaFunction
    base: int
    pc: int
    top: int
    nresults: int
    caller: object
    is_entry: bool
    is_tail: bool
    varargs: object
    tbc: object
    _immutable_fields_ = ["closure", "base", "nresults", "caller", "is_entry"]

    def __init__(self, closure: LuaFunction, base: int, nresults: int, caller, is_entry: bool):
        self.closure = closure
        self.base = base
        self.pc = 0
        self.top = base
        self.nresults = nresults
        self.caller = caller
        self.is_entry = is_entry
        self.is_tail = False            # made by a tail call (for tracebacks)
        self.varargs = None
        self.tbc = None


def get_printable_location(pc: int, proto) -> str:
    return "lua %s:%d pc %d" % (proto.source, proto.lineinfo[pc // 4], pc // 4)


driver = JitDriver(greens=["pc", "proto"], reds=["frame", "state"],
                   get_printable_location=get_printable_location, name="lua")


@dont_look_inside
def grow_stack(state, needed: int) -> None:
    if needed > LUAI_MAXSTACK:
        raise LuaLibError("stack overflow")
    stack = state.stack
    size = len(stack)
    while size < needed:
        size *= 2
    size = min(size, LUAI_MAXSTACK)
    stack.extend([None] * (size - len(stack)))


@unroll_safe
def push_frame(state, caller, fn: LuaFunction, base: int, nargs: int, nresults: int,
               is_entry: bool) -> Frame:
    """The frame for a call of ``fn`` whose arguments are in the stack at ``base``.
    Traced (the callee is a constant, so the loop clearing the missing parameters
    unrolls): the frame can stay virtual."""
    proto = promote(fn.proto)
    if base + proto.maxstack > len(state.stack):
        grow_stack(state, base + proto.maxstack)
    stack = state.stack
    numparams = proto.numparams
    frame = Frame(fn, base, nresults, caller, is_entry)
    if proto.is_vararg:
        if nargs > numparams:
            frame.varargs = stack[base + numparams:base + nargs]
        else:
            frame.varargs = []
    i = nargs
    while i < numparams:
        stack[base + i] = None
        i += 1
    state.frame = frame
    return frame


@dont_look_inside
def callable_target(state, fn, func_slot: int, nargs: int):
    """``fn`` is not a function: follow ``__call``, shifting the arguments up so the
    object becomes the first one.  Returns the function and the argument count."""
    while type(fn) is not LuaFunction and type(fn) is not Builtin:
        h = runtime.get_metamethod(state, fn, b"__call")
        if h is None:
            raise LuaOpError("call", fn, "a")
        if func_slot + nargs + 2 > len(state.stack):
            grow_stack(state, func_slot + nargs + 2)
        stack = state.stack
        i = func_slot + nargs
        while i >= func_slot:
            stack[i + 1] = stack[i]
            i -= 1
        stack[func_slot] = h
        fn = h
        nargs += 1
    return fn, nargs


@dont_look_inside
def call_builtin(state, fn: Builtin, stack: list, start: int, nargs: int) -> list:
    """Call a library function from Lua code (``state.called_from_lua`` tells
    ``error`` that level 1 is a Lua function with a position)."""
    saved = state.in_builtin
    state.in_builtin = True
    state.called_from_lua = True
    try:
        return fn.fn(state, stack[start:start + nargs])
    finally:
        state.in_builtin = saved


def store_results(state, frame: Frame, results: list, dest: int, wanted: int) -> None:
    """Place a call's results at ``dest`` (the function's slot) for a caller that
    wants ``wanted`` of them (-1: all, and set its top)."""
    n = len(results)
    if wanted < 0:
        if dest + n > len(state.stack):
            grow_stack(state, dest + n)
        stack = state.stack
        i = 0
        while i < n:
            stack[dest + i] = results[i]
            i += 1
        frame.top = dest + n
        return
    stack = state.stack
    i = 0
    while i < wanted:
        stack[dest + i] = results[i] if i < n else None
        i += 1


@unroll_safe
def return_to_caller(state, frame: Frame, src: int, n: int) -> Frame:
    """Copy ``n`` results from ``src`` to the frame's function slot; the caller.
    Traced (the counts are usually constants: ``n`` from the instruction,
    ``nresults`` of a frame the trace made), so that such a frame stays virtual."""
    stack = state.stack
    dest = frame.base - 1
    wanted = frame.nresults
    caller = frame.caller
    if wanted < 0:
        i = 0
        while i < n:
            stack[dest + i] = stack[src + i]
            i += 1
        caller.top = dest + n
    else:
        i = 0
        while i < wanted:
            stack[dest + i] = stack[src + i] if i < n else None
            i += 1
    state.frame = caller
    return caller


def for_error(what: str, value) -> LuaLibError:
    return LuaLibError("bad 'for' %s (number expected, got %s)" % (
        what, runtime.type_name(value)))


@dont_look_inside
def for_prep(state, stack: list, ra: int) -> bool:
    """Prepare a numeric for loop at R(a); False when it runs zero times.

    An integer loop keeps the iteration count in R(a+1), as lua5.4 does, so that it
    cannot overflow; a float loop keeps the limit."""
    init = stack[ra]
    limit = stack[ra + 1]
    step = stack[ra + 2]
    if type(init) is int and type(step) is int:
        if step == 0:
            raise LuaLibError("'for' step is zero")
        if type(limit) is int:
            ilimit = limit
        else:
            flimit = runtime.to_number(limit)
            if flimit is None:
                raise for_error("limit", limit)
            if type(flimit) is int:
                ilimit = flimit
            elif flimit != flimit:
                return False
            elif step > 0:
                ilimit = (1 << 63) - 1 if flimit >= 9.3e18 else \
                    (-(1 << 63) if flimit < -9.3e18 else int(flimit // 1))
            else:
                ilimit = -(1 << 63) if flimit <= -9.3e18 else \
                    ((1 << 63) - 1 if flimit > 9.3e18 else -int((-flimit) // 1))
        if (step > 0 and init > ilimit) or (step < 0 and init < ilimit):
            return False
        if step > 0:
            count = (ilimit - init) // step
        else:
            count = (init - ilimit) // -step
        stack[ra] = init
        stack[ra + 1] = count
        stack[ra + 3] = init
        return True
    finit = runtime.to_number(init)
    flimit = runtime.to_number(limit)
    fstep = runtime.to_number(step)
    if flimit is None:
        raise for_error("limit", limit)
    if fstep is None:
        raise for_error("step", step)
    if finit is None:
        raise for_error("initial value", init)
    finit = float(finit)
    flimit = float(flimit)
    fstep = float(fstep)
    if fstep == 0.0:
        raise LuaLibError("'for' step is zero")
    if (fstep > 0 and not finit <= flimit) or (fstep < 0 and not flimit <= finit):
        return False
    stack[ra] = finit
    stack[ra + 1] = flimit
    stack[ra + 2] = fstep
    stack[ra + 3] = finit
    return True


@dont_look_inside
def concat_values(state, stack: list, first: int, last: int):
    """R(first) .. ... .. R(last), right to left as lua5.4 does it."""
    all_strings = True
    i = first
    while i <= last:
        t = type(stack[i])
        if t is not bytes and t is not int and t is not float:
            all_strings = False
            break
        i += 1
    if all_strings:
        parts = []
        i = first
        while i <= last:
            v = stack[i]
            parts.append(v if type(v) is bytes else runtime.lnumbers.tostring_number(v))
            i += 1
        return b"".join(parts)
    v = stack[last]
    i = last - 1
    while i >= first:
        v = concat_pair(state, stack[i], v, i, i + 1)
        i -= 1
    return v


@dont_look_inside
def make_closure(stack: list, base: int, frame: Frame, proto) -> LuaFunction:
    upvals = []
    parent = frame.closure.upvals
    for i in range(len(proto.upval_instack)):
        if proto.upval_instack[i]:
            upvals.append(stack[base + proto.upval_index[i]])
        else:
            upvals.append(parent[proto.upval_index[i]])
    return LuaFunction(proto, tuple(upvals))


@dont_look_inside
def mark_tbc(state, frame: Frame, reg: int) -> None:
    v = state.stack[frame.base + reg]
    if v is None or v is False:
        return
    if runtime.get_metamethod(state, v, b"__close") is None:
        name = local_name(frame.closure.proto, reg, frame.pc)
        raise LuaLibError("variable '%s' got a non-closable value" % name)
    if frame.tbc is None:
        frame.tbc = []
    frame.tbc.append(reg)


@dont_look_inside
def close_tbc(state, frame: Frame, level: int, error) -> None:
    """Call ``__close`` of the to-be-closed variables in registers >= level, last
    first; ``error`` is the error object, or None on a normal exit."""
    tbc = frame.tbc
    while tbc:
        reg = tbc[-1]
        if reg < level:
            break
        tbc.pop()
        v = state.stack[frame.base + reg]
        h = runtime.get_metamethod(state, v, b"__close")
        if h is not None:
            saved = state.frame
            state.frame = frame
            try:
                state.call(h, [v, error])
            finally:
                state.frame = saved


@driver.portal
def execute(pc: int, proto, frame: Frame, state) -> list:
    """Run from ``frame`` (an entry frame) until it returns; its results."""
    while True:
        driver.jit_merge_point(pc=pc, proto=proto, frame=frame, state=state)
        code = proto.code
        op = code[pc]
        a = code[pc + 1]
        b = code[pc + 2]
        c = code[pc + 3]
        frame.pc = pc
        pc += 4
        stack = state.stack
        base = frame.base
        try:
            if op == Op.MOVE:
                stack[base + a] = stack[base + b]
            elif op == Op.LOADK:
                stack[base + a] = proto.consts[b]
            elif op == Op.GETTABLE:
                t = stack[base + b]
                key = stack[base + c] if c >= 0 else proto.consts[-1 - c]
                if type(t) is LuaTable:
                    if type(key) is int:
                        v = t.get_int(key)
                    elif type(key) is bytes:
                        v = t.get_str(key)
                    else:
                        v = t.get(key)
                    if v is None and t.metatable is not None:
                        v = index(state, t, key, "b")
                else:
                    v = index(state, t, key, "b")
                stack[base + a] = v
            elif op == Op.SETTABLE:
                t = stack[base + a]
                key = stack[base + b] if b >= 0 else proto.consts[-1 - b]
                v = stack[base + c] if c >= 0 else proto.consts[-1 - c]
                if type(t) is LuaTable and t.metatable is None:
                    if type(key) is int:
                        t.set_int(key, v)
                    elif type(key) is bytes:
                        t.set(key, v)
                    else:
                        runtime.check_key(key)
                        t.set(key, v)
                else:
                    setindex(state, t, key, v, "a")
            elif op == Op.GETTABUP:
                t = frame.closure.upvals[b].value
                key = proto.consts[-1 - c] if c < 0 else stack[base + c]
                if type(t) is LuaTable and type(key) is bytes:
                    v = t.get_str(key)
                    if v is None and t.metatable is not None:
                        v = index(state, t, key, None)
                else:
                    v = index(state, t, key, None)
                stack[base + a] = v
            elif op == Op.ADD or op == Op.SUB or op == Op.MUL:
                x = stack[base + b] if b >= 0 else proto.consts[-1 - b]
                y = stack[base + c] if c >= 0 else proto.consts[-1 - c]
                if type(x) is int and type(y) is int:
                    if op == Op.ADD:
                        r = intmask(x + y)
                    elif op == Op.SUB:
                        r = intmask(x - y)
                    else:
                        r = intmask(x * y)
                elif (type(x) is float or type(x) is int) and (type(y) is float
                                                              or type(y) is int):
                    # an integer beside a float converts to float (Lua 5.4, 3.4.3)
                    fx = float(x)
                    fy = float(y)
                    if op == Op.ADD:
                        r = fx + fy
                    elif op == Op.SUB:
                        r = fx - fy
                    else:
                        r = fx * fy
                else:
                    r = arith(state, "+" if op == Op.ADD else ("-" if op == Op.SUB else "*"),
                              x, y)
                stack[base + a] = r
            elif op == Op.JMP:
                if b < pc:
                    pc = b
                    driver.can_enter_jit(pc=pc, proto=proto, frame=frame, state=state)
                else:
                    pc = b
            elif op == Op.EQ or op == Op.LT or op == Op.LE:
                x = stack[base + b] if b >= 0 else proto.consts[-1 - b]
                y = stack[base + c] if c >= 0 else proto.consts[-1 - c]
                if type(x) is int and type(y) is int:
                    if op == Op.EQ:
                        res = x == y
                    elif op == Op.LT:
                        res = x < y
                    else:
                        res = x <= y
                elif type(x) is float and type(y) is float:
                    if op == Op.EQ:
                        res = x == y
                    elif op == Op.LT:
                        res = x < y
                    else:
                        res = x <= y
                elif op == Op.EQ:
                    res = equals(state, x, y)
                elif op == Op.LT:
                    res = less_than(state, x, y)
                else:
                    res = less_equal(state, x, y)
                if res != (a != 0):
                    pc += 4
            elif op == Op.TEST:
                v = stack[base + a]
                if (v is not None and v is not False) != (c != 0):
                    pc += 4
            elif op == Op.CALL:
                nargs = b - 1 if b != 0 else frame.top - (base + a + 1)
                fn = stack[base + a]
                if type(fn) is not LuaFunction and type(fn) is not Builtin:
                    fn, nargs = callable_target(state, fn, base + a, nargs)
                    stack = state.stack
                if type(fn) is LuaFunction:
                    frame = push_frame(state, frame, fn, base + a + 1, nargs, c - 1, False)
                    proto = promote(fn.proto)
                    pc = 0
                else:
                    results = call_builtin(state, fn, stack, base + a + 1, nargs)
                    store_results(state, frame, results, base + a, c - 1)
            elif op == Op.RETURN:
                if b != 0:
                    n = b - 1
                else:
                    n = frame.top - (base + a)
                if frame.is_entry:
                    return stack[base + a:base + a + n]
                frame = return_to_caller(state, frame, base + a, n)
                # promoted: a trace reads the caller's next instructions as constants
                proto = promote(frame.closure.proto)
                pc = promote(frame.pc) + 4
            elif op == Op.FORLOOP:
                step = stack[base + a + 2]
                if type(step) is int:
                    count = stack[base + a + 1]
                    if count > 0:
                        stack[base + a + 1] = count - 1
                        idx = intmask(stack[base + a] + step)
                        stack[base + a] = idx
                        stack[base + a + 3] = idx
                        pc = b
                        driver.can_enter_jit(pc=pc, proto=proto, frame=frame, state=state)
                else:
                    idx = stack[base + a] + step
                    limit = stack[base + a + 1]
                    if (step > 0.0 and idx <= limit) or (step < 0.0 and limit <= idx):
                        stack[base + a] = idx
                        stack[base + a + 3] = idx
                        pc = b
                        driver.can_enter_jit(pc=pc, proto=proto, frame=frame, state=state)
            elif op == Op.FORPREP:
                if not for_prep(state, stack, base + a):
                    pc = b
            elif op == Op.TFORLOOP:
                v = stack[base + a + 4]
                if v is not None:
                    stack[base + a + 2] = v
                    pc = b
                    driver.can_enter_jit(pc=pc, proto=proto, frame=frame, state=state)
            elif op == Op.GETUPVAL:
                stack[base + a] = frame.closure.upvals[b].value
            elif op == Op.SETUPVAL:
                frame.closure.upvals[b].value = stack[base + a]
            elif op == Op.GETCELL:
                stack[base + a] = stack[base + b].value
            elif op == Op.SETCELL:
                stack[base + a].value = stack[base + b] if b >= 0 else proto.consts[-1 - b]
            elif op == Op.NEWCELL:
                stack[base + a] = Cell(stack[base + a])
            elif op == Op.SELF:
                obj = stack[base + b]
                key = proto.consts[-1 - c]
                stack[base + a + 1] = obj
                if type(obj) is LuaTable:
                    v = obj.get_str(key)
                    if v is None and obj.metatable is not None:
                        v = index(state, obj, key, "b")
                else:
                    v = index(state, obj, key, "b")
                stack[base + a] = v
            elif op == Op.DIV or op == Op.MOD or op == Op.IDIV or op == Op.POW:
                x = stack[base + b] if b >= 0 else proto.consts[-1 - b]
                y = stack[base + c] if c >= 0 else proto.consts[-1 - c]
                if op == Op.DIV and (type(x) is float or type(x) is int) and (
                        type(y) is float or type(y) is int) and y != 0:
                    r = float(x) / float(y)
                elif op == Op.MOD and type(x) is int and type(y) is int and y > 0:
                    r = x % y
                elif op == Op.IDIV and type(x) is int and type(y) is int and y > 0:
                    r = x // y
                else:
                    r = arith(state, "/" if op == Op.DIV else ("%" if op == Op.MOD else (
                        "//" if op == Op.IDIV else "^")), x, y)
                stack[base + a] = r
            elif op == Op.BAND or op == Op.BOR or op == Op.BXOR or op == Op.SHL \
                    or op == Op.SHR:
                x = stack[base + b] if b >= 0 else proto.consts[-1 - b]
                y = stack[base + c] if c >= 0 else proto.consts[-1 - c]
                if type(x) is int and type(y) is int and op != Op.SHL and op != Op.SHR:
                    if op == Op.BAND:
                        r = x & y
                    elif op == Op.BOR:
                        r = x | y
                    else:
                        r = x ^ y
                elif op == Op.SHL and type(x) is int and type(y) is int and 0 <= y < 64:
                    r = intmask(x << y)
                elif op == Op.SHR and type(x) is int and type(y) is int and 0 <= y < 64 \
                        and x >= 0:
                    r = x >> y          # a logical shift of a non-negative integer
                else:
                    r = arith(state, "&" if op == Op.BAND else ("|" if op == Op.BOR else (
                        "~" if op == Op.BXOR else ("<<" if op == Op.SHL else ">>"))), x, y)
                stack[base + a] = r
            elif op == Op.UNM:
                x = stack[base + b]
                if type(x) is int:
                    stack[base + a] = intmask(-x)
                elif type(x) is float:
                    stack[base + a] = -x
                else:
                    stack[base + a] = unary_arith(state, "unm", x)
            elif op == Op.BNOT:
                x = stack[base + b]
                if type(x) is int:
                    stack[base + a] = ~x
                else:
                    stack[base + a] = unary_arith(state, "bnot", x)
            elif op == Op.NOT:
                x = stack[base + b]
                stack[base + a] = x is None or x is False
            elif op == Op.LEN:
                x = stack[base + b]
                if type(x) is bytes:
                    stack[base + a] = len(x)
                elif type(x) is LuaTable and x.metatable is None:
                    stack[base + a] = x.length()
                else:
                    stack[base + a] = length(state, x)
            elif op == Op.CONCAT:
                stack[base + a] = concat_values(state, stack, base + b, base + c)
            elif op == Op.LOADNIL:
                i = 0
                while i < b:
                    stack[base + a + i] = None
                    i += 1
            elif op == Op.LOADBOOL:
                stack[base + a] = b != 0
            elif op == Op.NEWTABLE:
                stack[base + a] = LuaTable()
            elif op == Op.SETLIST:
                t = stack[base + a]
                if b != 0:
                    n = b
                else:
                    n = frame.top - (base + a + 1)
                i = 1
                while i <= n:
                    t.set_int(c + i, stack[base + a + i])
                    i += 1
            elif op == Op.SETTABUP:
                t = frame.closure.upvals[a].value
                key = proto.consts[-1 - b] if b < 0 else stack[base + b]
                v = stack[base + c] if c >= 0 else proto.consts[-1 - c]
                if type(t) is LuaTable and t.metatable is None and type(key) is bytes:
                    t.set(key, v)
                else:
                    setindex(state, t, key, v, None)
            elif op == Op.CLOSURE:
                stack[base + a] = make_closure(stack, base, frame, proto.protos[b])
            elif op == Op.VARARG:
                varargs = frame.varargs
                if b == 0:
                    n = len(varargs)
                    if base + a + n > len(stack):
                        grow_stack(state, base + a + n)
                        stack = state.stack
                    frame.top = base + a + n
                else:
                    n = b - 1
                i = 0
                while i < n:
                    stack[base + a + i] = varargs[i] if i < len(varargs) else None
                    i += 1
            elif op == Op.TAILCALL:
                nargs = b - 1 if b != 0 else frame.top - (base + a + 1)
                fn = stack[base + a]
                if type(fn) is not LuaFunction and type(fn) is not Builtin:
                    fn, nargs = callable_target(state, fn, base + a, nargs)
                    stack = state.stack
                if type(fn) is LuaFunction:
                    # the callee replaces this frame: move it and its arguments down
                    i = 0
                    while i <= nargs:
                        stack[base - 1 + i] = stack[base + a + i]
                        i += 1
                    frame = push_frame(state, frame.caller, fn, base, nargs, frame.nresults,
                                       frame.is_entry)
                    frame.is_tail = True
                    proto = promote(fn.proto)
                    pc = 0
                else:
                    results = call_builtin(state, fn, stack, base + a + 1, nargs)
                    if frame.is_entry:
                        return results
                    n = len(results)
                    store_results(state, frame, results, base + a, -1)
                    stack = state.stack
                    frame = return_to_caller(state, frame, base + a, n)
                    proto = promote(frame.closure.proto)
                    pc = promote(frame.pc) + 4
            elif op == Op.TBC:
                mark_tbc(state, frame, a)
            elif op == Op.CLOSE:
                if frame.tbc:
                    close_tbc(state, frame, a, None)
            else:
                raise LuaLibError("bad opcode %d" % op)
        except Exception as exc:
            raise unwind(state, frame, exc)


# -- errors -------------------------------------------------------------------------------------

def where(frame: Frame) -> str:
    proto = frame.closure.proto
    return "%s:%d:" % (proto.source, proto.lineinfo[frame.pc // 4])


def to_bytes(message) -> bytes:
    if type(message) is bytes:
        return message
    return str(message).encode("latin-1", "replace")


@dont_look_inside
def unwind(state, frame: Frame, exc: Exception) -> Exception:
    """The Lua error for an exception raised while ``frame`` ran an instruction,
    after closing the to-be-closed variables of the frames it leaves."""
    if type(exc) is LuaError:
        err = exc
    elif isinstance(exc, LuaLibError):
        err = LuaError(to_bytes("%s %s" % (where(frame), exc.args[0] if exc.args else "")))
    elif type(exc) is LuaOpError:
        err = LuaError(to_bytes("%s attempt to %s a %s value%s" % (
            where(frame), exc.verb, runtime.type_name(exc.value),
            operand_info(frame, exc.operand))))
    elif type(exc) is runtime.LuaNoIntegerError:
        err = LuaError(to_bytes("%s number%s has no integer representation" % (
            where(frame), operand_info(frame, exc.operand))))
    elif type(exc) is LuaArgError:
        err = LuaError(to_bytes("%s %s" % (where(frame), arg_error_text(state, frame, exc))))
    elif type(exc) is RecursionError:
        err = LuaError(to_bytes("%s stack overflow" % where(frame)))
    elif type(exc) is MemoryError:
        err = LuaError(b"not enough memory")
    else:
        return exc
    if err.traceback is None:
        err.traceback = traceback_text(state, frame)
    f = frame
    while f is not None:
        if f.tbc:
            try:
                close_tbc(state, f, 0, err.value)
            except LuaError as again:
                err = again
        if f.is_entry:
            break
        f = f.caller
    return err


def called_builtin(state, frame: Frame):
    """The library function that ``frame``'s running CALL calls, or None."""
    code = frame.closure.proto.code
    if code[frame.pc] != Op.CALL and code[frame.pc] != Op.TAILCALL:
        return None
    fn = state.stack[frame.base + code[frame.pc + 1]]
    return fn if type(fn) is Builtin else None


def function_description(frame: Frame) -> str:
    """How lua5.4's traceback names the function of ``frame``: by the name its
    caller's call instruction used, else by where it is defined."""
    proto = frame.closure.proto
    if proto.linedefined == 0:
        return "main chunk"
    caller = frame.caller
    if frame.is_tail:
        return "function <%s:%d>" % (proto.source, proto.linedefined)
    if frame.is_entry and caller is not None:
        event = METAMETHOD_OF_OP.get(caller.closure.proto.code[caller.pc])
        if event is not None:
            return "metamethod '%s'" % event
    if not frame.is_entry and caller is not None:
        cproto = caller.closure.proto
        info = get_obj_name(cproto, caller.pc, cproto.code[caller.pc + 1])
        if info is not None and info[0] != "constant":
            kind = "function" if info[0] == "global" else info[0]
            return "%s '%s'" % (kind, info[1])
    return "function <%s:%d>" % (proto.source, proto.linedefined)


# the metamethod an instruction calls directly (a traceback names its frame so)
METAMETHOD_OF_OP = {
    Op.GETTABLE: "index", Op.GETTABUP: "index", Op.SELF: "index",
    Op.SETTABLE: "newindex", Op.SETTABUP: "newindex", Op.ADD: "add", Op.SUB: "sub",
    Op.MUL: "mul", Op.DIV: "div", Op.MOD: "mod", Op.POW: "pow", Op.IDIV: "idiv",
    Op.BAND: "band", Op.BOR: "bor", Op.BXOR: "bxor", Op.SHL: "shl", Op.SHR: "shr",
    Op.UNM: "unm", Op.BNOT: "bnot", Op.LEN: "len", Op.CONCAT: "concat", Op.EQ: "eq",
    Op.LT: "lt", Op.LE: "le", Op.CLOSE: "close",
}


def traceback_text(state, frame: Frame) -> str:
    """A 'stack traceback:' in lua5.4's form, from ``frame`` to the outermost call;
    ``[C]`` lines stand for the library functions in between."""
    lines = ["stack traceback:"]
    fn = called_builtin(state, frame)
    if fn is not None:
        lines.append("\t[C]: in function '%s'" % (state.global_name(fn) or "?"))
    f = frame
    while f is not None:
        proto = f.closure.proto
        lines.append("\t%s:%d: in %s" % (proto.source, proto.lineinfo[f.pc // 4],
                                          function_description(f)))
        if f.is_tail:
            lines.append("\t(...tail calls...)")
        if f.is_entry:
            caller = f.caller
            fn = called_builtin(state, caller) if caller is not None else None
            if fn is not None:
                lines.append("\t[C]: in function '%s'" % (state.global_name(fn) or "?"))
            elif caller is None or caller.closure.proto.code[caller.pc] not in METAMETHOD_OF_OP:
                lines.append("\t[C]: in ?")
        f = f.caller
    return "\n".join(lines)


def arg_error_text(state, frame: Frame, exc: LuaArgError) -> str:
    proto = frame.closure.proto
    pc = frame.pc
    code = proto.code
    argn = exc.argn
    kind = None
    name = None
    if code[pc] == Op.CALL or code[pc] == Op.TAILCALL:
        info = get_obj_name(proto, pc, code[pc + 1])
        if info is not None:
            kind, name = info
    if kind == "method":
        argn -= 1
        if argn == 0:
            return "calling '%s' on bad self (%s)" % (name, exc.message)
    if name is None:
        name = "?"
    return "bad argument #%d to '%s' (%s)" % (argn, name, exc.message)


def operand_info(frame: Frame, operand) -> str:
    """`` (local 'x')`` and the like for the operand of the running instruction."""
    if operand is None:
        return ""
    proto = frame.closure.proto
    pc = frame.pc
    code = proto.code
    op = code[pc]
    if type(operand) is int:
        reg = operand - frame.base
    else:
        reg = code[pc + {"a": 1, "b": 2, "c": 3}[operand]]
        if op == Op.GETTABUP and operand == "b":
            return " (upvalue '%s')" % proto.upval_names[reg]
    if reg < 0:
        k = proto.consts[-1 - reg]
        if type(k) is bytes:
            return " (constant '%s')" % k.decode("latin-1")
        return ""
    info = get_obj_name(proto, pc, reg)
    if info is None:
        return ""
    return " (%s '%s')" % info


def local_name(proto, reg: int, pc: int):
    """The name of the local variable in register ``reg`` at ``pc``, or None."""
    for name, start, end, r in proto.locvars:
        if r == reg and start <= pc < end:
            return name
    return None


def find_set_reg(proto, lastpc: int, reg: int) -> int:
    """The last instruction before ``lastpc`` that sets ``reg`` on every path there
    (lua5.4's findsetreg), or -1."""
    code = proto.code
    setreg = -1
    jmptarget = 0
    pc = 0
    while pc < lastpc:
        op = code[pc]
        a = code[pc + 1]
        b = code[pc + 2]
        change = False
        if op == Op.LOADNIL:
            change = a <= reg < a + b
        elif op == Op.CALL:
            change = reg >= a
        elif op == Op.TAILCALL:
            change = reg >= a
        elif op == Op.JMP:
            if pc < b <= lastpc and b > jmptarget:
                jmptarget = b
        elif op == Op.SELF:
            change = reg == a or reg == a + 1
        elif op == Op.FORPREP or op == Op.FORLOOP:
            change = a <= reg <= a + 3
        elif op == Op.VARARG:
            change = reg >= a
        elif op in SETS_A:
            change = reg == a
        if change:
            setreg = -1 if pc < jmptarget else pc
        pc += 4
    return setreg


SETS_A = frozenset([Op.MOVE, Op.LOADK, Op.LOADBOOL, Op.GETUPVAL, Op.GETCELL, Op.NEWCELL,
                    Op.GETTABLE, Op.GETTABUP, Op.NEWTABLE, Op.ADD, Op.SUB, Op.MUL, Op.DIV,
                    Op.MOD, Op.POW, Op.IDIV, Op.BAND, Op.BOR, Op.BXOR, Op.SHL, Op.SHR,
                    Op.UNM, Op.BNOT, Op.NOT, Op.LEN, Op.CONCAT, Op.CLOSURE])


def get_obj_name(proto, pc: int, reg: int):
    """(kind, name) describing what register ``reg`` holds at ``pc``, as lua5.4's
    getobjname does: a local, a global, a field, an upvalue, a method, a constant."""
    name = local_name(proto, reg, pc)
    if name is not None:
        return ("local", name)
    setpc = find_set_reg(proto, pc, reg)
    if setpc < 0:
        return None
    code = proto.code
    op = code[setpc]
    b = code[setpc + 2]
    c = code[setpc + 3]
    if op == Op.MOVE:
        if b < code[setpc + 1]:
            return get_obj_name(proto, setpc, b)
        return None
    if op == Op.GETCELL:
        name = local_name(proto, b, setpc)
        return ("local", name) if name is not None else None
    if op == Op.GETTABUP:
        key = proto.consts[-1 - c] if c < 0 else None
        if type(key) is bytes:
            kind = "global" if proto.upval_names[b] == "_ENV" else "field"
            return (kind, key.decode("latin-1"))
        return None
    if op == Op.GETTABLE:
        table = get_obj_name(proto, setpc, b)
        kind = "global" if table is not None and table[1] == "_ENV" else "field"
        if c < 0:
            key = proto.consts[-1 - c]
            if type(key) is bytes:
                return (kind, key.decode("latin-1"))
            if type(key) is int and 0 <= key <= 255:
                return ("field", "integer index")       # lua5.4's GETI
            return (kind, "?")
        # a key in a register: named only when it holds a constant string
        keyinfo = get_obj_name(proto, setpc, c)
        return (kind, keyinfo[1] if keyinfo is not None and keyinfo[0] == "constant" else "?")
    if op == Op.GETUPVAL:
        return ("upvalue", proto.upval_names[b])
    if op == Op.LOADK:
        k = proto.consts[b]
        if type(k) is bytes:
            return ("constant", k.decode("latin-1"))
        return None
    if op == Op.SELF:
        key = proto.consts[-1 - c]
        return ("method", key.decode("latin-1"))
    return None
