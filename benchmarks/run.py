"""Time one guest program with the JIT off and on, for each backend, in one run.

Every run is a fresh process, ``python -m metajit run ... PROGRAM`` from the project
root, timed from start to exit (so interpreter start-up is included, about 0.1-0.3 s),
with ``--stats-json`` to collect what the JIT did.  Configurations are interleaved
(off, python, native, off, python, ...) so that a change in the machine's load hits
them alike.  The table (medians, ratios JIT-off time / JIT time, a check that every
configuration printed the same output) goes to stdout and to
benchmarks/results/NAME.md; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")

EPILOG = """\
examples:
  python benchmarks/run.py examples/bf/programs/primes.b
  python benchmarks/run.py -n 5 --param threshold=500 examples/bf/programs/primes.b
  python benchmarks/run.py --skip-jit-off --expect-md5 5024283fa65866ddd347b877798e84d8 \\
      ../shared/data/bf/mandel.b
  python benchmarks/run.py --timeout 600 ../shared/data/bf/bench.b
  python benchmarks/run.py -n 1 --skip-jit-off --backends python \\
      --variant "no passes:enable_opts=" ../shared/data/bf/mandel.b

A PROGRAM that does not exist is skipped with a message (exit status 0), so that
scripts naming outside data (../shared/data/...) work in a clone without it.
exit status: 0, or 1 when a run failed or printed a different output.
"""


class Config:
    def __init__(self, name: str, options: list[str], params: list[str] | None = None,
                 command: list[str] | None = None, cache: str | None = None):
        self.name = name
        self.options = options
        self.params = params or []      # JIT parameters of this configuration only
        self.command = command          # a program to run instead of metajit
        self.cache = cache              # native code cache: "cold" or "warm" (or None)
        self.times: list[float] = []
        self.stats: dict | None = None
        self.digests: set[str] = set()
        self.timed_out = False
        self.partial_output: int | None = None    # bytes printed before a timeout
        self.failure: str | None = None


def native_available(python: str) -> bool:
    probe = "import importlib.util; print(importlib.util.find_spec('metajit.backend.native') is not None)"
    result = subprocess.run([python, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() == "True"


def run_once(python: str, config: Config, program: str, guest_args: list[str],
             params: list[str], stdin_path: str | None, timeout: float | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "stats.json")
        if config.command:
            cmd = list(config.command)
        else:
            cmd = [python, "-m", "metajit", "run", *config.options, "--stats-json",
                   stats_path]
            for param in params:
                cmd += ["--param", param]
            cmd += ["--", program, *guest_args]
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        try:
            start = time.perf_counter()
            # SIGINT stops a run at the timeout: the child takes it even when the
            # runner was started in the background (where the shell ignores it)
            proc = subprocess.Popen(cmd, cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE,
                                    preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                     signal.SIG_DFL))
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
                elapsed = time.perf_counter() - start
            except subprocess.TimeoutExpired:
                # Ctrl-C: `metajit run` flushes the guest's output and writes the
                # stats, which show how far the run got
                proc.send_signal(signal.SIGINT)
                try:
                    stdout, stderr = proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    stdout, stderr = proc.communicate()
                config.timed_out = True
                config.partial_output = len(stdout)
                if not config.times:      # else keep the stats of a complete run
                    load_stats(config, stats_path)
                return
        finally:
            if stdin_path:
                stdin.close()
        if proc.returncode != 0:
            err = stderr.decode(errors="replace").strip().splitlines()
            config.failure = f"exit status {proc.returncode}: {err[-1] if err else ''}"
            return
        config.times.append(elapsed)
        config.digests.add(hashlib.md5(stdout).hexdigest())
        load_stats(config, stats_path)


def build_c_translation(program: str, workdir: str) -> list[str] | None:
    """The Brainfuck program translated to C (benchmarks/bf2c.py) and compiled with
    the system C compiler at -O2: the command that runs it, or None (no compiler)."""
    import shutil
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bf2c import translate
    with open(os.path.join(ROOT, program), encoding="latin-1") as f:
        source = translate(f.read())
    c_path, exe = os.path.join(workdir, "prog.c"), os.path.join(workdir, "prog")
    with open(c_path, "w") as f:
        f.write(source)
    subprocess.run([compiler, "-O2", "-o", exe, c_path], check=True)
    return [exe]


def load_stats(config: Config, path: str) -> None:
    if os.path.exists(path):
        try:
            with open(path) as f:
                config.stats = json.load(f)
        except (OSError, ValueError):
            pass


def source_version() -> str | None:
    """The commit of the code that was timed, and whether the working tree differs
    from it outside benchmarks/ (read-only git commands; None outside a checkout)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=30)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain",
                                "--untracked-files=no", "--", ".", ":!benchmarks"],
                               cwd=ROOT, capture_output=True, text=True,
                               timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"commit {head.stdout.strip()}" + (" with local changes" if dirty else "")


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


def fmt(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.2f}"


def table(configs: list[Config], baseline: Config | None, timeout: float | None,
          expected_md5: str | None) -> tuple[str, bool]:
    digests = set()
    for c in configs:
        digests |= c.digests
    reference = expected_md5 or (next(iter(baseline.digests)) if baseline and baseline.digests
                                 else None)
    ok = True
    rows = ["| configuration | median s | min s | max s | JIT-off / this | loops | bridges "
            "| ops traced | ops optimised | guard failures | iterations in compiled code "
            "| compiling s | native compiles (median / max ms) | output |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    base_median = statistics.median(baseline.times) if baseline and baseline.times else None
    for c in configs:
        median = statistics.median(c.times) if c.times else None
        if c.failure:
            ok = False
            rows.append(f"| {c.name} | failed: {c.failure} | | | | | | | | | | | | |")
            continue
        s = c.stats or {}
        native = s.get("native") or {}
        compiles = (f"{native['compiles']} ({native['compile_ms_median']:.0f} / "
                    f"{native['compile_ms_max']:.0f})" if "compile_ms_median" in native
                    else "–")
        compiling = fmt(s["time_compiling"]) if "time_compiling" in s else "–"
        counts = (f"{s.get('loops', '–')} | {s.get('bridges', '–')} "
                  f"| {s.get('traced_ops', '–')} | {s.get('optimized_ops', '–')} "
                  f"| {s.get('guard_failures', '–')} | {s.get('compiled_iterations', '–')} "
                  f"| {compiling} | {compiles}")
        if median is None:
            if c.timed_out:
                printed = ("" if c.partial_output is None
                           else f"; {c.partial_output} bytes printed")
                rows.append(f"| {c.name} | > {timeout:g} (timeout) | | | | {counts} "
                            f"| stopped{printed} |")
            else:
                rows.append(f"| {c.name} | – | | | | | | | | | | | | |")
            continue
        if c is baseline:
            ratio = "1.00"
        elif base_median is not None:
            ratio = f"{base_median / median:.2f}"
        elif baseline is not None and baseline.timed_out and timeout:
            ratio = f"> {timeout / median:.1f}"
        else:
            ratio = "–"
        if reference is None:
            output = "md5 " + ",".join(sorted(d[:8] for d in c.digests))
        elif c.digests == {reference}:
            output = "same" if not expected_md5 else "md5 ok"
        else:
            output = "DIFFERENT"
            ok = False
        if c.timed_out:
            output += f" ({len(c.times)} runs, then a timeout)"
        rows.append(f"| {c.name} | {fmt(median)} | {fmt(min(c.times))} | {fmt(max(c.times))} "
                    f"| {ratio} | {counts} | {output} |")
    if len(digests) > 1 and not expected_md5:
        ok = False
    return "\n".join(rows), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py", description=__doc__.split("\n\n")[0] + "\n\n" +
        __doc__.split("\n\n")[1], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("program", metavar="PROGRAM",
                        help="the guest program (a path from the project root, or absolute)")
    parser.add_argument("guest_args", metavar="ARGS", nargs="*",
                        help="arguments for the guest (put -- before them if they start with -)")
    parser.add_argument("-n", "--repetitions", type=int, default=3, metavar="N",
                        help="runs of each configuration; the table shows medians (default 3)")
    parser.add_argument("--backends", default="python,native", metavar="LIST",
                        help="JIT backends to time, comma-separated; native is left out while "
                             "it is not available (default python,native)")
    parser.add_argument("--with-reference", action="store_true",
                        help="also time the reference backend (very slow: a trace interpreter)")
    parser.add_argument("--skip-jit-off", action="store_true",
                        help="do not time the plain interpreter (for programs that take hours "
                             "without the JIT); the ratio column is then empty")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="stop a run after SECONDS (by Ctrl-C: the table shows the output "
                             "bytes and stats it got to); a JIT-off timeout gives the ratios "
                             "as lower bounds")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a JIT parameter for the JIT runs (repeatable)")
    parser.add_argument("--variant", action="append", default=[],
                        metavar="LABEL:NAME=VALUE[,NAME=VALUE...]",
                        help="also time the first JIT backend with these parameters added, "
                             "as a configuration named LABEL (repeatable); e.g. "
                             "--variant 'no passes:enable_opts='")
    parser.add_argument("--with-c", action="store_true",
                        help="also time the program translated to C and compiled with the "
                             "system C compiler at -O2 (Brainfuck programs; the native limit)")
    parser.add_argument("--native-cache", action="store_true",
                        help="time the native backend with a cold and with a warm code cache "
                             "(each repetition: a run on an empty cache, then one on the "
                             "cache that run filled) instead of the user's cache")
    parser.add_argument("--stdin", metavar="FILE", help="feed FILE to the guest's input")
    parser.add_argument("--expect-md5", metavar="HEX",
                        help="the md5 of the correct output; every run is checked against it")
    parser.add_argument("--name", help="the results file's name (default: the program's stem)")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python that runs metajit (default: this one)")
    ns = parser.parse_args(argv)

    program = os.path.abspath(ns.program)
    if not os.path.isfile(program) and not os.path.isabs(ns.program):
        program = os.path.join(ROOT, ns.program)    # a path from the project root
    if not os.path.isfile(program):
        print(f"benchmarks: skipped: {ns.program} not found (outside data is not part of a "
              f"clone)", file=sys.stderr)
        return 0
    relative = os.path.relpath(program, ROOT)
    if not relative.startswith(os.pardir + os.sep + os.pardir):
        program = relative        # examples/..., ../shared/data/... (as the README says)
    name = ns.name or os.path.splitext(os.path.basename(program))[0]

    configs = []
    baseline = None
    if not ns.skip_jit_off:
        baseline = Config("JIT off", ["--no-jit"])
        configs.append(baseline)
    backends = [b.strip() for b in ns.backends.split(",") if b.strip()]
    if ns.with_reference and "reference" not in backends:
        backends.insert(0, "reference")
    if "native" in backends and not native_available(ns.python):
        print("benchmarks: the native backend is not available yet: left out", file=sys.stderr)
        backends.remove("native")
    for backend in backends:
        if backend == "native" and ns.native_cache:
            configs.append(Config("JIT native (cold cache)", ["--backend", backend],
                                  cache="cold"))
            configs.append(Config("JIT native (warm cache)", ["--backend", backend],
                                  cache="warm"))
        else:
            configs.append(Config(f"JIT {backend}", ["--backend", backend]))
    workdir = tempfile.mkdtemp(prefix="metajit-bench-")
    if ns.with_c:
        if not program.endswith(".b"):
            parser.error("--with-c translates Brainfuck programs (.b) only")
        command = build_c_translation(program, workdir)
        if command is None:
            print("benchmarks: no C compiler: the C translation is left out", file=sys.stderr)
        else:
            configs.append(Config("C translation (cc -O2)", [], command=command))
    for variant in ns.variant:
        label, sep, params = variant.partition(":")
        if not sep or not label or not backends:
            parser.error(f"--variant {variant!r}: expected LABEL:NAME=VALUE[,NAME=VALUE...] "
                         f"and at least one backend")
        configs.append(Config(f"JIT {backends[0]} ({label})", ["--backend", backends[0]],
                              [p for p in params.split(",") if p]))

    load_before = load_average()
    for rep in range(ns.repetitions):
        for config in configs:
            if config.timed_out or config.failure:
                continue
            print(f"[{rep + 1}/{ns.repetitions}] {config.name:<14} {program} ...",
                  end="", file=sys.stderr, flush=True)
            params = ns.param + config.params if config is not baseline else []
            if config.cache is not None:
                # the cold run fills a new cache, the warm run of this repetition reuses it
                cache_dir = os.path.join(workdir, f"cache{rep}")
                if config.cache == "cold":
                    os.makedirs(cache_dir)
                params = params + [f"cache_dir={cache_dir}"]
            run_once(ns.python, config, program, ns.guest_args, params, ns.stdin, ns.timeout)
            if config.failure:
                print(f" failed ({config.failure})", file=sys.stderr)
            elif config.timed_out:
                print(f" timeout after {ns.timeout:g} s", file=sys.stderr)
            else:
                print(f" {config.times[-1]:.2f} s", file=sys.stderr)

    import shutil
    shutil.rmtree(workdir, ignore_errors=True)
    body, ok = table(configs, baseline, ns.timeout, ns.expect_md5)
    from_root = subprocess.run([ns.python, "-c", "import metajit; print(metajit.__version__)"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
    commit = source_version()
    header = [
        f"# {name}",
        "",
        f"- program: `{program}` {' '.join(ns.guest_args)}".rstrip(),
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        f"- Python {platform.python_version()}, metajit {from_root or '?'}"
        + (f", {commit}" if commit else ""),
        f"- {ns.repetitions} run{'s' if ns.repetitions != 1 else ''} per configuration (medians); wall time of the whole "
        f"process, start-up included",
        f"- load average (1 min) before / after: {load_before} / {load_average()} "
        f"(other processes share the CPUs)",
    ]
    if ns.param:
        header.append(f"- JIT parameters: {', '.join(ns.param)}")
    for config in configs:
        if config.params:
            header.append(f"- {config.name}: also {', '.join(config.params)}")
    if ns.skip_jit_off:
        header.append("- JIT off: not timed (--skip-jit-off)")
    if ns.native_cache:
        header.append("- native: each repetition a run on an empty code cache (cold), then "
                      "one on the cache it filled (warm)")
    if any(c.command for c in configs):
        header.append("- C translation: benchmarks/bf2c.py, compiled before timing "
                      "(compile time not included)")
    text = "\n".join(header) + "\n\n" + body + "\n"
    os.makedirs(RESULTS, exist_ok=True)
    out_path = os.path.join(RESULTS, f"{name}.md")
    with open(out_path, "w") as f:
        f.write(text)
    print(text)
    print(f"benchmarks: written to {os.path.relpath(out_path, os.getcwd())}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
