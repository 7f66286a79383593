"""The ``metajit`` command: run a guest program on its language's VM, with the JIT.

    metajit run [OPTIONS] PROGRAM [ARGS...]
    metajit languages

Everything after PROGRAM goes to the guest unchanged, as with ``python script.py``.
Usage errors (unknown option, language or parameter, missing file) are one line on
stderr and exit status 2; the guest's own errors are its language's to report.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys

PROG = "metajit"
BACKENDS = ("reference", "python", "native", "auto")

RUN_EPILOG = """\
examples:
  metajit run examples/bf/programs/hello.b
  metajit run --stats examples/bf/programs/primes.b
  metajit run --no-jit examples/bf/programs/primes.b      # the plain interpreter
  metajit run --param threshold=200 --param trace_limit=10000 prog.b
  metajit run --stats-json stats.json --dump traces/ prog.b
  echo hello | metajit run examples/bf/programs/rev.b
  metajit run --lang bf program.txt                       # when the extension says nothing

Options go before PROGRAM; every word after it is the guest's
(metajit run prog.lua -x passes -x to the program).
JIT parameters (--param): {params}.
The METAJIT_LOG environment variable switches the log on, as --log does.
exit status: the guest's; 2 for a usage error; 130 when interrupted.
"""

MAIN_EPILOG = """\
examples:
  metajit languages
  metajit run --stats examples/bf/programs/primes.b
  metajit run --help

docs/cli.md describes the command, docs/stats.md the --stats-json schema.
"""


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (with the way to more help)."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    from metajit import __version__
    from metajit.interp.params import DEFAULTS

    parser = _Parser(
        prog=PROG, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="metajit: a meta-tracing JIT toolkit. Runs programs of the languages "
                    "whose interpreters are written with metajit's hints, compiling their "
                    "hot loops.",
        epilog=MAIN_EPILOG)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser(
        "run", allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="run a program (metajit run [OPTIONS] PROGRAM [ARGS...])",
        description="Run PROGRAM on the language its file extension (or --lang) names, "
                    "with the JIT on unless --no-jit is given.",
        epilog=RUN_EPILOG.format(params=", ".join(sorted(DEFAULTS))))
    run.add_argument("--lang", metavar="NAME",
                     help="the language to run PROGRAM with (default: from its extension; "
                          "see 'metajit languages')")
    run.add_argument("--no-jit", action="store_true",
                     help="run the plain interpreter: no portal transform, no tracing")
    run.add_argument("--backend", choices=BACKENDS, default="auto",
                     help="where compiled loops run: reference (the trace interpreter, slow, "
                          "for testing), python (generated Python source), native (LLVM), "
                          "auto (Python first, native once a loop stays hot; python when "
                          "llvmlite and numba are missing). Default: auto")
    run.add_argument("--no-cache", action="store_true",
                     help="do not read or write the native code cache (--param cache_dir=off)")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a JIT parameter, e.g. threshold=200 (repeatable)")
    run.add_argument("--stats", action="store_true",
                     help="print the JIT summary to stderr at exit")
    run.add_argument("--stats-json", metavar="PATH",
                     help="write the JIT statistics as JSON to PATH at exit (docs/stats.md)")
    run.add_argument("--dump", metavar="DIR",
                     help="write each trace, before and after every pass, into DIR")
    run.add_argument("--log", action="store_true",
                     help="log tracing, aborts and compilation to stderr")
    run.add_argument("program", metavar="PROGRAM", help="the guest program's file")
    run.add_argument("args", metavar="ARGS", nargs=argparse.REMAINDER,
                     help="arguments for the guest program")

    commands.add_parser(
        "languages", help="list the installed languages",
        description="List the languages metajit can run (entry points of the group "
                    "'metajit.languages'): name, file extensions, description.")
    return parser, run


def _split_run_argv(run: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``run``'s words into its own (options and PROGRAM) and the guest's.

    PROGRAM is the first word that is neither an option nor an option's value (or the
    word after ``--``); whatever follows it is the guest's, verbatim, ``--`` included.
    """
    takes_value = set()
    for action in run._actions:
        if action.option_strings and action.nargs != 0:
            takes_value.update(action.option_strings)
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return argv[:i + 2], argv[i + 2:]
        if word.startswith("-") and word != "-":
            i += 2 if (word in takes_value) else 1
            continue
        return argv[:i + 1], argv[i + 1:]
    return argv, []


def _parse_params(pairs: list[str]) -> dict:
    from metajit.interp.params import DEFAULTS
    params = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"--param takes NAME=VALUE, not {pair!r}")
        if name not in DEFAULTS:
            raise UsageError(f"unknown JIT parameter {name!r}; known: {', '.join(sorted(DEFAULTS))}")
        params[name] = value
    return params


def _native_available() -> bool:
    from metajit.backend.base import native_available
    return native_available()


def _run(ns: argparse.Namespace) -> int:
    from metajit.interp import params as jit_params
    from metajit.interp import stats as jit_stats
    from metajit.languages import LanguageError, find_language

    if ns.backend == "native" and not _native_available():
        raise UsageError("the native backend needs llvmlite and numba: install them, "
                         "or use --backend python")
    params = _parse_params(ns.param)
    if ns.no_cache:
        params["cache_dir"] = "off"
    if not os.path.exists(ns.program):
        raise UsageError(f"no such file: {ns.program}")
    if os.path.isdir(ns.program):
        raise UsageError(f"{ns.program} is a directory, not a program")
    try:
        language = find_language(name=ns.lang) if ns.lang else find_language(path=ns.program)
    except LanguageError as exc:
        raise UsageError(str(exc)) from None
    if ns.dump:
        try:
            os.makedirs(ns.dump, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--dump {ns.dump}: {exc.strerror or exc}") from None
    try:
        jit_params.configure(enabled=not ns.no_jit, backend=ns.backend, params=params,
                             dump_dir=ns.dump, log=True if ns.log else None, reset=True)
    except jit_params.ParamError as exc:
        raise UsageError(str(exc)) from None
    stats = jit_stats.reset_stats()
    try:
        status = language.run(ns.program, list(ns.args), sys.stdin, sys.stdout)
    finally:
        stats = jit_stats.get_stats()
        if ns.stats:
            sys.stdout.flush()
            print(stats.summary(), file=sys.stderr)
        if ns.stats_json:
            try:
                stats.write_json(ns.stats_json)
            except OSError as exc:
                print(f"{PROG}: cannot write --stats-json {ns.stats_json}: "
                      f"{exc.strerror or exc}", file=sys.stderr)
    return int(status or 0)


def _languages() -> int:
    from metajit.languages import available_languages
    languages = available_languages()
    if not languages:
        print("no languages are installed (entry point group 'metajit.languages')")
        return 0
    width = max(len(lang.name) for lang in languages)
    ext_width = max(len(", ".join(lang.extensions)) for lang in languages)
    for lang in languages:
        print(f"{lang.name:<{width}}  {', '.join(lang.extensions):<{ext_width}}  {lang.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The console script: returns (and, as a script, exits with) the status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            parser, run = _build_parser()
            if argv and argv[0] == "run":
                own, guest = _split_run_argv(run, argv[1:])
                ns = run.parse_args(own)
                ns.command = "run"
                ns.args = guest
            else:
                ns = parser.parse_args(argv)
            if ns.command == "run":
                return _run(ns)
            if ns.command == "languages":
                return _languages()
            parser.print_help()
            return 2
        except UsageError as exc:
            message = str(exc)
            if not message.startswith(PROG):
                message = f"{PROG}: {message}"
            print(message, file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (metajit run ... | head): stop quietly, as cat does.
        _quiet_exit_streams()
        return 1


def _quiet_exit_streams() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
