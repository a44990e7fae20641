"""Suites: one YAML file says what to measure, how to search it, and how to train.

    name: fc                          # default: the file's stem; one folder name (no '/',
                                      # '\\', '..', NUL, control characters): reports/<name>
    description: text
    device: auto                      # auto | cpu | cuda | cuda:N
    dtype: float32                    # or a list; aliases fp32/fp16/bf16
    seed: 0                           # seeds problems and pruning
    threads: null                     # CPU threads (null: library default)
    space: {shape, pruning_rate, group_size, pattern, block, nm, aggregation, format, backend}
    constraints: [...]                # see harness.config.constraints
    objectives: [speedup, {name: pruning_rate, direction: minimize}]
    measure: {warmup, min_samples, min_time_s, max_time_s, target_rel_noise, rounds, mode,
              verify, counters}
    tuner: tuners/nsga2.yaml          # a profile path, or an inline profile mapping
    train: {model, dataset, data_path, schedule, pretrain_epochs, finetune_epochs, batch_size,
            lr, optimizer, candidates, budget_s, options}

Space axes take one value or a list; `shape` is [M, K, N] (weight M×K times activations K×N) or a
list of them; `pruning_rate` is a rate, a list, or {low, high, step, log}; block and nm are pairs.
Bounds on sizes, times and counts: harness.config.limits and harness.config.resources.
Objectives: the tuner profile's when it names some (a profile is the explicit choice of how to
tune), else the suite's, else speedup. `tuner:` paths are looked up
relative to the current directory, the suite's directory, then the suite directory's parent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config.constraints import Constraint
from harness.config.frozen import plain
from harness.config.objectives import Objective, default_objectives, parse_objectives
from harness.config.settings import MeasureSettings, TrainSpec, parse_measure, parse_train
from harness.config.space import FloatRange, Space
from harness.config.tuner import TunerProfile, default_profile, profile_from_doc
from harness.config.validate import validate
from harness.config.yamlload import Document, join, load, loads
from harness.core import dtypes as core_dtypes
from harness.core.errors import InputError, _short
from harness.core.point import Point

MAX_RATES = 10_000  # a smaller step is a typo, and would make the grid unbounded


@dataclass(frozen=True)
class Suite:
    name: str
    space: Space
    description: str = ""
    path: str | None = None
    device: str = "auto"  # 'auto' | 'cpu' | 'cuda' | 'cuda:N'
    dtypes: tuple[str, ...] = ("float32",)
    seed: int = 0
    threads: int | None = None
    objectives: tuple[Objective, ...] = field(default_factory=default_objectives)
    measure: MeasureSettings = field(default_factory=MeasureSettings)
    tuner: TunerProfile = field(default_factory=lambda: default_profile(default_objectives()))
    train: TrainSpec | None = None

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return self.space.constraints

    def resolved_device(self) -> str:
        """'auto' → 'cuda' when torch sees a CUDA device, else 'cpu' (torch imported lazily)."""
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def grid(self, device: str | None = None) -> Iterator[Point]:
        """Every canonical point of the space for every dtype on `device` (default: resolved)."""
        return self.space.grid(device=device or self.resolved_device(), dtypes=self.dtypes,
                               seed=self.seed)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (e.g. for a run's stored config)."""
        return plain(self)


def load_suite(path: str | Path) -> Suite:
    """Load and validate a suite file; every bad input is a one-line InputError."""
    return suite_from_doc(load(path))


def loads_suite(text: str, file: str = "<string>") -> Suite:
    """Like load_suite, from text; relative tuner paths resolve against `file`'s directory."""
    return suite_from_doc(loads(text, file))


def suite_from_doc(doc: Document) -> Suite:
    validate(doc, "suite")
    d = doc.data
    _check_values(doc, d)
    objectives = parse_objectives(doc, d["objectives"], "objectives") \
        if "objectives" in d else None
    tuner = _tuner(doc, objectives)
    objectives = tuner.objectives or objectives or default_objectives()
    train = parse_train(doc, d["train"], "train") if "train" in d else None
    if train is None and any(o.name == "accuracy" for o in objectives):
        where = "tuner" if tuner.objectives else "objectives"
        raise doc.error(where, "objective 'accuracy' needs a 'train:' section")
    space = _space(doc, d["space"])
    if tuner.sampler == "grid" and not space.enumerable():
        raise doc.error("space.pruning_rate", "the grid sampler needs a finite space; give "
                                              "the rate range a step or list the rates")
    _check_size(doc, space, _dtypes(d.get("dtype", "float32")))
    return Suite(
        name=d.get("name") or Path(doc.file).stem,
        description=d.get("description", ""),
        path=doc.file,
        device=d.get("device", "auto"),
        dtypes=_dtypes(d.get("dtype", "float32")),
        seed=int(d.get("seed", 0)),
        threads=None if d.get("threads") is None else int(d["threads"]),
        space=space,
        objectives=objectives,
        measure=parse_measure(doc, d.get("measure", {}), "measure"),
        tuner=tuner,
        train=train,
    )


def _check_values(doc: Document, d: dict[str, Any]) -> None:
    """What the schema cannot say: the name is one safe folder name, threads fit the machine,
    a data path exists (so a long study does not end in a bad-path error)."""
    from harness.config.limits import max_threads
    from harness.core.paths import name_problem

    name = d.get("name")
    if name is not None:
        problem = name_problem(name)
        if problem:
            raise doc.error("name", f"expected a plain name (it names the report folder "
                                    f"reports/<name>), got {_short(name)}, which {problem}")
    threads = d.get("threads")
    if threads is not None and threads > max_threads():
        raise doc.error("threads", f"expected at most {max_threads()} (4 per logical CPU of "
                                   f"this machine), got {threads}")
    check_data_path(doc, (d.get("train") or {}).get("data_path"))


def check_data_path(doc: Document, data_path: str | None) -> None:
    """`train.data_path` names an existing file or folder (a user's own copy of the data)."""
    if data_path is None:
        return
    if "\x00" in data_path:
        raise doc.error("train.data_path", "expected a path without NUL")
    if not Path(data_path).expanduser().exists():
        raise doc.error("train.data_path", f"expected an existing file or folder, got "
                                           f"{_short(data_path)} (not found)")


def _check_size(doc: Document, space: Space, dtypes: tuple[str, ...]) -> None:
    """Refuse a space whose largest problem cannot fit in memory (see config.resources)."""
    from harness.config import resources as res

    try:
        limit, what = res.host_limit()
    except ValueError:
        raise InputError(f"{res.ENV_LIMIT}: expected a positive number of bytes, got "
                         f"{os.environ.get(res.ENV_LIMIT)!r}") from None
    if limit is None:
        return
    need, shape, dtype = res.largest(space.shapes, dtypes)
    if need > limit:
        i = space.shapes.index(shape)
        path = "space.shape" if len(space.shapes) == 1 else join("space.shape", i)
        raise doc.error(path, f"problem {list(shape)} in {dtype} needs about {res.gib(need)} "
                              f"(weights, activations, outputs, float64 reference); expected at "
                              f"most {res.gib(limit)} ({what})")


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _nested(value: list[Any]) -> list[list[int]]:
    """A pair/shape or a list of them (the schema decided which by the first item)."""
    return value if value and isinstance(value[0], list) else [value]


def _unique(items: list[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))


def _dtypes(raw: Any) -> tuple[str, ...]:
    return _unique([core_dtypes.canonical(x) for x in _listify(raw)])


def _space(doc: Document, s: dict[str, Any]) -> Space:
    from harness.config.constraints import parse_constraints

    shapes = _unique([tuple(int(x) for x in v) for v in _nested(s["shape"])])
    nms = _unique([tuple(int(x) for x in v) for v in _nested(s.get("nm", [2, 4]))])
    for i, (n, m) in enumerate(nms):
        if n >= m:
            path = join("space.nm", i) if isinstance(s["nm"][0], list) else "space.nm"
            raise doc.error(path, f"expected N < M in [N, M], got [{n}, {m}]")
    kw: dict[str, Any] = {
        "shapes": shapes,
        "pruning_rate": _rates(doc, s["pruning_rate"]),
        "group_size": _unique([int(g) for g in _listify(s.get("group_size", 1))]),
        "block": _unique([tuple(int(x) for x in v) for v in _nested(s.get("block", [1, 1]))]),
        "nm": nms,
        "constraints": parse_constraints(doc, doc.data.get("constraints", []), "constraints"),
    }
    for axis, default in (("pattern", "unstructured"), ("aggregation", "rms"),
                          ("format", "csr"), ("backend", "auto")):
        kw[axis] = _unique(_listify(s.get(axis, default)))
    return Space(**kw)


def _rates(doc: Document, raw: Any) -> tuple[float, ...] | FloatRange:
    if not isinstance(raw, dict):
        return _unique([float(r) for r in _listify(raw)])
    r = FloatRange(float(raw["low"]), float(raw["high"]),
                   None if raw.get("step") is None else float(raw["step"]),
                   bool(raw.get("log", False)))
    base = "space.pruning_rate"
    if r.low > r.high:
        raise doc.error(join(base, "high"), f"expected at least low ({r.low:g}), got {r.high:g}")
    if r.log and r.step is not None:
        raise doc.error(join(base, "log"), "log and step cannot be combined")
    if r.log and r.low <= 0:
        raise doc.error(join(base, "low"), f"a log range needs low > 0, got {r.low:g}")
    if r.step is not None and (r.high - r.low) / r.step > MAX_RATES:
        raise doc.error(join(base, "step"), f"expected a step giving at most {MAX_RATES} "
                                            f"rates, got {r.step:g}")
    return r


def _tuner(doc: Document, objectives: tuple[Objective, ...] | None) -> TunerProfile:
    raw = doc.data.get("tuner")
    if raw is None:
        return default_profile(objectives or default_objectives())
    if isinstance(raw, dict):
        return profile_from_doc(doc, raw, "tuner")
    found = _find_profile(doc, raw)
    if found is None:
        raise doc.error("tuner", f"tuner profile {raw!r} not found (looked relative to the "
                                 "current directory and the suite file)")
    from harness.config.tuner import load_tuner

    return load_tuner(found)


def _find_profile(doc: Document, ref: str) -> str | None:
    if not ref:
        return None
    names = [ref] if ref.endswith((".yaml", ".yml")) or "/" in ref else \
        [f"tuners/{ref}.yaml", ref]
    suite_dir = Path(doc.file).parent
    for name in names:
        p = Path(name)
        if p.is_absolute():
            if p.is_file():
                return str(p)
            continue
        for base in (Path("."), suite_dir, suite_dir.parent):
            candidate = base / p
            if candidate.is_file():
                return _display(candidate)
    return None


def _display(p: Path) -> str:
    """A found profile's name for error messages: relative to the current directory if it can."""
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
