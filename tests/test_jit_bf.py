"""The Brainfuck VM with the JIT off and on, on each backend: identical output,
and the stats prove that compiled code ran."""
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metajit.examples.bf import interpreter as bf

BACKENDS = ["python", "reference"]

HELLO = ("++++++++[>++++[>++>+++>+++>+<<<<-]>+>+>->>+[<]<-]>>.>---.+++++++..+++.>>."
         "<-.<.+++.------.--------.>>+.>++.")


def run_bf(source: str, data: bytes = b"") -> bytes:
    program = bf.parse(source)
    out_stream = io.BytesIO()
    out = bf.ByteOutput(out_stream)
    inp = bf.ByteInput(io.BytesIO(data), out)
    try:
        bf.mainloop(program.commands, program.bracket_map, bytearray(8), inp, out)
    except bf.MovedLeftError as exc:
        out.flush()
        return out_stream.getvalue() + b"<error at %d>" % exc.pc
    out.flush()
    return out_stream.getvalue()


PROGRAMS = {
    "hello": (HELLO, b""),
    "nested": ("++++[>++++[>++++<-]<-]>>[-<<+>>]<<[>+>+<<-]>>.<.", b""),
    "wraparound": ("-[>+<-]>.+[-]-." + "+" * 300 + ".", b""),
    "echo": (",[.,]", b"metajit echoes this line\n"),
    "deep": ("+++[>+++[>+++[>+++[>+<-]<-]<-]<-]>>>>.", b""),
    # the inner loop leaves through a different guard in every third round
    # cells 1 and 2 swap a 1 every round; a copy of cell 1 decides a branch, so the
    # loop's guard on that branch fails every other round
    "two_exits": ("+" * 20 + ">+<[>[>>+<<-]>[<+>-]>[<+>-]<<<>[>>>+>+<<<<-]>>>>[<<<<+>>>>-]"
                  "<<<<<>>>>[>>+<<[-]]<<<<-]>>>>>>" + "+" * 48 + ".", b""),
    # walks 255 cells to the right, carrying a counter: the 8-cell tape must grow
    "tape_growth": ("-[[>+<-]>-]" + "+" * 65 + ".", b""),
    "left_of_zero": ("++++++++++[>+<-]>[<+>-]<<", b""),
    "squares": ("++++[>+++++<-]>[<+++++>-]+<+[>[>+>+<<-]++>>[<<+>>-]>>>[-]++>[-]+"
                ">>>+[[-]++++++>>>]<<<[[<++++++++<++>>-]+<.<[>----<-]<]"
                "<<[>>>>>[>>>[-]+++++++++<[>-<-]+++++++++>[-[<->-]+[<<<]]<[>+<-]>]<<-]<<-]",
                b""),
}


def run_both(jit, name, source, data, backend, threshold=3):
    jit(enabled=False)
    expected = run_bf(source, data)
    stats = jit(backend=backend, threshold=threshold, bridge_threshold=2, strict=1)
    got = run_bf(source, data)
    return expected, got, stats


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_programs_jit_on_and_off(jit, name, backend):
    source, data = PROGRAMS[name]
    expected, got, stats = run_both(jit, name, source, data, backend)
    assert got == expected
    assert stats.loops >= 1, stats.summary()
    assert stats.compiled_entries >= 1 and stats.compiled_iterations >= 1, stats.summary()
    assert sum(stats.aborts.values()) <= stats.loops + 5, dict(stats.aborts)


def test_bridges_keep_failures_in_compiled_code(jit):
    source, data = PROGRAMS["two_exits"]
    expected, got, stats = run_both(jit, "two_exits", source, data, "python", threshold=2)
    assert got == expected
    assert stats.bridges >= 1, stats.summary()
    assert stats.backend_counts["python"] == stats.loops + stats.bridges


def test_a_bridge_goes_on_to_the_loop_it_reaches(jit):
    # the inner loop's exit gets a bridge; it runs on through the outer loop's
    # commands (merge points without code) into the inner loop again, so after it
    # is compiled the program never leaves compiled code until the outer loop ends
    source = "+" * 40 + "[>" + "+" * 30 + "[>+<-]<-]>>."
    expected, got, stats = run_both(jit, "nested_bridge", source, b"", "python")
    assert got == expected
    assert stats.bridges >= 1, stats.summary()
    assert stats.compiled_entries <= 5, stats.summary()
    assert stats.compiled_iterations >= 1000, stats.summary()


def test_hello_world_prints_hello(jit):
    jit(threshold=2)
    assert run_bf(HELLO) == b"Hello World!\n"


def test_moving_left_of_cell_zero_is_an_error_with_the_jit(jit):
    jit(threshold=2)
    assert run_bf("++++++++++[>+<-]<<").endswith(b"<error at 16>")


# --- generated programs: balanced, bounded, each with a hot loop ---------------------

@st.composite
def bf_programs(draw):
    """A loop counted down from a drawn counter, whose body is random straight-line
    code and nested counted loops; every loop terminates."""
    def body(depth):
        parts = []
        for _ in range(draw(st.integers(1, 6))):
            choice = draw(st.integers(0, 5 if depth < 2 else 3))
            if choice == 0:
                parts.append("+" * draw(st.integers(1, 5)))
            elif choice == 1:
                parts.append("-" * draw(st.integers(1, 5)))
            elif choice == 2:
                parts.append(">" + "+" * draw(st.integers(0, 3)) + "<")
            elif choice == 3:
                parts.append(">>.<<")
            else:
                n = draw(st.integers(1, 6))
                # a counted loop whose counter cell belongs to this depth alone, to
                # the right of the work cells (offsets 0..2): every loop terminates
                c = 3 + depth
                parts.append(">" * c + "+" * n + "[" + "<" * c + body(depth + 1)
                             + ">" * c + "-]" + "<" * c)
        return "".join(parts)
    count = draw(st.integers(5, 40))
    return "+" * count + "[>" + body(0) + "<-]>>."


@settings(max_examples=25, deadline=None)
@given(bf_programs(), st.sampled_from(BACKENDS))
def test_generated_programs(jit, source, backend):
    jit(enabled=False)
    expected = run_bf(source)
    stats = jit(backend=backend, threshold=3, bridge_threshold=2, strict=1)
    got = run_bf(source)
    assert got == expected
    assert stats.compiled_entries >= 1, (source, stats.summary())
