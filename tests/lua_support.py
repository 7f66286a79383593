"""Running Lua programs for the tests: our VM in-process (JIT off or on) and the
reference lua5.4 when it is installed.

The corpus is ``tests/lua/*.lua`` (files named ``m_*.lua`` are modules that the
programs ``require``).  Next to ``NAME.lua``: ``NAME.expected`` (stdout, made with
lua5.4), optionally ``NAME.stdin`` (fed to standard input), ``NAME.args`` (one
argument a line) and ``NAME.stderr`` (what an uncaught error prints: the message
without the interpreter's name, and the traceback) and ``NAME.status`` (an exit status other than 0 or 1).  Programs run with ``tests/lua`` as the current
directory, so ``require`` finds the modules through ``./?.lua``.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys

# the VM raises the recursion limit when it is imported: do it before any test runs
import metajit.examples.lua.interp  # noqa: E402,F401

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lua")
LUA = shutil.which("lua5.4")


def corpus_programs() -> list:
    return sorted(f[:-4] for f in os.listdir(CORPUS)
                  if f.endswith(".lua") and not f.startswith("m_"))


def read_optional(name: str, suffix: str) -> bytes | None:
    path = os.path.join(CORPUS, name + suffix)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def program_args(name: str) -> list:
    data = read_optional(name, ".args")
    return data.decode().splitlines() if data else []


@contextlib.contextmanager
def in_directory(path: str):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def error_text(stderr: str) -> str:
    """What an uncaught error printed (message and traceback), without the
    interpreter's name ('lua: ', 'lua5.4: ') in front."""
    return re.sub(r"^\S*lua(5\.4)?: ", "", stderr).rstrip("\n")


def run_ours(path: str, args: list = (), stdin: bytes = b"", cwd: str = CORPUS):
    """Run a program with our VM in this process: (stdout bytes, error text, status).
    The JIT configuration is whatever the caller set up."""
    from metajit.examples.lua.interp import run_file
    out = io.BytesIO()
    err = io.StringIO()
    with in_directory(cwd), contextlib.redirect_stderr(err):
        status = run_file(path, list(args), io.BytesIO(stdin), out)
    return out.getvalue(), error_text(err.getvalue()), status


def run_reference(path: str, args: list = (), stdin: bytes = b"", cwd: str = CORPUS):
    """Run lua5.4: (stdout bytes, error text, status)."""
    proc = subprocess.run([LUA, path] + list(args), input=stdin, capture_output=True,
                          cwd=cwd, timeout=60)
    return proc.stdout, error_text(proc.stderr.decode("latin-1")), proc.returncode


def regenerate(names=None) -> None:
    """Write NAME.expected (and NAME.stderr for failing programs) from lua5.4."""
    for name in names or corpus_programs():
        stdin = read_optional(name, ".stdin") or b""
        out, err, status = run_reference(name + ".lua", program_args(name), stdin)
        with open(os.path.join(CORPUS, name + ".expected"), "wb") as f:
            f.write(out)
        status_path = os.path.join(CORPUS, name + ".status")
        if status not in (0, 1):
            with open(status_path, "w") as f:
                f.write("%d\n" % status)
        elif os.path.exists(status_path):
            os.remove(status_path)
        stderr_path = os.path.join(CORPUS, name + ".stderr")
        if err:
            with open(stderr_path, "w") as f:
                f.write(err + "\n")
        elif os.path.exists(stderr_path):
            os.remove(stderr_path)


if __name__ == "__main__":
    regenerate(sys.argv[1:] or None)
