"""The Lua state and the program runner behind ``metajit run prog.lua``.

``LuaState`` holds the value stack, the globals, the string metatable, the
loaded modules and the output buffer; ``run_file`` loads a file, sets up ``arg``
and runs it as lua5.4's standalone interpreter does, reporting an uncaught error
on stderr as ``lua: prog.lua:3: message`` with exit status 1.
"""
from __future__ import annotations

import io
import sys

from metajit.examples.lua.compiler import compile_chunk
from metajit.examples.lua.lerrors import LuaLibError
from metajit.examples.lua.lexer import LuaSyntaxError
from metajit.examples.lua.objects import (Builtin, Cell, LuaArgError, LuaError, LuaFunction,
                                          LuaTable)
from metajit.examples.lua import runtime, vm
from metajit.examples.lua.lib_os import LuaExit
from metajit.examples.lua.lrandom import LuaRandom

FLUSH_AT = 1 << 16


class Output:
    """The guest's standard output: bytes collected and written in blocks."""

    def __init__(self, stream):
        self.buffer = bytearray()
        self.binary = None
        self.text = None
        self.line_buffered = False
        if stream is None:
            return
        try:
            self.line_buffered = bool(stream.isatty())
        except (AttributeError, ValueError):
            pass
        if isinstance(stream, io.TextIOBase):
            stream.flush()
            binary = getattr(stream, "buffer", None)
            if binary is None:
                self.text = stream
                return
            self.binary = binary
        else:
            self.binary = stream

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= FLUSH_AT or (self.line_buffered and b"\n" in data):
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        data = bytes(self.buffer)
        del self.buffer[:]
        if self.binary is not None:
            self.binary.write(data)
            self.binary.flush()
        elif self.text is not None:
            self.text.write(data.decode("latin-1"))
            self.text.flush()


class Input:
    """The guest's standard input, read as bytes."""

    def __init__(self, stream):
        self.pending = b""
        self.stream = None
        if stream is None:
            return
        if isinstance(stream, io.TextIOBase):
            self.stream = getattr(stream, "buffer", None) or stream
        else:
            self.stream = stream
        self.is_text = isinstance(self.stream, io.TextIOBase)

    def _raw_readline(self) -> bytes:
        if self.stream is None:
            return b""
        line = self.stream.readline()
        return line.encode("latin-1") if self.is_text else line

    def _raw_read(self, n: int) -> bytes:
        if self.stream is None:
            return b""
        data = self.stream.read(n) if n >= 0 else self.stream.read()
        return data.encode("latin-1") if self.is_text else data

    def readline(self) -> bytes:
        if self.pending:
            head = self.pending
            self.pending = b""
            if b"\n" in head:
                i = head.index(b"\n") + 1
                self.pending = head[i:]
                return head[:i]
            return head + self._raw_readline()
        return self._raw_readline()

    def read(self, n: int = -1) -> bytes:
        head = self.pending
        if n < 0:
            self.pending = b""
            return head + self._raw_read(-1)
        if len(head) >= n:
            self.pending = head[n:]
            return head[:n]
        self.pending = b""
        return head + self._raw_read(n - len(head))

    def unread(self, data: bytes) -> None:
        self.pending = data + self.pending

    def peek(self) -> bytes:
        c = self.read(1)
        self.unread(c)
        return c


class LuaState:
    # the stack is one list for the whole run: it grows in place
    _immutable_fields_ = ["stack"]

    def __init__(self, stdout=None, stdin=None, script_name: str = "?"):
        self.stack = [None] * 1024
        self.frame = None
        self.c_depth = 0
        self.out = Output(stdout)
        self.inp = Input(stdin)
        self.globals = LuaTable()
        self.string_meta = None
        self.loaded = LuaTable()
        self.script_name = script_name
        self.random = LuaRandom()
        self.in_builtin = False         # a library function is running
        self.called_from_lua = False    # ... and Lua code called it
        self.stdout_file = None
        from metajit.examples.lua import libs
        libs.open_libs(self)

    # -- calls ------------------------------------------------------------------------------
    def call(self, fn, args: list) -> list:
        """Call a Lua value from Python; the results as a list."""
        t = type(fn)
        if t is Builtin:
            saved = self.in_builtin
            self.in_builtin = True
            self.called_from_lua = False
            try:
                return fn.fn(self, args)
            except LuaLibError as exc:
                raise LuaError(vm.to_bytes(exc.args[0] if exc.args else ""))
            except LuaArgError as exc:
                name = self.global_name(fn) or "?"
                raise LuaError(vm.to_bytes("bad argument #%d to '%s' (%s)" % (
                    exc.argn, name, exc.message)))
            finally:
                self.in_builtin = saved
        if t is not LuaFunction:
            h = runtime.get_metamethod(self, fn, b"__call")
            if h is None:
                raise LuaError(vm.to_bytes("attempt to call a %s value" % runtime.type_name(fn)))
            return self.call(h, [fn] + args)
        from_builtin = self.in_builtin
        if self.c_depth >= vm.LUAI_MAXCCALLS - 2:
            if from_builtin:
                raise LuaError(b"C stack overflow")
            raise LuaLibError("C stack overflow")
        caller = self.frame
        if caller is None:
            base = 1
        else:
            base = caller.base + caller.closure.proto.maxstack + 1
        nargs = len(args)
        if base + nargs + 1 > len(self.stack):
            vm.grow_stack(self, base + nargs + 1)
        stack = self.stack
        stack[base - 1] = fn
        for i in range(nargs):
            stack[base + i] = args[i]
        self.c_depth += 1
        self.in_builtin = False
        try:
            frame = vm.push_frame(self, caller, fn, base, nargs, -1, True)
            return vm.execute(0, fn.proto, frame, self)
        except LuaLibError as exc:        # raised by push_frame: no frame of its own yet
            if caller is None:
                raise LuaError(vm.to_bytes(exc.args[0]))
            raise LuaError(vm.to_bytes("%s %s" % (vm.where(caller), exc.args[0])))
        finally:
            self.c_depth -= 1
            self.frame = caller
            self.in_builtin = from_builtin

    def global_name(self, fn):
        """'string.rep' for a function found in a loaded module (lua5.4's
        pushglobalfuncname), or None."""
        entry = self.loaded.next(None)
        while entry is not None:
            modname, mod = entry
            if type(mod) is LuaTable and type(modname) is bytes:
                item = mod.next(None)
                while item is not None:
                    if item[1] is fn and type(item[0]) is bytes:
                        name = item[0].decode("latin-1")
                        if modname == b"_G":
                            return name
                        return modname.decode("latin-1") + "." + name
                    item = mod.next(item[0])
            entry = self.loaded.next(modname)
        return None

    # -- loading ------------------------------------------------------------------------------
    def load(self, source: bytes, chunkname: str, env=None) -> LuaFunction:
        """Compile a chunk; raises LuaSyntaxError."""
        proto = compile_chunk(source, chunkname)
        env_cell = Cell(self.globals if env is None else env)
        return LuaFunction(proto, tuple(env_cell for _ in proto.upval_names))


def error_report(state: LuaState, exc: LuaError) -> str:
    """What lua5.4's standalone interpreter prints for an uncaught error: the
    message (a __tostring result stands alone) and a traceback."""
    value = exc.value
    if type(value) is int or type(value) is float:
        value = runtime.lnumbers.tostring_number(value)
    if type(value) is not bytes:
        if runtime.get_metamethod(state, value, b"__tostring") is not None:
            try:
                text = runtime.tostring(state, value)
                if type(text) is bytes:
                    return text.decode("latin-1")
            except LuaError:
                pass
        value = b"(error object is a %s value)" % runtime.type_name(value).encode()
    return "%s\n%s" % (value.decode("latin-1"),
                       exc.traceback or "stack traceback:\n\t[C]: in ?")


# Library functions and metamethods that call Lua run a nested portal: about 200
# of them may nest (lua5.4's C-stack limit), each some tens of Python frames deep.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 30000))


def run_file(program_path: str, args: list, stdin, stdout) -> int:
    """Run a Lua program as ``lua5.4 prog.lua ARGS...`` would."""
    try:
        with open(program_path, "rb") as f:
            source = f.read()
    except OSError:
        print("lua: cannot open %s" % program_path, file=sys.stderr)
        return 1
    state = LuaState(stdout, stdin, program_path)
    argt = LuaTable()
    argt.set(0, program_path.encode("latin-1", "replace"))
    argt.set(-1, b"lua")
    for i, a in enumerate(args):
        argt.set(i + 1, a.encode("utf-8", "surrogateescape"))
    state.globals.set(b"arg", argt)
    status = 0
    try:
        try:
            main = state.load(source, "@" + program_path)
        except LuaSyntaxError as exc:
            # lua5.4 reports a file that does not compile without a traceback
            sys.stderr.write("lua: %s\n" % exc.message)
            return 1
        state.call(main, [a.encode("utf-8", "surrogateescape") for a in args])
    except LuaError as exc:
        state.out.flush()
        sys.stderr.write("lua: %s\n" % error_report(state, exc))
        sys.stderr.flush()
        status = 1
    except LuaExit as exc:
        status = exc.status
    except KeyboardInterrupt:
        raise
    except Exception as exc:        # a bug in the VM: one line, not a traceback
        state.out.flush()
        sys.stderr.write("lua: internal error: %s: %s\n" % (type(exc).__name__, exc))
        status = 1
    finally:
        state.out.flush()
    return status
