"""Tracing calls: hints, builtins, inlined Python functions and residual calls.

The look-inside policy (as RPython's): a function of the interpreter's own code is
traced into (its frame pushed) unless it is marked ``dont_look_inside``, contains
a loop without ``unroll_safe``/``look_inside``, or lies outside the interpreter's
modules (the standard library, site-packages).  ``elidable`` calls on constants
are folded.  Everything else is a residual call: it runs as plain Python.
"""
from __future__ import annotations

import inspect
import os
import sysconfig
import types
from typing import Any

from metajit.interp.metainterp import PUSHED, AbortTrace
from metajit.interp.values import TV, const_tv, kind_of
from metajit.tracer import hints
from metajit.tracer.ir import Const, SizeDescr, const_ref


class UnsupportedInStrict(Exception):
    """Strict mode: an unsupported construct in looked-inside code is an error."""


_STDLIB_DIRS = tuple({os.path.realpath(p) for p in (
    sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib"),
    sysconfig.get_paths().get("purelib"), sysconfig.get_paths().get("platlib"),
    os.path.dirname(os.__file__)) if p})


def _outside_interpreter(func, portal_module: str) -> bool:
    """True for code the JIT never traces: the standard library, third-party
    packages, and metajit's own toolkit (not its examples)."""
    module = getattr(func, "__module__", "") or ""
    top = module.split(".")[0]
    if module.startswith("metajit.examples") or top == portal_module.split(".")[0]:
        return False
    if module.startswith("metajit."):
        return True
    filename = os.path.realpath(func.__code__.co_filename)
    return filename.startswith(_STDLIB_DIRS) or "site-packages" in filename


def _size_descr(cls: type, _cache={}) -> SizeDescr:
    descr = _cache.get(cls)
    if descr is None:
        descr = _cache[cls] = SizeDescr(cls)
    return descr


def _split_args(op, args: list[TV]):
    """``call`` / ``call_method`` argument layout -> (positional TVs, keyword TVs)."""
    nargs = args[0].value
    kwnames = args[1].value
    rest = args[2:]
    return rest[:nargs], dict(zip(kwnames, rest[nargs:]))


def trace_call(mi, op, args):
    f = args[0]
    pos, kw = _split_args(op, args[1:])
    if not f.is_const():
        if f.box is None or kind_of(f.value) != "r":
            return mi.residual_call(_apply, [f] + pos) if not kw else \
                mi.residual_call(f.value, pos, kw)
        mi.guard("guard_value", [f.box, const_ref(f.value)])
    return call_value(mi, op, f.value, pos, kw)


def _apply(f, *args):
    return f(*args)


def call_value(mi, op, func: Any, pos: list[TV], kw: dict[str, TV]):
    special = SPECIAL_CALLS.get(id(func))
    if special is not None and special[0] is func:
        return special[1](mi, pos, kw)
    if isinstance(func, types.FunctionType):
        return call_function(mi, op, func, pos, kw)
    if isinstance(func, types.MethodType) and isinstance(func.__func__, types.FunctionType):
        return call_function(mi, op, func.__func__, [const_tv(func.__self__)] + pos, kw)
    if isinstance(func, type):
        return call_class(mi, op, func, pos, kw)
    from metajit.interp.tracing_rules import PURE_BUILTINS_ALL
    elidable = func in PURE_BUILTINS_ALL if _hashable(func) else False
    return mi.residual_call(func, pos, kw, elidable=elidable and _all_const(pos, kw))


def _hashable(x) -> bool:
    try:
        hash(x)
        return True
    except TypeError:
        return False


def _all_const(pos, kw) -> bool:
    return all(a.is_const() for a in pos) and all(a.is_const() for a in kw.values())


def call_function(mi, op, func: types.FunctionType, pos: list[TV], kw: dict[str, TV],
                  ctor_result: TV | None = None):
    if getattr(func, "_jit_elidable_", False):
        if _all_const(pos, kw):
            return mi.residual_call(func, pos, kw, elidable=True)   # folded
        return _elidable_call(mi, func, pos, kw)
    look = getattr(func, "_jit_look_inside_", None)
    iff = getattr(func, "_jit_look_inside_iff_", None)
    if iff is not None:
        look = _all_const(pos, kw) and bool(iff(*[a.value for a in pos]))
    if look is False or _outside_interpreter(func, mi.warm.portal_module) or \
            not mi.warm.params_get("inline"):
        return _residual_or_ctor(mi, func, pos, kw, ctor_result)
    try:
        from metajit.interp.jitcode import get_jitcode
        jitcode = get_jitcode(func)
    except Exception as exc:   # UnsupportedConstruct and friends
        from metajit.interp.flowbuilder import UnsupportedConstruct
        if not isinstance(exc, UnsupportedConstruct):
            raise
        if mi.warm.params_get("strict"):
            advice = "" if "dont_look_inside" in str(exc) else \
                f"; mark {func.__qualname__} @dont_look_inside to call it without tracing"
            raise UnsupportedInStrict(f"{exc}{advice}") from None
        raise AbortTrace(str(exc)) from None
    if jitcode.has_loop and look is not True and not getattr(func, "_jit_unroll_safe_", False):
        return _residual_or_ctor(mi, func, pos, kw, ctor_result)
    try:
        bound = inspect.signature(func).bind(*pos, **kw)
    except TypeError as exc:
        raise AbortTrace(f"call of {func.__qualname__}: {exc}", exc=None) from None
    bound.apply_defaults()
    params = inspect.signature(func).parameters
    values = []
    for name, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise AbortTrace(f"*args in {func.__qualname__}")
        v = bound.arguments[name]
        values.append(v if isinstance(v, TV) else const_tv(v))
    mi.push_frame(jitcode, values, ctor_result)
    return PUSHED


def _residual_or_ctor(mi, func, pos, kw, ctor_result):
    if ctor_result is not None:
        # a constructor whose __init__ is not traced: call __init__ residually
        mi.residual_call(func, [ctor_result] + pos, kw)
        return ctor_result
    return mi.residual_call(func, pos, kw)


def _elidable_call(mi, func, pos, kw):
    if kw:
        return mi.residual_call(func, pos, kw)
    values = [a.value for a in pos]
    try:
        result = func(*values)
    except Exception as exc:
        raise AbortTrace(f"{func.__qualname__} raised {type(exc).__name__} while tracing",
                         exc=exc) from None
    if mi.check_hints:
        mi.check_elidable(func, values, {}, result)
    refs = [mi.as_ref(a) for a in pos]
    from metajit.interp.metainterp import _residual_descr
    box = mi.rec.record("call_pure_r", [const_ref(func)] + refs,
                        _residual_descr(func, True, True), result)
    mi.guard("guard_no_exception", [])
    return TV(result, box)


def call_class(mi, op, cls: type, pos, kw):
    init = cls.__init__
    if (cls.__new__ is object.__new__ and isinstance(init, types.FunctionType)
            and cls.__module__ != "builtins" and not issubclass(cls, BaseException)
            and type(cls) is type):
        obj = cls.__new__(cls)
        box = mi.rec.record("new_with_vtable", [], _size_descr(cls), obj)
        mi.known_class[id(box)] = cls
        mi._keep(box)
        obj_tv = TV(obj, box)
        return call_function(mi, op, init, [obj_tv] + pos, kw, ctor_result=obj_tv)
    if cls is range:
        from metajit.interp.tracing_rules import make_range
        return make_range(mi, pos)
    from metajit.interp.tracing_rules import PURE_BUILTINS_ALL
    elidable = cls in PURE_BUILTINS_ALL and _all_const(pos, kw)
    return mi.residual_call(cls, pos, kw, elidable=elidable)


def trace_call_method(mi, op, args):
    obj, name_tv = args[0], args[1]
    name = name_tv.value
    pos, kw = _split_args(op, args[2:])
    value = obj.value
    if isinstance(value, types.ModuleType) or (isinstance(value, type) and obj.is_const()):
        # modules and classes are fixed once traced: the attribute is a constant
        return call_value(mi, op, getattr(value, name), pos, kw)
    cls = type(value)
    attr, found = None, False
    for klass in cls.__mro__:
        if name in klass.__dict__:
            attr, found = klass.__dict__[name], True
            break
    instance_dict = getattr(value, "__dict__", None)
    if found and not (isinstance(instance_dict, dict) and name in instance_dict):
        if obj.box is not None:
            mi.ensure_class(obj)
        if isinstance(attr, types.FunctionType):
            mi.assume(lambda k=klass, n=name, a=attr: k.__dict__.get(n) is a,
                      f"method {klass.__qualname__}.{name} was replaced after the JIT "
                      f"relied on it: classes are fixed once traced")
            return call_function(mi, op, attr, [obj] + pos, kw)
        if isinstance(attr, staticmethod):
            return call_value(mi, op, attr.__func__, pos, kw)
        if isinstance(attr, classmethod):
            return call_value(mi, op, attr.__func__, [const_tv(cls)] + pos, kw)
        if cls.__module__ == "builtins" and callable(attr):
            # a method of a builtin type: call the unbound method residually
            # methods of immutable builtin values fold on constants
            elidable = obj.is_const() and _all_const(pos, kw) and \
                cls in (str, bytes, int, float, tuple, frozenset)
            return mi.residual_call(getattr(cls, name), [obj] + pos, kw, elidable=elidable)
    bound = mi.residual_call(getattr, [obj, name_tv])
    return mi.residual_call(_apply, [bound] + pos) if not kw else \
        mi.residual_call(bound.value, pos, kw)


# --- hints and builtins the tracer understands -------------------------------------

def _promote(mi, pos, kw):
    (x,) = pos
    if x.is_const() or x.box is None:
        return x
    box = x.box
    mi.guard("guard_value", [box, Const(box.kind, x.value)])
    return const_tv(x.value)


def _promote_string(mi, pos, kw):
    (x,) = pos
    if x.is_const():
        return x
    eq = mi.residual_call(str.__eq__, [x, const_tv(x.value)], can_raise=False)
    mi.guard("guard_true", [mi.as_int(eq)])
    return const_tv(x.value)


def _we_are_jitted(mi, pos, kw):
    return const_tv(True)


def _isconstant(mi, pos, kw):
    return const_tv(pos[0].is_const())


def _isvirtual(mi, pos, kw):
    return const_tv(pos[0].box is None)


def _hint(mi, pos, kw):
    if kw.get("promote") is not None and kw["promote"].value:
        return _promote(mi, pos[:1], {})
    return pos[0]


def _record_exact_class(mi, pos, kw):
    x, cls = pos
    if x.box is not None and not x.is_const() and type(x.value) is cls.value:
        mi.known_class[id(x.box)] = cls.value
        mi._keep(x.box)
    return const_tv(None)


def _identity(mi, pos, kw):
    return pos[0]


def _len(mi, pos, kw):
    (x,) = pos
    from metajit.interp.buffer_rules import item_storage
    from metajit.interp.tracing_rules import ARRAY_DESCRS, _arraylen
    if x.box is None and x.virtual is not None:
        from metajit.interp.values import VTuple
        if isinstance(x.virtual, VTuple):
            return const_tv(len(x.virtual.items))
    if x.box is not None and (type(x.value) in ARRAY_DESCRS or item_storage(x.value)):
        mi.ensure_class(x)
        return TV(len(x.value), _arraylen(mi, x))
    if type(x.value) is str and x.box is not None:
        if x.is_const():
            return const_tv(len(x.value))
        mi.ensure_class(x)
        return mi.record("strlen", [x.box], len(x.value))
    if type(x.value) in (bytes, tuple, frozenset) and x.box is not None:
        # the length of an immutable object of a known class: no effects
        mi.ensure_class(x)
        return mi.residual_call(len, pos, elidable=True)
    return mi.residual_call(len, pos)


def _isinstance(mi, pos, kw):
    x, cls = pos
    if not cls.is_const():
        return mi.residual_call(isinstance, pos)
    if x.box is None:
        return const_tv(isinstance(x.value, cls.value))
    if x.box.kind != "r" or x.is_const():
        return const_tv(isinstance(x.value, cls.value))
    mi.ensure_class(x)
    return const_tv(isinstance(x.value, cls.value))


def _type(mi, pos, kw):
    """``type(x)``: a constant once the trace knows x's class (a guard_class for a
    reference; ints, floats and virtuals are known already)."""
    if len(pos) != 1 or kw:
        return mi.residual_call(type, pos, kw)
    (x,) = pos
    if x.box is not None and x.box.kind == "r" and not x.is_const():
        mi.ensure_class(x)
    return const_tv(type(x.value))


def _abs(mi, pos, kw):
    from metajit.interp.tracing_rules import trace_builtin_abs
    return trace_builtin_abs(mi, pos)


def _int(mi, pos, kw):
    if len(pos) == 1 and not kw:
        (x,) = pos
        if type(x.value) is int and x.box is not None and x.box.kind == "i":
            return x
        if type(x.value) is float and x.box is not None:
            try:
                result = int(x.value)
            except (ValueError, OverflowError):
                result = None
            if result is not None:
                tv = mi.record_ovf("cast_float_to_int_ovf", [mi.as_float(x)], result)
                if tv is not None:
                    return tv
    return mi.residual_call(int, pos, kw, elidable=_all_const(pos, kw))


def _float(mi, pos, kw):
    if len(pos) == 1 and not kw:
        (x,) = pos
        if type(x.value) is float and x.box is not None:
            return x
        if type(x.value) is int and x.box is not None and abs(x.value) < 2 ** 53 \
                and kind_of(x.value) == "i":
            return mi.record("cast_int_to_float", [mi.as_int(x)], float(x.value))
    return mi.residual_call(float, pos, kw, elidable=_all_const(pos, kw))


def _bool(mi, pos, kw):
    if len(pos) == 1 and not kw:
        (x,) = pos
        if type(x.value) is bool and x.box is not None and x.box.kind == "i":
            return x
    return mi.residual_call(bool, pos, kw, elidable=_all_const(pos, kw))


def _range(mi, pos, kw):
    from metajit.interp.tracing_rules import make_range
    return make_range(mi, pos)


SPECIAL_CALLS = {id(f): (f, handler) for f, handler in [
    (hints.promote, _promote),
    (hints.promote_string, _promote_string),
    (hints.we_are_jitted, _we_are_jitted),
    (hints.isconstant, _isconstant),
    (hints.isvirtual, _isvirtual),
    (hints.hint, _hint),
    (hints.record_exact_class, _record_exact_class),
    (hints.intmask, None),
    (len, _len),
    (isinstance, _isinstance),
    (type, _type),
    (abs, _abs),
    (int, _int),
    (float, _float),
    (bool, _bool),
    (range, _range),
] if handler is not None}


def _intmask(mi, pos, kw):
    (x,) = pos
    if x.box is not None and kind_of(x.value) == "i":
        return x
    return mi.residual_call(hints.intmask, pos, elidable=x.is_const())


SPECIAL_CALLS[id(hints.intmask)] = (hints.intmask, _intmask)
