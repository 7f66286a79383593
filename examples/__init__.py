"""Language VMs written against the hint API only."""
