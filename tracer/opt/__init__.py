"""The optimiser: a pipeline of passes over a trace (see ``pipeline``)."""
