"""The error the Lua library modules raise.

A library function (number conversion, patterns, string.format, random) reports a
misuse with ``LuaLibError(message)``: a plain message, without a position.  The VM
turns it into a Lua error carrying the position of the calling line, as lua5.4's
``luaL_error`` does.
"""


class LuaLibError(Exception):
    """A Lua library error; ``message`` is the text without any position."""

    def __init__(self, message: str):
        Exception.__init__(self, message)
        self.message = message
