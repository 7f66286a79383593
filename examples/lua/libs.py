"""Opens the standard libraries into a Lua state."""
from __future__ import annotations

from metajit.examples.lua.lib_base import open_base
from metajit.examples.lua.lib_math import open_math
from metajit.examples.lua.lib_os import open_io, open_os
from metajit.examples.lua.lib_string import open_string
from metajit.examples.lua.lib_table import open_table
from metajit.examples.lua.lib_utf8 import open_utf8


def open_libs(state) -> None:
    open_base(state)
    g = state.globals
    for name, opener in (("string", open_string), ("table", open_table),
                         ("math", open_math), ("io", open_io), ("os", open_os),
                         ("utf8", open_utf8)):
        module = opener(state)
        g.set(name.encode(), module)
        state.loaded.set(name.encode(), module)
