"""The compiler: a syntax tree to one ``Proto`` per function.

Two walks.  ``Resolver`` binds every name to the declaration it refers to (a
``VarInfo``) and marks the locals that an inner function captures; the compiler
then keeps a captured local in a ``Cell`` (made by NEWCELL where the local is
declared, so a loop makes a fresh one per iteration, as Lua's semantics require)
and every other local in a plain register.  Globals are fields of ``_ENV``, an
upvalue of the main chunk (or a local called ``_ENV`` where one is in scope).

Registers are allocated as a stack: locals occupy the low registers in order of
declaration, temporaries sit above ``freereg``.
"""
from __future__ import annotations

from metajit.examples.lua.lexer import LuaSyntaxError, chunk_id
from metajit.examples.lua.objects import Proto
from metajit.examples.lua.opcodes import (
    ARITH_OPS, OP_CALL, OP_CLOSE, OP_CLOSURE, OP_CONCAT, OP_EQ, OP_FORLOOP, OP_FORPREP,
    OP_GETCELL, OP_GETTABLE, OP_GETTABUP, OP_GETUPVAL, OP_JMP, OP_LE, OP_LEN, OP_LOADBOOL,
    OP_LOADK, OP_LOADNIL, OP_LT, OP_MOVE, OP_NEWCELL, OP_NEWTABLE, OP_NOT, OP_RETURN,
    OP_SELF, OP_SETCELL, OP_SETLIST, OP_SETTABLE, OP_SETTABUP, OP_SETUPVAL, OP_TAILCALL,
    OP_TBC, OP_TEST, OP_TFORLOOP, OP_UNM, OP_BNOT, OP_VARARG)
from metajit.examples.lua.parser import Node, parse

FIELDS_PER_FLUSH = 50
MAX_REGS = 250


class VarInfo:
    """One local variable declaration (or the implicit ``_ENV`` upvalue)."""

    def __init__(self, name: str, func, attrib=None):
        self.name = name
        self.func = func            # the function node that declares it
        self.attrib = attrib
        self.captured = False
        self.reg = -1


class Resolver:
    """Binds names to declarations; marks captured locals."""

    def __init__(self, env: VarInfo):
        self.scopes = []            # list of (function node, dict name -> VarInfo)
        self.env = env

    def lookup(self, name: str, func):
        for scope_func, names in reversed(self.scopes):
            var = names.get(name)
            if var is not None:
                if var.func is not func:
                    var.captured = True
                return var
        if name == "_ENV":
            return self.env
        return None

    def declare(self, node: Node, name: str, func, attrib=None) -> VarInfo:
        var = VarInfo(name, func, attrib)
        self.scopes[-1][1][name] = var
        return var

    def function(self, node: Node) -> None:
        self.scopes.append((node, {}))
        node.param_vars = [self.declare(node, p, node) for p in node.params]
        self.block(node.body, node, new_scope=False)
        self.scopes.pop()

    def block(self, stats: list, func, new_scope: bool = True) -> None:
        if new_scope:
            self.scopes.append((func, {}))
        for s in stats:
            self.stat(s, func)
        if new_scope:
            self.scopes.pop()

    def stat(self, s: Node, func) -> None:
        k = s.kind
        if k == "local":
            for e in s.exprs:
                self.expr(e, func)
            s.vars = [self.declare(s, n, func, a) for n, a in zip(s.names, s.attribs)]
        elif k == "localfunction":
            s.var = self.declare(s, s.name, func)
            self.expr(s.func, func)
        elif k == "assign":
            for t in s.targets:
                self.expr(t, func)
            for e in s.exprs:
                self.expr(e, func)
        elif k == "callstat":
            self.expr(s.call, func)
        elif k == "do":
            self.block(s.body, func)
        elif k == "while":
            self.expr(s.cond, func)
            self.block(s.body, func)
        elif k == "repeat":
            self.scopes.append((func, {}))
            for b in s.body:
                self.stat(b, func)
            self.expr(s.cond, func)
            self.scopes.pop()
        elif k == "if":
            for c, b in zip(s.conds, s.blocks):
                self.expr(c, func)
                self.block(b, func)
            if s.orelse is not None:
                self.block(s.orelse, func)
        elif k == "numfor":
            self.expr(s.start, func)
            self.expr(s.limit, func)
            if s.step is not None:
                self.expr(s.step, func)
            self.scopes.append((func, {}))
            s.loopvar = self.declare(s, s.var, func)
            self.block(s.body, func)
            self.scopes.pop()
        elif k == "genfor":
            for e in s.exprs:
                self.expr(e, func)
            self.scopes.append((func, {}))
            s.vars = [self.declare(s, n, func) for n in s.names]
            self.block(s.body, func)
            self.scopes.pop()
        elif k == "return":
            for e in s.exprs:
                self.expr(e, func)

    def expr(self, e: Node, func) -> None:
        k = e.kind
        if k == "name":
            e.var = self.lookup(e.name, func)
            if e.var is None:
                e.env = self.lookup("_ENV", func)
        elif k == "index":
            self.expr(e.obj, func)
            self.expr(e.key, func)
        elif k == "call":
            self.expr(e.func, func)
            for a in e.args:
                self.expr(a, func)
        elif k == "method":
            self.expr(e.obj, func)
            for a in e.args:
                self.expr(a, func)
        elif k == "binop":
            self.expr(e.left, func)
            self.expr(e.right, func)
        elif k == "unop":
            self.expr(e.operand, func)
        elif k == "paren":
            self.expr(e.expr, func)
        elif k == "table":
            for item in e.items:
                for sub in item[1:]:
                    self.expr(sub, func)
        elif k == "function":
            self.function(e)


def is_multi(e: Node) -> bool:
    return e.kind in ("call", "method", "vararg")


def const_truth(e: Node):
    """True/False for a constant expression, None when not constant."""
    if e.kind in ("nil", "false"):
        return False
    if e.kind in ("true", "number", "string"):
        return True
    return None


class BlockScope:
    def __init__(self, nactive: int, is_loop: bool):
        self.nactive = nactive          # active locals when the block starts
        self.is_loop = is_loop
        self.breaks = []                # JMP positions to patch to the loop's end
        self.labels = {}                # name -> (pc, nactive)
        self.gotos = []                 # pending (name, jmp pc, line, nactive,
        #                                 CLOSE pc or -1, registers of the active locals)
        self.has_tbc = False


class FuncState:
    def __init__(self, parent, node: Node, source: str):
        self.parent = parent
        self.node = node
        self.source = source
        self.code = []
        self.lines = []
        self.consts = []
        self.const_index = {}
        self.protos = []
        self.upvals = []                # (VarInfo, instack, index)
        self.upval_names = []
        self.active = []                # active VarInfo, in register order
        self.blocks = []
        self.freereg = 0
        self.maxstack = 2
        self.locvars = []               # (name, startpc, endpc, reg)
        self.open_locvars = {}          # VarInfo -> index in locvars
        self.line = node.line


class Compiler:
    def __init__(self, chunkname: str):
        self.source = chunk_id(chunkname)
        self.fs = None

    def error(self, message: str, line: int, near: str | None = None) -> LuaSyntaxError:
        text = "%s:%d: %s" % (self.source, line, message)
        if near is not None:
            text += " near '%s'" % near
        return LuaSyntaxError(text)

    # -- emitting -------------------------------------------------------------------------
    def emit(self, op: int, a: int = 0, b: int = 0, c: int = 0) -> int:
        fs = self.fs
        pc = len(fs.code)
        fs.code += [op, a, b, c]
        fs.lines.append(fs.line)
        return pc

    def here(self) -> int:
        return len(self.fs.code)

    def jump(self) -> int:
        return self.emit(OP_JMP, 0, -1)

    def patch(self, jumps, target: int) -> None:
        for j in jumps:
            self.fs.code[j + 2] = target

    def patch_here(self, jumps) -> None:
        self.patch(jumps, self.here())

    def const(self, value) -> int:
        """The RK operand for a constant."""
        fs = self.fs
        key = (type(value), value)
        idx = fs.const_index.get(key)
        if idx is None:
            idx = len(fs.consts)
            fs.consts.append(value)
            fs.const_index[key] = idx
        return -1 - idx

    def reserve(self, n: int = 1) -> int:
        fs = self.fs
        r = fs.freereg
        fs.freereg += n
        if fs.freereg > fs.maxstack:
            fs.maxstack = fs.freereg
            if fs.maxstack > MAX_REGS:
                raise self.error("function or expression needs too many registers",
                                 fs.line)
        return r

    def free_to(self, r: int) -> None:
        self.fs.freereg = r

    # -- functions ------------------------------------------------------------------------
    def compile_function(self, node: Node, parent) -> Proto:
        fs = FuncState(parent, node, self.source)
        saved = self.fs
        self.fs = fs
        fs.blocks.append(BlockScope(0, False))
        for var in node.param_vars:
            self.add_local(var, self.reserve())
        for var in node.param_vars:
            if var.captured:
                self.emit(OP_NEWCELL, var.reg)
        self.block_body(node.body)
        fs.line = node.end_line
        self.emit(OP_RETURN, 0, 1)
        self.close_block_gotos(fs.blocks.pop(), function_end=True)
        for var in list(fs.open_locvars):
            self.end_local(var)
        lines = tuple(fs.lines)
        proto = Proto(tuple(fs.code), tuple(fs.consts), tuple(fs.protos),
                      tuple(u[1] for u in fs.upvals), tuple(u[2] for u in fs.upvals),
                      tuple(fs.upval_names), len(node.params), node.is_vararg,
                      fs.maxstack, lines, fs.locvars, self.source, node.line,
                      node.end_line, node.name)
        self.fs = saved
        return proto

    def add_local(self, var: VarInfo, reg: int) -> None:
        fs = self.fs
        var.reg = reg
        fs.active.append(var)
        if len(fs.active) > 200:
            raise self.error("too many local variables (limit is 200) in %s" % (
                "main function" if fs.parent is None else
                "function at line %d" % fs.node.line), fs.line, "=")
        fs.open_locvars[var] = len(fs.locvars)
        fs.locvars.append([var.name, self.here(), -1, reg])

    def end_local(self, var: VarInfo) -> None:
        fs = self.fs
        idx = fs.open_locvars.pop(var, None)
        if idx is not None:
            fs.locvars[idx][2] = self.here()

    def upvalue_index(self, fs: FuncState, var: VarInfo) -> int:
        for i, u in enumerate(fs.upvals):
            if u[0] is var:
                return i
        parent = fs.parent
        if parent is None:
            # only the implicit _ENV reaches the main chunk as an upvalue
            fs.upvals.append((var, False, 0))
        elif var.func is parent.node:
            fs.upvals.append((var, True, var.reg))
        else:
            fs.upvals.append((var, False, self.upvalue_index(parent, var)))
        fs.upval_names.append(var.name)
        return len(fs.upvals) - 1

    # -- blocks and scopes ------------------------------------------------------------------
    def enter_block(self, is_loop: bool = False) -> BlockScope:
        block = BlockScope(len(self.fs.active), is_loop)
        self.fs.blocks.append(block)
        return block

    def leave_block(self, block: BlockScope, close: bool = True) -> None:
        """End a block's scope (a loop's caller patches its breaks itself)."""
        fs = self.fs
        fs.blocks.pop()
        removed = fs.active[block.nactive:]
        if block.has_tbc and close:
            self.emit(OP_CLOSE, min(v.reg for v in removed if v.attrib == "close"))
        for var in removed:
            self.end_local(var)
        del fs.active[block.nactive:]
        self.free_to(self.nregs())
        self.close_block_gotos(block)

    def close_block_gotos(self, block: BlockScope, function_end: bool = False) -> None:
        """Pending gotos of a finished block move out to the enclosing block."""
        fs = self.fs
        if not block.gotos:
            return
        if function_end or not fs.blocks:
            name, line = block.gotos[0][0], block.gotos[0][2]
            raise self.error("no visible label '%s' for <goto> at line %d" % (name, line), line)
        outer = fs.blocks[-1]
        for name, pc, line, nact, close_pc, regs in block.gotos:
            outer.gotos.append((name, pc, line, min(nact, block.nactive), close_pc, regs))

    def nregs(self) -> int:
        fs = self.fs
        return fs.active[-1].reg + 1 if fs.active else 0

    def block_body(self, stats: list) -> None:
        for i, s in enumerate(stats):
            self.stat(s, stats, i)
            self.free_to(self.nregs())

    def block(self, stats: list) -> None:
        block = self.enter_block(False)
        self.block_body(stats)
        self.leave_block(block)

    # -- statements ---------------------------------------------------------------------------
    def stat(self, s: Node, stats: list, index: int) -> None:
        fs = self.fs
        fs.line = s.line
        k = s.kind
        if k == "local":
            self.local_stat(s)
        elif k == "localfunction":
            reg = self.reserve()
            self.add_local(s.var, reg)
            if s.var.captured:
                self.emit(OP_LOADNIL, reg, 1)
                self.emit(OP_NEWCELL, reg)
                tmp = self.reserve()
                self.function_expr(s.func, tmp)
                self.emit(OP_SETCELL, reg, tmp)
            else:
                self.function_expr(s.func, reg)
        elif k == "assign":
            self.assign_stat(s)
        elif k == "callstat":
            self.call_expr(s.call, self.reserve(), 0)
        elif k == "do":
            self.block(s.body)
        elif k == "while":
            start = self.here()
            exits = self.cond_jump(s.cond, False)
            block = self.enter_block(True)
            self.block_body(s.body)
            fs.line = s.line
            self.close_to(block.nactive)
            self.patch([self.jump()], start)
            self.leave_block(block, close=False)
            self.patch_here(exits + block.breaks)
        elif k == "repeat":
            start = self.here()
            block = self.enter_block(True)
            self.block_body(s.body)
            fs.line = s.cond.line
            if block.has_tbc:
                # the condition sees the body's locals; close them on both ways out
                out = self.cond_jump(s.cond, True)
                first = min(v.reg for v in fs.active[block.nactive:] if v.attrib == "close")
                self.emit(OP_CLOSE, first)
                self.patch([self.jump()], start)
                self.patch_here(out)
            else:
                self.patch(self.cond_jump(s.cond, False), start)
            self.leave_block(block)
            self.patch_here(block.breaks)
        elif k == "if":
            ends = []
            for i, (cond, body) in enumerate(zip(s.conds, s.blocks)):
                fs.line = cond.line
                false_jumps = self.cond_jump(cond, False)
                self.block(body)
                if i < len(s.conds) - 1 or s.orelse is not None:
                    ends.append(self.jump())
                self.patch_here(false_jumps)
            if s.orelse is not None:
                self.block(s.orelse)
            self.patch_here(ends)
        elif k == "numfor":
            self.numfor_stat(s)
        elif k == "genfor":
            self.genfor_stat(s)
        elif k == "return":
            self.return_stat(s)
        elif k == "break":
            for block in reversed(fs.blocks):
                if block.is_loop:
                    break
            else:
                raise self.error("break outside loop at line %d" % s.line, s.line, None)
            self.close_to(block.nactive)
            block.breaks.append(self.jump())
        elif k == "goto":
            self.goto_stat(s)
        elif k == "label":
            self.label_stat(s, stats, index)
        else:
            raise AssertionError(k)

    def close_to(self, nactive: int) -> None:
        """Before a jump out of scopes: close the to-be-closed locals above ``nactive``."""
        regs = [v.reg for v in self.fs.active[nactive:] if v.attrib == "close"]
        if regs:
            self.emit(OP_CLOSE, min(regs))

    def goto_stat(self, s: Node) -> None:
        fs = self.fs
        for block in reversed(fs.blocks):
            label = block.labels.get(s.name)
            if label is not None:
                pc, nact, _ = label
                self.close_to(nact)
                self.patch([self.jump()], pc)
                return
        # a forward goto may leave the scope of to-be-closed variables: a CLOSE
        # whose register is filled in when the label is found
        close_pc = -1
        if any(v.attrib == "close" for v in fs.active):
            close_pc = self.emit(OP_CLOSE, MAX_REGS)
        fs.blocks[-1].gotos.append((s.name, self.jump(), s.line, len(fs.active), close_pc,
                                    [v.reg for v in fs.active]))

    def label_stat(self, s: Node, stats: list, index: int) -> None:
        fs = self.fs
        for block in fs.blocks:
            if s.name in block.labels:
                raise self.error("label '%s' already defined on line %d" % (
                    s.name, block.labels[s.name][2]), s.line)
        block = fs.blocks[-1]
        nact = len(fs.active)
        # a label at the end of a block counts as outside the block's locals
        if all(r.kind == "label" for r in stats[index + 1:]):
            nact = block.nactive
        block.labels[s.name] = (self.here(), nact, s.line)
        pending = []
        for g in block.gotos:
            name, pc, line, gnact, close_pc, regs = g
            if name != s.name:
                pending.append(g)
                continue
            if nact > gnact:
                var = fs.active[gnact]
                raise self.error("<goto %s> at line %d jumps into the scope of local '%s'" % (
                    name, line, var.name), line)
            self.patch([pc], self.here())
            if close_pc >= 0:
                self.fs.code[close_pc + 1] = regs[nact] if nact < len(regs) else MAX_REGS
        block.gotos = pending

    def local_stat(self, s: Node) -> None:
        fs = self.fs
        nvars = len(s.vars)
        base = fs.freereg
        self.explist_to(s.exprs, base, nvars)
        for i, var in enumerate(s.vars):
            self.add_local(var, base + i)
            if var.attrib == "const" and i < len(s.exprs) and \
                    const_truth(s.exprs[i]) is not None:
                # lua5.4 folds a constant initialiser: no variable name in messages
                fs.locvars.pop()
                fs.open_locvars.pop(var)
        self.free_to(base + nvars)
        for i, var in enumerate(s.vars):
            if var.captured:
                self.emit(OP_NEWCELL, var.reg)
            if var.attrib == "close":
                fs.blocks[-1].has_tbc = True
                self.emit(OP_TBC, var.reg)

    def explist_to(self, exprs: list, base: int, want: int) -> None:
        """Evaluate ``exprs`` into registers base .. base+want-1 (reserving them),
        adjusting to ``want`` values as Lua does."""
        n = len(exprs)
        for i, e in enumerate(exprs):
            if i == n - 1 and is_multi(e) and want > i:
                self.multi_expr(e, self.fs.freereg, want - i)
                self.free_to(base + want)
                return
            reg = self.reserve()
            self.expr_to(e, reg)
            self.free_to(reg + 1)
        if want > n:
            reg = self.reserve(want - n)
            self.emit(OP_LOADNIL, reg, want - n)
        self.free_to(base + want)

    def assign_stat(self, s: Node) -> None:
        fs = self.fs
        targets = s.targets
        for t in targets:
            if t.kind == "name" and t.var is not None and t.var.attrib in ("const", "close"):
                raise self.error("attempt to assign to const variable '%s'" % t.name, s.line)
        if len(targets) == 1 and len(s.exprs) == 1:
            t = targets[0]
            e = s.exprs[0]
            if t.kind == "name":
                var = t.var
                if var is not None and var.func is fs.node and not var.captured:
                    # a constructor or and/or writes its target before it has
                    # read everything: build it in a temporary
                    if e.kind == "table" or (e.kind == "binop" and e.op in ("and", "or")):
                        tmp = self.reserve()
                        self.expr_to(e, tmp)
                        self.emit(OP_MOVE, var.reg, tmp)
                    else:
                        self.expr_to(e, var.reg)
                    return
                val = self.expr_rk(e)
                self.store_var(t, val)
                return
            obj = self.expr_anyreg(t.obj)
            key = self.expr_rk(t.key)
            val = self.expr_rk(e)
            fs.line = s.line
            self.emit(OP_SETTABLE, obj, key, val)
            return
        # general case: targets' objects and keys first, then the values, then the
        # stores from last to first
        places = []
        for t in targets:
            if t.kind == "index":
                obj = self.expr_anyreg(t.obj)
                if obj < self.nregs():
                    # a local could be reassigned by an earlier store: copy it
                    tmp = self.reserve()
                    self.emit(OP_MOVE, tmp, obj)
                    obj = tmp
                key = t.key
                if key.kind in ("number", "string", "nil", "true", "false"):
                    k = self.expr_rk(key)
                else:
                    k = self.reserve()
                    self.expr_to(key, k)
                places.append((t, obj, k))
            else:
                places.append((t, None, None))
        base = fs.freereg
        self.explist_to(s.exprs, base, len(targets))
        fs.line = s.line
        for i in range(len(targets) - 1, -1, -1):
            t, obj, k = places[i]
            if obj is None:
                self.store_var(t, base + i)
            else:
                self.emit(OP_SETTABLE, obj, k, base + i)

    def store_var(self, t: Node, val: int) -> None:
        """Assign RK ``val`` to the variable named by node ``t``."""
        fs = self.fs
        var = t.var
        if var is not None:
            if var.func is fs.node:
                if var.captured:
                    self.emit(OP_SETCELL, var.reg, val)
                elif val != var.reg:
                    if val < 0:
                        self.emit(OP_LOADK, var.reg, -1 - val)
                    else:
                        self.emit(OP_MOVE, var.reg, val)
            else:
                if val < 0:
                    tmp = self.reserve()
                    self.emit(OP_LOADK, tmp, -1 - val)
                    val = tmp
                self.emit(OP_SETUPVAL, val, self.upvalue_index(fs, var))
            return
        env = t.env
        key = self.const(t.name.encode("latin-1"))
        if env.func is fs.node and env.reg >= 0:
            if env.captured:
                tmp = self.reserve()
                self.emit(OP_GETCELL, tmp, env.reg)
                self.emit(OP_SETTABLE, tmp, key, val)
            else:
                self.emit(OP_SETTABLE, env.reg, key, val)
        else:
            self.emit(OP_SETTABUP, self.upvalue_index(fs, env), key, val)

    def numfor_stat(self, s: Node) -> None:
        fs = self.fs
        base = self.reserve(3)
        self.expr_to(s.start, base)
        self.expr_to(s.limit, base + 1)
        if s.step is not None:
            self.expr_to(s.step, base + 2)
        else:
            self.emit(OP_LOADK, base + 2, -1 - self.const(1))
        fs.line = s.line
        prep = self.emit(OP_FORPREP, base, -1)
        block = self.enter_block(True)
        var_reg = self.reserve()
        self.add_local(s.loopvar, var_reg)
        body = self.here()
        if s.loopvar.captured:
            self.emit(OP_NEWCELL, var_reg)
        self.block_body(s.body)
        fs.line = s.line
        self.close_to(block.nactive)
        self.leave_block(block, close=False)
        loop = self.emit(OP_FORLOOP, base, body)
        fs.code[prep + 2] = loop + 4
        self.patch_here(block.breaks)

    def genfor_stat(self, s: Node) -> None:
        fs = self.fs
        base = fs.freereg
        self.explist_to(s.exprs, base, 3)
        self.reserve(1)             # the closing value's slot
        self.emit(OP_LOADNIL, base + 3, 1)
        start_jump = self.jump()
        block = self.enter_block(True)
        nvars = len(s.vars)
        self.reserve(nvars)
        for i, var in enumerate(s.vars):
            self.add_local(var, base + 4 + i)
        body = self.here()
        for var in s.vars:
            if var.captured:
                self.emit(OP_NEWCELL, var.reg)
        self.block_body(s.body)
        self.close_to(block.nactive)
        self.leave_block(block, close=False)
        # the call of the iterator: R(a+4..) = R(a)(R(a+1), R(a+2))
        self.patch_here([start_jump])
        fs.line = s.line
        self.emit(OP_MOVE, base + 4, base)
        self.emit(OP_MOVE, base + 5, base + 1)
        self.emit(OP_MOVE, base + 6, base + 2)
        if fs.maxstack < base + 7:
            fs.maxstack = base + 7
        self.emit(OP_CALL, base + 4, 3, nvars + 1)
        self.emit(OP_TFORLOOP, base, body)
        self.patch_here(block.breaks)

    def return_stat(self, s: Node) -> None:
        fs = self.fs
        exprs = s.exprs
        has_tbc = any(v.attrib == "close" for v in fs.active)
        if len(exprs) == 1 and exprs[0].kind in ("call", "method") and not has_tbc:
            base = self.reserve()
            self.call_expr(exprs[0], base, -1, tail=True)
            return
        if len(exprs) == 1 and not is_multi(exprs[0]):
            e = exprs[0]
            if e.kind == "name" and e.var is not None and e.var.func is fs.node \
                    and not e.var.captured and not has_tbc:
                self.emit(OP_RETURN, e.var.reg, 2)
                return
        base = fs.freereg
        if exprs and is_multi(exprs[-1]):
            for e in exprs[:-1]:
                self.expr_to(e, self.reserve())
            self.multi_expr(exprs[-1], fs.freereg, -1)
            if has_tbc:
                self.close_to(0)
            fs.line = s.line
            self.emit(OP_RETURN, base, 0)
            return
        for e in exprs:
            self.expr_to(e, self.reserve())
        if has_tbc:
            self.close_to(0)
        fs.line = s.line
        self.emit(OP_RETURN, base, len(exprs) + 1)

    # -- expressions -------------------------------------------------------------------------
    def expr_rk(self, e: Node) -> int:
        """An RK operand for ``e``: a constant, a local's register, or a temporary."""
        k = e.kind
        if k == "number" or k == "string":
            return self.const(e.value)
        if k == "nil":
            return self.const(None)
        if k == "true":
            return self.const(True)
        if k == "false":
            return self.const(False)
        return self.expr_anyreg(e)

    def operand(self, e: Node, reg: int) -> int:
        """Like expr_rk, but a value that needs a temporary may use ``reg`` itself
        when ``reg`` is the topmost temporary (as lua5.4's register use does)."""
        if reg == self.fs.freereg - 1 and reg >= self.nregs() and const_truth(e) is None \
                and not (e.kind == "name" and e.var is not None
                         and e.var.func is self.fs.node and not e.var.captured):
            self.expr_to(e, reg)
            return reg
        return self.expr_rk(e)

    def expr_anyreg(self, e: Node) -> int:
        if e.kind == "name":
            var = e.var
            if var is not None and var.func is self.fs.node and not var.captured:
                return var.reg
        reg = self.reserve()
        self.expr_to(e, reg)
        return reg

    def expr_to(self, e: Node, reg: int) -> None:
        """Evaluate ``e`` (one value) into register ``reg``."""
        fs = self.fs
        k = e.kind
        if k == "number" or k == "string":
            self.emit(OP_LOADK, reg, -1 - self.const(e.value))
        elif k == "nil":
            self.emit(OP_LOADNIL, reg, 1)
        elif k == "true":
            self.emit(OP_LOADBOOL, reg, 1)
        elif k == "false":
            self.emit(OP_LOADBOOL, reg, 0)
        elif k == "vararg":
            if not fs.node.is_vararg:
                raise self.error("cannot use '...' outside a vararg function", e.line, "...")
            self.emit(OP_VARARG, reg, 2)
        elif k == "function":
            self.function_expr(e, reg)
        elif k == "name":
            self.name_expr(e, reg)
        elif k == "index":
            save = fs.freereg
            obj_is_env = e.obj.kind == "name" and e.obj.var is None
            if obj_is_env:
                self.name_expr(e.obj, reg)
                obj = reg
            else:
                obj = self.operand(e.obj, reg)
            key = self.expr_rk(e.key)
            fs.line = e.line
            self.emit(OP_GETTABLE, reg, obj, key)
            self.free_to(max(save, reg + 1) if reg >= save else save)
        elif k == "call" or k == "method":
            if reg == fs.freereg - 1 and reg >= self.nregs():
                self.free_to(reg)
                self.call_expr(e, self.reserve(), 1)
            else:
                base = self.reserve()
                self.call_expr(e, base, 1)
                self.emit(OP_MOVE, reg, base)
                self.free_to(base)
        elif k == "paren":
            self.expr_to(e.expr, reg)
        elif k == "table":
            self.table_expr(e, reg)
        elif k == "binop":
            self.binop_expr(e, reg)
        elif k == "unop":
            save = fs.freereg
            if e.op == "not":
                operand = self.expr_anyreg(e.operand)
                fs.line = e.line
                self.emit(OP_NOT, reg, operand)
            else:
                operand = self.expr_anyreg(e.operand)
                fs.line = e.line
                self.emit({"-": OP_UNM, "#": OP_LEN, "~": OP_BNOT}[e.op], reg, operand)
            self.free_to(max(save, reg + 1) if reg >= save else save)
        else:
            raise AssertionError(k)

    def name_expr(self, e: Node, reg: int) -> None:
        fs = self.fs
        var = e.var
        if var is not None:
            if var.func is fs.node:
                if var.captured:
                    self.emit(OP_GETCELL, reg, var.reg)
                elif var.reg != reg:
                    self.emit(OP_MOVE, reg, var.reg)
            else:
                self.emit(OP_GETUPVAL, reg, self.upvalue_index(fs, var))
            return
        env = e.env
        key = self.const(e.name.encode("latin-1"))
        if env.func is fs.node and env.reg >= 0:
            if env.captured:
                self.emit(OP_GETCELL, reg, env.reg)
                self.emit(OP_GETTABLE, reg, reg, key)
            else:
                self.emit(OP_GETTABLE, reg, env.reg, key)
        else:
            self.emit(OP_GETTABUP, reg, self.upvalue_index(fs, env), key)

    def function_expr(self, e: Node, reg: int) -> None:
        proto = self.compile_function(e, self.fs)
        fs = self.fs
        fs.protos.append(proto)
        fs.line = e.line
        self.emit(OP_CLOSURE, reg, len(fs.protos) - 1)

    def table_expr(self, e: Node, reg: int) -> None:
        fs = self.fs
        save = fs.freereg
        npos = sum(1 for item in e.items if item[0] == "pos")
        self.emit(OP_NEWTABLE, reg, npos, len(e.items) - npos)
        if reg >= fs.freereg:
            self.free_to(reg + 1)
        pending = 0
        stored = 0
        items = e.items
        for i, item in enumerate(items):
            if item[0] == "key":
                mark = fs.freereg
                key = self.expr_rk(item[1])
                val = self.expr_rk(item[2])
                fs.line = e.line
                self.emit(OP_SETTABLE, reg, key, val)
                self.free_to(mark)
                continue
            value = item[1]
            if pending == 0:
                # positional values go to consecutive registers right above the table
                list_base = fs.freereg
                if list_base != reg + 1:
                    tmp = self.reserve()
                    self.emit(OP_MOVE, tmp, reg)
                    list_table = tmp
                    list_base = fs.freereg
                else:
                    list_table = reg
            if i == len(items) - 1 and is_multi(value):
                self.multi_expr(value, fs.freereg, -1)
                fs.line = e.line
                self.emit(OP_SETLIST, list_table, 0, stored)
                self.free_to(list_base)
                pending = 0
                stored = -1
                break
            self.expr_to(value, self.reserve())
            pending += 1
            if pending == FIELDS_PER_FLUSH:
                fs.line = e.line
                self.emit(OP_SETLIST, list_table, pending, stored)
                stored += pending
                pending = 0
                self.free_to(list_base if list_table == reg else list_base - 1)
        if pending:
            fs.line = e.line
            self.emit(OP_SETLIST, list_table, pending, stored)
        self.free_to(max(save, reg + 1) if reg >= save else save)

    def binop_expr(self, e: Node, reg: int) -> None:
        fs = self.fs
        op = e.op
        save = fs.freereg
        if op in ARITH_OPS:
            b = self.operand(e.left, reg)
            c = self.expr_rk(e.right)
            fs.line = e.line
            self.emit(ARITH_OPS[op], reg, b, c)
        elif op == "..":
            # a chain a .. b .. c into consecutive registers
            parts = []
            node = e
            while node.kind == "binop" and node.op == "..":
                parts.append(node.left)
                node = node.right
            parts.append(node)
            first = self.reserve(len(parts))
            for i, p in enumerate(parts):
                self.expr_to(p, first + i)
            fs.line = e.line
            self.emit(OP_CONCAT, reg, first, first + len(parts) - 1)
        elif op == "and" or op == "or":
            target = reg
            if reg < save and reg < self.nregs():
                target = self.reserve()
            self.expr_to(e.left, target)
            self.emit(OP_TEST, target, 0, 0 if op == "and" else 1)
            end = self.jump()
            self.expr_to(e.right, target)
            self.patch_here([end])
            if target != reg:
                self.emit(OP_MOVE, reg, target)
        else:
            false_jumps = self.cond_jump(e, False)
            self.emit(OP_LOADBOOL, reg, 1)
            end = self.jump()
            self.patch_here(false_jumps)
            self.emit(OP_LOADBOOL, reg, 0)
            self.patch_here([end])
        self.free_to(max(save, reg + 1) if reg >= save else save)

    def cond_jump(self, e: Node, jump_if: bool) -> list:
        """Code that jumps when truthiness(e) == jump_if; returns the jumps to patch."""
        fs = self.fs
        k = e.kind
        truth = const_truth(e)
        if truth is not None:
            return [self.jump()] if truth == jump_if else []
        if k == "unop" and e.op == "not":
            return self.cond_jump(e.operand, not jump_if)
        if k == "paren" and e.expr.kind in ("binop", "unop", "paren"):
            return self.cond_jump(e.expr, jump_if)
        if k == "binop":
            op = e.op
            if op == "and":
                if jump_if:
                    skip = self.cond_jump(e.left, False)
                    jumps = self.cond_jump(e.right, True)
                    self.patch_here(skip)
                    return jumps
                return self.cond_jump(e.left, False) + self.cond_jump(e.right, False)
            if op == "or":
                if jump_if:
                    return self.cond_jump(e.left, True) + self.cond_jump(e.right, True)
                skip = self.cond_jump(e.left, True)
                jumps = self.cond_jump(e.right, False)
                self.patch_here(skip)
                return jumps
            if op in ("==", "~=", "<", "<=", ">", ">="):
                save = fs.freereg
                left = self.expr_rk(e.left)
                right = self.expr_rk(e.right)
                fs.line = e.line
                if op == "==":
                    self.emit(OP_EQ, 1 if jump_if else 0, left, right)
                elif op == "~=":
                    self.emit(OP_EQ, 0 if jump_if else 1, left, right)
                elif op == "<":
                    self.emit(OP_LT, 1 if jump_if else 0, left, right)
                elif op == "<=":
                    self.emit(OP_LE, 1 if jump_if else 0, left, right)
                elif op == ">":
                    self.emit(OP_LT, 1 if jump_if else 0, right, left)
                else:
                    self.emit(OP_LE, 1 if jump_if else 0, right, left)
                self.free_to(save)
                return [self.jump()]
        save = fs.freereg
        reg = self.expr_anyreg(e)
        self.emit(OP_TEST, reg, 0, 1 if jump_if else 0)
        self.free_to(save)
        return [self.jump()]

    def multi_expr(self, e: Node, base: int, want: int) -> None:
        """A call or '...' whose results go to base .. base+want-1 (want -1: all,
        leaving the frame's top set)."""
        fs = self.fs
        if e.kind == "vararg":
            if not fs.node.is_vararg:
                raise self.error("cannot use '...' outside a vararg function", e.line, "...")
            if want > 0:
                self.reserve(want)
            self.emit(OP_VARARG, base, want + 1)
            return
        if fs.freereg != base:
            self.free_to(base)
        self.call_expr(e, self.reserve(), want)
        if want > 0:
            self.free_to(base + want)

    def call_expr(self, e: Node, base: int, nresults: int, tail: bool = False) -> None:
        """Compile a call with the function at register ``base`` (reserved, the top)."""
        fs = self.fs
        if e.kind == "method":
            obj = self.expr_anyreg(e.obj)
            self.free_to(base + 1)
            self.reserve()
            key = self.const(e.name.encode("latin-1"))
            fs.line = e.line
            self.emit(OP_SELF, base, obj, key)
            nfixed = 1
        else:
            self.expr_to(e.func, base)
            self.free_to(base + 1)
            nfixed = 0
        args = e.args
        multi = False
        for i, a in enumerate(args):
            if i == len(args) - 1 and is_multi(a):
                self.multi_expr(a, fs.freereg, -1)
                multi = True
            else:
                self.expr_to(a, self.reserve())
        fs.line = e.line
        b = 0 if multi else nfixed + len(args) + 1
        if tail:
            self.emit(OP_TAILCALL, base, b)
        else:
            self.emit(OP_CALL, base, b, nresults + 1)
        self.free_to(base + 1)


def compile_chunk(source: bytes, chunkname: str) -> Proto:
    """Parse and compile a chunk; raises LuaSyntaxError."""
    tree = parse(source, chunkname)
    env = VarInfo("_ENV", None)
    Resolver(env).function(tree)
    return Compiler(chunkname).compile_function(tree, None)
