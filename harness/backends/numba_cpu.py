"""Backend `numba`: the bundled CPU kernels (harness.kernels.cpu) for row_group, bsr and csr.

The CPU side of the bundled kernels (the Triton backend is the GPU side; one layout contract).
float32 and float64; 16-bit operands are refused (numpy has no bfloat16 and Numba no float16
arithmetic on CPU; converting to fp32 per call would be the dense bf16 path's cost, not a kernel).

`prepare` does all the work that must stay out of timed calls: it compiles the kernel (or loads
it from Numba's disk cache, harness.kernels.cpu.cache), tunes the meta-parameters through the
shared autotune cache (harness.kernels.cpu.tune; skipped with `tune=False` and for products
under TUNE_MIN_WORK multiply-adds), and binds the
arrays. The timed callable carries `counters` for the Measurement: numba.compile_s (seconds the
first compile or cache load took in this process), numba.cache_hit, numba.config, numba.threads,
numba.tuned_from_cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.backends.base import BACKENDS, Prepared
from harness.backends.common import Case, LibraryBackend
from harness.core import counter_keys as ck

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand


# Below this many multiply-adds a call takes microseconds: call overhead, not the meta-parameters,
# decides its time, so the default config is used and nothing is timed or cached.
TUNE_MIN_WORK = 1 << 20


def _snapshot(t: torch.Tensor) -> torch.Tensor:
    return t.clone()  # the output buffer is reused by every call


class NumbaCPU(LibraryBackend):
    name = "numba"
    formats = frozenset({"row_group", "bsr", "csr"})
    devices = frozenset({"cpu"})
    dtypes = frozenset({"float32", "float64"})

    def __init__(self, *, tune: bool = True,
                 time_fn: Callable[[Callable[[], Any]], float] | None = None) -> None:
        self.tune = tune
        self.time_fn = time_fn

    def library_reason(self, device: str) -> str | None:
        import importlib.util

        # find_spec, not import: answering must stay cheap (numba's import takes ~0.3 s)
        if importlib.util.find_spec("numba") is None:
            return "numba is not installed"
        return None

    def check(self, case: Case) -> str | None:
        if case.format == "bsr" and (case.block[0] < 1 or case.block[1] < 1):
            return f"bsr needs a positive block, got {case.block}"
        return None

    def build(self, operand: Operand, x: torch.Tensor) -> Prepared:
        import torch

        from harness.kernels.cpu.launch import bind, max_threads

        threads = max(1, min(torch.get_num_threads(), max_threads()))
        cfg, cached = None, None
        work = operand.arrays["values"].numel() * x.shape[1]  # multiply-adds of one call
        if self.tune and work >= TUNE_MIN_WORK:
            from harness.kernels.cpu.tune import autotune

            cfg, cached = autotune(operand, x, threads=threads, time_fn=self.time_fn)
        bound = bind(operand, x, config=cfg, threads=threads)
        if cached is not None:
            bound.counters[ck.NUMBA_TUNED_FROM_CACHE] = cached
        return Prepared(run=bound, to_torch=_snapshot)


BACKENDS.register("numba", NumbaCPU())
