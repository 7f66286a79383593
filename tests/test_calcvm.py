"""calcvm, the stack-based calculator VM, with the JIT off: every program gives its
independently computed output, guest errors print as the driver prints them, the
assembler names the line of bad input, and the code the JIT will look inside stays
within the interpreter subset."""
from __future__ import annotations

import ast
import builtins
import inspect
import math

import pytest

try:
    from calcvm import vm
    from calcvm.programs import ERROR_PROGRAMS, PROGRAMS
except ImportError:     # tests/ imported as a package
    from tests.calcvm import vm
    from tests.calcvm.programs import ERROR_PROGRAMS, PROGRAMS

from metajit import JitDriver

W_Int, W_Float, CalcError = vm.W_Int, vm.W_Float, vm.CalcError
run_program, assemble, assemble_all = vm.run_program, vm.assemble, vm.assemble_all


@pytest.fixture(autouse=True, scope="module")
def jit_off():
    try:
        from metajit.interp import params
    except ImportError:
        yield
        return
    old = params.get_config().enabled
    params.configure(enabled=False)
    try:
        yield
    finally:
        params.configure(enabled=old)


# ---------------------------------------------------------------------------
# programs

@pytest.mark.parametrize("name,source,expected", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_program_output(name, source, expected):
    assert run_program(source) == expected


@pytest.mark.parametrize("name,source,expected", ERROR_PROGRAMS,
                         ids=[p[0] for p in ERROR_PROGRAMS])
def test_guest_error(name, source, expected):
    assert run_program(source) == expected


def test_program_corpus_shape():
    names = [p[0] for p in PROGRAMS]
    assert len(PROGRAMS) >= 8 and len(set(names)) == len(names)
    for name in ("factorial_bigint", "harmonic_float", "fib_recursive", "branch_flip",
                 "div_zero_in_loop", "mixed_int_float", "nested_loops", "sum_to_n"):
        assert name in names


def _backward_jumps(code):
    found = []
    for pc in range(0, len(code.bytecode), 2):
        op, arg = code.bytecode[pc], code.bytecode[pc + 1]
        if op in (vm.JUMP, vm.JUMP_IF_FALSE) and arg * 2 < pc:
            found.append(pc)
    return found


@pytest.mark.parametrize("name,source,expected", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_program_has_hot_loop(name, source, expected):
    main = assemble(source)
    assert _backward_jumps(main), name + " has no loop in main"


def test_fib_traces_through_guest_calls_shape():
    # fib is recursive through CALL, and the factorial crosses 64 bits
    codes = assemble_all(dict((p[0], p[1]) for p in PROGRAMS)["fib_recursive"])
    fib = codes["fib"]
    assert fib in fib.consts and fib.nargs == 1
    out = run_program(dict((p[0], p[1]) for p in PROGRAMS)["factorial_bigint"])
    assert str(math.factorial(30)) in out.split("\n")
    assert str(math.factorial(40)) == out.split("\n")[39]


def test_run_program_is_repeatable_and_isolated():
    progs = dict((p[0], (p[1], p[2])) for p in PROGRAMS)
    first = run_program(progs["sum_to_n"][0])
    other = run_program(progs["div_zero_in_loop"][0])
    assert run_program(progs["sum_to_n"][0]) == first == progs["sum_to_n"][1]
    assert run_program(progs["div_zero_in_loop"][0]) == other
    assert isinstance(first, str)


def test_run_returns_the_main_result():
    out = []
    w = vm.run(assemble("LOAD_CONST 6\nLOAD_CONST 7\nMUL\nRETURN\n"), out)
    assert isinstance(w, W_Int) and w.intval == 42 and out == []
    w = vm.run(assemble("LOAD_CONST 1\nPRINT\n"), out)     # falls off the end: 0
    assert w.intval == 0 and out == ["1\n"]


def test_function_values_and_calls():
    src = """
    LOAD_CONST apply           # apply(twice, 5) = twice(5)
    LOAD_CONST twice
    LOAD_CONST 5
    CALL 2
    PRINT
    LOAD_CONST twice
    PRINT
    LOAD_CONST twice
    LOAD_CONST twice
    EQ
    PRINT
func apply 2
    LOAD_LOCAL 0
    LOAD_LOCAL 1
    CALL 1
    RETURN
end
func twice 1
    LOAD_LOCAL 0
    LOAD_CONST 2
    MUL
    RETURN
end
"""
    assert run_program(src) == "10\n<function twice>\n1\n"


def test_syntax_conveniences():
    src = """
    load_const 3 ; lower-case opcodes, ';' comments
    STORE_LOCAL 0
top: LOAD_LOCAL 0          # a label before an instruction
    DUP
    PRINT
    LOAD_CONST -1
    ADD
    DUP
    STORE_LOCAL 0
    JUMP_IF_FALSE end_
    JUMP top
end_:
    LOAD_CONST 1e3
    PRINT
    LOAD_CONST .5
    PRINT
"""
    assert run_program(src) == "3\n2\n1\n1000.0\n0.5\n"


def test_output_before_error_is_kept():
    assert run_program("LOAD_CONST 1\nPRINT\nLOAD_CONST 1\nLOAD_CONST 0\nMOD\nPRINT\n") \
        == "1\nerror: division by zero\n"


# ---------------------------------------------------------------------------
# values: Python's int and float semantics

def _py(w):
    return w.intval if isinstance(w, W_Int) else w.floatval


@pytest.mark.parametrize("a", [7, -7, 0, 2 ** 70, -(2 ** 64) - 3, 2.5, -0.75, 1e300])
@pytest.mark.parametrize("b", [3, -3, 2 ** 65, 0.5, -4.0])
def test_arithmetic_matches_python(a, b):
    wa = W_Int(a) if isinstance(a, int) else W_Float(a)
    wb = W_Int(b) if isinstance(b, int) else W_Float(b)
    for method, expected in (("add", a + b), ("sub", a - b), ("mul", a * b),
                             ("truediv", a / b), ("floordiv", a // b), ("mod", a % b)):
        w = getattr(wa, method)(wb)
        assert type(_py(w)) is type(expected), (method, a, b)
        assert _py(w) == expected or (expected != expected and _py(w) != _py(w))
    assert wa.lt(wb).intval == int(a < b)
    assert wa.eq(wb).intval == int(a == b)
    assert wa.is_true() == bool(a)


def test_int_arithmetic_is_exact():
    w = W_Int(1)
    for n in range(1, 31):
        w = w.mul(W_Int(n))
    assert w.intval == math.factorial(30)
    assert w.str() == str(math.factorial(30))
    assert W_Int(2 ** 64).sub(W_Int(1)).intval == 2 ** 64 - 1
    big = W_Int(2 ** 53 + 1)
    assert big.eq(W_Float(2.0 ** 53)).intval == 0      # exact comparison, as Python
    assert W_Float(2.0 ** 53).lt(big).intval == 1


def test_division_by_zero_raises_calcerror():
    for wa in (W_Int(1), W_Float(1.0)):
        for wb in (W_Int(0), W_Float(0.0), W_Float(-0.0)):
            for method in ("truediv", "floordiv", "mod"):
                with pytest.raises(CalcError, match="division by zero"):
                    getattr(wa, method)(wb)


def test_value_strings():
    assert W_Int(-5).str() == "-5"
    assert W_Float(0.1 + 0.2).str() == repr(0.1 + 0.2)
    assert W_Float(3.0).str() == "3.0"
    assert not W_Int(0).is_true() and not W_Float(0.0).is_true()


# ---------------------------------------------------------------------------
# the assembler

ASM_ERRORS = [
    # (source, line, column or None, words in the message)
    ("LOAD_CONST 1\n  FROB\n", 2, 3, "unknown instruction 'FROB'"),
    ("\n\nLOAD_LOCAL\n", 3, None, "needs an operand"),
    ("LOAD_CONST 1\nLOAD_CONST 2\nADD 3\n", 3, 5, "takes no operand"),
    ("LOAD_CONST 1 2\n", 1, 14, "unexpected text"),
    ("LOAD_LOCAL x\n", 1, 12, "local index"),
    ("LOAD_CONST 1\nSTORE_LOCAL 256\n", 2, 13, "local index"),
    ("LOAD_CONST 1\nJUMP_IF_FALSE nowhere\n", 2, 15, "undefined label 'nowhere'"),
    ("a:\nLOAD_CONST 1\nPOP\na:\n", 4, 1, "duplicate label 'a'"),
    ("LOAD_CONST nope\n", 1, 12, "unknown function 'nope'"),
    ("LOAD_CONST 1.2.3\n", 1, 12, "bad constant"),
    ("LOAD_CONST 1\nfunc f 0\nLOAD_CONST 1\nRETURN\n", 2, 1, "no 'end'"),
    ("LOAD_CONST 1\nPOP\nend\n", 3, 1, "'end' outside a func"),
    ("func f 0\nfunc g 0\nend\n", 2, 1, "missing 'end'"),
    ("func f 0\nend\n\nfunc f 1\nend\n", 4, 6, "duplicate function 'f'"),
    ("func f\nend\n", 1, 1, "expected 'func NAME NARGS'"),
    ("func f x\nend\n", 1, 8, "NARGS"),
    ("LOAD_CONST 1\nLOAD_CONST 2\nADD\nADD\n", 4, 1, "ADD needs 2 values on the stack"),
    ("  RETURN\n", 1, 3, "RETURN needs 1 value"),
    ("LOAD_CONST 1\nJUMP_IF_FALSE out\nLOAD_CONST 5\nout:\nPRINT\n", 5, 1, "stack depth"),
    ("LOAD_CONST 1\nCALL 300\n", 2, 6, "CALL's argument count"),
]


@pytest.mark.parametrize("source,line,column,words", ASM_ERRORS,
                         ids=[str(i) for i in range(len(ASM_ERRORS))])
def test_assembler_errors_name_the_line(source, line, column, words):
    with pytest.raises(vm.AssemblerError) as info:
        assemble(source)
    err = info.value
    assert err.lineno == line
    assert str(err).startswith("line %d, column " % line)
    if column is not None:
        assert err.column == column, str(err)
    assert words in str(err)
    # run_program reports bad input the same way, before running anything
    with pytest.raises(vm.AssemblerError):
        run_program(source)


def test_assembler_limits_name_the_line():
    with pytest.raises(vm.AssemblerError, match=r"^line 256, .*too long") as info:
        assemble("LOAD_CONST 1\nPOP\n" * 128)   # 256 + the implicit return
    assert info.value.lineno == 256
    assemble("LOAD_CONST 1\nPOP\n" * 127)         # 254 + the implicit return: fits
    assemble("LOAD_CONST 1\nPOP\n" * 127 + "LOAD_CONST 1\nRETURN\n")   # 256, no implicit
    with pytest.raises(vm.AssemblerError, match=r"^line 257, .*too long"):
        assemble("LOAD_CONST 1\nPOP\n" * 128 + "LOAD_CONST 1\nRETURN\n")


def test_assembler_output():
    codes = assemble_all("""
    LOAD_CONST sq
    LOAD_CONST 3
    CALL 1
    PRINT
func sq 1
    LOAD_LOCAL 0
    DUP
    MUL
    STORE_LOCAL 2
    LOAD_LOCAL 2
    RETURN
end
""")
    main, sq = codes["<main>"], codes["sq"]
    assert isinstance(main.bytecode, bytes) and len(main.bytecode) % 2 == 0
    assert main.nargs == 0 and sq.nargs == 1 and sq.nlocals == 3
    assert main.stacksize == 2 and sq.stacksize == 2
    assert sq in main.consts
    listing = vm.disassemble(sq)
    assert "LOAD_LOCAL" in listing and "RETURN" in listing
    assert vm.get_printable_location(0, sq) == "sq:0 LOAD_LOCAL 0"


# ---------------------------------------------------------------------------
# the hints and the interpreter subset

def test_declarations():
    assert isinstance(vm.driver, JitDriver)
    assert vm.driver.greens == ["pc", "code"]
    assert set(vm.driver.reds) == {"frame", "frames", "out"}
    assert W_Int._immutable_fields_ == ["intval"]
    for field in ("bytecode", "consts[*]", "name", "nlocals"):
        assert field in vm.Code._immutable_fields_
    assert issubclass(W_Int, vm.W_Object) and issubclass(W_Float, vm.W_Object)
    assert getattr(vm.get_const, "_jit_elidable_", False)
    assert getattr(vm.print_value, "_jit_look_inside_", True) is False


def _vm_tree():
    return ast.parse(inspect.getsource(vm))


def test_merge_point_is_first_statement_of_the_portal_loop():
    portal = [n for n in _vm_tree().body if isinstance(n, ast.FunctionDef) and n.name == "run"]
    (run,) = portal
    loops = [n for n in run.body if isinstance(n, ast.While)]
    assert len(loops) == 1
    first = loops[0].body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)
    assert ast.unparse(first.value.func) == "driver.jit_merge_point"
    assert sorted(k.arg for k in first.value.keywords) == sorted(
        vm.driver.greens + vm.driver.reds)


ALLOWED_BUILTINS = {"len", "abs", "min", "max", "int", "float", "chr", "ord",
                    "isinstance", "range", "bool"}
FORBIDDEN = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda,
             ast.With, ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await,
             ast.JoinedStr, ast.Starred, ast.AsyncFunctionDef)


def _jit_visible_functions():
    """The functions reachable from the portal without passing through a
    ``dont_look_inside`` helper (calls followed by name: module functions, class
    constructors, and methods of the VM's classes)."""
    tree = _vm_tree()
    funcs, classes = {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = node
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node
    methods = {}
    for cls in classes.values():
        for node in cls.body:
            if isinstance(node, ast.FunctionDef):
                methods.setdefault(node.name, []).append((cls.name, node))

    def opaque(fn):
        return any(ast.unparse(d) == "dont_look_inside" for d in fn.decorator_list)

    seen, todo = {}, [("run", funcs["run"])]
    while todo:
        key, fn = todo.pop()
        if key in seen or opaque(fn):
            continue
        seen[key] = fn
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name):
                name = node.func.id
                if name in funcs:
                    todo.append((name, funcs[name]))
                elif name in classes:
                    for cname, m in methods.get("__init__", []):
                        if cname == name:
                            todo.append((cname + ".__init__", m))
            elif isinstance(node.func, ast.Attribute):
                for cname, m in methods.get(node.func.attr, []):
                    todo.append((cname + "." + m.name, m))
    return seen


def test_jit_visible_code_stays_in_the_subset():
    visible = _jit_visible_functions()
    assert "run" in visible and "W_Int.add" in visible and "Frame.push" in visible
    assert "W_Int.str" not in visible          # only reached through print_value
    problems = []
    for key, fn in visible.items():
        args = fn.args
        if args.vararg or args.kwarg:
            problems.append("%s: *args/**kwargs" % key)
        for node in ast.walk(fn):
            where = "%s (line %d)" % (key, getattr(node, "lineno", fn.lineno))
            if isinstance(node, FORBIDDEN):
                problems.append("%s: %s" % (where, type(node).__name__))
            if isinstance(node, ast.FunctionDef) and node is not fn:
                problems.append("%s: nested function" % where)
            if isinstance(node, ast.keyword) and node.arg is None:
                problems.append("%s: **kwargs call" % where)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                name = node.func.id
                if hasattr(builtins, name) and name not in ALLOWED_BUILTINS:
                    problems.append("%s: builtin %s()" % (where, name))
    assert not problems, "\n".join(problems)
