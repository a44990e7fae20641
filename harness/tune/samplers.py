"""Sampler registry: a tuner profile's `sampler` name → an Optuna sampler.

Each factory takes the profile's `options` mapping (passed to the Optuna constructor as keyword
arguments; an explicit `seed` option wins over the suite's seed), the grid of the search space
(needed by GridSampler only) and the seed. `worker_seed` derives the seed of each local worker
from the study's, so parallel workers do not propose the same start-up points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.core.errors import InputError
from harness.core.registry import Registry

Factory = Callable[[Mapping[str, Any], Mapping[str, Sequence[Any]], int | None], Any]
SAMPLERS: Registry[Factory] = Registry("sampler")


def _simple(class_name: str) -> Factory:
    def make(options: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], seed: int | None):
        import optuna

        return getattr(optuna.samplers, class_name)(**{"seed": seed, **dict(options)})

    return make


for _name, _cls in {"tpe": "TPESampler", "nsga2": "NSGAIISampler", "gp": "GPSampler",
                    "random": "RandomSampler", "qmc": "QMCSampler"}.items():
    SAMPLERS.register(_name, _simple(_cls))


@SAMPLERS.register("grid")
def _grid(options: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], seed: int | None):
    import optuna

    return optuna.samplers.GridSampler({k: list(v) for k, v in grid.items()},
                                       **{"seed": seed, **dict(options)})


def make_sampler(name: str, options: Mapping[str, Any], grid: Mapping[str, Sequence[Any]],
                 seed: int | None, *, source: str | None = None) -> Any:
    """Build the sampler; bad options become a one-line InputError naming the profile."""
    factory = SAMPLERS.get(name)
    try:
        return factory(options, grid, seed)
    except (TypeError, ValueError) as exc:  # Optuna's own checks (harness's ran first)
        raise InputError(f"invalid options for sampler {name!r}: {exc}", file=source,
                         path="options") from None


def worker_seed(seed: int | None, index: int) -> int:
    """Sampler seed of local worker `index` (0, 1, …) of a study seeded with `seed`: distinct per
    worker, reproducible, within Optuna's range [0, 2**32)."""
    import hashlib

    digest = hashlib.sha256(f"harness-worker:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
