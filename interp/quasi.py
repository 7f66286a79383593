"""Quasi-immutable fields: read as constants by compiled code; a write invalidates it.

A class declares ``_immutable_fields_ = ["x?"]`` for a field that is read far more
often than it is written.  When the tracer reads ``obj.x`` of a constant ``obj``
(a green, a promoted value), it records the value as a constant behind
``guard_not_invalidated`` and notes that the trace depends on ``(obj, "x")``.

The write barrier: the first such read replaces the field on the class that
declares it by a ``QuasiImmutableField`` data descriptor that stores the value
exactly where Python would (the instance ``__dict__``, or the slot), so that
nothing else about the class changes, and that, on a write of another value to a
field some compiled code depends on, marks that code ``invalidated``.  From then on
every ``guard_not_invalidated`` of that code fails (the interpreter resumes there,
reading the new value), and the warm state drops the loop the next time it would
enter it, so that it is traced again.  Writes from anywhere go through the
descriptor: the interpreter, the blackhole, compiled code's ``setfield``, user code
outside the portal.
"""
from __future__ import annotations

from typing import Any

# (id(obj), field name) -> (obj, [units]); obj held so that its id stays its own
_DEPENDENTS: dict[tuple[int, str], tuple[Any, list]] = {}
_MISSING = object()


class QuasiImmutableField:
    """The data descriptor standing for field ``name`` on its declaring class;
    ``slot`` is the member descriptor it replaced (a ``__slots__`` field), if any."""

    def __init__(self, name: str, slot: Any = None):
        self.name = name
        self.slot = slot

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        if self.slot is not None:
            return self.slot.__get__(obj, cls)
        try:
            return obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(f"{type(obj).__name__!r} object has no attribute "
                                 f"{self.name!r}") from None

    def __set__(self, obj, value) -> None:
        entry = _DEPENDENTS.get((id(obj), self.name))
        if entry is not None and entry[0] is obj:
            try:
                old = self.__get__(obj, type(obj))
            except AttributeError:
                old = _MISSING
            if old is not value:
                invalidate(obj, self.name)
        if self.slot is not None:
            self.slot.__set__(obj, value)
        else:
            obj.__dict__[self.name] = value

    def __delete__(self, obj) -> None:
        if (id(obj), self.name) in _DEPENDENTS:
            invalidate(obj, self.name)
        if self.slot is not None:
            self.slot.__delete__(obj)
        else:
            del obj.__dict__[self.name]


def watch(cls: type, name: str) -> None:
    """Put the write barrier on field ``name`` of ``cls`` (on the class in its MRO
    that declares ``name + '?'``), once."""
    for klass in cls.__mro__:
        if name + "?" in klass.__dict__.get("_immutable_fields_", ()):
            break
    else:
        raise ValueError(f"{cls.__qualname__}.{name} is not declared quasi-immutable")
    current = klass.__dict__.get(name)
    if isinstance(current, QuasiImmutableField):
        return
    slot = current if type(current).__name__ == "member_descriptor" else None
    if current is not None and slot is None:
        raise TypeError(f"{klass.__qualname__}.{name} is declared quasi-immutable but the "
                        f"class defines {name!r} itself ({type(current).__name__})")
    setattr(klass, name, QuasiImmutableField(name, slot))


def depend(obj: Any, name: str, unit: Any) -> None:
    """Compiled ``unit`` relies on ``obj.name`` keeping its value."""
    entry = _DEPENDENTS.get((id(obj), name))
    if entry is None or entry[0] is not obj:
        entry = _DEPENDENTS[id(obj), name] = (obj, [])
    if not any(u is unit for u in entry[1]):
        entry[1].append(unit)


def invalidate(obj: Any, name: str) -> None:
    """Mark every unit that relies on ``obj.name`` invalidated."""
    from metajit.interp.stats import get_stats
    entry = _DEPENDENTS.pop((id(obj), name), None)
    if entry is None:
        return
    for unit in entry[1]:
        if not getattr(unit, "invalidated", False):
            unit.invalidated = True
            get_stats().invalidations += 1
