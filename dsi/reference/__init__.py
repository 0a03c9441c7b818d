"""Independent numpy/scipy twins of every number the protocol computes on-chain."""
