"""`torch`: dense W @ X with torch.matmul — cuBLAS on CUDA, MKL/oneDNN on CPU.

This is the baseline every sparse variant is compared with, and it also runs a *pruned* weight
densely (format "dense" of the pruned matrix). float16/bfloat16 work on CPU but are far slower
than float32 there (no fast half-precision GEMM on most CPUs); they are supported, not advised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.backends.base import BACKENDS, Prepared
from harness.backends.common import LibraryBackend, identity, torch_sync

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand


class TorchDense(LibraryBackend):
    name = "torch"
    formats = frozenset({"dense"})
    devices = frozenset({"cpu", "cuda"})
    dtypes = frozenset({"float32", "float16", "bfloat16", "float64"})

    def build(self, operand: Operand, x: torch.Tensor) -> Prepared:
        import torch

        w = operand.arrays["values"].contiguous()
        return Prepared(run=lambda: torch.matmul(w, x), to_torch=identity,
                        sync=torch_sync(x.device))


BACKENDS.register("torch", TorchDense())
