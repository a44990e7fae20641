"""The papers whose figures the report reproduces, as captions cite them."""

from __future__ import annotations

SEED = "hartenstein-weight-pruning-gpus.md"
