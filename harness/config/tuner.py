"""Tuner profiles: which Optuna sampler, its options, the trial budget, optional objectives.

A profile is a YAML file under `tuners/` (or a mapping inline in a suite's `tuner:`):

  name: nsga2                 # default: the file's stem (inline: the sampler)
  sampler: nsga2              # tpe | nsga2 | gp | random | grid | qmc
  options: {population_size: 10, seed: 0}   # keyword arguments of the Optuna sampler
  trials: 30                  # default 50; grid: null = the whole grid
  timeout_s: null             # wall-clock budget of the study
  objectives: null            # null: the suite's objectives
  storage: null               # database URL; null: the command's default
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import names
from harness.config.frozen import FrozenMap
from harness.config.objectives import Objective, parse_objectives
from harness.config.validate import validate
from harness.config.yamlload import Document, join, load

DEFAULT_TRIALS = 50


@dataclass(frozen=True)
class TunerProfile:
    name: str
    sampler: str
    options: Mapping[str, Any] = field(default_factory=FrozenMap)  # FrozenMap: hashable
    trials: int | None = DEFAULT_TRIALS  # None: until the sampler is exhausted (grid)
    timeout_s: float | None = None
    objectives: tuple[Objective, ...] | None = None  # None: the suite's objectives
    path: str | None = None  # file it came from (None: inline or default)
    storage: str | None = None  # database URL (None: the command's default)


def default_profile(objectives: tuple[Objective, ...]) -> TunerProfile:
    """A suite without `tuner:`: multivariate TPE, for one objective or several.

    For several objectives TPE beat NSGA-II clearly at the budgets harness runs with (replay of
    the fc grid, benchmarks/tuner_hypervolume.py: 90 % of the grid's hypervolume with 30 % of
    its trials in 100 % of seeds vs 32 %); NSGA-II stays available as tuners/nsga2.yaml.
    """
    options = {"seed": 0, "multivariate": True}
    if len(objectives) > 1:
        options["n_startup_trials"] = 5
    return TunerProfile(name="tpe" if len(objectives) == 1 else "motpe", sampler="tpe",
                        options=FrozenMap(options))


def profile_from_doc(doc: Document, data: dict[str, Any] | None = None, base: str = "",
                     *, path: str | None = None, default_name: str | None = None) -> TunerProfile:
    """Validate a profile mapping found at YAML path `base` of `doc` and build it."""
    data = doc.data if data is None else data
    validate(doc, "tuner", data, base)
    sampler = data["sampler"]
    valid = names.SAMPLER_OPTIONS[sampler]
    options = data.get("options") or {}
    for key in options:
        if key not in valid:
            raise doc.error(join(join(base, "options"), key),
                            f"unknown option {key!r} for sampler {sampler}; valid: "
                            f"{', '.join(valid)}")
    from harness.config.sampler_options import problems

    for key, message in problems(sampler, options):
        raise doc.error(join(join(base, "options"), key), message)
    raw_obj = data.get("objectives")
    objectives = None if raw_obj is None else \
        parse_objectives(doc, raw_obj, join(base, "objectives"))
    storage = data.get("storage")
    if storage is not None:
        from harness.core.errors import InputError
        from harness.store.urls import resolve

        try:
            resolve(storage, create=False)
        except InputError as exc:
            raise doc.error(join(base, "storage"), exc.detail) from None
    trials = data.get("trials", None if sampler == "grid" else DEFAULT_TRIALS)
    timeout = data.get("timeout_s")
    return TunerProfile(
        name=data.get("name") or default_name or sampler,
        sampler=sampler,
        options=FrozenMap(options),
        trials=None if trials is None else int(trials),
        timeout_s=None if timeout is None else float(timeout),
        objectives=objectives,
        path=path,
        storage=data.get("storage"),
    )


def load_tuner(path: str | Path) -> TunerProfile:
    """Load and validate a tuner profile file; errors name the file as given."""
    doc = load(path)
    return profile_from_doc(doc, path=str(path), default_name=Path(path).stem)
