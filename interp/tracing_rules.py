"""How each flow operation is traced: one rule per operation name.

A rule gets the meta-interpreter, the flow operation and its arguments as TVs; it
runs the operation concretely, records the trace operations that compute the same
thing, and returns the result TV (or ``PUSHED`` when it changed the frame stack).

The rules specialise on the concrete types: ints that fit 64 bits become checked
int ops, floats float ops, lists and bytearrays array ops with the bounds guards
that Python's indexing implies.  Anything else is a residual call of the Python
operation itself (``operator.add`` ...), which is always correct.
"""
from __future__ import annotations

import math
import operator
import types
from typing import Any

from metajit.interp import buffer_rules
from metajit.interp.buffer_rules import item_storage
from metajit.interp.calls import trace_call, trace_call_method
from metajit.interp.metainterp import PUSHED, AbortTrace, MergePoint
from metajit.interp.values import TV, VListIter, VRange, VRangeIter, VTuple, const_tv, kind_of
from metajit.tracer.hints import JitDriver, intmask
from metajit.tracer.ir import ArrayDescr, Const, FieldDescr, const_int, const_ref, fits_int64

RULES: dict[str, Any] = {}


def rule(*names):
    def register(fn):
        for name in names:
            RULES[name] = fn
        return fn
    return register


def is_int(value) -> bool:
    return (type(value) is int or type(value) is bool) and fits_int64(value)


def generic(mi, pyop, args: list[TV]) -> TV:
    return mi.residual_call(pyop, args, elidable=all(a.is_const() for a in args)
                            and _immutable_values(args))


def _immutable_values(args) -> bool:
    return all(type(a.value) in (int, bool, float, str, bytes, type(None), tuple, complex)
               for a in args)


# --- arithmetic --------------------------------------------------------------------

# flow op -> (python operator, checked int op, float op)
BINARY = {
    "add": (operator.add, "int_add_ovf", "float_add"),
    "sub": (operator.sub, "int_sub_ovf", "float_sub"),
    "mul": (operator.mul, "int_mul_ovf", "float_mul"),
    "floordiv": (operator.floordiv, "int_floordiv_ovf", "float_floordiv"),
    "mod": (operator.mod, "int_mod_ovf", "float_mod"),
    "truediv": (operator.truediv, None, "float_truediv"),
    "lshift": (operator.lshift, "int_lshift_ovf", None),
    "rshift": (operator.rshift, "int_rshift", None),
    "and_": (operator.and_, "int_and", None),
    "or_": (operator.or_, "int_or", None),
    "xor": (operator.xor, "int_xor", None),
    "pow": (operator.pow, None, None),
    "matmul": (operator.matmul, None, None),
}

COMPARE = {
    "lt": (operator.lt, "int_lt", "float_lt"),
    "le": (operator.le, "int_le", "float_le"),
    "eq": (operator.eq, "int_eq", "float_eq"),
    "ne": (operator.ne, "int_ne", "float_ne"),
    "gt": (operator.gt, "int_gt", "float_gt"),
    "ge": (operator.ge, "int_ge", "float_ge"),
}


def _binary(name):
    pyop, intop, floatop = BINARY[name]

    def trace_binary(mi, op, args):
        a, b = args
        try:
            result = pyop(a.value, b.value)
        except Exception as exc:
            if a.is_const() and b.is_const():
                raise AbortTrace(f"{name} raised {type(exc).__name__} while tracing", exc=exc)
            result = None
        if result is not None and intop and is_int(a.value) and is_int(b.value):
            ia, ib = mi.as_int(a), mi.as_int(b)
            wrapping = WRAPPING.get(name)
            if wrapping is not None and feeds_only_intmask(mi, op):
                if name == "lshift" and not ib.is_const():
                    mi.guard("guard_true", [mi.record("int_ge", [ib, const_int(0)], True).box])
                return mi.record(wrapping, [ia, ib], intmask(result))
            if name in ("floordiv", "mod") and not ib.is_const():
                mi.guard("guard_false", [mi.record("int_is_zero", [ib], b.value == 0).box])
            if name in ("lshift", "rshift") and not ib.is_const():
                mi.guard("guard_true", [mi.record("int_ge", [ib, const_int(0)], True).box])
            if intop.endswith("_ovf"):
                tv = mi.record_ovf(intop, [ia, ib], result)
                if tv is not None:
                    return tv
            else:
                return mi.record(intop, [ia, ib], result)
        elif result is not None and floatop and _floatish(a.value, b.value):
            fa, fb = _as_float(mi, a), _as_float(mi, b)
            if name in ("truediv", "floordiv", "mod") and not fb.is_const():
                mi.guard("guard_true", [mi.record("float_ne", [fb, Const("f", 0.0)], True).box])
            return mi.record(floatop, [fa, fb], result)
        return generic(mi, pyop, args)
    return trace_binary


# ``intmask(a + b)``: the wrapping op, recorded when the result goes nowhere else
WRAPPING = {"add": "int_add", "sub": "int_sub", "mul": "int_mul", "lshift": "int_lshift"}


def feeds_only_intmask(mi, op) -> bool:
    """True when ``op``'s result is used once, as the argument of a call of
    ``intmask`` later in the same block, and nowhere else (exits included)."""
    return feeds_only_calls_of(mi, op, (intmask,))


def feeds_only_calls_of(mi, op, functions) -> bool:
    """True when ``op``'s result is used once, as the only argument of a call of
    one of ``functions`` later in the same block, and nowhere else (exits
    included)."""
    frame = mi.frames[-1]
    block = frame.block
    result = op.result
    consumer = None
    for later in block.operations[frame.index + 1:]:
        if result in later.args:
            if consumer is not None:
                return False
            consumer = later
    if consumer is None or consumer.opname != "call" or consumer.args[1].value != 1 \
            or consumer.args[2].value or consumer.args[3] is not result:
        return False
    if block.exitswitch is result or any(result in link.args for link in block.exits):
        return False
    called = frame.get(consumer.args[0]).value
    return any(called is f for f in functions)


def _floatish(x, y) -> bool:
    tx, ty = type(x), type(y)
    return (tx is float or ty is float) and (tx is float or is_int(x)) and \
        (ty is float or is_int(y)) and (tx is float or abs(x) < 2 ** 53) and \
        (ty is float or abs(y) < 2 ** 53)


def _as_float(mi, tv):
    if type(tv.value) is float:
        return mi.as_float(tv)
    ibox = mi.as_int(tv)
    if ibox.is_const():
        return Const("f", float(tv.value))
    # an int below 2**53 converts exactly; beyond, Python compares/operates exactly
    return mi.record("cast_int_to_float", [ibox], float(tv.value)).box


def _compare(name):
    pyop, intop, floatop = COMPARE[name]

    def trace_compare(mi, op, args):
        a, b = args
        if is_int(a.value) and is_int(b.value):
            return mi.record(intop, [mi.as_int(a), mi.as_int(b)], pyop(a.value, b.value))
        if _floatish(a.value, b.value) or (type(a.value) is float and type(b.value) is float):
            return mi.record(floatop, [_as_float(mi, a), _as_float(mi, b)],
                             pyop(a.value, b.value))
        if a.is_const() and b.is_const() and _immutable_values(args):
            return const_tv(pyop(a.value, b.value))
        if name in ("eq", "ne") and (a.value is None or b.value is None):
            other = b if a.value is None else a
            return _is(mi, other, const_tv(None), name == "ne")
        return generic(mi, pyop, args)
    return trace_compare


for _name in BINARY:
    RULES[_name] = _binary(_name)


def _inplace(name):
    binary = RULES[name]
    pyop = getattr(operator, "i" + name.rstrip("_"))
    dunder = f"__i{name.rstrip('_')}__"

    def trace_inplace(mi, op, args):
        if hasattr(type(args[0].value), dunder):
            return generic(mi, pyop, args)
        return binary(mi, op, args)
    return trace_inplace


for _name in BINARY:
    RULES["inplace_" + _name] = _inplace(_name)
for _name in COMPARE:
    RULES[_name] = _compare(_name)


def _is(mi, a: TV, b: TV, negate: bool) -> TV:
    result = (a.value is not b.value) if negate else (a.value is b.value)
    if a.is_const() and b.is_const():
        return const_tv(result)
    for x, y in ((a, b), (b, a)):
        if y.is_const() and kind_of(y.value) == "r" and x.box is not None \
                and x.box.kind in "if":
            return const_tv(negate)      # an int or float is never that object
    if kind_of(a.value) != "r" or kind_of(b.value) != "r":
        # a bool or an int held as an object (``v is not False`` on a value read
        # from a list) is compared as an object; an unboxed one goes to Python
        if not all(t.is_const() or (t.box is not None and t.box.kind == "r") for t in (a, b)):
            return generic(mi, operator.is_not if negate else operator.is_, [a, b])
    return mi.record("ptr_ne" if negate else "ptr_eq", [mi.as_ref(a), mi.as_ref(b)], result)


@rule("is_")
def trace_is(mi, op, args):
    return _is(mi, args[0], args[1], False)


@rule("is_not")
def trace_is_not(mi, op, args):
    return _is(mi, args[0], args[1], True)


@rule("neg")
def trace_neg(mi, op, args):
    (a,) = args
    if is_int(a.value):
        tv = mi.record_ovf("int_neg_ovf", [mi.as_int(a)], -a.value)
        if tv is not None:
            return tv
    elif type(a.value) is float:
        return mi.record("float_neg", [mi.as_float(a)], -a.value)
    return generic(mi, operator.neg, args)


@rule("invert")
def trace_invert(mi, op, args):
    (a,) = args
    if is_int(a.value):
        return mi.record("int_invert", [mi.as_int(a)], ~a.value)
    return generic(mi, operator.invert, args)


@rule("pos")
def trace_pos(mi, op, args):
    (a,) = args
    if type(a.value) in (int, float):
        return a
    return generic(mi, operator.pos, args)


@rule("abs")
def trace_abs(mi, op, args):
    return trace_builtin_abs(mi, args)


def trace_builtin_abs(mi, args):
    (a,) = args
    if is_int(a.value):
        tv = mi.record_ovf("int_abs_ovf", [mi.as_int(a)], abs(a.value))
        if tv is not None:
            return tv
    elif type(a.value) is float:
        return mi.record("float_abs", [mi.as_float(a)], abs(a.value))
    return generic(mi, abs, args)


def truth(mi, a: TV) -> TV:
    """``bool(a)`` as a TV whose box is an 'i' of class bool (or a Const)."""
    value = a.value
    if a.is_const():
        if type(value) in (int, bool, float, str, bytes, tuple, type(None)) \
                or isinstance(value, (types.FunctionType, type)):
            return const_tv(bool(value))
    if a.box is None:
        if isinstance(a.virtual, VTuple):
            return const_tv(bool(a.virtual.items))
        return const_tv(True)
    if type(value) is bool:
        return TV(value, mi.as_int(a))
    if is_int(value):
        return mi.record("int_is_true", [mi.as_int(a)], bool(value))
    if type(value) is float:
        return mi.record("float_is_true", [mi.as_float(a)], bool(value))
    if value is None:
        mi.guard("guard_isnull", [mi.as_ref(a)])
        return const_tv(False)
    cls = type(value)
    if cls in (list, bytearray, tuple):
        mi.ensure_class(a)
        return mi.record("int_is_true", [_arraylen(mi, a)], bool(value))
    if _plain_instance(cls):
        # an instance of a class without __bool__/__len__ is true
        mi.ensure_class(a)
        return const_tv(True)
    result = generic(mi, bool, [a])
    return TV(result.value, mi.as_int(result))


def _plain_instance(cls) -> bool:
    return (cls.__bool__ if hasattr(cls, "__bool__") else None) is None and \
        not hasattr(cls, "__len__") and cls.__module__ not in ("builtins",)


@rule("bool")
def trace_bool(mi, op, args):
    return truth(mi, args[0])


@rule("not_")
def trace_not(mi, op, args):
    t = truth(mi, args[0])
    if t.is_const():
        return const_tv(not t.value)
    return mi.record("int_is_zero", [t.box], not t.value)


@rule("same_as")
def trace_same_as(mi, op, args):
    return args[0]


@rule("contains")
def trace_contains(mi, op, args):
    container, item = args
    return generic(mi, operator.contains, [container, item])


# --- attributes ----------------------------------------------------------------------

_field_descrs: dict = {}


def field_descr(cls: type, name: str) -> FieldDescr:
    key = (cls, name)
    descr = _field_descrs.get(key)
    if descr is None:
        immutable = quasi = virtualizable = False
        for klass in cls.__mro__:
            if name in klass.__dict__.get("_virtualizable_", ()):
                virtualizable = True
            fields = klass.__dict__.get("_immutable_fields_", ())
            if name in fields or name + "[*]" in fields:   # 'items[*]': the field too
                immutable = True
            if name + "?" in fields:
                quasi = True
            if klass.__dict__.get("_immutable_", False):
                immutable = True
        descr = FieldDescr(cls, name, immutable, quasi, virtualizable)
        _field_descrs[key] = descr
    return descr


def _lookup_class_attr(cls: type, name: str):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name], True
    return None, False


def is_instance_field(obj: Any, name: str) -> bool:
    cls = type(obj)
    if cls.__module__ == "builtins" or isinstance(obj, (type, types.ModuleType)):
        return False
    attr, found = _lookup_class_attr(cls, name)
    if found:
        # a slot is a member descriptor; anything else on the class (properties,
        # methods, class attributes) is not a plain field
        from metajit.interp.quasi import QuasiImmutableField
        return (type(attr).__name__ == "member_descriptor"
                or isinstance(attr, QuasiImmutableField))
    return "__dict__" in dir(cls)


@rule("getattr")
def trace_getattr(mi, op, args):
    obj, name_tv = args
    name = name_tv.value
    value = obj.value
    if obj.is_const() and isinstance(value, (types.ModuleType, type)):
        result = getattr(value, name)
        if isinstance(result, (types.FunctionType, type, types.ModuleType,
                               types.BuiltinFunctionType)) or kind_of(result) != "r" or \
                isinstance(value, type):
            return const_tv(result)
        return generic(mi, getattr, [obj, name_tv])
    if obj.box is not None and is_instance_field(value, name):
        try:
            result = getattr(value, name)
        except AttributeError as exc:
            raise AbortTrace(f"AttributeError {name} while tracing", exc=exc) from None
        cls = type(value)
        descr = field_descr(cls, name)
        if obj.is_const() and descr.quasi_immutable and not descr.immutable:
            from metajit.interp import quasi
            quasi.watch(cls, name)
            mi.guard("guard_not_invalidated", [])
            mi.quasi_deps.append((value, name))
            return const_tv(result)
        if obj.is_const() and descr.immutable:
            mi.assume(lambda o=value, n=name, r=result: _still(getattr(o, n, _STOP), r),
                      f"{cls.__qualname__}.{name} is in _immutable_fields_ but was written "
                      f"after the JIT read it as a constant")
            return const_tv(result)
        mi.ensure_class(obj)
        return mi.record("getfield", [mi.as_ref(obj)], result, descr)
    if obj.box is not None and kind_of(value) == "r" and type(value).__module__ != "builtins":
        attr, found = _lookup_class_attr(type(value), name)
        if found and not hasattr(attr, "__get__") and name not in getattr(value, "__dict__", {}):
            # a class attribute (a constant of the class): classes are fixed
            mi.ensure_class(obj)
            return const_tv(attr)
    return generic(mi, getattr, [obj, name_tv])


@rule("setattr")
def trace_setattr(mi, op, args):
    obj, name_tv, val = args
    name = name_tv.value
    value = obj.value
    if obj.box is not None and is_instance_field(value, name):
        setattr(value, name, val.value)
        mi.ensure_class(obj)
        mi.rec.record("setfield", [mi.as_ref(obj), mi.as_ref(val)],
                      field_descr(type(value), name))
        return const_tv(None)
    return mi.residual_call(setattr, [obj, name_tv, val])


# --- items ---------------------------------------------------------------------------

ARRAY_DESCRS = {
    list: ArrayDescr("list", "r"),
    bytearray: ArrayDescr("bytearray", "i"),
    tuple: ArrayDescr("tuple", "r", immutable=True),
}


def _arraylen(mi, seq: TV):
    storage = item_storage(seq.value)
    if storage is not None:
        return buffer_rules.trace_len(mi, seq, storage).box
    descr = ARRAY_DESCRS[type(seq.value)]
    if seq.is_const() and descr.immutable:
        return const_int(len(seq.value))
    return mi.record("arraylen", [mi.as_ref(seq)], len(seq.value), descr).box


def _checked_index(mi, seq: TV, index: TV):
    """The non-negative index box for ``seq[index]``, with the guards Python's
    indexing implies; None when the index is out of range (the caller falls back)."""
    n = len(seq.value)
    i = index.value
    if not -n <= i < n:
        return None
    ibox = mi.as_int(index)
    length = _arraylen(mi, seq)
    if ibox.is_const() and length.is_const():
        return const_int(i if i >= 0 else i + n)
    if i >= 0:
        if not ibox.is_const():
            mi.guard("guard_true", [mi.record("int_ge", [ibox, const_int(0)], True).box])
        mi.guard("guard_true", [mi.record("int_lt", [ibox, length], True).box])
        return ibox
    mi.guard("guard_true", [mi.record("int_lt", [ibox, const_int(0)], True).box])
    fixed = mi.record("int_add", [ibox, length], i + n).box
    mi.guard("guard_true", [mi.record("int_ge", [fixed, const_int(0)], True).box])
    return fixed


@rule("getitem")
def trace_getitem(mi, op, args):
    seq, index = args
    value = seq.value
    if seq.box is None and isinstance(seq.virtual, VTuple) and index.is_const() \
            and type(index.value) is int:
        return seq.virtual.items[index.value]
    if seq.is_const() and index.is_const() and type(value) in (str, bytes, tuple) \
            and _immutable_values([index]):
        try:
            return const_tv(value[index.value])
        except Exception as exc:
            raise AbortTrace("getitem raised while tracing", exc=exc) from None
    cls = type(value)
    storage = item_storage(value) if seq.box is not None else None
    if storage is not None and is_int(index.value):
        tv = buffer_rules.trace_getitem(mi, op, seq, index, storage, _checked_index,
                                        feeds_only_calls_of)
        if tv is not None:
            return tv
    if cls in ARRAY_DESCRS and is_int(index.value) and seq.box is not None:
        mi.ensure_class(seq)
        ibox = _checked_index(mi, seq, index)
        if ibox is not None:
            descr = ARRAY_DESCRS[cls]
            result = value[index.value]
            if cls is bytearray:
                return mi.record("getarrayitem_i", [mi.as_ref(seq), ibox], result, descr)
            return mi.record("getarrayitem_r", [mi.as_ref(seq), ibox], result, descr)
    return generic(mi, operator.getitem, args)


@rule("setitem")
def trace_setitem(mi, op, args):
    seq, index, item = args
    value = seq.value
    cls = type(value)
    storage = item_storage(value) if seq.box is not None else None
    if storage is not None and is_int(index.value):
        tv = buffer_rules.trace_setitem(mi, seq, index, item, storage, _checked_index)
        if tv is not None:
            return tv
    if cls in (list, bytearray) and is_int(index.value) and seq.box is not None:
        if cls is bytearray and not (is_int(item.value) and 0 <= item.value < 256):
            return mi.residual_call(operator.setitem, args)
        mi.ensure_class(seq)
        ibox = _checked_index(mi, seq, index)
        if ibox is not None:
            descr = ARRAY_DESCRS[cls]
            if cls is bytearray:
                vbox = mi.as_int(item)
                if not vbox.is_const():
                    mi.guard("guard_true",
                             [mi.record("uint_lt", [vbox, const_int(256)], True).box])
                value[index.value] = item.value
                mi.rec.record("setarrayitem_i", [mi.as_ref(seq), ibox, vbox], descr)
            else:
                value[index.value] = item.value
                mi.rec.record("setarrayitem_r", [mi.as_ref(seq), ibox, mi.as_ref(item)],
                              descr)
            return const_tv(None)
    return mi.residual_call(operator.setitem, args)


@rule("delitem")
def trace_delitem(mi, op, args):
    return mi.residual_call(operator.delitem, args)


@rule("newslice")
def trace_newslice(mi, op, args):
    return generic(mi, slice, args)


# --- building ------------------------------------------------------------------------

@rule("newtuple")
def trace_newtuple(mi, op, args):
    return TV(tuple(a.value for a in args), None, VTuple(list(args)))


@rule("newlist")
def trace_newlist(mi, op, args):
    return mi.residual_call(_make_list, args, can_raise=False)


def _make_list(*items):
    return list(items)


_make_list._metajit_builds_ = "list"     # the optimiser may keep the new list virtual


def _make_dict(*items):
    return dict(zip(items[::2], items[1::2]))


@rule("newdict")
def trace_newdict(mi, op, args):
    return mi.residual_call(_make_dict, args)


@rule("unpack")
def trace_unpack(mi, op, args):
    seq, n = args
    count = n.value
    if seq.box is None and isinstance(seq.virtual, VTuple):
        if len(seq.virtual.items) != count:
            raise AbortTrace("unpack of a tuple of the wrong length")
        return seq
    value = seq.value
    if type(value) in (tuple, list) and len(value) == count and seq.box is not None:
        if seq.is_const() and type(value) is tuple:
            return TV(value, None, VTuple([const_tv(x) for x in value]))
        mi.ensure_class(seq)
        length = _arraylen(mi, seq)
        if not length.is_const():
            mi.guard("guard_true", [mi.record("int_eq", [length, const_int(count)], True).box])
        descr = ARRAY_DESCRS[type(value)]
        ref = mi.as_ref(seq)
        items = [mi.record("getarrayitem_r", [ref, const_int(i)], value[i], descr)
                 for i in range(count)]
        return TV(tuple(value), None, VTuple(items))
    result = mi.residual_call(_unpack, [seq, n])
    return result


def _unpack(seq, n):
    items = tuple(seq)
    if len(items) != n:
        raise ValueError(f"expected {n} values to unpack, got {len(items)}")
    return items


# --- iteration -----------------------------------------------------------------------

@rule("iter")
def trace_iter(mi, op, args):
    (seq,) = args
    value = seq.value
    if seq.box is None and isinstance(seq.virtual, VRange):
        r = seq.virtual
        return TV(iter(value), None, VRangeIter(r.start, r.stop, r.step))
    if type(value) is list and seq.box is not None:
        mi.ensure_class(seq)
        return TV(iter(value), None, VListIter(seq, const_tv(0)))
    return mi.residual_call(iter, args)


@rule("next")
def trace_next(mi, op, args):
    (it,) = args
    v = it.virtual
    if isinstance(v, VRangeIter):
        try:
            result = next(it.value)
        except StopIteration as exc:
            _guard_compare(mi, v.cur, v.stop, v.step, done=True)
            return raise_in_trace(mi, const_tv(exc))
        _guard_compare(mi, v.cur, v.stop, v.step, done=False)
        item = v.cur
        step = v.step.value
        tv = mi.record_ovf("int_add_ovf", [mi.as_int(v.cur), mi.as_int(v.step)],
                           v.cur.value + step)
        if tv is None:
            raise AbortTrace("range iterator overflows 64 bits")
        v.cur = tv
        return item
    if isinstance(v, VListIter):
        lst = v.lst
        length = _arraylen(mi, lst)
        i = v.index.value
        ibox = mi.as_int(v.index)
        try:
            result = next(it.value)
        except StopIteration as exc:
            mi.guard("guard_true", [mi.record("int_ge", [ibox, length], True).box])
            return raise_in_trace(mi, const_tv(exc))
        mi.guard("guard_true", [mi.record("int_lt", [ibox, length], True).box])
        item = mi.record("getarrayitem_r", [mi.as_ref(lst), ibox], result, ARRAY_DESCRS[list])
        v.index = mi.record("int_add", [ibox, const_int(1)], i + 1)
        return item
    # any other iterator: a residual call that answers a sentinel at the end
    result = mi.residual_call(_next_or_stop, args)
    if result.value is _STOP:
        mi.guard("guard_true", [mi.record("ptr_eq", [result.box, const_ref(_STOP)], True).box])
        return raise_in_trace(mi, const_tv(StopIteration()))
    mi.guard("guard_false", [mi.record("ptr_eq", [result.box, const_ref(_STOP)], False).box])
    return result


_STOP = object()


def _next_or_stop(it):
    return next(it, _STOP)


def _guard_compare(mi, cur: TV, stop: TV, step: TV, done: bool) -> None:
    if not step.is_const():
        raise AbortTrace("range() with a step the trace does not know")
    c, s = mi.as_int(cur), mi.as_int(stop)
    if step.value > 0:
        name = "int_ge" if done else "int_lt"
    else:
        name = "int_le" if done else "int_gt"
    test = mi.record(name, [c, s], True)
    if not test.is_const():
        mi.guard("guard_true", [test.box])


def make_range(mi, args: list[TV]) -> TV:
    if not all(is_int(a.value) for a in args) or not 1 <= len(args) <= 3:
        return mi.residual_call(range, args)
    if len(args) == 1:
        start, stop, step = const_tv(0), args[0], const_tv(1)
    else:
        start, stop = args[0], args[1]
        step = args[2] if len(args) == 3 else const_tv(1)
    if step.value == 0 or not step.is_const():
        return mi.residual_call(range, args)
    r = range(start.value, stop.value, step.value)
    return TV(r, None, VRange(start, stop, step))


# --- raising, strings, globals, merge points -----------------------------------------

def raise_in_trace(mi, exc_tv: TV):
    mi.do_raise(exc_tv, frame_done=False)
    return PUSHED


@rule("raise_")
def trace_raise(mi, op, args):
    (exc,) = args
    value = exc.value
    if isinstance(value, type) and issubclass(value, BaseException):
        exc = mi.residual_call(value, [])
    elif not isinstance(value, BaseException):
        exc = const_tv(TypeError("exceptions must derive from BaseException"))
    return raise_in_trace(mi, exc)


@rule("format")
def trace_format(mi, op, args):
    return generic(mi, format, args)


@rule("buildstr")
def trace_buildstr(mi, op, args):
    return generic(mi, _join, args)


def _join(*parts):
    return "".join(parts)


@rule("load_global")
def trace_load_global(mi, op, args):
    name = args[0].value
    frame = mi.frames[-1]
    func = frame.jitcode.func
    globs = func.__globals__
    if name in globs:
        value = globs[name]
    else:
        builtins = globs.get("__builtins__", __builtins__)
        if isinstance(builtins, types.ModuleType):
            builtins = builtins.__dict__
        if name not in builtins:
            raise AbortTrace(f"NameError: {name}", exc=NameError(f"name {name!r} is not defined"))
        value = builtins[name]
    if isinstance(value, (types.FunctionType, type, types.ModuleType,
                          types.BuiltinFunctionType, JitDriver)) or callable(value) and \
            not isinstance(value, (list, dict, bytearray)):
        if name in globs:
            mi.assume(lambda g=globs, n=name, v=value: g.get(n) is v,
                      f"global {name} of {func.__module__} was rebound after the JIT "
                      f"relied on it: module functions and classes are fixed once traced")
        return const_tv(value)
    if type(value) in (int, float, str, bool, bytes, type(None), tuple, frozenset):
        # read at run time, then known: a guard on the value read
        tv = mi.residual_call(_load_global, [const_tv(globs), const_tv(name)], can_raise=False)
        box = mi.as_int(tv) if kind_of(value) == "i" else (
            mi.as_float(tv) if kind_of(value) == "f" else tv.box)
        mi.guard("guard_value", [box, Const(box.kind, value)])
        return const_tv(value)
    return mi.residual_call(_load_global, [const_tv(globs), const_tv(name)], can_raise=False)


def _still(now, then) -> bool:
    return now is then or (type(now) is type(then) and type(now) in (int, float, str, bool)
                           and now == then)


def _load_global(globs, name):
    return globs[name]


@rule("call")
def trace_call_rule(mi, op, args):
    return trace_call(mi, op, args)


@rule("call_method")
def trace_call_method_rule(mi, op, args):
    return trace_call_method(mi, op, args)


@rule("can_enter_jit")
def trace_can_enter_jit(mi, op, args):
    return const_tv(None)


@rule("jit_merge_point")
def trace_merge_point(mi, op, args):
    if not mi.started:
        mi.started = True
        return const_tv(None)
    names = args[1].value
    values = dict(zip(names, args[2:]))
    driver = mi.warm.driver
    greens = [values[g] for g in driver.greens]
    reds = [values[r] for r in driver.reds]
    raise MergePoint(greens, reds)


# math functions are pure: folded on constants, call_pure otherwise
PURE_FUNCTIONS = frozenset(
    getattr(math, n) for n in dir(math) if callable(getattr(math, n)) and not n.startswith("_"))

from metajit.interp.metainterp import PURE_BUILTINS  # noqa: E402

PURE_BUILTINS_ALL = PURE_BUILTINS | PURE_FUNCTIONS
