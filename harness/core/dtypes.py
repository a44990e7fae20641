"""Canonical dtype names used in suites, points and the store (torch imported lazily)."""

from __future__ import annotations

from typing import Any

DTYPES = ("float32", "float16", "bfloat16", "float64")
ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16",
           "fp64": "float64", "float": "float32", "double": "float64"}


def canonical(name: str) -> str:
    """'fp16' → 'float16'. Raises KeyError for unknown names."""
    name = ALIASES.get(name, name)
    if name not in DTYPES:
        raise KeyError(name)
    return name


def to_torch(name: str) -> Any:
    import torch

    return getattr(torch, canonical(name))


def itemsize(name: str) -> int:
    return {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}[canonical(name)]
