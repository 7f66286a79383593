"""Brainfuck programs run through ``python -m metajit run``, as a user runs them.

- The outside programs in ``../shared/data/bf`` (not part of the project; a fresh
  clone does not have them, and these tests then skip): each one whose output md5
  SOURCES.md records runs with the JIT on (Python backend) and its output's md5 must
  match.  Slow: mandel.b is 10.5 billion Brainfuck steps.
- The trace of the copy loop ``[->+<]`` (``--dump``): the program text and the bracket
  map are greens, so the optimised loop must not read them; the peeled body has at
  most 8 ops and no loads.
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "bf"))
SOURCES = os.path.join(DATA, "SOURCES.md")
# mandel.b takes about a quarter of an hour with the JIT on a 2-CPU machine
TIMEOUT = float(os.environ.get("METAJIT_OUTSIDE_TIMEOUT", 4 * 3600))


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def metajit_run(*args, timeout=None):
    return subprocess.run([sys.executable, "-m", "metajit", "run", *map(str, args)],
                          cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)


# -- the outside programs (slow) -------------------------------------------------------

def recorded_programs() -> list[tuple[str, str, str | None]]:
    """(file, md5 of the file, md5 of its output or None) for every program of the
    table in SOURCES.md; the output md5s are the sentences ``Expected output of
    `NAME`: ... md5 HEX``."""
    with open(SOURCES, encoding="utf-8") as f:
        text = f.read()
    outputs = dict(re.findall(r"Expected output of `([^`]+)`:[^`]*?md5 ([0-9a-f]{32})", text))
    programs = []
    for line in text.splitlines():
        row = re.match(r"\|\s*`([^`]+)`\s*\|.*\|\s*([0-9a-f]{32})\s*\|\s*$", line)
        if row:
            programs.append((row.group(1), row.group(2), outputs.get(row.group(1))))
    return programs


def outside_params():
    if not os.path.isfile(SOURCES):
        return [pytest.param(None, id="absent", marks=pytest.mark.skip(
            reason=f"{DATA} is absent (outside data, not part of a clone)"))]
    return [pytest.param(entry, id=entry[0]) for entry in recorded_programs()]


@pytest.mark.slow
@pytest.mark.parametrize("entry", outside_params())
def test_outside_program_output_md5(entry, tmp_path):
    name, file_md5, output_md5 = entry
    path = os.path.join(DATA, name)
    if not os.path.isfile(path):
        pytest.skip(f"{path} is absent")
    with open(path, "rb") as f:
        assert md5(f.read()) == file_md5, f"{path} is not the file SOURCES.md describes"
    if output_md5 is None:
        pytest.skip(f"SOURCES.md records no output md5 for {name}")
    stats_path = tmp_path / "stats.json"
    result = metajit_run("--backend", "python", "--stats-json", stats_path, path,
                         timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert md5(result.stdout) == output_md5, \
        f"{name}: output of {len(result.stdout)} bytes, md5 {md5(result.stdout)}"
    stats = json.loads(stats_path.read_text())
    assert stats["loops"] >= 1 and stats["compiled_iterations"] > 0, stats


# -- the trace of [->+<] (default run) ---------------------------------------------------

# cell 1 gets 50; then [->+<] (commands 21..26) runs 50 times while the first loop
# runs 5 times only: with threshold=10 the copy loop is the one that gets hot
COPY_PROGRAM = "+++++[>++++++++++<-]>[->+<]>."
COPY_LOOP_PCS = {22, 23, 24, 25, 26}


class TextOp:
    """One operation of a trace's text form: ``[result = ]name(args)[ snapshot]``.
    ``args`` is the argument text without the guard's snapshot."""

    def __init__(self, line: str):
        head, _, rest = line.partition("(")
        self.name = head.split("=")[-1].strip()
        depth = 1
        for end, char in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                break
        self.args = rest[:end]
        descr = re.search(r"descr=([^,]+)$", self.args)
        self.descr = descr.group(1).strip() if descr else None
        self.consts = re.findall(r"ConstPtr\(([^)]*)\)", self.args)


def read_trace(path: str) -> list[TextOp]:
    """The operations of a dumped trace (its first line lists the inputs)."""
    with open(path) as f:
        lines = [line.strip() for line in f]
    return [TextOp(line) for line in lines[1:] if line and not line.startswith("#")]


def merge_point_pcs(ops: list[TextOp]) -> set[int]:
    """The program counters of the debug_merge_points (the Brainfuck VM's printable
    location is ``bf PC: commands``)."""
    pcs = set()
    for op in ops:
        if op.name == "debug_merge_point" and op.descr:
            found = re.match(r"bf\D*?(\d+)", op.descr)
            if found:
                pcs.add(int(found.group(1)))
    return pcs


def test_copy_loop_trace_reads_neither_program_nor_bracket_map(tmp_path, record_property):
    program = tmp_path / "copy.b"
    program.write_text(COPY_PROGRAM)
    dump = tmp_path / "traces"
    stats_path = tmp_path / "stats.json"
    result = metajit_run("--backend", "python", "--param", "threshold=10", "--dump", dump,
                         "--stats-json", stats_path, program, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout == b"2"        # chr(50)
    stats = json.loads(stats_path.read_text())
    assert stats["loops"] >= 1 and stats["compiled_iterations"] > 0, stats

    found = []
    for path in sorted(glob.glob(str(dump / "*-loop*.optimized.txt"))):
        trace = read_trace(path)
        if merge_point_pcs(trace) == COPY_LOOP_PCS:
            found.append((path, trace))
    assert found, (f"no optimised trace of [->+<] (commands {sorted(COPY_LOOP_PCS)}) among "
                   f"{sorted(os.listdir(dump))}")
    path, trace = found[0]
    assert os.path.isfile(path.replace(".optimized.txt", ".recorded.txt"))

    # what the ops read; a guard's snapshot (resume data, never read in the loop) may
    # list the greens and is not looked at
    ops = [op for op in trace if not op.name.startswith("debug_")]
    labels = [i for i, op in enumerate(ops) if op.name == "label"]
    body = len(ops) - labels[-1] if labels else len(ops)   # from the last label (peeled loop)
    op_names = sorted({op.name for op in ops})
    consts = sorted({c for op in ops for c in op.consts})
    descrs = sorted({op.descr for op in ops
                     if op.descr is not None and op.name not in ("label", "jump")})
    summary = (f"[->+<]: {len(ops)} ops, {body} from the last label on (debug ops not "
               f"counted) in {os.path.basename(path)}; ops {op_names}; ConstPtr in ops "
               f"{consts}; descrs {descrs}")
    print(summary)
    record_property("copy_loop_ops", len(ops))
    record_property("copy_loop_body_ops", body)

    assert "strlen" not in op_names, summary
    calls = [name for name in op_names if name.startswith("call")]
    assert not calls, summary
    forbidden = re.compile(r"(str|tuple|get_matching_bracket|len)(_\d+)?$")
    assert not [c for c in consts if forbidden.match(c)], summary
    assert not [d for d in descrs if re.match(r"(str|tuple|get_matching_bracket)", d)], summary

    # the peeled body: the cells come from the previous iteration (no loads), the
    # position is invariant (no bounds guards): at most 8 ops besides the label and jump
    body_ops = ops[labels[-1] + 1:-1]
    assert labels and len(labels) >= 2, summary
    assert len(body_ops) <= 8, summary
    assert not [op for op in body_ops if op.name.startswith(("getarrayitem", "arraylen"))], summary
    assert not [op for op in ops if "getitem" in op.name and "ConstPtr" in op.args], summary
    assert ops[-1].name == "jump", summary
