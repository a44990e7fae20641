"""Row groups as batched small GEMMs: the row_group layout's fast path on a CPU for N ≥ MIN_N.

The 1×g groups of hartenstein-weight-pruning-gpus.md ("Weight pruning for GPUs") that share a
column group c (columns c·g … c·g+g−1) all multiply the same g rows of X. Gathered by column
group in prepare (a reordering of the stored operand, not a second encoder), they form one small
dense product per column group: A_c (R × g) · X_c (g × N), R = the most rows any column group
keeps (shorter ones are zero-padded). All K/g products run as one batched GEMM (torch.bmm: MKL's
tuned micro-kernels, X_c held in registers), and a Numba pass sums each output row's partial
products and applies the fused epilogue.

Measured on the 2-core development VM (fp32, 4096²·50, 2 threads, benchmarks/cpu_kernels.py,
speedup over dense fp32, this path vs the Numba row kernel of harness.kernels.cpu.jit):
90 %: g = 32 3.66× vs 2.54×, g = 64 5.42× vs 2.59×; 98 %: g = 32 13.1× vs 11.0×, g = 64 16.0× vs
11.2×. At g = 16 it only tied (90 %) or lost (98 %: 8.7× vs 10.5×), at g = 8 it lost clearly
(1.27× vs 2.20× at 90 %): thin GEMMs and a partial-product buffer of K/g·R·N values. Hence the
rule: g ≥ MIN_G, N ≥ MIN_N, K a multiple of g (X then views as K/g blocks of g rows without a
copy); otherwise `bind` keeps the row kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.core import counter_keys as ck

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

MIN_N = 8
MIN_G = 32  # shallower groups make the GEMMs too thin and the partial products too large


def applies(op: Operand, n: int) -> bool:
    """Whether the batched-GEMM path runs this product (else the row kernel does)."""
    if op.format != "row_group" or n < MIN_N:
        return False
    g = int(op.meta.get("group_size", 1))
    return g >= MIN_G and op.shape[1] % g == 0 and op.arrays["values"].shape[0] > 0


@dataclass
class GroupGemm:
    """The timed call: one batched GEMM of the column groups, then the per-row sum."""

    a: Any  # (K/g, R, g): the groups of each column group, zero-padded to R rows
    xg: Any  # (K/g, g, N): a view of X
    parts: Any  # (K/g, R, N): the partial products
    args: tuple  # of the Numba pass
    threads: int
    result: Any
    counters: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> Any:
        import numba
        import torch

        from harness.kernels.cpu import jit

        torch.bmm(self.a, self.xg, out=self.parts)
        numba.set_num_threads(self.threads)
        jit.gather_rows_kernel(*self.args)
        return self.result


def _tiny_args(dtype: str) -> tuple:
    """Arguments of exactly the per-row pass's types, for a 1×1 product (compiles it)."""
    import numpy as np

    dt = np.dtype(dtype)
    return (np.array([0, 1], np.int64), np.zeros(1, np.int64), np.ones((1, 1), dt),
            np.empty((1, 1), dt), np.zeros(1, dt), False, False, False, dt.type(0))


def bind(op: Operand, x: torch.Tensor, *, bias: torch.Tensor | None, relu: bool,
         clamp: float | None, out: torch.Tensor, threads: int) -> GroupGemm:
    """Reorder the stored groups by column group (prepare work, outside timing) and bind."""
    import numpy as np
    import torch

    m, k = op.shape
    n = x.shape[1]
    g = int(op.meta["group_size"])
    ng = k // g
    arrays = op.arrays
    values = arrays["values"].detach()
    counts = arrays["row_ptr"].detach().long().diff()
    rows = torch.repeat_interleave(torch.arange(m), counts)
    col = arrays["group_cols"].detach().long() // g
    order = torch.argsort(col * m + rows)  # by column group, then row
    per_col = torch.bincount(col, minlength=ng)
    r_max = int(per_col.max())
    start = torch.zeros(ng, dtype=torch.long)
    start[1:] = torch.cumsum(per_col, 0)[:-1]
    slot = torch.empty_like(col)
    slot[order] = torch.arange(col.numel()) - start[col[order]]  # rank within its column group
    a = torch.zeros((ng, r_max, g), dtype=values.dtype)
    a[col, slot] = values
    pos = (col * r_max + slot).numpy().astype(np.int64)  # stored group → row of `parts`
    ptr = arrays["row_ptr"].detach().numpy().astype(np.int64)
    parts = torch.empty((ng, r_max, n), dtype=x.dtype)
    dtype = str(x.dtype).removeprefix("torch.")
    dt = np.dtype(dtype)
    bias_n = bias.detach().contiguous().numpy() if bias is not None else np.zeros(1, dt)
    args = (ptr, pos, parts.view(ng * r_max, n).numpy(), out.numpy(), bias_n, bias is not None,
            bool(relu), clamp is not None, dt.type(clamp if clamp is not None else 0))
    from harness.kernels.cpu import jit
    from harness.kernels.cpu.launch import compiled

    compile_s, hit = compiled(jit.gather_rows_kernel, dtype, lambda: _tiny_args(dtype))
    counters = {ck.NUMBA_COMPILE_S: compile_s, ck.NUMBA_CACHE_HIT: hit,
                ck.NUMBA_CONFIG: f"groupgemm R={r_max}", ck.NUMBA_THREADS: threads}
    return GroupGemm(a, x.detach().contiguous().view(ng, g, n), parts, args, threads, out,
                     counters)
