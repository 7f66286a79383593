"""The heap cache: text in, text out; and the reference interpreter as the judge."""
import textwrap

from hypothesis import given, settings, strategies as st

from metajit.backend.reference import compile_unit
from metajit.tracer.ir import ArrayDescr, CallDescr, Const, FieldDescr, SizeDescr, failargs
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.heap import HeapPass
from metajit.tracer.text import format_trace, parse_trace


class Obj:
    pass


def grow(seq):
    seq.append(0)


def set_a(obj, value):
    obj.a = value


def peek_a(obj):
    return obj.a


def add3(x):
    return x + 3


def anything(seq, obj):
    seq[0] = (seq[0] + 1) % 256 if isinstance(seq, bytearray) else seq[0] + 1
    obj.b = 99
    seq.append(1)


def poke(seq, index):
    seq[index] = (seq[index] + 7) % 256 if isinstance(seq, bytearray) else seq[index] + 7


NAMESPACE = {
    "Obj": SizeDescr(Obj),
    "Obj.a": FieldDescr(Obj, "a"),
    "Obj.b": FieldDescr(Obj, "b"),
    "Obj.o": FieldDescr(Obj, "o"),
    "Obj.k": FieldDescr(Obj, "k", immutable=True),
    "Obj.q": FieldDescr(Obj, "q", quasi_immutable=True),
    "Frame.acc": FieldDescr(Obj, "acc", virtualizable=True),
    "Obj.__class__": FieldDescr(Obj, "__class__"),
    "tuple": ArrayDescr("tuple", "r", immutable=True),
    "grow": CallDescr("grow", "v", reads=frozenset({"[]"}), writes=frozenset({"[]"})),
    "set_a": CallDescr("set_a", "v", reads=frozenset(), writes=frozenset({"a"})),
    "peek_a": CallDescr("peek_a", "r", reads=frozenset({"a"}), writes=frozenset()),
    "add3": CallDescr("add3", "i", can_raise=False, elidable=True,
                      reads=frozenset(), writes=frozenset()),
    "anything": CallDescr("anything", "v"),     # reads and writes None: anything
    "poke": CallDescr("poke", "v", reads=frozenset({"[]"}), writes=frozenset({"[]"})),
    "grow_fn": grow, "set_a_fn": set_a, "peek_a_fn": peek_a, "add3_fn": add3,
    "anything_fn": anything, "poke_fn": poke,
}


def optimize(text: str):
    trace = parse_trace(textwrap.dedent(text), NAMESPACE)
    ctx = OptContext()
    HeapPass().run(trace, ctx)
    return trace, ctx.rule_counts


def unchanged(text: str):
    return check(text, text)


def check(before: str, after: str):
    trace, counts = optimize(before)
    expected = parse_trace(textwrap.dedent(after), trace.objects)
    assert format_trace(trace) == format_trace(expected)
    return counts


def test_registered_by_name():
    from metajit.tracer.opt.pipeline import DEFAULT_ORDER, PASSES
    assert PASSES["heap"]().name == "heap" and "heap" in DEFAULT_ORDER


def test_getfield_after_getfield_and_store_forwarding():
    counts = check("""
        [p0, p1]
        p2 = getfield(p0, descr=Obj.a)
        p3 = getfield(p0, descr=Obj.a)
        setfield(p0, p1, descr=Obj.b)
        p4 = getfield(p0, descr=Obj.b)
        finish(p2, p3, p4, descr=done)
    """, """
        [p0, p1]
        p2 = getfield(p0, descr=Obj.a)
        setfield(p0, p1, descr=Obj.b)
        finish(p2, p2, p1, descr=done)
    """)
    assert counts == {"heap_getfield_from_load": 1, "heap_getfield_from_store": 1}


def test_setfield_on_another_box_may_alias():
    check("""
        [p0, p1, p2]
        p3 = getfield(p0, descr=Obj.a)
        setfield(p1, p2, descr=Obj.a)
        p4 = getfield(p0, descr=Obj.a)
        p5 = getfield(p1, descr=Obj.a)
        p6 = getfield(p0, descr=Obj.b)
        finish(p3, p4, p5, descr=done)
    """, """
        [p0, p1, p2]
        p3 = getfield(p0, descr=Obj.a)
        setfield(p1, p2, descr=Obj.a)
        p4 = getfield(p0, descr=Obj.a)
        p6 = getfield(p0, descr=Obj.b)
        finish(p3, p4, p2, descr=done)
    """)


def test_setfield_of_another_field_keeps_the_cache():
    check("""
        [p0, p1, p2]
        p3 = getfield(p0, descr=Obj.a)
        setfield(p1, p2, descr=Obj.b)
        p4 = getfield(p0, descr=Obj.a)
        finish(p3, p4, descr=done)
    """, """
        [p0, p1, p2]
        p3 = getfield(p0, descr=Obj.a)
        setfield(p1, p2, descr=Obj.b)
        finish(p3, p3, descr=done)
    """)


def test_fresh_objects_and_constants_are_distinct():
    check("""
        [p0, p1, p2]
        p3 = new_with_vtable(descr=Obj)
        p4 = new_with_vtable(descr=Obj)
        setfield(p3, p1, descr=Obj.a)
        setfield(p4, p2, descr=Obj.a)
        setfield(p0, p2, descr=Obj.a)
        p5 = getfield(p3, descr=Obj.a)
        setfield(ConstPtr(one), p1, descr=Obj.b)
        setfield(ConstPtr(two), p2, descr=Obj.b)
        p6 = getfield(ConstPtr(one), descr=Obj.b)
        finish(p5, p6, descr=done)
    """, """
        [p0, p1, p2]
        p3 = new_with_vtable(descr=Obj)
        p4 = new_with_vtable(descr=Obj)
        setfield(p3, p1, descr=Obj.a)
        setfield(p4, p2, descr=Obj.a)
        setfield(p0, p2, descr=Obj.a)
        setfield(ConstPtr(one), p1, descr=Obj.b)
        setfield(ConstPtr(two), p2, descr=Obj.b)
        finish(p1, p1, descr=done)
    """)


def test_a_box_loaded_after_an_allocation_may_be_the_fresh_object():
    # p0 existed before p3 was allocated: not p3; p4, loaded afterwards, may be p3;
    # the stores wait until a load of their field may see them
    check("""
        [p0, p1, p2]
        p3 = new_with_vtable(descr=Obj)
        setfield(p3, p1, descr=Obj.a)
        setfield(p0, p3, descr=Obj.o)
        setfield(p0, p2, descr=Obj.a)
        p4 = getfield(p3, descr=Obj.a)
        p5 = getfield(p2, descr=Obj.o)
        setfield(p5, p2, descr=Obj.a)
        p6 = getfield(p3, descr=Obj.a)
        finish(p4, p6, descr=done)
    """, """
        [p0, p1, p2]
        p3 = new_with_vtable(descr=Obj)
        setfield(p0, p3, descr=Obj.o)
        p5 = getfield(p2, descr=Obj.o)
        setfield(p3, p1, descr=Obj.a)
        setfield(p0, p2, descr=Obj.a)
        setfield(p5, p2, descr=Obj.a)
        p6 = getfield(p3, descr=Obj.a)
        finish(p1, p6, descr=done)
    """)


def test_brainfuck_cell_increment():
    counts = check("""
        [p0, i4]
        i5 = arraylen(p0, descr=bytearray)
        i6 = int_lt(i4, i5)
        guard_true(i6) [@bf#3: p0, i4]
        i10 = getarrayitem_i(p0, i4, descr=bytearray)
        i11 = int_add(i10, 1)
        i12 = int_and(i11, 255)
        i13 = arraylen(p0, descr=bytearray)
        i14 = int_lt(i4, i13)
        guard_true(i14) [@bf#5: p0, i4, i12]
        setarrayitem_i(p0, i4, i12, descr=bytearray)
        i17 = arraylen(p0, descr=bytearray)
        i20 = getarrayitem_i(p0, i4, descr=bytearray)
        guard_true(i20) [@bf#6: p0, i4, i20, i17]
        finish(i20, descr=done)
    """, """
        [p0, i4]
        i5 = arraylen(p0, descr=bytearray)
        i6 = int_lt(i4, i5)
        guard_true(i6) [@bf#3: p0, i4]
        i10 = getarrayitem_i(p0, i4, descr=bytearray)
        i11 = int_add(i10, 1)
        i12 = int_and(i11, 255)
        i14 = int_lt(i4, i5)
        guard_true(i14) [@bf#5: p0, i4, i12]
        guard_true(i12) [@bf#6: p0, i4, i12, i5] store(p0, bytearray[i4]=i12)
        setarrayitem_i(p0, i4, i12, descr=bytearray)
        finish(i12, descr=done)
    """)
    assert counts == {"heap_arraylen_from_load": 2, "heap_getarrayitem_from_store": 1,
                      "heap_store_past_guard": 1}


def test_setitem_with_another_variable_index_invalidates():
    check("""
        [p0, i1, i2, i3]
        i4 = getarrayitem_i(p0, i1, descr=bytearray)
        i5 = getarrayitem_i(p0, 3, descr=bytearray)
        setarrayitem_i(p0, i2, i3, descr=bytearray)
        i6 = getarrayitem_i(p0, i1, descr=bytearray)
        i7 = getarrayitem_i(p0, 3, descr=bytearray)
        i8 = getarrayitem_i(p0, i2, descr=bytearray)
        finish(i4, i5, i6, i7, i8, descr=done)
    """, """
        [p0, i1, i2, i3]
        i4 = getarrayitem_i(p0, i1, descr=bytearray)
        i5 = getarrayitem_i(p0, 3, descr=bytearray)
        setarrayitem_i(p0, i2, i3, descr=bytearray)
        i6 = getarrayitem_i(p0, i1, descr=bytearray)
        i7 = getarrayitem_i(p0, 3, descr=bytearray)
        finish(i4, i5, i6, i7, i3, descr=done)
    """)


def test_constant_indices_and_aliasing_arrays():
    # another array with the same storage may be p0: its item 0 is forgotten,
    # item 1 (a different constant) is not
    check("""
        [p0, p1, p2, p3]
        p4 = getarrayitem_r(p0, 0, descr=list)
        p5 = getarrayitem_r(p0, 1, descr=list)
        i6 = getarrayitem_i(p3, 0, descr=bytearray)
        setarrayitem_r(p1, 0, p2, descr=list)
        p7 = getarrayitem_r(p0, 0, descr=list)
        p8 = getarrayitem_r(p0, 1, descr=list)
        p9 = getarrayitem_r(p1, 0, descr=list)
        i10 = getarrayitem_i(p3, 0, descr=bytearray)
        finish(p4, p5, p7, p8, p9, i6, i10, descr=done)
    """, """
        [p0, p1, p2, p3]
        p4 = getarrayitem_r(p0, 0, descr=list)
        p5 = getarrayitem_r(p0, 1, descr=list)
        i6 = getarrayitem_i(p3, 0, descr=bytearray)
        setarrayitem_r(p1, 0, p2, descr=list)
        p7 = getarrayitem_r(p0, 0, descr=list)
        finish(p4, p5, p7, p5, p2, i6, i6, descr=done)
    """)


def test_residual_call_forgets_everything_mutable():
    check("""
        [p0, p1, p2]
        p3 = getfield(p0, descr=Obj.a)
        p4 = getfield(p0, descr=Obj.k)
        i5 = arraylen(p1, descr=bytearray)
        i6 = arraylen(p2, descr=tuple)
        p7 = getarrayitem_r(p2, 0, descr=tuple)
        call_n(ConstPtr(anything_fn), p1, p0, descr=anything)
        guard_no_exception() [@f#0: p0]
        p8 = getfield(p0, descr=Obj.a)
        p9 = getfield(p0, descr=Obj.k)
        i10 = arraylen(p1, descr=bytearray)
        i11 = arraylen(p2, descr=tuple)
        p12 = getarrayitem_r(p2, 0, descr=tuple)
        finish(p8, p9, i10, i11, p12, descr=done)
    """, """
        [p0, p1, p2]
        p3 = getfield(p0, descr=Obj.a)
        p4 = getfield(p0, descr=Obj.k)
        i5 = arraylen(p1, descr=bytearray)
        i6 = arraylen(p2, descr=tuple)
        p7 = getarrayitem_r(p2, 0, descr=tuple)
        call_n(ConstPtr(anything_fn), p1, p0, descr=anything)
        guard_no_exception() [@f#0: p0]
        p8 = getfield(p0, descr=Obj.a)
        i10 = arraylen(p1, descr=bytearray)
        finish(p8, p4, i10, i6, p7, descr=done)
    """)


def test_list_append_call_changes_the_length_not_the_fields():
    check("""
        [p0, p1]
        i2 = arraylen(p0, descr=list)
        p3 = getfield(p1, descr=Obj.a)
        call_n(ConstPtr(grow_fn), p0, descr=grow)
        guard_no_exception() [@f#0: p0]
        i4 = arraylen(p0, descr=list)
        p5 = getfield(p1, descr=Obj.a)
        finish(i2, i4, p5, descr=done)
    """, """
        [p0, p1]
        i2 = arraylen(p0, descr=list)
        p3 = getfield(p1, descr=Obj.a)
        call_n(ConstPtr(grow_fn), p0, descr=grow)
        guard_no_exception() [@f#0: p0]
        i4 = arraylen(p0, descr=list)
        finish(i2, i4, p3, descr=done)
    """)


def test_call_writing_one_field_and_pure_and_reading_calls():
    check("""
        [p0, p1, p2, i3]
        p4 = getfield(p0, descr=Obj.a)
        p5 = getfield(p0, descr=Obj.b)
        i6 = arraylen(p2, descr=bytearray)
        i7 = call_pure_i(ConstPtr(add3_fn), i3, descr=add3)
        p8 = call_r(ConstPtr(peek_a_fn), p0, descr=peek_a)
        guard_no_exception() [@f#0: p0]
        p9 = getfield(p0, descr=Obj.a)
        call_n(ConstPtr(set_a_fn), p0, p1, descr=set_a)
        guard_no_exception() [@f#0: p0]
        p10 = getfield(p0, descr=Obj.a)
        p11 = getfield(p0, descr=Obj.b)
        i12 = arraylen(p2, descr=bytearray)
        finish(p9, p10, p11, i12, i7, p8, descr=done)
    """, """
        [p0, p1, p2, i3]
        p4 = getfield(p0, descr=Obj.a)
        p5 = getfield(p0, descr=Obj.b)
        i6 = arraylen(p2, descr=bytearray)
        i7 = call_pure_i(ConstPtr(add3_fn), i3, descr=add3)
        p8 = call_r(ConstPtr(peek_a_fn), p0, descr=peek_a)
        guard_no_exception() [@f#0: p0]
        call_n(ConstPtr(set_a_fn), p0, p1, descr=set_a)
        guard_no_exception() [@f#0: p0]
        p10 = getfield(p0, descr=Obj.a)
        finish(p4, p10, p5, i6, i7, p8, descr=done)
    """)


def test_a_bool_stored_into_a_bytearray_reads_back_as_an_int():
    trace, _ = optimize("""
        [p0]
        setarrayitem_i(p0, 0, True, descr=bytearray)
        i1 = getarrayitem_i(p0, 0, descr=bytearray)
        finish(i1, descr=done)
    """)
    assert format_trace(trace).splitlines()[-1] == "finish(1, descr=done)"
    trace, _ = optimize("""
        [p0]
        setarrayitem_i(p0, 0, True, descr=list)
        i1 = getarrayitem_i(p0, 0, descr=list)
        finish(i1, descr=done)
    """)
    assert format_trace(trace).splitlines()[-1] == "finish(True, descr=done)"
    trace = parse_trace(textwrap.dedent("""
        [p0, i1]
        setarrayitem_i(p0, 0, i1, descr=bytearray)
        i2 = getarrayitem_i(p0, 0, descr=bytearray)
        finish(i2, descr=done)
    """), NAMESPACE)
    trace.inputargs[1].pyclass = bool      # as the recorder marks a bool box
    HeapPass().run(trace, OptContext())    # the load stays
    assert [op.name for op in trace.ops] == ["setarrayitem_i", "getarrayitem_i", "finish"]


def test_label_starts_with_an_empty_cache():
    check("""
        [p0, i1]
        label(p0, i1, descr=loop)
        i2 = getarrayitem_i(p0, i1, descr=bytearray)
        jump(p0, i1, descr=body)
        label(p0, i1, descr=body)
        i3 = getarrayitem_i(p0, i1, descr=bytearray)
        i4 = getarrayitem_i(p0, i1, descr=bytearray)
        jump(p0, i3, descr=body)
    """, """
        [p0, i1]
        label(p0, i1, descr=loop)
        i2 = getarrayitem_i(p0, i1, descr=bytearray)
        jump(p0, i1, descr=body)
        label(p0, i1, descr=body)
        i3 = getarrayitem_i(p0, i1, descr=bytearray)
        jump(p0, i3, descr=body)
    """)


# --- hypothesis: the reference interpreter before and after the pass ---------------

SIZE = 4


class Program:
    """Builds a random straight-line trace as text, keeping the pools of values
    each kind of operand may be drawn from so that every op runs without error."""

    def __init__(self, draw, storages):
        self.draw = draw
        self.storages = storages
        self.lines: list[str] = []
        self.count = 6
        self.indices = ["i4", "i5"]           # ints in range(SIZE)
        self.bytes = ["i4", "i5"]             # ints in range(256)
        self.ints = ["i4", "i5"]
        self.refs: list[str] = []             # boxed ints
        self.objs = ["p2", "p3"]              # Obj instances, fields a, b, o all set

    def box(self, letter):
        name = f"{letter}{self.count}"
        self.count += 1
        return name

    def pick(self, pool):
        return self.draw(st.sampled_from(pool))

    def guard(self, text):
        live = ", ".join(self.ints[-4:] + self.objs[-2:])
        self.lines.append(f"{text} [@f#{len(self.lines)}: {live}]")

    def index(self):
        if self.draw(st.booleans()):
            return str(self.draw(st.integers(0, SIZE - 1)))
        return self.pick(self.indices)

    def ref(self):
        if self.refs and self.draw(st.booleans()):
            return self.pick(self.refs)
        result = self.box("p")
        self.lines.append(f"{result} = box_int({self.pick(self.ints)})")
        self.refs.append(result)
        return result

    def step(self):
        which = self.draw(st.sampled_from(
            ["getfield", "setfield", "getitem", "getitem", "setitem", "setitem",
             "arraylen", "call", "call", "new", "guard", "index"]))
        array = self.pick(["p0", "p1"])
        storage = self.storages[array]
        if which == "getfield":
            field = self.pick(["a", "b", "o"])
            result = self.box("p")
            self.lines.append(f"{result} = getfield({self.pick(self.objs)}, descr=Obj.{field})")
            (self.objs if field == "o" else self.refs).append(result)
        elif which == "setfield":
            field = self.pick(["a", "b", "o"])
            value = self.pick(self.objs) if field == "o" else self.ref()
            self.lines.append(f"setfield({self.pick(self.objs)}, {value}, descr=Obj.{field})")
        elif which == "getitem":
            if storage == "bytearray":
                result = self.box("i")
                self.lines.append(f"{result} = getarrayitem_i({array}, {self.index()}, "
                                  f"descr=bytearray)")
                self.bytes.append(result)
                self.ints.append(result)
            else:
                result = self.box("p")
                self.lines.append(f"{result} = getarrayitem_r({array}, {self.index()}, "
                                  f"descr=list)")
                self.refs.append(result)
        elif which == "setitem":
            if storage == "bytearray":
                value = self.pick(self.bytes + ["0", "255"])
                self.lines.append(f"setarrayitem_i({array}, {self.index()}, {value}, "
                                  f"descr=bytearray)")
            else:
                self.lines.append(f"setarrayitem_r({array}, {self.index()}, {self.ref()}, "
                                  f"descr=list)")
        elif which == "arraylen":
            result = self.box("i")
            self.lines.append(f"{result} = arraylen({array}, descr={storage})")
            self.ints.append(result)
        elif which == "index":      # a variable index computed from a loaded byte
            result = self.box("i")
            self.lines.append(f"{result} = int_and({self.pick(self.bytes)}, {SIZE - 1})")
            self.indices.append(result)
            self.bytes.append(result)
            self.ints.append(result)
        elif which == "new":
            result = self.box("p")
            self.lines.append(f"{result} = new_with_vtable(descr=Obj)")
            for field in "ab":
                self.lines.append(f"setfield({result}, {self.ref()}, descr=Obj.{field})")
            self.lines.append(f"setfield({result}, {self.pick(self.objs)}, descr=Obj.o)")
            self.objs.append(result)
        elif which == "guard":
            test = self.box("i")
            self.lines.append(f"{test} = int_lt({self.pick(self.bytes)}, "
                              f"{self.draw(st.integers(0, 256))})")
            self.guard(f"guard_true({test})")
        else:
            self.call(array)

    def call(self, array):
        kind = self.pick(["grow", "poke", "set_a", "peek_a", "add3", "anything"])
        obj = self.pick(self.objs)
        if kind == "grow":
            self.lines.append(f"call_n(ConstPtr(grow_fn), {array}, descr=grow)")
        elif kind == "poke":
            self.lines.append(f"call_n(ConstPtr(poke_fn), {array}, {self.index()}, descr=poke)")
        elif kind == "set_a":
            self.lines.append(f"call_n(ConstPtr(set_a_fn), {obj}, {self.ref()}, descr=set_a)")
        elif kind == "peek_a":
            result = self.box("p")
            self.lines.append(f"{result} = call_r(ConstPtr(peek_a_fn), {obj}, descr=peek_a)")
            self.refs.append(result)
        elif kind == "add3":
            result = self.box("i")
            self.lines.append(f"{result} = call_pure_i(ConstPtr(add3_fn), "
                              f"{self.pick(self.ints)}, descr=add3)")
            self.ints.append(result)
            return
        else:
            self.lines.append(f"call_n(ConstPtr(anything_fn), {array}, {obj}, descr=anything)")
        self.guard("guard_no_exception()")

    def text(self):
        results = ", ".join(self.ints + self.refs + self.objs)
        return "\n".join(["[p0, p1, p2, p3, i4, i5]", *self.lines,
                          f"finish({results}, descr=done)"])


def describe(value, names):
    """A value as plain data: the input objects by role, the others by contents."""
    if id(value) in names:
        return names[id(value)]
    if isinstance(value, Obj):
        names[id(value)] = f"obj{len(names)}"
        return ("Obj", tuple(sorted((k, describe(v, names))
                                    for k, v in vars(value).items())))
    if isinstance(value, bytearray):
        return ("bytearray", bytes(value))
    if isinstance(value, list):
        return ("list", tuple(describe(v, names) for v in value))
    return (type(value).__name__, value)


def run(trace, inputs_data):
    storages, alias_arrays, alias_objs, i4, i5 = inputs_data
    arrays = [bytearray(range(10, 10 + SIZE)) if s == "bytearray" else list(range(SIZE))
              for s in storages]
    if alias_arrays:
        arrays[1] = arrays[0]
    objs = [Obj(), Obj()]
    if alias_objs:
        objs[1] = objs[0]
    for n, obj in enumerate(objs):
        obj.a, obj.b, obj.o = 100 + n, 200 + n, objs[1 - n]
    names = {id(arrays[0]): "p0", id(arrays[1]): "p1", id(objs[0]): "p2", id(objs[1]): "p3"}
    result = compile_unit(trace).run([*arrays, *objs, i4, i5])
    if result.guard is None:
        seen = result.values
    else:
        env = dict(zip(failargs(result.guard), result.values))

        def value_of(entry):
            entry = entry.find() if not isinstance(entry, Const) else entry
            return entry.value if isinstance(entry, Const) else env[entry]

        seen = [value_of(entry) for entry in result.guard.snapshot.frames[0].values]
        for store in result.guard.snapshot.stores:   # as resume does them
            store.perform(value_of)
    state = [describe(x, dict(names)) for x in [*arrays, *objs]]
    return (result.guard, [describe(v, dict(names)) for v in seen], state)


@st.composite
def programs(draw):
    # two arrays of one storage, often the same array: where aliasing shows
    storages = [draw(st.sampled_from(["bytearray", "list"]))]
    storages.append(storages[0] if draw(st.integers(0, 3)) else
                    draw(st.sampled_from(["bytearray", "list"])))
    alias_arrays = storages[0] == storages[1] and draw(st.booleans())
    alias_objs = draw(st.booleans())
    program = Program(draw, {"p0": storages[0], "p1": storages[1]})
    for _ in range(draw(st.integers(1, 30))):
        program.step()
    inputs = (storages, alias_arrays, alias_objs,
              draw(st.integers(0, SIZE - 1)), draw(st.integers(0, SIZE - 1)))
    return program.text(), inputs


@settings(max_examples=max(300, settings.default.max_examples))
@given(programs())
def test_heap_pass_keeps_results_and_heap_states(case):
    text, inputs = case
    trace = parse_trace(text, NAMESPACE)
    before = run(trace, inputs)
    HeapPass().run(trace, OptContext())
    after = run(trace, inputs)
    assert before == after, format_trace(trace)


def test_index_plus_a_constant_is_another_item():
    # [->+<]: the store to p0[i1 + 1] leaves p0[i1] known, and back; i1 + 1 - 1
    # names the item i1 does, so what was stored there is known at p0[i1]
    counts = check("""
        [p0, i1]
        i2 = getarrayitem_i(p0, i1, descr=bytearray)
        i3 = int_add(i1, 1)
        setarrayitem_i(p0, i3, i2, descr=bytearray)
        i4 = int_sub(i3, 1)
        i5 = getarrayitem_i(p0, i1, descr=bytearray)
        i6 = getarrayitem_i(p0, i3, descr=bytearray)
        setarrayitem_i(p0, i4, 7, descr=bytearray)
        i7 = getarrayitem_i(p0, i1, descr=bytearray)
        i8 = getarrayitem_i(p0, i3, descr=bytearray)
        finish(i5, i6, i7, i8, descr=done)
    """, """
        [p0, i1]
        i2 = getarrayitem_i(p0, i1, descr=bytearray)
        i3 = int_add(i1, 1)
        i4 = int_sub(i3, 1)
        setarrayitem_i(p0, i3, i2, descr=bytearray)
        setarrayitem_i(p0, i4, 7, descr=bytearray)
        finish(i2, i2, 7, i2, descr=done)
    """)
    assert counts["heap_getarrayitem_from_store"] == 3


def test_offsets_of_different_bases_may_alias():
    # i1 + 1 and i2 may be the same item; so may i1 and an index of unknown origin
    unchanged("""
        [p0, i1, i2]
        i3 = getarrayitem_i(p0, i2, descr=bytearray)
        i4 = int_add(i1, 1)
        setarrayitem_i(p0, i4, 5, descr=bytearray)
        i5 = getarrayitem_i(p0, i2, descr=bytearray)
        i6 = int_mul(i1, 2)
        i7 = getarrayitem_i(p0, i1, descr=bytearray)
        setarrayitem_i(p0, i6, 9, descr=bytearray)
        i8 = getarrayitem_i(p0, i1, descr=bytearray)
        finish(i3, i5, i7, i8, descr=done)
    """)


# -- delayed stores -------------------------------------------------------------------

def test_a_store_waits_past_guards_which_carry_it():
    counts = check("""
        [p0, p1, i2]
        setfield(p0, p1, descr=Obj.a)
        guard_true(i2) [@f#0: p0]
        setfield(p0, p0, descr=Obj.a)
        guard_false(i2) [@f#1: p0]
        finish(descr=done)
    """, """
        [p0, p1, i2]
        guard_true(i2) [@f#0: p0] store(p0, Obj.a=p1)
        guard_false(i2) [@f#1: p0] store(p0, Obj.a=p0)
        setfield(p0, p0, descr=Obj.a)
        finish(descr=done)
    """)
    assert counts["heap_store_coalesced"] == 1 and counts["heap_store_past_guard"] == 2


def test_stores_wait_in_program_order_and_a_load_that_may_alias_takes_them_out():
    check("""
        [p0, p1, p2]
        setfield(p0, p2, descr=Obj.a)
        setfield(p1, p0, descr=Obj.a)
        setfield(p0, p1, descr=Obj.b)
        p3 = getfield(p2, descr=Obj.a)
        finish(p3, descr=done)
    """, """
        [p0, p1, p2]
        setfield(p0, p2, descr=Obj.a)
        setfield(p1, p0, descr=Obj.a)
        p3 = getfield(p2, descr=Obj.a)
        setfield(p0, p1, descr=Obj.b)
        finish(p3, descr=done)
    """)


def test_a_call_that_may_read_the_field_sees_the_store_first():
    check("""
        [p0, p1]
        setfield(p0, p1, descr=Obj.a)
        setfield(p0, p1, descr=Obj.b)
        p2 = call_r(ConstPtr(peek_a_fn), p0, descr=peek_a)
        guard_no_exception() [@f#0: p0]
        finish(p2, descr=done)
    """, """
        [p0, p1]
        setfield(p0, p1, descr=Obj.a)
        p2 = call_r(ConstPtr(peek_a_fn), p0, descr=peek_a)
        guard_no_exception() [@f#0: p0] store(p0, Obj.b=p1)
        setfield(p0, p1, descr=Obj.b)
        finish(p2, descr=done)
    """)


def test_a_call_that_may_do_anything_sees_every_store_first():
    check("""
        [p0, p1, p2]
        setfield(p2, p1, descr=Obj.a)
        call_n(ConstPtr(anything_fn), p0, p2, descr=anything)
        guard_no_exception() [@f#0: p0]
        finish(descr=done)
    """, """
        [p0, p1, p2]
        setfield(p2, p1, descr=Obj.a)
        call_n(ConstPtr(anything_fn), p0, p2, descr=anything)
        guard_no_exception() [@f#0: p0]
        finish(descr=done)
    """)


def test_quasi_immutable_and_class_stores_are_never_delayed():
    unchanged("""
        [p0, p1, i2]
        setfield(p0, p1, descr=Obj.q)
        guard_true(i2) [@f#0: p0]
        setfield(p0, p1, descr=Obj.__class__)
        guard_true(i2) [@f#1: p0]
        finish(descr=done)
    """)


def test_a_call_sees_virtualizable_fields_only_on_what_it_is_given():
    check("""
        [p0, p1, p3]
        p2 = new_with_vtable(descr=Obj)
        setfield(p0, p1, descr=Frame.acc)
        setfield(p2, p1, descr=Frame.acc)
        call_n(ConstPtr(anything_fn), p2, descr=anything)
        guard_no_exception() [@f#0: p0]
        p4 = getfield(p0, descr=Frame.acc)
        call_n(ConstPtr(anything_fn), p0, descr=anything)
        guard_no_exception() [@f#1: p0]
        finish(p4, descr=done)
    """, """
        [p0, p1, p3]
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p1, descr=Frame.acc)
        call_n(ConstPtr(anything_fn), p2, descr=anything)
        guard_no_exception() [@f#0: p0] store(p0, Frame.acc=p1)
        setfield(p0, p1, descr=Frame.acc)
        call_n(ConstPtr(anything_fn), p0, descr=anything)
        guard_no_exception() [@f#1: p0]
        finish(p1, descr=done)
    """)


# -- delayed stores to list items ------------------------------------------------------

def test_a_list_item_store_waits_past_guards_and_coalesces():
    counts = check("""
        [p0, i1, p2, p3, i4]
        setarrayitem_r(p0, i1, p2, descr=list)
        guard_true(i4) [@f#0: p0]
        setarrayitem_r(p0, i1, p3, descr=list)
        guard_false(i4) [@f#1: p0]
        finish(descr=done)
    """, """
        [p0, i1, p2, p3, i4]
        guard_true(i4) [@f#0: p0] store(p0, list[i1]=p2)
        guard_false(i4) [@f#1: p0] store(p0, list[i1]=p3)
        setarrayitem_r(p0, i1, p3, descr=list)
        finish(descr=done)
    """)
    assert counts["heap_store_coalesced"] == 1 and counts["heap_store_past_guard"] == 2


def test_a_store_to_an_item_that_may_be_the_same_goes_out_first():
    # p1[i2] may be p0[i1]: the first store is done before the second waits;
    # p0[i1 + 1] is another item of p0 and waits beside p0[i1]
    check("""
        [p0, p1, i1, i2, p3, i4]
        i5 = int_add(i1, 1)
        setarrayitem_r(p0, i1, p3, descr=list)
        setarrayitem_r(p0, i5, p3, descr=list)
        setarrayitem_r(p1, i2, p0, descr=list)
        guard_true(i4) [@f#0: p0]
        finish(descr=done)
    """, """
        [p0, p1, i1, i2, p3, i4]
        i5 = int_add(i1, 1)
        setarrayitem_r(p0, i1, p3, descr=list)
        setarrayitem_r(p0, i5, p3, descr=list)
        guard_true(i4) [@f#0: p0] store(p1, list[i2]=p0)
        setarrayitem_r(p1, i2, p0, descr=list)
        finish(descr=done)
    """)


def test_a_load_that_may_alias_takes_the_item_store_out_and_another_index_does_not():
    check("""
        [p0, p1, p2, i3]
        setarrayitem_r(p0, 0, p2, descr=list)
        p4 = getarrayitem_r(p0, 1, descr=list)
        guard_true(i3) [@f#0: p4]
        p5 = getarrayitem_r(p1, 0, descr=list)
        p6 = getarrayitem_r(p0, 0, descr=list)
        finish(p4, p5, p6, descr=done)
    """, """
        [p0, p1, p2, i3]
        p4 = getarrayitem_r(p0, 1, descr=list)
        guard_true(i3) [@f#0: p4] store(p0, list[0]=p2)
        setarrayitem_r(p0, 0, p2, descr=list)
        p5 = getarrayitem_r(p1, 0, descr=list)
        finish(p4, p5, p2, descr=done)
    """)


def test_a_call_that_may_read_items_sees_the_item_stores_first():
    check("""
        [p0, p1]
        setarrayitem_r(p0, 0, p1, descr=list)
        setfield(p0, p1, descr=Obj.a)
        call_n(ConstPtr(poke_fn), p0, 0, descr=poke)
        guard_no_exception() [@f#0: p0]
        finish(descr=done)
    """, """
        [p0, p1]
        setarrayitem_r(p0, 0, p1, descr=list)
        call_n(ConstPtr(poke_fn), p0, 0, descr=poke)
        guard_no_exception() [@f#0: p0] store(p0, Obj.a=p1)
        setfield(p0, p1, descr=Obj.a)
        finish(descr=done)
    """)


def test_buffer_stores_wait_too_but_not_those_of_immutable_arrays():
    check("""
        [p0, i1, i2, p3]
        setarrayitem_i(p0, i1, 7, descr=bytearray)
        setarrayitem_r(p3, 0, p0, descr=tuple)
        guard_true(i2) [@f#0: p0]
        finish(descr=done)
    """, """
        [p0, i1, i2, p3]
        setarrayitem_r(p3, 0, p0, descr=tuple)
        guard_true(i2) [@f#0: p0] store(p0, bytearray[i1]=7)
        setarrayitem_i(p0, i1, 7, descr=bytearray)
        finish(descr=done)
    """)
