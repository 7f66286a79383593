"""Small interpreters (portals) for the JIT core's tests.

The flow builder reads function source with ``inspect``, so every portal lives in a
real file here; the portals and the helpers the JIT looks inside keep to the
interpreter subset of DESIGN.md.
"""
