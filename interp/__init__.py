"""The interpreter world: flow graphs, meta-interpreter, blackhole, portal, warm state."""
