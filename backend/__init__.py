"""The machine world: an optimised trace becomes running code."""
