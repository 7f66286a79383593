"""The ``metajit`` command, run as a user runs it: ``python -m metajit`` in a
subprocess, from the repository root.  These tests cover the JIT-off path and the
plumbing (options, errors, stats files, the language registry); the JIT itself is
tested elsewhere."""
import dataclasses
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = os.path.join(ROOT, "examples", "bf", "programs")
HELLO = os.path.join(PROGRAMS, "hello.b")


def metajit(*args, stdin=b"", env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "metajit", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=timeout, env=env)


def one_line_error(result, *fragments):
    """A usage error: exit status 2, one line on stderr, no traceback."""
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- help and languages ---------------------------------------------------------------

def test_help():
    result = metajit("--help")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "run" in out and "languages" in out and "examples:" in out


def test_run_help_lists_options_and_examples():
    result = metajit("run", "--help")
    out = result.stdout.decode()
    assert result.returncode == 0
    for option in ("--lang", "--no-jit", "--backend", "--param", "--stats", "--stats-json",
                   "--dump", "--log", "PROGRAM", "ARGS"):
        assert option in out, option
    assert "threshold" in out          # the known parameters are listed
    assert "metajit run examples/bf/programs/hello.b" in out


def test_no_command_prints_help_and_fails():
    result = metajit()
    assert result.returncode == 2
    assert "usage:" in result.stdout.decode()


def test_languages_lists_bf():
    result = metajit("languages")
    assert result.returncode == 0
    line = next(ln for ln in result.stdout.decode().splitlines() if ln.startswith("bf "))
    assert ".b" in line and "Brainfuck" in line


# -- running programs with the JIT off ------------------------------------------------

def test_hello_without_jit():
    result = metajit("run", "--no-jit", HELLO)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"Hello World!\n"


def test_language_by_name(tmp_path):
    path = write(tmp_path, "hello.txt", open(HELLO).read())
    assert metajit("run", "--no-jit", "--lang", "bf", path).stdout == b"Hello World!\n"


def test_input_reaches_the_guest():
    result = metajit("run", "--no-jit", os.path.join(PROGRAMS, "rev.b"), stdin=b"abc\n")
    assert result.returncode == 0
    assert result.stdout == b"\ncba"


def test_table_without_jit():
    result = metajit("run", "--no-jit", os.path.join(PROGRAMS, "table.b"))
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 0
    assert len(lines) == 12
    assert lines[2].split() == [str(3 * c) for c in range(1, 13)]


def test_options_after_program_belong_to_the_guest():
    # bf takes no arguments: its own one-line error shows that -x and --stats reached it
    result = metajit("run", "--no-jit", HELLO, "-x", "--stats")
    err = result.stderr.decode()
    assert result.returncode == 2
    assert err.startswith("bf: unexpected argument '-x'"), err
    assert "metajit summary" not in err


GUEST_ARGS_PLUGIN = '''
import json
from metajit.languages import Language

def run(program_path, args, stdin, stdout):
    stdout.write(json.dumps({"program": program_path, "args": args}) + "\\n")
    return 3

LANGUAGE = Language("argecho", (".argecho",), run, "prints its arguments")
'''


def test_third_party_language_gets_args_verbatim(tmp_path):
    """A language registers through an entry point like any installed package; the
    words after PROGRAM reach it unchanged, and its exit status is the command's."""
    (tmp_path / "argecho_lang.py").write_text(GUEST_ARGS_PLUGIN)
    dist = tmp_path / "argecho-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: argecho\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[metajit.languages]\nargecho = argecho_lang:LANGUAGE\n")
    program = write(tmp_path, "p.argecho", "")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))

    listed = metajit("languages", env=env).stdout.decode()
    assert "argecho" in listed and "bf" in listed

    args = ["-x", "--stats", "--", "a b", "--param=1"]
    result = metajit("run", "--no-jit", "--", program, *args, env=env)
    assert result.returncode == 3, result.stderr.decode()
    assert json.loads(result.stdout) == {"program": program, "args": args}


# -- usage errors: one line, exit 2 ---------------------------------------------------

def test_unknown_option():
    one_line_error(metajit("run", "--frobnicate", HELLO), "--frobnicate", "--help")


def test_unknown_command():
    one_line_error(metajit("fly"), "fly")


def test_missing_program_argument():
    one_line_error(metajit("run", "--no-jit"), "PROGRAM")


def test_missing_file():
    one_line_error(metajit("run", "no/such/prog.b"), "no such file", "no/such/prog.b")


def test_unknown_extension(tmp_path):
    one_line_error(metajit("run", write(tmp_path, "x.unknownext", "")),
                   ".unknownext", "bf", "--lang")


def test_unknown_language():
    one_line_error(metajit("run", "--lang", "cobol", HELLO), "cobol", "bf")


def test_unknown_backend():
    one_line_error(metajit("run", "--backend", "gpu", HELLO), "gpu")


def test_native_backend_not_available_yet():
    import importlib.util
    if importlib.util.find_spec("metajit.backend.native") is not None:
        pytest.skip("the native backend exists")
    one_line_error(metajit("run", "--backend", "native", HELLO),
                   "the native backend is not available yet")


@pytest.mark.parametrize("param, fragment", [
    ("nosuchparam=3", "nosuchparam"),
    ("threshold=abc", "threshold"),
    ("threshold", "NAME=VALUE"),
    ("=3", "NAME=VALUE"),
])
def test_bad_param(param, fragment):
    one_line_error(metajit("run", "--param", param, HELLO), fragment)


def test_good_params_run():
    result = metajit("run", "--no-jit", "--param", "threshold=57", "--param=trace_limit=100",
                     HELLO)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"Hello World!\n"


# -- stats ----------------------------------------------------------------------------

def documented_stats_keys():
    """The keys of the --stats-json schema, as docs/stats.md lists them (its table
    rows start with the key in backquotes)."""
    with open(os.path.join(ROOT, "docs", "stats.md")) as f:
        return set(re.findall(r"^\| `(\w+)` \|", f.read(), re.MULTILINE))


def test_stats_doc_covers_every_stats_field():
    from metajit.interp.stats import Stats
    fields = {field.name for field in dataclasses.fields(Stats)}
    assert documented_stats_keys() == fields


def test_stats_json(tmp_path):
    path = tmp_path / "stats.json"
    result = metajit("run", "--no-jit", "--stats-json", str(path), HELLO)
    assert result.returncode == 0
    data = json.loads(path.read_text())
    assert documented_stats_keys() <= set(data)
    assert data["loops"] == 0 and data["compiled_entries"] == 0


def test_stats_summary_on_stderr():
    result = metajit("run", "--no-jit", "--stats", HELLO)
    assert result.stdout == b"Hello World!\n"
    assert "metajit summary" in result.stderr.decode()


def test_stats_written_when_the_guest_fails(tmp_path):
    program = write(tmp_path, "bad.b", "+<")
    path = tmp_path / "stats.json"
    result = metajit("run", "--no-jit", "--stats", "--stats-json", str(path), program)
    assert result.returncode == 1
    assert "metajit summary" in result.stderr.decode()
    assert "loops" in json.loads(path.read_text())


def test_dump_dir_is_created(tmp_path):
    dump = tmp_path / "dumps" / "here"
    result = metajit("run", "--no-jit", "--dump", str(dump), "--log", HELLO)
    assert result.returncode == 0
    assert dump.is_dir()


# -- guest errors: the language reports them, exit 1 ----------------------------------

def test_moved_left_of_cell_zero_names_line_and_column(tmp_path):
    program = write(tmp_path, "left.b", textwrap.dedent("""\
        comment line
        ++[>+<-]
          >>. <<<  the third one is off the tape
        """))
    result = metajit("run", "--no-jit", program)
    assert result.returncode == 1
    assert result.stderr.decode() == f"bf: {program}:3:9: moved left of cell 0\n"
    assert result.stdout == b"\x00"     # output before the error is kept


def test_unclosed_bracket_names_its_position(tmp_path):
    program = write(tmp_path, "open.b", "+[\n [ -]\n")
    result = metajit("run", "--no-jit", program)
    assert result.returncode == 1
    assert result.stderr.decode() == f"bf: {program}:1:2: '[' is never closed\n"


def test_unmatched_close_bracket_names_its_position(tmp_path):
    program = write(tmp_path, "close.b", "+[-]\n\t-]\n")
    result = metajit("run", "--no-jit", program)
    assert result.returncode == 1
    assert result.stderr.decode() == f"bf: {program}:2:3: ']' has no matching '['\n"


def interrupt_spinning_loop(tmp_path, options: list, seconds: float):
    """Run ``+.,[]`` (prints a byte, then, the output flushed before ',' waits,
    reads one and loops for ever) with ``options``, SIGINT it ``seconds`` after it
    printed; returns (exit status, stderr)."""
    import signal
    import time
    program = write(tmp_path, "forever.b", "+.,[]")
    # the child takes SIGINT as a terminal would give it, even when the tests run in
    # a background job (whose shell ignores SIGINT, and children inherit that)
    proc = subprocess.Popen([sys.executable, "-m", "metajit", "run", *options, program],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout.read(1) == b"\x01"     # the guest is running
        proc.stdin.write(b"x")
        proc.stdin.flush()
        time.sleep(seconds)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err.decode()


def test_interrupt_exits_130_without_traceback(tmp_path):
    assert interrupt_spinning_loop(tmp_path, ["--no-jit"], 0.3) == (130, "interrupted\n")
