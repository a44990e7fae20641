"""Spaces, canonical points, constraints, and the shipped suites and profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.config import (
    FloatRange,
    Space,
    canonical_point,
    load_suite,
    load_tuner,
    loads_suite,
    names,
    point_params,
)
from harness.config.validate import schema
from harness.core.point import Point

ROOT = Path(__file__).resolve().parents[2]
# graph_challenge.yaml is read by `harness graph` (harness.graph.suite), not the main schema
# the GEMM suites (graph_challenge.yaml and the model suites have loaders of their own)
SUITES = sorted(p for p in (ROOT / "suites").glob("*.yaml")
                if p.name != "graph_challenge.yaml" and "\nmodel:" not in "\n" + p.read_text())
TUNERS = sorted((ROOT / "tuners").glob("*.yaml"))


def test_float_range_values_are_exact():
    r = FloatRange(0.80, 0.98, 0.02)
    assert r.values() == (0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98)
    assert FloatRange(0.1, 0.3, 0.1).values() == (0.1, 0.2, 0.3)
    assert FloatRange(0.5, 0.5, 0.1).values() == (0.5,)
    assert FloatRange(0.0, 0.95, 0.1).values()[-1] == 0.9  # high not on the grid: not exceeded
    with pytest.raises(ValueError, match="without step"):
        FloatRange(0.1, 0.9).values()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 50), st.integers(1, 20), st.integers(0, 40))
def test_float_range_grid_matches_decimal_arithmetic(low_c, step_c, count):
    low, step = low_c / 100, step_c / 1000
    high = min(0.99, low + count * step)
    values = FloatRange(low, high, step).values()
    assert values == tuple(round(low + i * step, 3) for i in range(len(values)))
    assert values[-1] <= high + 1e-12 and values[-1] + step > high - 1e-9


def _suite(space: str, extra: str = ""):
    return loads_suite(f"space:\n{space}{extra}", "t.yaml")


def test_grid_is_canonical_and_deduplicated():
    s = _suite("  shape: [64, 32, 4]\n  pruning_rate: [0, 0.5]\n  group_size: [1, 4, 8]\n"
               "  pattern: [unstructured, row_group, nm]\n  block: [[4, 4], [8, 8]]\n"
               "  format: [dense, csr]\n  backend: [auto]\n")
    grid = list(s.grid("cpu"))
    assert len(grid) == len(set(grid)) == len({p.key() for p in grid})
    for p in grid:
        assert p.prune.group_size == 1 or p.prune.pattern == "row_group"
        assert p.prune.block == (1, 1)  # neither pattern block nor a block format
        if p.prune.pattern == "nm":
            assert p.prune.rate == 0.5
        if p.prune.rate == 0:
            assert p.prune.pattern == "unstructured"
    baseline = [p for p in grid if p.format == "dense" and p.prune.rate == 0]
    assert baseline == [baseline[0].baseline()]
    # per format: rate 0 (dense: the baseline), unstructured 0.5, row_group g∈{1,4,8}, nm 2:4
    assert len(grid) == 12


def test_canonical_rules():
    kw = dict(dtype="fp16", device="cpu", seed=3, aggregation="l1", backend="auto")
    p = canonical_point(8, 8, 2, rate=0.5, group_size=4, pattern="block", block=(2, 2),
                        nm=(1, 4), format="bsr", **kw)
    assert (p.dtype, p.prune.group_size, p.prune.block, p.prune.nm) == ("float16", 1, (2, 2),
                                                                       (2, 4))
    q = canonical_point(8, 8, 2, rate=0.9, group_size=4, pattern="nm", block=(2, 2),
                        nm=(1, 4), format="semi_structured", **kw)
    assert (q.prune.rate, q.prune.nm, q.prune.block) == (0.75, (1, 4), (1, 1))
    r = canonical_point(8, 8, 2, rate=0.5, group_size=4, pattern="unstructured", block=(2, 2),
                        nm=(2, 4), format="row_group", **kw)
    assert r.prune.group_size == 4  # the row_group format bundles g
    b = canonical_point(8, 8, 2, rate=0.0, group_size=4, pattern="row_group", block=(2, 2),
                        nm=(2, 4), format="dense", **kw)
    assert b == b.baseline() and b.backend == "torch"
    f = canonical_point(8, 8, 2, rate=0.5, group_size=4, pattern="filter", block=(2, 2),
                        nm=(2, 4), format="csr", **kw)
    assert (f.prune.pattern, f.prune.aggregation) == ("rows", "l1")
    u = canonical_point(8, 8, 2, rate=0.5, group_size=4, pattern="unstructured", block=(2, 2),
                        nm=(2, 4), format="csr", **kw)
    assert u.prune.aggregation == "rms"  # |w| ranks alike for every non-random aggregation


def test_constraints_apply():
    s = _suite("  shape: [64, 64, 4]\n  pruning_rate: [0.5, 0.9]\n"
               "  group_size: [1, 32, 128]\n  pattern: [row_group, block]\n  block: [16, 16]\n"
               "  format: [csr, bsr, semi_structured]\n",
               "constraints:\n"
               "  - when: {format: bsr}\n    require: {pattern: [block]}\n"
               "  - when: {pattern: row_group}\n    require: {group_size: {max: 64}}\n"
               "  - exclude: {format: semi_structured, device: cuda}\n"
               "    reason: no 2:4 here\n")
    cpu, cuda = list(s.grid("cpu")), list(s.grid("cuda:1"))
    assert all(p.prune.pattern == "block" for p in cpu if p.format == "bsr")
    assert all(p.prune.group_size <= 64 for p in cpu)
    assert any(p.format == "semi_structured" for p in cpu)
    assert not any(p.format == "semi_structured" for p in cuda)
    bad = next(p for p in cpu if p.format == "semi_structured")
    from dataclasses import replace
    assert s.space.violation(replace(bad, device="cuda:0")) == "no 2:4 here"
    big = canonical_point(64, 64, 4, rate=0.5, group_size=128, pattern="row_group",
                          block=(1, 1), nm=(2, 4), format="csr", dtype="float32", device="cpu",
                          seed=0, aggregation="rms", backend="auto")
    assert s.space.violation(big) == ("when pattern=row_group: requires group_size <= 64, "
                                      "got 128")


def test_constraint_parameters_of_a_point():
    p = Point(4, 8, 2, format="bsr")
    assert set(point_params(p)) == set(names.PARAMETERS)


def test_params_and_point_round_trip():
    s = _suite("  shape: [[64, 64, 4], [32, 64, 8]]\n  pruning_rate: {low: 0.5, high: 0.9}\n"
               "  group_size: [1, 4]\n  pattern: row_group\n  block: [[4, 4], [8, 8]]\n"
               "  format: [csr, bsr]\n")
    params = {p.name: p for p in s.space.params()}
    assert set(params) == {"shape", "pruning_rate", "group_size", "block", "format"}
    assert params["pruning_rate"].kind == "float" and params["pruning_rate"].low == 0.5
    assert params["shape"].choices == ("64x64x4", "32x64x8")
    assert params["block"].choices == ("4x4", "8x8")
    p = s.space.point({"shape": "32x64x8", "pruning_rate": 0.7, "group_size": 4,
                       "block": "8x8", "format": "bsr"}, device="cpu", dtype="float32", seed=1)
    assert (p.shape, p.prune.rate, p.prune.block, p.prune.group_size) == ((32, 64, 8), 0.7,
                                                                           (8, 8), 4)
    assert p.prune.pattern == "row_group" and p.seed == 1
    with pytest.raises(ValueError, match="pruning_rate must be given"):
        s.space.point({"shape": "32x64x8"}, device="cpu")
    assert not s.space.enumerable()
    with pytest.raises(ValueError, match="no grid"):
        next(s.grid("cpu"))


def test_every_grid_point_is_reachable_through_params():
    s = load_suite(ROOT / "suites" / "quick.yaml")
    grid = set(s.grid("cpu"))
    import itertools
    params = s.space.params()
    made = set()
    for combo in itertools.product(*(p.choices for p in params)):
        p = s.space.point(dict(zip((q.name for q in params), combo, strict=True)), device="cpu",
                          dtype="float32", seed=s.seed)
        if s.space.violation(p) is None:
            made.add(p)
    assert made == grid


@pytest.mark.parametrize("path", SUITES, ids=[p.name for p in SUITES])
def test_shipped_suites_load(path):
    s = load_suite(path)
    assert s.name and s.space.enumerable()
    assert len(list(s.grid("cpu"))) > 0
    assert s.tuner.sampler in names.SAMPLERS
    json.dumps(s.as_dict())  # JSON-ready for a run's stored config
    hash(s)


def test_shipped_suite_contents():
    fc = load_suite(ROOT / "suites" / "fc.yaml")
    assert fc.space.shapes == ((4096, 4096, 50),)
    assert fc.space.rates() == (0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98)
    assert fc.space.group_size == (1, 2, 4, 8, 16, 32, 64)
    assert [o.direction for o in fc.objectives] == ["maximize", "minimize"]
    assert fc.tuner.path and fc.tuner.name == "motpe" and fc.tuner.sampler == "tpe"
    assert fc.train is not None
    assert len(list(load_suite(ROOT / "suites" / "quick.yaml").grid("cpu"))) == 28
    llm = load_suite(ROOT / "suites" / "llm.yaml")
    assert llm.dtypes == ("float16",) and len(llm.space.shapes) == 15
    assert len(list(llm.grid("cuda"))) > len(list(llm.grid("cpu")))


@pytest.mark.parametrize("path", TUNERS, ids=[p.name for p in TUNERS])
def test_shipped_profiles_load(path):
    t = load_tuner(path)
    assert path.stem == t.name
    assert t.sampler == path.stem or (path.stem, t.sampler) == ("motpe", "tpe")
    assert set(t.options) <= set(names.SAMPLER_OPTIONS[t.sampler])
    hash(t)


def test_shipped_profiles_cover_every_sampler():
    assert {load_tuner(p).sampler for p in TUNERS} == set(names.SAMPLERS)


def test_default_tuner_follows_objective_count():
    one = _suite("  shape: [8, 8, 2]\n  pruning_rate: 0.5\n  format: csr\n")
    two = _suite("  shape: [8, 8, 2]\n  pruning_rate: 0.5\n  format: csr\n",
                 "objectives: [speedup, bytes]\n")
    assert (one.tuner.sampler, two.tuner.sampler) == ("tpe", "tpe")
    assert (one.tuner.name, two.tuner.name) == ("tpe", "motpe")
    assert dict(two.tuner.options)["n_startup_trials"] == 5
    assert [o.direction for o in two.objectives] == ["maximize", "minimize"]


def test_tuner_path_relative_to_suite_file(tmp_path):
    (tmp_path / "tuners").mkdir()
    (tmp_path / "suites").mkdir()
    (tmp_path / "tuners" / "mine.yaml").write_text(
        "sampler: random\ntrials: 7\nobjectives: [speedup, {name: energy}]\n")
    f = tmp_path / "suites" / "s.yaml"
    f.write_text("space: {shape: [8, 8, 2], pruning_rate: 0.5, format: csr}\n"
                 "objectives: [bytes]\ntuner: tuners/mine.yaml\n")
    s = load_suite(f)
    assert (s.tuner.name, s.tuner.trials) == ("mine", 7)
    assert [o.name for o in s.objectives] == ["speedup", "energy"]  # the profile overrides


def test_resolved_device():
    import torch

    base = "space: {shape: [8, 8, 2], pruning_rate: 0.5, format: csr}\n"
    assert loads_suite(base + "device: cuda:1\n").resolved_device() == "cuda:1"
    auto = loads_suite(base).resolved_device()
    assert auto == ("cuda" if torch.cuda.is_available() else "cpu")


def test_tuner_by_bare_name_and_inline(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    s = loads_suite("space: {shape: [8, 8, 2], pruning_rate: 0.5, format: csr}\n"
                    "tuner: qmc\n", "elsewhere/s.yaml")
    assert (s.tuner.sampler, s.tuner.path) == ("qmc", "tuners/qmc.yaml")
    s = loads_suite("space: {shape: [8, 8, 2], pruning_rate: 0.5, format: csr}\n"
                    "tuner: {sampler: grid, options: {seed: 3}}\n", "s.yaml")
    assert (s.tuner.sampler, s.tuner.trials, dict(s.tuner.options)) == ("grid", None,
                                                                        {"seed": 3})


def test_schema_names_match_config_names():
    sp = schema("suite")["properties"]["space"]["properties"]
    assert sp["format"]["then"]["items"]["enum"] == list(names.FORMATS)
    assert sp["pattern"]["then"]["items"]["enum"] == list(names.PATTERNS)
    assert sp["aggregation"]["then"]["items"]["enum"] == list(names.AGGREGATIONS)
    assert sp["backend"]["then"]["items"]["enum"] == list(names.BACKENDS)
    assert schema("tuner")["properties"]["sampler"]["enum"] == list(names.SAMPLERS)


def test_registered_names_are_known_to_suites():
    """Whatever the other roles have registered so far must be writable in a suite."""
    import importlib

    from harness.core.registry import Registry

    def registered(builtin: str, module: str, attr: str) -> set[str]:
        try:
            importlib.import_module(builtin)  # registers the built-ins, where written yet
        except ImportError:
            pass
        reg = getattr(importlib.import_module(module), attr)
        assert isinstance(reg, Registry)
        return set(reg.names())

    assert registered("harness.formats.builtin", "harness.formats.base", "FORMATS") \
        <= set(names.FORMATS)
    assert registered("harness.pruning.patterns", "harness.pruning.base", "PATTERNS") \
        <= set(names.PATTERNS)
    assert registered("harness.pruning.patterns", "harness.pruning.base", "AGGREGATIONS") \
        <= set(names.AGGREGATIONS)
    assert registered("harness.backends.builtin", "harness.backends.base", "BACKENDS") \
        <= set(names.BACKENDS) - {"auto"}


def test_space_is_frozen():
    s = Space(shapes=((1, 2, 3),), pruning_rate=(0.5,))
    with pytest.raises(AttributeError):
        s.shapes = ()  # type: ignore[misc]


def test_shipped_schemas_are_generated_from_names():
    from harness.config import schemagen
    from harness.config.validate import SCHEMA_DIR

    for name, built in schemagen.build().items():
        shipped = (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
        assert shipped == schemagen.render(built), "run python -m harness.config.schemagen"
