"""The one module that touches llvmlite's binding layer and numba.

- ``compile_ir(ir_text, symbol, level)`` parses a module of LLVM IR, optimises it
  (``"cheap"``: sroa, instcombine, simplifycfg, sink, dce, code generated at O2;
  ``"full"``: LLVM's O2 pipeline), adds it to the process's one shared MCJIT
  engine and returns the address of ``symbol`` and the seconds it took.  Every
  module stays in the engine for the life of the process (MCJIT frees nothing):
  one shared engine costs ~0.1 MB a trace where an engine per trace costs ~0.8 MB.
- ``enter(address, slots_address)`` calls the code at ``address`` with the
  signature every unit has, ``i64 unit(i64* slots)``, through one ``@njit``
  trampoline whose ``@intrinsic`` emits the indirect call (~200-280 ns a call where
  ctypes takes over 1 µs).  The caller keeps the slot memory alive.
- ``unique_symbol(prefix)``: symbols never repeat within the process, since all
  modules share one engine.

- ``compile_unit_ir(ir_text, level)``: the same for a unit whose function is named
  ``@metajit_unit``: the name becomes a hash of the text, so identical units share
  one function, and the object code is cached on disk (``set_cache_dir``): keyed by
  the text, the level, the versions of metajit, llvmlite and numba, the target and
  the CPU; an entry is checked (a hash of its bytes) before use, and a bad one is
  recompiled and replaced, never loaded.  No address of the compiling process is in
  the text (objects, buffers and slots reach the code through its slot array), so
  the cached code is valid in any process.

numba is imported lazily (``import numba`` costs a few tenths of a second), and
nothing here changes numba's global state: the trampoline is an ordinary user
function of numba's.
"""
from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import os
import threading
import time

_lock = threading.RLock()
_engine = None
_target_machine = None
_trampoline = None
_symbols = itertools.count()
_code_bytes = 0

LEVELS = ("cheap", "full")
PLACEHOLDER = "metajit_unit"      # the function name compile_unit_ir replaces
_CACHE_MAGIC = b"metajit-object-1\n"

_cache_dir: str | None = None
_defined: dict[str, int] = {}          # symbol -> address, this process
_cached_objects: dict[str, bytes] = {}  # module name -> object code to load
_to_store: set[str] = set()            # module names whose object code goes to disk
CACHE = collections.Counter()          # hits, misses, stores, rejected

# An estimate of machine code per LLVM instruction after optimisation (x86-64,
# measured on generated units: 4-7 bytes); MCJIT does not report its sizes.
BYTES_PER_INSTRUCTION = 6


def unique_symbol(prefix: str) -> str:
    """A function name no other module of this process's engine uses."""
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in prefix)
    return f"metajit_{clean}_{next(_symbols)}"


def _binding():
    import llvmlite.binding as llvm
    return llvm


def _get_engine():
    global _engine, _target_machine
    if _engine is None:
        llvm = _binding()
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_default_triple()
        _target_machine = target.create_target_machine(opt=2, codemodel="jitdefault")
        backing = llvm.parse_assembly("")
        _engine = llvm.create_mcjit_compiler(backing, _target_machine)
        _engine.set_object_cache(_object_compiled, _object_wanted)
    return _engine


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "metajit", "native")


def set_cache_dir(directory: str | None) -> None:
    """Cache object code in ``directory`` (created when needed); None: no cache."""
    global _cache_dir
    _cache_dir = directory


@functools.lru_cache(maxsize=None)
def _versions() -> str:
    from importlib import metadata
    parts = []
    for name in ("metajit", "llvmlite", "numba"):
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=?")
    return ";".join(parts + [target_triple(), cpu_name()])


def _cache_path(key: str) -> str:
    return os.path.join(_cache_dir, key[:2], key + ".o")


def _read_cached(key: str) -> bytes | None:
    """The object code cached for ``key``, checked; None when absent or bad (a bad
    entry is removed)."""
    path = _cache_path(key)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    head = len(_CACHE_MAGIC)
    digest, body = data[head:head + 32], data[head + 32:]
    if data[:head] != _CACHE_MAGIC or hashlib.sha256(body).digest() != digest or not body:
        CACHE["rejected"] += 1
        try:
            os.unlink(path)
        except OSError:
            pass
        return None
    return body


def _object_wanted(module):
    return _cached_objects.pop(module.name, None)


def _object_compiled(module, buffer: bytes) -> None:
    if module.name not in _to_store or _cache_dir is None:
        return
    _to_store.discard(module.name)
    path = _cache_path(module.name)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as f:
            f.write(_CACHE_MAGIC + hashlib.sha256(buffer).digest() + buffer)
        os.replace(temporary, path)     # readers see a whole entry or none
        CACHE["stores"] += 1
    except OSError:
        CACHE["store_errors"] += 1


def compile_unit_ir(ir_text: str, level: str = "cheap") -> tuple[int, float, str]:
    """Compile a unit's module (its function named ``@metajit_unit``), through
    the process's functions and the disk cache; returns (address, seconds, how:
    "process", "cache" or "compiled")."""
    t0 = time.perf_counter()
    key = hashlib.sha256(f"{level}\0{_versions()}\0{ir_text}".encode()).hexdigest()
    symbol = f"metajit_{key[:40]}"
    address = _defined.get(symbol)
    if address is not None:
        return address, time.perf_counter() - t0, "process"
    text = ir_text.replace(f"@{PLACEHOLDER}(", f"@{symbol}(")
    cached = _read_cached(key) if _cache_dir is not None else None
    with _lock:
        _get_engine()
        llvm = _binding()
        module = llvm.parse_assembly(text)
        module.name = key
        if cached is not None:
            _cached_objects[key] = cached
            CACHE["hits"] += 1
        else:
            module.verify()
            _optimise(module, level)
            if _cache_dir is not None:
                _to_store.add(key)
                CACHE["misses"] += 1
        address = _add(module, symbol)
    _defined[symbol] = address
    return address, time.perf_counter() - t0, "cache" if cached is not None else "compiled"


def _add(module, symbol: str) -> int:
    global _code_bytes
    _code_bytes += _count_instructions(module) * BYTES_PER_INSTRUCTION
    _engine.add_module(module)
    _engine.finalize_object()
    address = _engine.get_function_address(symbol)
    if not address:
        raise RuntimeError(f"the compiled module has no function {symbol!r}")
    return address


def target_triple() -> str:
    return _binding().get_process_triple()


def cpu_name() -> str:
    llvm = _binding()
    return f"{llvm.get_host_cpu_name()}:{llvm.get_host_cpu_features().flatten()}"


def _optimise(module, level: str) -> None:
    llvm = _binding()
    pto = llvm.create_pipeline_tuning_options(speed_level=2)
    builder = llvm.create_pass_builder(_target_machine, pto)
    if level == "full":
        manager = builder.getModulePassManager()
    else:
        manager = llvm.create_new_module_pass_manager()
        manager.add_sroa_pass()          # the lowering keeps every value in an alloca
        manager.add_instruction_combine_pass()
        manager.add_simplify_cfg_pass()
        manager.add_sinking_pass()
        manager.add_dead_code_elimination_pass()
    manager.run(module, builder)


def _count_instructions(module) -> int:
    return sum(1 for f in module.functions for b in f.blocks for _ in b.instructions)


def compile_ir(ir_text: str, symbol: str, level: str = "cheap") -> tuple[int, float]:
    """Compile one module; returns (address of ``symbol``, seconds taken)."""
    if level not in LEVELS:
        raise ValueError(f"unknown optimisation level {level!r}: choose {' or '.join(LEVELS)}")
    t0 = time.perf_counter()
    with _lock:
        _get_engine()
        module = _binding().parse_assembly(ir_text)
        module.verify()
        _optimise(module, level)
        address = _add(module, symbol)
    return address, time.perf_counter() - t0


def code_bytes() -> int:
    """An estimate of the machine code compiled so far in this process."""
    return _code_bytes


def get_trampoline():
    """The ``@njit`` function ``enter(address, slots_address) -> int``, compiled once."""
    global _trampoline
    if _trampoline is None:
        with _lock:
            if _trampoline is None:
                _trampoline = _build_trampoline()
    return _trampoline


def _build_trampoline():
    import numpy as np
    from llvmlite import ir
    from numba import njit, types
    from numba.extending import intrinsic

    @intrinsic
    def call_unit(typingctx, address, data):
        sig = types.int64(types.int64, types.uintp)

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            fnty = ir.FunctionType(i64, [i64.as_pointer()])
            function = builder.inttoptr(args[0], fnty.as_pointer())
            slots = builder.inttoptr(args[1], i64.as_pointer())
            return builder.call(function, [slots])

        return sig, codegen

    @njit(types.int64(types.int64, types.uintp), nogil=False)
    def enter(address, slots_address):
        return call_unit(address, slots_address)

    # compile now, so that no caller pays for it inside a timed region
    probe = np.zeros(1, dtype=np.int64)
    enter(_noop_address(), probe.ctypes.data)
    return enter


def _noop_address() -> int:
    symbol = unique_symbol("noop")
    address, _ = compile_ir(f"define i64 @{symbol}(i64* %slots) {{\n  ret i64 -1\n}}\n",
                            symbol, "cheap")
    return address


def enter(address: int, slots_address: int) -> int:
    """Run the unit at ``address`` on the slots at ``slots_address``; returns its
    exit code."""
    return get_trampoline()(address, slots_address)
