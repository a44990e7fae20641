"""Interface of the backend role.

A backend declares the formats, devices and dtypes it supports, answers `available()` with None or
a reason (heavy libraries are imported lazily, inside methods), and turns an `Operand` plus the
activations X (K×N, a torch tensor on the point's device) into a `Prepared` callable computing
W @ X. Everything expensive (library objects, descriptors, conversions, compression) happens in
`prepare`, outside the timed region; `Prepared.run()` is exactly what is timed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.core.registry import Registry

if TYPE_CHECKING:
    import torch

    from harness.core.point import Point
    from harness.formats.base import Operand


@dataclass(frozen=True)
class Prepared:
    run: Callable[[], Any]  # the timed call; returns the product in the library's own type
    to_torch: Callable[[Any], torch.Tensor]  # converts run()'s result, outside timing
    sync: Callable[[], None] = lambda: None  # waits for queued device work (CUDA/CuPy)
    # why this callable's timings mean nothing although its output is checked (an emulator such
    # as Triton's CPU interpreter); the measurement core verifies it and never times it
    emulated: str | None = None


def device_type(device: str) -> str:
    """'cuda:1' → 'cuda'."""
    return device.split(":", 1)[0]


class Backend(ABC):
    name: str
    formats: frozenset[str]
    devices: frozenset[str]  # device types: {"cpu"}, {"cuda"}
    dtypes: frozenset[str]

    def available(self, device: str = "cpu") -> str | None:
        """None if usable on this machine for `device`, else the reason (never raises)."""
        return None

    def supports(self, point: Point) -> str | None:
        """None if this backend can run `point`, else the reason. Answered before any work."""
        if point.format not in self.formats:
            return f"{self.name} does not run format {point.format!r} (runs: {', '.join(sorted(self.formats))})"
        if device_type(point.device) not in self.devices:
            return f"{self.name} runs on {', '.join(sorted(self.devices))}, not {point.device}"
        if point.dtype not in self.dtypes:
            return f"{self.name} does not support dtype {point.dtype} (supports: {', '.join(sorted(self.dtypes))})"
        return self.available(point.device)

    @abstractmethod
    def prepare(self, operand: Operand, x: torch.Tensor) -> Prepared: ...


BACKENDS: Registry[Backend] = Registry("backend")


def all_backends() -> Registry[Backend]:
    from harness.backends import builtin  # noqa: F401  (registers the built-ins)

    return BACKENDS
