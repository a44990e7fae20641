"""Pruning: weight + PruneSpec → boolean keep-mask with the exact requested rate."""
