"""Test programs for calcvm: ``PROGRAMS`` is a list of ``(name, source, expected)``.

Every program has a hot loop (a backward jump).  Each expected output is computed
here by a direct Python computation of the same arithmetic, independently of the VM
(Python's own int/float semantics are the VM's).  ``ERROR_PROGRAMS`` are small
programs that end in a guest error.
"""
from __future__ import annotations


def _lines(values):
    return "".join(repr(v) + "\n" for v in values)


# --- sum of 1..N ----------------------------------------------------------------

SUM_N = 5000
SUM_SRC = f"""
# total = sum(1..N)
    LOAD_CONST 0
    STORE_LOCAL 0          # total
    LOAD_CONST 1
    STORE_LOCAL 1          # i
loop:
    LOAD_LOCAL 1
    LOAD_CONST {SUM_N + 1}
    LT
    JUMP_IF_FALSE done
    LOAD_LOCAL 0
    LOAD_LOCAL 1
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP loop
done:
    LOAD_LOCAL 0
    PRINT
"""


def _sum_expected():
    total = 0
    for i in range(1, SUM_N + 1):
        total += i
    return _lines([total])


# --- nested loops -----------------------------------------------------------------

NEST_R = 60
NEST_SRC = f"""
# for i < R: for j < R: acc += (i*j) % 7 ; print acc after each 20 rows
    LOAD_CONST 0
    STORE_LOCAL 0          # acc
    LOAD_CONST 0
    STORE_LOCAL 1          # i
outer:
    LOAD_LOCAL 1
    LOAD_CONST {NEST_R}
    LT
    JUMP_IF_FALSE done
    LOAD_CONST 0
    STORE_LOCAL 2          # j
inner:
    LOAD_LOCAL 2
    LOAD_CONST {NEST_R}
    LT
    JUMP_IF_FALSE inner_done
    LOAD_LOCAL 0
    LOAD_LOCAL 1
    LOAD_LOCAL 2
    MUL
    LOAD_CONST 7
    MOD
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 2
    LOAD_CONST 1
    ADD
    STORE_LOCAL 2
    JUMP inner
inner_done:
    LOAD_LOCAL 1
    LOAD_CONST 20
    MOD
    LOAD_CONST 19
    EQ
    JUMP_IF_FALSE next
    LOAD_LOCAL 0
    PRINT
next:
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP outer
done:
    LOAD_LOCAL 0
    PRINT
"""


def _nest_expected():
    out = []
    acc = 0
    for i in range(NEST_R):
        for j in range(NEST_R):
            acc += (i * j) % 7
        if i % 20 == 19:
            out.append(acc)
    out.append(acc)
    return _lines(out)


# --- factorials with big ints (a guest function with its own loop) ---------------

FACT_MAX = 40
FACT_SRC = f"""
# print fact(k) for k = 1..{FACT_MAX}; fact(21) and up leave 64 bits
    LOAD_CONST 1
    STORE_LOCAL 0          # k
loop:
    LOAD_LOCAL 0
    LOAD_CONST {FACT_MAX + 1}
    LT
    JUMP_IF_FALSE done
    LOAD_CONST fact
    LOAD_LOCAL 0
    CALL 1
    PRINT
    LOAD_LOCAL 0
    LOAD_CONST 1
    ADD
    STORE_LOCAL 0
    JUMP loop
done:

func fact 1                # iterative: f = 1; while n > 1: f *= n; n -= 1
    LOAD_CONST 1
    STORE_LOCAL 1
again:
    LOAD_CONST 1
    LOAD_LOCAL 0
    LT
    JUMP_IF_FALSE out
    LOAD_LOCAL 1
    LOAD_LOCAL 0
    MUL
    STORE_LOCAL 1
    LOAD_LOCAL 0
    LOAD_CONST 1
    SUB
    STORE_LOCAL 0
    JUMP again
out:
    LOAD_LOCAL 1
    RETURN
end
"""


def _fact_expected():
    out = []
    for k in range(1, FACT_MAX + 1):
        f = 1
        for n in range(2, k + 1):
            f *= n
        out.append(f)
    assert out[29] == 265252859812191058636308480000000     # 30!, exact
    return _lines(out)


# --- a float loop: harmonic numbers ----------------------------------------------

HARM_N = 5000
HARM_SRC = f"""
# s = sum of 1.0 / i for i = 1..N, printed every 1000 terms
    LOAD_CONST 0.0
    STORE_LOCAL 0          # s
    LOAD_CONST 1
    STORE_LOCAL 1          # i
loop:
    LOAD_LOCAL 1
    LOAD_CONST {HARM_N + 1}
    LT
    JUMP_IF_FALSE done
    LOAD_LOCAL 0
    LOAD_CONST 1.0
    LOAD_LOCAL 1
    DIV
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 1
    LOAD_CONST 1000
    MOD
    LOAD_CONST 0
    EQ
    JUMP_IF_FALSE skip
    LOAD_LOCAL 0
    PRINT
skip:
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP loop
done:
    LOAD_LOCAL 0
    PRINT
"""


def _harm_expected():
    out = []
    s = 0.0
    for i in range(1, HARM_N + 1):
        s = s + 1.0 / i
        if i % 1000 == 0:
            out.append(s)
    out.append(s)
    return _lines(out)


# --- recursive fibonacci through guest calls --------------------------------------

FIB_MAX = 15
FIB_SRC = f"""
# print fib(k) for k = 0..{FIB_MAX}, fib recursive
    LOAD_CONST 0
    STORE_LOCAL 0
loop:
    LOAD_LOCAL 0
    LOAD_CONST {FIB_MAX + 1}
    LT
    JUMP_IF_FALSE done
    LOAD_CONST fib
    LOAD_LOCAL 0
    CALL 1
    PRINT
    LOAD_LOCAL 0
    LOAD_CONST 1
    ADD
    STORE_LOCAL 0
    JUMP loop
done:

func fib 1
    LOAD_LOCAL 0
    LOAD_CONST 2
    LT
    JUMP_IF_FALSE recurse
    LOAD_LOCAL 0
    RETURN
recurse:
    LOAD_CONST fib
    LOAD_LOCAL 0
    LOAD_CONST 1
    SUB
    CALL 1
    LOAD_CONST fib
    LOAD_LOCAL 0
    LOAD_CONST 2
    SUB
    CALL 1
    ADD
    RETURN
end
"""


def _fib_expected():
    out = []
    for k in range(FIB_MAX + 1):
        a, b = 0, 1
        for _ in range(k):
            a, b = b, a + b
        out.append(a)
    assert out[15] == 610
    return _lines(out)


# --- a branch whose direction changes halfway (a guard starts failing) ------------

FLIP_N = 4000
FLIP_SRC = f"""
# a += 3 while i < N/2, then a -= 1
    LOAD_CONST 0
    STORE_LOCAL 0          # a
    LOAD_CONST 0
    STORE_LOCAL 1          # i
loop:
    LOAD_LOCAL 1
    LOAD_CONST {FLIP_N}
    LT
    JUMP_IF_FALSE done
    LOAD_LOCAL 1
    LOAD_CONST {FLIP_N // 2}
    LT
    JUMP_IF_FALSE second_half
    LOAD_LOCAL 0
    LOAD_CONST 3
    ADD
    STORE_LOCAL 0
    JUMP next
second_half:
    LOAD_LOCAL 0
    LOAD_CONST 1
    SUB
    STORE_LOCAL 0
next:
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP loop
done:
    LOAD_LOCAL 0
    PRINT
"""


def _flip_expected():
    a = 0
    for i in range(FLIP_N):
        if i < FLIP_N // 2:
            a += 3
        else:
            a -= 1
    return _lines([a])


# --- division by zero inside a loop, after some iterations -------------------------

DIVZ_START = 1000
DIVZ_SRC = f"""
# i counts down from {DIVZ_START}; acc += 100000 // i; print acc when i % 100 == 0
    LOAD_CONST 0
    STORE_LOCAL 0          # acc
    LOAD_CONST {DIVZ_START}
    STORE_LOCAL 1          # i
loop:
    LOAD_LOCAL 0
    LOAD_CONST 100000
    LOAD_LOCAL 1
    FLOORDIV               # fails when i reaches 0
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 1
    LOAD_CONST 100
    MOD
    LOAD_CONST 0
    EQ
    JUMP_IF_FALSE skip
    LOAD_LOCAL 0
    PRINT
skip:
    LOAD_LOCAL 1
    LOAD_CONST 1
    SUB
    STORE_LOCAL 1
    JUMP loop
"""


def _divz_expected():
    out = []
    acc = 0
    for i in range(DIVZ_START, 0, -1):
        acc += 100000 // i
        if i % 100 == 0:
            out.append(acc)
    return _lines(out) + "error: division by zero\n"


# --- ints and floats mixed in one variable ----------------------------------------

MIX_N = 3000
MIX_SRC = f"""
# v = i (an int) for even i, i * 0.5 (a float) for odd i
# acc += v (acc turns float at i == 1); m += v % 3 (int or float modulo)
    LOAD_CONST 0
    STORE_LOCAL 0          # acc
    LOAD_CONST 0
    STORE_LOCAL 1          # i
    LOAD_CONST 0
    STORE_LOCAL 2          # v
    LOAD_CONST 0
    STORE_LOCAL 3          # m
loop:
    LOAD_LOCAL 1
    LOAD_CONST {MIX_N}
    LT
    JUMP_IF_FALSE done
    LOAD_LOCAL 1
    LOAD_CONST 2
    MOD
    LOAD_CONST 0
    EQ
    JUMP_IF_FALSE odd
    LOAD_LOCAL 1
    STORE_LOCAL 2
    JUMP have_v
odd:
    LOAD_LOCAL 1
    LOAD_CONST 0.5
    MUL
    STORE_LOCAL 2
have_v:
    LOAD_LOCAL 0
    LOAD_LOCAL 2
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 3
    LOAD_LOCAL 2
    LOAD_CONST 3
    MOD
    ADD
    STORE_LOCAL 3
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP loop
done:
    LOAD_LOCAL 0
    PRINT
    LOAD_LOCAL 2
    PRINT
    LOAD_LOCAL 3
    PRINT
    LOAD_LOCAL 3
    LOAD_CONST 2
    FLOORDIV
    PRINT
"""


def _mix_expected():
    acc = 0
    v = 0
    m = 0
    for i in range(MIX_N):
        if i % 2 == 0:
            v = i
        else:
            v = i * 0.5
        acc = acc + v
        m = m + v % 3
    return _lines([acc, v, m, m // 2])


# --- a guest function with two arguments called in a hot loop ---------------------

POLY_N = 3000
POLY_SRC = f"""
# acc += poly(i, 7) where poly(x, y) = x*x - y*x + 1
    LOAD_CONST 0
    STORE_LOCAL 0
    LOAD_CONST 0
    STORE_LOCAL 1
loop:
    LOAD_LOCAL 1
    LOAD_CONST {POLY_N}
    LT
    JUMP_IF_FALSE done
    LOAD_LOCAL 0
    LOAD_CONST poly
    LOAD_LOCAL 1
    LOAD_CONST 7
    CALL 2
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP loop
done:
    LOAD_LOCAL 0
    PRINT

func poly 2
    LOAD_LOCAL 0
    DUP
    MUL
    LOAD_LOCAL 1
    LOAD_LOCAL 0
    MUL
    SUB
    LOAD_CONST 1
    ADD
    RETURN
end
"""


def _poly_expected():
    acc = 0
    for i in range(POLY_N):
        acc += i * i - 7 * i + 1
    return _lines([acc])


# --- gcd: a loop inside a guest function called from a loop -----------------------

GCD_N = 2000
GCD_SRC = f"""
# s = sum of gcd(i, 360) for i = 1..N
    LOAD_CONST 0
    STORE_LOCAL 0
    LOAD_CONST 1
    STORE_LOCAL 1
loop:
    LOAD_LOCAL 1
    LOAD_CONST {GCD_N + 1}
    LT
    JUMP_IF_FALSE done
    LOAD_LOCAL 0
    LOAD_CONST gcd
    LOAD_LOCAL 1
    LOAD_CONST 360
    CALL 2
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP loop
done:
    LOAD_LOCAL 0
    PRINT

func gcd 2                 # while b != 0: a, b = b, a % b
top:
    LOAD_LOCAL 1
    LOAD_CONST 0
    EQ
    JUMP_IF_FALSE step
    LOAD_LOCAL 0
    RETURN
step:
    LOAD_LOCAL 1
    LOAD_LOCAL 0
    LOAD_LOCAL 1
    MOD
    STORE_LOCAL 1
    STORE_LOCAL 0
    JUMP top
end
"""


def _gcd_expected():
    s = 0
    for i in range(1, GCD_N + 1):
        a, b = i, 360
        while b != 0:
            a, b = b, a % b
        s += a
    return _lines([s])


# --- primes by trial division (nested loops, early exits) -------------------------

PRIME_N = 1500
PRIME_SRC = f"""
# count the primes below N; print every prime above N - 100
    LOAD_CONST 0
    STORE_LOCAL 0          # count
    LOAD_CONST 2
    STORE_LOCAL 1          # n
outer:
    LOAD_LOCAL 1
    LOAD_CONST {PRIME_N}
    LT
    JUMP_IF_FALSE done
    LOAD_CONST 2
    STORE_LOCAL 2          # d
inner:
    LOAD_LOCAL 2           # while d * d < n + 1
    LOAD_LOCAL 2
    MUL
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    LT
    JUMP_IF_FALSE prime
    LOAD_LOCAL 1
    LOAD_LOCAL 2
    MOD
    LOAD_CONST 0
    EQ
    JUMP_IF_FALSE next_d
    JUMP next_n            # composite
next_d:
    LOAD_LOCAL 2
    LOAD_CONST 1
    ADD
    STORE_LOCAL 2
    JUMP inner
prime:
    LOAD_LOCAL 0
    LOAD_CONST 1
    ADD
    STORE_LOCAL 0
    LOAD_LOCAL 1
    LOAD_CONST {PRIME_N - 100}
    LT
    JUMP_IF_FALSE show
    JUMP next_n
show:
    LOAD_LOCAL 1
    PRINT
next_n:
    LOAD_LOCAL 1
    LOAD_CONST 1
    ADD
    STORE_LOCAL 1
    JUMP outer
done:
    LOAD_LOCAL 0
    PRINT
"""


def _prime_expected():
    out = []
    count = 0
    for n in range(2, PRIME_N):
        d = 2
        is_prime = True
        while d * d < n + 1:
            if n % d == 0:
                is_prime = False
                break
            d += 1
        if is_prime:
            count += 1
            if not n < PRIME_N - 100:
                out.append(n)
    out.append(count)
    return _lines(out)


# --- collatz: data-dependent branches in an inner loop -----------------------------

COLLATZ_N = 300
COLLATZ_SRC = f"""
# the n < N with the longest Collatz sequence, and its length
    LOAD_CONST 0
    STORE_LOCAL 0          # best length
    LOAD_CONST 0
    STORE_LOCAL 1          # best n
    LOAD_CONST 1
    STORE_LOCAL 2          # n
outer:
    LOAD_LOCAL 2
    LOAD_CONST {COLLATZ_N}
    LT
    JUMP_IF_FALSE done
    LOAD_LOCAL 2
    STORE_LOCAL 3          # x
    LOAD_CONST 0
    STORE_LOCAL 4          # steps
inner:
    LOAD_LOCAL 3
    LOAD_CONST 1
    EQ
    JUMP_IF_FALSE step
    JUMP finished
step:
    LOAD_LOCAL 3
    LOAD_CONST 2
    MOD
    LOAD_CONST 0
    EQ
    JUMP_IF_FALSE odd
    LOAD_LOCAL 3
    LOAD_CONST 2
    FLOORDIV
    STORE_LOCAL 3
    JUMP counted
odd:
    LOAD_LOCAL 3
    LOAD_CONST 3
    MUL
    LOAD_CONST 1
    ADD
    STORE_LOCAL 3
counted:
    LOAD_LOCAL 4
    LOAD_CONST 1
    ADD
    STORE_LOCAL 4
    JUMP inner
finished:
    LOAD_LOCAL 0
    LOAD_LOCAL 4
    LT
    JUMP_IF_FALSE next
    LOAD_LOCAL 4
    STORE_LOCAL 0
    LOAD_LOCAL 2
    STORE_LOCAL 1
next:
    LOAD_LOCAL 2
    LOAD_CONST 1
    ADD
    STORE_LOCAL 2
    JUMP outer
done:
    LOAD_LOCAL 1
    PRINT
    LOAD_LOCAL 0
    PRINT
"""


def _collatz_expected():
    best_len, best_n = 0, 0
    for n in range(1, COLLATZ_N):
        x, steps = n, 0
        while x != 1:
            x = x // 2 if x % 2 == 0 else 3 * x + 1
            steps += 1
        if best_len < steps:
            best_len, best_n = steps, n
    return _lines([best_n, best_len])


PROGRAMS = [
    ("sum_to_n", SUM_SRC, _sum_expected()),
    ("nested_loops", NEST_SRC, _nest_expected()),
    ("factorial_bigint", FACT_SRC, _fact_expected()),
    ("harmonic_float", HARM_SRC, _harm_expected()),
    ("fib_recursive", FIB_SRC, _fib_expected()),
    ("branch_flip", FLIP_SRC, _flip_expected()),
    ("div_zero_in_loop", DIVZ_SRC, _divz_expected()),
    ("mixed_int_float", MIX_SRC, _mix_expected()),
    ("call_in_loop", POLY_SRC, _poly_expected()),
    ("gcd_calls", GCD_SRC, _gcd_expected()),
    ("primes", PRIME_SRC, _prime_expected()),
    ("collatz", COLLATZ_SRC, _collatz_expected()),
]


# --- programs that end in a guest error (no hot loop needed) -----------------------

ERROR_PROGRAMS = [
    ("float_div_zero", """
    LOAD_CONST 7
    PRINT
    LOAD_CONST 1.5
    LOAD_CONST 0.0
    DIV
    PRINT
""", "7\nerror: division by zero\n"),
    ("int_truediv_zero", """
    LOAD_CONST 1
    LOAD_CONST 0
    DIV
""", "error: division by zero\n"),
    ("float_mod_zero", """
    LOAD_CONST 5.5
    LOAD_CONST 0
    MOD
""", "error: division by zero\n"),
    ("type_error", """
    LOAD_CONST f
    LOAD_CONST 1
    ADD
func f 0
    LOAD_CONST 0
    RETURN
end
""", "error: unsupported operand types for +: function and int\n"),
    ("not_callable", """
    LOAD_CONST 3
    LOAD_CONST 4
    CALL 1
""", "error: int object is not callable\n"),
    ("arity", """
    LOAD_CONST f
    LOAD_CONST 1
    CALL 1
func f 2
    LOAD_LOCAL 0
    RETURN
end
""", "error: function f takes 2 arguments, 1 given\n"),
    ("unbound_local", """
    LOAD_CONST 1
    PRINT
    LOAD_LOCAL 3
    PRINT
""", "1\nerror: local 3 of <main> read before assignment\n"),
    ("infinite_recursion", """
    LOAD_CONST down
    CALL 0
func down 0
    LOAD_CONST down
    CALL 0
    RETURN
end
""", "error: maximum recursion depth exceeded\n"),
    ("int_too_big_for_float", f"""
    LOAD_CONST {10 ** 400}
    LOAD_CONST 1.0
    ADD
""", "error: int too large to convert to float\n"),
]
