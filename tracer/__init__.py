"""The trace world: hints, trace IR, recorder, trace graph, optimiser."""
