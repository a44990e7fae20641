"""Pruning: weight + PruneSpec → boolean keep-mask with the exact requested rate.

Modules: `base` (the contract: PATTERNS, AGGREGATIONS, prune_mask), `patterns` (built-in patterns,
group_scores, achieved_rate, check_spec), `aggregations` (rms, mean, median, l1, l2, max, random),
`model` (whole-model pruning, MaskKeeper, export_sparse), `projections` (ADMM projections and
group-lasso groups for training). Nothing here imports torch at import time.
"""
