"""The registry of languages that ``metajit run`` can run.

A language is an entry point in the group ``metajit.languages`` whose object is a
``Language``.  The project's own examples register exactly as a third-party
package would, in its pyproject.toml::

    [project.entry-points."metajit.languages"]
    bf = "metajit.examples.bf:LANGUAGE"

The toolkit never imports an example by name: it asks the installed distributions.
A bare clone that was never installed has no distribution metadata, so when the
``metajit`` distribution is missing and the imported ``metajit`` package sits in a
clone, the clone's own pyproject.toml is read instead.

Keep a ``Language`` object cheap to import: its ``run`` should import the
interpreter when it is called, so that ``metajit languages`` stays fast and the JIT
configuration (``--no-jit``, ``--param``) is in place before any portal is
decorated.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import os
import sys
from typing import Callable, TextIO

GROUP = "metajit.languages"


@dataclasses.dataclass(frozen=True)
class Language:
    """A guest language: ``run(program_path, args, stdin, stdout)`` runs one program
    and returns its exit status (0 success, 1 a guest error it has reported on
    stderr, 2 a usage error)."""
    name: str
    extensions: tuple[str, ...]
    run: Callable[[str, list, TextIO, TextIO], int]
    description: str = ""


class LanguageError(Exception):
    """No language fits; the message says which ones exist and how to choose."""


@dataclasses.dataclass(frozen=True)
class _Entry:
    name: str
    value: str          # "module:attribute"
    origin: str         # the distribution, or the pyproject.toml it came from

    def load(self) -> Language:
        module_name, _, attr = self.value.partition(":")
        obj = importlib.import_module(module_name.strip())
        for part in attr.strip().split(".") if attr.strip() else ():
            obj = getattr(obj, part)
        if not isinstance(obj, Language):
            raise TypeError(f"{self.value} is a {type(obj).__name__}, not a metajit.languages.Language")
        return obj


def _clone_pyproject() -> str | None:
    """The pyproject.toml of the clone the imported ``metajit`` package lives in."""
    import metajit
    root = os.path.dirname(os.path.dirname(os.path.abspath(metajit.__file__)))
    path = os.path.join(root, "pyproject.toml")
    return path if os.path.isfile(path) else None


def _entries_from_pyproject(path: str) -> list[_Entry]:
    import tomllib
    with open(path, "rb") as f:
        data = tomllib.load(f)
    project = data.get("project", {})
    if project.get("name") != "metajit":
        return []
    table = project.get("entry-points", {}).get(GROUP, {})
    return [_Entry(name, value, path) for name, value in table.items()]


def _entries() -> list[_Entry]:
    entries = [_Entry(ep.name, ep.value, getattr(ep.dist, "name", "?") or "?")
               for ep in importlib.metadata.entry_points(group=GROUP)]
    try:
        importlib.metadata.distribution("metajit")
    except importlib.metadata.PackageNotFoundError:
        path = _clone_pyproject()
        if path is not None:
            entries += _entries_from_pyproject(path)
    # The same name may be seen twice (two copies of one distribution on the path):
    # the first one, in sys.path order, wins, as an import would.
    unique: dict[str, _Entry] = {}
    for entry in entries:
        unique.setdefault(entry.name, entry)
    return sorted(unique.values(), key=lambda e: e.name)


def _warn(entry: _Entry, exc: BaseException) -> None:
    print(f"metajit: warning: language {entry.name!r} ({entry.value}, from {entry.origin}) "
          f"failed to load: {type(exc).__name__}: {exc}", file=sys.stderr)


def available_languages() -> list[Language]:
    """Every language that loads, sorted by name; one that fails to load is
    reported on stderr and left out."""
    languages = []
    for entry in _entries():
        try:
            languages.append(entry.load())
        except Exception as exc:  # a broken third-party plugin must not stop the others
            _warn(entry, exc)
    return languages


def _describe(languages: list[Language]) -> str:
    if not languages:
        return "no languages are installed"
    return "installed: " + ", ".join(
        f"{lang.name} ({', '.join(lang.extensions)})" for lang in languages)


def find_language(name: str | None = None, path: str | None = None) -> Language:
    """The language called ``name``, or else the one whose extensions include the
    extension of ``path``.  Raises ``LanguageError`` with a one-line message."""
    if name is not None:
        for entry in _entries():
            if entry.name == name:
                try:
                    return entry.load()
                except Exception as exc:
                    raise LanguageError(f"language {name!r} ({entry.value}) failed to load: "
                                        f"{type(exc).__name__}: {exc}") from None
        raise LanguageError(f"unknown language {name!r}; {_describe(available_languages())}")
    if path is None:
        raise LanguageError("give a language name or a program path")
    ext = os.path.splitext(path)[1].lower()
    languages = available_languages()
    for lang in languages:
        if ext in (e.lower() for e in lang.extensions):
            return lang
    what = f"extension {ext!r}" if ext else "a file without an extension"
    raise LanguageError(f"no language for {what} ({path}); {_describe(languages)}; "
                        f"choose one with --lang NAME")
