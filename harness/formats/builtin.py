"""Registers the built-in formats (imported by `harness.formats.base.get_format`)."""

from __future__ import annotations

from harness.formats import (  # noqa: F401  (each module registers its formats)
    blocked,
    compressed,
    dense,
    row_group,
    semi_structured,
)
