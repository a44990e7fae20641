"""Run, verify and time challenge variants; the rate is the challenge's inputs × connections / time.

Every variant's categories are compared with the SciPy float64 reference on the warm-up run and
on every timed run; a variant that differs once is `invalid` and gets no rate (the challenge's
rule, "Performance of Training Sparse Deep Neural Networks on GPUs", Sec. III-C). Preparation of
the weights stays outside the timed region; a timed run covers the whole inference of all inputs
(converting the inputs to the variant's format included), batch by batch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from harness.core.errors import UnsupportedError
from harness.graph.network import Network
from harness.graph.radixnet import CONNECTIONS
from harness.graph.variants import VARIANTS, Variant

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

    from harness.core.measurement import Measurement


@dataclass(frozen=True)
class Result:
    """One variant on one network and input set."""

    variant: str
    device: str
    neurons: int
    layers: int
    inputs: int
    status: str  # ok | invalid | unsupported | error
    reason: str = ""
    samples_s: tuple[float, ...] = ()
    categories: int = 0
    batch: int | None = None
    threads: int | None = None
    connections: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def time_s(self) -> float | None:
        import statistics

        return statistics.median(self.samples_s) if self.status == "ok" and self.samples_s else None

    @property
    def rate(self) -> float | None:
        """Edges per second: inputs × connections / median time (None unless verified)."""
        t = self.time_s
        return self.inputs * self.connections / t if t else None

    @property
    def time_per_layer_s(self) -> float | None:
        t = self.time_s
        return t / self.layers if t else None


@contextlib.contextmanager
def threads_set(threads: int | None) -> Iterator[None]:
    """torch's and numba's CPU thread counts for the duration (restored afterwards)."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    nb_before = None
    try:
        import numba

        nb_before = numba.get_num_threads()
        # numba.config sets its names at runtime, so its type stubs do not declare them
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    except ImportError:
        pass
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if nb_before is not None:
            import numba

            numba.set_num_threads(nb_before)


def _batches(y0: sp.csr_matrix, batch: int | None) -> list[sp.csr_matrix]:
    n = y0.shape[0]
    size = n if not batch or batch >= n else batch
    return [y0[i:i + size] for i in range(0, n, size)]


def infer(prepared: Any, batches: Sequence[sp.csr_matrix]) -> np.ndarray:
    """Categories of all inputs, batch by batch (indices offset by each batch's start)."""
    import numpy as np

    out, start = [], 0
    for b in batches:
        out.append(prepared(b) + start)
        start += b.shape[0]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _difference(got: np.ndarray, want: np.ndarray) -> str:
    import numpy as np

    extra = np.setdiff1d(got, want)
    missing = np.setdiff1d(want, got)
    first = int(min(np.concatenate((extra, missing))))
    return (f"categories differ from the reference: {len(got)} vs {len(want)} inputs, "
            f"{len(extra)} extra and {len(missing)} missing, first at input {first}")


def run_variant(variant: Variant, net: Network, y0: sp.csr_matrix, truth: np.ndarray, *,
                repeats: int = 3, batch: int | None = None, threads: int | None = None,
                max_time_s: float | None = None) -> Result:
    """Verify `variant` against `truth` (reference categories) and time `repeats` runs."""
    import numpy as np

    result = partial(Result, variant=variant.name, device=variant.device, neurons=net.neurons,
                     layers=net.depth, inputs=int(y0.shape[0]), batch=batch, threads=threads,
                     connections=net.connections)
    reason = variant.available(net.neurons)
    if reason:
        return result(status="unsupported", reason=reason)
    batches = _batches(y0, batch)
    samples: list[float] = []
    try:
        with threads_set(threads):
            prepared = variant.prepare(net)
            got = infer(prepared, batches)  # warm-up (JIT, handles) and first check
            if not np.array_equal(got, truth):
                return result(status="invalid", reason=_difference(got, truth),
                              categories=len(got))
            spent = 0.0
            for _ in range(max(1, repeats)):
                t0 = time.perf_counter()
                got = infer(prepared, batches)
                if variant.device == "cuda":
                    _synchronize()
                dt = time.perf_counter() - t0
                if not np.array_equal(got, truth):
                    return result(status="invalid", reason=_difference(got, truth),
                                  categories=len(got))
                samples.append(dt)
                spent += dt
                if max_time_s is not None and spent >= max_time_s:
                    break
    except UnsupportedError as exc:
        return result(status="unsupported", reason=str(exc))
    except (RuntimeError, ValueError, MemoryError, TypeError) as exc:
        msg = " ".join(str(exc).split())[:300]
        return result(status="error", reason=f"{type(exc).__name__}: {msg}")
    return result(status="ok", samples_s=tuple(samples), categories=len(got))


def _synchronize() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_case(net: Network, y0: sp.csr_matrix, variants: Sequence[str], *,
             truth: np.ndarray | None = None, repeats: int = 3, batch: int | None = None,
             threads: int | None = None, max_time_s: float | None = None) -> list[Result]:
    """Every named variant on one network; the reference is computed once unless given."""
    from harness.graph.network import reference_categories

    if truth is None:
        truth = reference_categories(y0, net)
    return [run_variant(VARIANTS.get(v), net, y0, truth, repeats=repeats, batch=batch,
                        threads=threads, max_time_s=max_time_s) for v in variants]


def to_measurement(r: Result, *, seed: int = 0, source: str = "radixnet",
                   provenance: dict[str, Any] | None = None) -> Measurement:
    """The result as a store Measurement. The point is the network's first-layer product
    (neurons × neurons weight times neurons × inputs); `format` names the network and depth,
    `backend` the variant, so each (network, layers, variant) has its own key."""
    from harness.core.measurement import Measurement
    from harness.core.point import Point, PruneSpec
    from harness.measure.stats import summarize

    point = Point(m=r.neurons, k=r.neurons, n=r.inputs, dtype="float32", device=r.device,
                  format=f"{source}-l{r.layers}", backend=f"graph:{r.variant}",
                  prune=PruneSpec(pattern="radixnet", rate=1 - CONNECTIONS / r.neurons,
                                  seed=seed), seed=seed)
    graph = {"neurons": r.neurons, "layers": r.layers, "inputs": r.inputs,
             "connections": r.connections, "edges": r.inputs * r.connections,
             "rate_edges_per_s": r.rate, "time_per_layer_s": r.time_per_layer_s,
             "categories": r.categories, "batch": r.batch, "threads": r.threads,
             "source": source}
    return Measurement(point=point, status=r.status, reason=r.reason, samples_s=r.samples_s,
                       stats=summarize(r.samples_s) if r.samples_s else None,
                       verified=r.status == "ok", flops=2 * r.inputs * r.connections,
                       counters={"graph": graph}, provenance=dict(provenance or {}),
                       wall_s=float(sum(r.samples_s)))


__all__ = ["Result", "infer", "run_case", "run_variant", "threads_set",
           "to_measurement"]
