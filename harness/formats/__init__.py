"""Sparse storage formats: pruned dense weight → stored operand (and back), with byte footprint."""
