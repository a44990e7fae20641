"""The graph suite's search space and the measurement of one point, for `harness tune`.

`harness tune suites/graph_challenge.yaml` searches the suite's `tune:` section — variant
(backend and sparse×sparse flavour: with or without a work buffer, with the row filter), input
batch and CPU threads — on one case (network × inputs). The case is built once: network, inputs
and the SciPy reference's categories; every point is then verified against that reference and
timed by `harness.graph.bench.run_variant` (the challenge's rule: an unverified point gets no
rate). The Optuna side lives in harness.tune.graph; this module imports no tuner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

    from harness.graph.bench import Result
    from harness.graph.network import Network
    from harness.graph.suite import Case, GraphSuite, TuneSpace

PARAMS = ("variant", "batch", "threads")  # the names the tuner suggests


@dataclass(frozen=True)
class GraphPoint:
    variant: str
    batch: int | None
    threads: int | None


def choices(space: TuneSpace) -> dict[str, list[str | int | None]]:
    """Each parameter's choices, in PARAMS order (also the grid sampler's grid)."""
    return {"variant": list(space.variants), "batch": list(space.batches),
            "threads": list(space.threads)}


def build_case(suite: GraphSuite, case: Case, count: int | None) -> tuple[Network, sp.csr_matrix]:
    """The case's network (generated or the official files) and its inputs."""
    from harness.graph.inputs import load_inputs
    from harness.graph.network import challenge_network, official_network

    if suite.network_source == "tsv":
        assert suite.network_path is not None  # graph.suite.parse requires it for tsv
        net = official_network(suite.network_path, case.neurons, case.layers)
    else:
        net = challenge_network(case.neurons, case.layers, seed=suite.seed,
                                permute=suite.permute)
    return net, load_inputs(suite.input_source, case.neurons, count, suite.input_path)


class GraphObjective:
    """One case built once; `measure(point)` verifies and times a point (each point once)."""

    def __init__(self, suite: GraphSuite, *, inputs: int | None = None) -> None:
        from harness.core.errors import InputError
        from harness.graph.network import reference_categories

        if suite.tune is None:
            raise InputError("tune: expected a tune: section (case, variants, batch, threads) "
                             "in the graph suite", file=suite.file)
        self.suite, self.space = suite, suite.tune
        case = self.space.case
        self.net, self.y0 = build_case(suite, case, inputs or case.inputs or suite.count)
        self.truth: np.ndarray = reference_categories(self.y0, self.net)
        self._seen: dict[GraphPoint, Result] = {}

    def measure(self, point: GraphPoint) -> Result:
        from harness.graph.bench import run_variant
        from harness.graph.variants import VARIANTS

        if point not in self._seen:  # a sampler may propose a point again
            self._seen[point] = run_variant(
                VARIANTS.get(point.variant), self.net, self.y0, self.truth,
                repeats=self.suite.repeats, batch=point.batch, threads=point.threads,
                max_time_s=self.suite.max_time_s)
        return self._seen[point]


__all__ = ["PARAMS", "GraphObjective", "GraphPoint", "build_case", "choices"]
