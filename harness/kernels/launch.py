"""Launchers of the bundled kernels: checks, output allocation, grid, epilogue flags."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError, UnsupportedError
from harness.core.point import pair
from harness.kernels.config import KernelConfig, interpreter_active, validate_config

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

DTYPES = ("float16", "bfloat16", "float32")
_CHUNK_COUNTS: dict[int, dict[int, torch.Tensor]] = {}  # id(group_cols) → {block_k: counts}


def chunk_counts(op: Operand, block_k: int) -> torch.Tensor:
    """(C, M) int8, C = ceil(K / block_k): how many groups row r stores in columns
    [c·block_k, (c+1)·block_k) — at most block_k/g ≤ 16. Chunk-major so a program's loads for BLOCK_M
    rows are contiguous. Cached per operand and block_k: built once, outside the timed calls
    (timers warm up first)."""
    import torch

    cols_t = op.arrays["group_cols"]
    key = id(cols_t)
    if key not in _CHUNK_COUNTS:
        _CHUNK_COUNTS[key] = {}
        # Tensors hash by identity but compare elementwise, so key on id() and drop the entry
        # when the operand's tensor dies (a later tensor may reuse the id).
        weakref.finalize(cols_t, _CHUNK_COUNTS.pop, key, None)
    cache = _CHUNK_COUNTS[key]
    if block_k not in cache:
        m, k = op.shape
        c = -(-k // block_k)
        row_ptr = op.arrays["row_ptr"].long()
        cols = cols_t.long()
        rows = torch.repeat_interleave(torch.arange(m, device=cols.device), row_ptr.diff())
        counts = torch.bincount((cols // block_k) * m + rows, minlength=m * c)
        cache[block_k] = counts.view(c, m).to(torch.int8).contiguous()
    return cache[block_k]


def _next_pow2(v: int) -> int:
    return 1 << max(0, (int(v) - 1).bit_length())


def default_config(kind: str, n: int, *, group_size: int = 32, dtype: str | None = None,
                   interpreter: bool | None = None) -> KernelConfig:
    """A sensible untuned config: BLOCK_N covers N (up to 64) so W is read once. On a GPU, 16-bit
    row_group operands with N ≥ 16 use the tile strategy (X tiles shared by 64 rows, tensor
    cores); N < 16 or fp32 gathers per group (see row_group.py)."""
    interp = interpreter_active() if interpreter is None else interpreter
    if kind == "row_group":
        block_n = min(_next_pow2(n), 64)
        if not interp and n >= 16 and dtype in ("float16", "bfloat16"):
            return KernelConfig(block_n=block_n, block_k=max(group_size, 32), strategy="tile",
                                block_m=64, num_warps=4, num_stages=3)
        block_k = max(group_size, (32 if interp else 4096) // block_n)
        block_k = min(block_k, max(group_size, 256))
        return KernelConfig(block_n=block_n, block_k=block_k, rows=1, num_warps=4, num_stages=2)
    return KernelConfig(block_n=max(16, min(_next_pow2(n), 64)), num_warps=4, num_stages=2)


def _check(kind: str, op: Operand, x: torch.Tensor, bias: torch.Tensor | None,
           out: torch.Tensor | None) -> tuple[int, int, int]:
    from harness.core.dtypes import canonical

    fmt = "row_group" if kind == "row_group" else "bsr"
    if op.format != fmt:
        raise InputError(f"{kind}_mm needs a {fmt!r} operand, got {op.format!r}")
    m, k = op.shape
    if x.dim() != 2 or x.shape[0] != k:
        raise InputError(f"x must be K×N with K={k}, got shape {tuple(x.shape)}")
    n = x.shape[1]
    name = str(op.dtype).removeprefix("torch.")
    if name not in DTYPES or canonical(name) != str(x.dtype).removeprefix("torch."):
        raise UnsupportedError(f"bundled kernels run {', '.join(DTYPES)} with matching W and X "
                               f"dtypes, got W {op.dtype} and X {x.dtype}")
    if x.device != op.device:
        raise InputError(f"W is on {op.device} but x is on {x.device}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != m or bias.device != x.device):
        raise InputError(f"bias must have shape ({m},) on {x.device}, "
                         f"got {tuple(bias.shape)} on {bias.device}")
    if out is not None and (tuple(out.shape) != (m, n) or out.dtype != x.dtype):
        raise InputError(f"out must be {m}×{n} {x.dtype}, got {tuple(out.shape)} {out.dtype}")
    return m, k, n


def _precision(cfg: KernelConfig, x: torch.Tensor) -> str:
    """tl.dot input precision: only fp32 has a choice (IEEE FMA unless TF32 is allowed); 16-bit
    inputs always run on the tensor cores, so they get Triton's default ('tf32', a no-op)."""
    import torch

    return "ieee" if (x.dtype == torch.float32 and not cfg.allow_tf32) else "tf32"


@dataclass(frozen=True)
class Launch:
    """One kernel launch, fully decided: `kernel[grid](*args, **meta)`. Built by `plan` for both
    the real launch and the ahead-of-time compile check (harness.kernels.aot), so the check
    compiles exactly what a GPU would be asked to run."""

    kernel: Any
    grid: tuple[int, int]
    args: tuple
    meta: dict
    config: KernelConfig
    out: Any  # the output tensor among `args`


def plan(kind: str, op: Operand, x: torch.Tensor, bias, relu: bool, clamp: float | None,
         config: KernelConfig | None, out: torch.Tensor | None, *,
         interpreter: bool | None = None) -> Launch:
    """Checks, config (given or default), its legality, output allocation, grid and arguments.

    `interpreter` (default: TRITON_INTERPRET) picks the target the config must be legal for;
    launch knobs (num_warps, num_stages) are passed only for a GPU.
    """
    import torch

    m, k, n = _check(kind, op, x, bias, out)
    interp = interpreter_active() if interpreter is None else interpreter
    # the kernel's geometry: a row_group kernel knows g, a bsr kernel the r×c block
    group_size = int(op.meta["group_size"]) if kind == "row_group" else None
    block = pair(int(v) for v in op.meta["block"]) if kind != "row_group" else None
    cfg = config or default_config(kind, n, group_size=32 if group_size is None else group_size,
                                   dtype=str(x.dtype).removeprefix("torch."), interpreter=interp)
    reason = validate_config(kind, cfg, interpreter=interp, group_size=group_size, block=block)
    if reason:
        raise UnsupportedError(reason)
    uses_dot = kind == "bsr" or cfg.strategy == "tile"
    if interp and uses_dot and x.dtype == torch.bfloat16:
        raise UnsupportedError("bf16 tl.dot is wrong in the Triton interpreter; "
                               "run bf16 BSR / tile kernels on a GPU")
    if out is None:
        out = torch.empty((m, n), dtype=x.dtype, device=x.device)
    bias_arg = bias if bias is not None else out  # never read when HAS_BIAS is False
    meta: dict[str, Any] = dict(HAS_BIAS=bias is not None, RELU=bool(relu),
                                HAS_CLAMP=clamp is not None)
    if not interp:
        meta.update(num_warps=cfg.num_warps, num_stages=cfg.num_stages)
    clamp_max = float(clamp) if clamp is not None else 0.0
    strides = (x.stride(0), x.stride(1), out.stride(0), out.stride(1))
    a = op.arrays
    if kind == "row_group" and cfg.strategy == "tile":
        from harness.kernels.row_group import row_group_tile_kernel

        counts = chunk_counts(op, cfg.block_k)
        return Launch(row_group_tile_kernel, (-(-m // cfg.block_m), -(-n // cfg.block_n)),
                      (a["row_ptr"], counts, a["group_cols"], a["values"].contiguous(), x,
                       bias_arg, out, m, n, k, counts.shape[0], *strides, clamp_max),
                      dict(G=group_size, BLOCK_M=cfg.block_m, BLOCK_K=cfg.block_k,
                           BLOCK_N=cfg.block_n, PRECISION=_precision(cfg, x), **meta), cfg, out)
    if kind == "row_group":
        from harness.kernels.row_group import row_group_kernel

        return Launch(row_group_kernel, (-(-m // cfg.rows), -(-n // cfg.block_n)),
                      (a["row_ptr"], a["group_cols"], a["values"].contiguous(), x, bias_arg,
                       out, m, n, k, *strides, clamp_max),
                      dict(G=group_size, BLOCK_K=cfg.block_k, BLOCK_N=cfg.block_n,
                           ROWS=cfg.rows, **meta), cfg, out)
    from harness.kernels.bsr import bsr_kernel

    assert block is not None  # kind is bsr: set above from op.meta["block"]
    r, c = block
    return Launch(bsr_kernel, (a["crow_indices"].numel() - 1, -(-n // cfg.block_n)),
                  (a["crow_indices"], a["col_indices"], a["values"].contiguous(), x, bias_arg,
                   out, m, n, k, *strides, clamp_max),
                  dict(R=r, C=c, BLOCK_N=cfg.block_n, PRECISION=_precision(cfg, x), **meta), cfg, out)


def _run(kind: str, op: Operand, x: torch.Tensor, bias, relu: bool, clamp: float | None,
         config: KernelConfig | None, out) -> torch.Tensor:
    launch = plan(kind, op, x, bias, relu, clamp, config, out)
    if launch.out.numel() == 0:  # M = 0 or N = 0: an empty grid is not launchable
        return launch.out
    launch.kernel[launch.grid](*launch.args, **launch.meta)
    return launch.out
