"""Errors raised by the pure Lua library modules (numbers, patterns, format, random).

A ``LuaLibError`` carries the message exactly as lua5.4 words it, without a position;
the VM turns it into a Lua error value and adds the position where lua5.4 adds one."""


class LuaLibError(Exception):
    """A Lua runtime error raised by a library routine; ``args[0]`` is the message."""
