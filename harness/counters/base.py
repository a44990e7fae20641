"""Interface of the counter role.

A counter observes a timed region: `start()` before, `stop()` after; `stop()` returns a flat dict
of prefixed keys ("nvml.power_w", "cpu.freq_mhz", …). Counters never raise for an unavailable
source: `available()` answers None or "unavailable: <reason>"-style text, and the measurement
simply records the reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from harness.core.registry import Registry


class Counter(ABC):
    name: str  # also the key prefix

    def available(self, device: str = "cpu") -> str | None:
        return None

    @abstractmethod
    def start(self, device: str) -> None: ...

    @abstractmethod
    def stop(self) -> dict[str, float | int | str | bool]: ...


COUNTERS: Registry[type[Counter]] = Registry("counter")


def all_counters() -> Registry[type[Counter]]:
    from harness.counters import builtin  # noqa: F401  (registers the built-ins)

    return COUNTERS
