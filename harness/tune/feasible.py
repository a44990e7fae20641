"""Keep a search from spending trials on what cannot run here.

A format (or backend) choice none of whose grid points can run on this device — the bundled
Triton row-group kernels on a machine without CUDA, 2:4 semi-structured on CPU — is dropped
from the space before the study starts, and the reason is reported. Choices that run for some
points and not others stay: those trials are pruned with their reason, and the constrained
samplers learn to avoid them.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

AXES = ("format", "backend")


def _probe_space(space: Any) -> Any:
    """The space with one representative rate (support never depends on the rate)."""
    rates = space.rates() if space.enumerable() else (space.pruning_rate.low,)
    return replace(space, pruning_rate=(max(rates),))


def runnable_space(space: Any, *, device: str, dtypes: tuple[str, ...],
                   seed: int = 0) -> tuple[Any, list[str]]:
    """(space without unrunnable format/backend choices, notes). Raises nothing; if nothing at
    all can run, the space is returned unchanged so every trial reports its reason."""
    from harness.backends.resolve import unsupported_reason

    runnable: dict[str, set] = {axis: set() for axis in AXES}
    why: dict[tuple[str, Any], str] = {}
    for p in itertools.islice(_probe_space(space).grid(device=device, dtypes=dtypes, seed=seed),
                              5000):
        _, reason = unsupported_reason(p)
        for axis in AXES:
            value = getattr(p, axis)
            if reason is None:
                runnable[axis].add(value)
            else:
                why.setdefault((axis, value), reason)
    if not runnable["format"]:
        return space, ["no point of the space can run on this device; trials will say why"]
    notes, changes = [], {}
    for axis in AXES:
        choices = getattr(space, axis)
        kept = tuple(c for c in choices if c in runnable[axis] or (axis, c) not in why)
        if kept != choices:
            for c in choices:
                if c not in kept:
                    notes.append(f"{axis} {c!r} dropped: {why[(axis, c)]}")
            changes[axis] = kept
    return (replace(space, **changes) if changes else space), notes
