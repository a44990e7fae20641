"""Binding a CPU kernel to its operands: checks, numpy views, compile-before-timing, threads.

`bind` does every check and conversion once and returns the zero-argument callable that is timed
(`Bound.__call__`): it only sets Numba's thread count and calls the compiled kernel. `warm` makes
sure the kernel for a kind and dtype is compiled (or loaded from the disk cache) and says how long
that took and whether the cache answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.core import counter_keys as ck
from harness.core.errors import InputError, UnsupportedError
from harness.kernels.cpu.config import (
    DTYPES,
    KINDS,
    CpuConfig,
    default_config,
    panel_layout,
    validate,
)

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

# (kernel name, dtype) → (seconds, cache hit)
_WARM: dict[tuple[str, str], tuple[float, bool]] = {}


def dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _index_arrays(op: Operand) -> tuple[Any, Any]:
    import numpy as np

    a = op.arrays
    ptr, idx = ("row_ptr", "group_cols") if op.format == "row_group" else \
        ("crow_indices", "col_indices")
    return (np.ascontiguousarray(a[ptr].detach().numpy(), dtype=np.int32),
            np.ascontiguousarray(a[idx].detach().numpy(), dtype=np.int32))


def _tiny_args(kind: str, dtype: str, algo: str, tile: int) -> tuple:
    """Arguments of exactly the real call's types, for a 1×1 product (compiles the kernel)."""
    import numpy as np

    dt = np.dtype(dtype)
    x = np.ones((1, 1), dt)
    tail = (np.empty((1, 1), dt), np.zeros(1, dt), False, False, False, dt.type(0), 1, tile)
    if algo == "panel":
        return (np.array([0, 1], np.int64), np.zeros(1, np.int32), np.ones((1, 1), dt), x,
                np.empty((1, tile), dt), *tail)
    ptr = np.array([0, 1], dtype=np.int32)
    idx = np.zeros(1, dtype=np.int32)
    values = {"row_group": np.ones((1, 1), dt), "bsr": np.ones((1, 1, 1), dt),
              "csr": np.ones(1, dt)}[kind]
    return (ptr, idx, values, x, np.zeros((1, tile), dt), *tail)


def kernel_for(kind: str, algo: str) -> Any:
    """The compiled kernel (a numba dispatcher) of a layout and algorithm."""
    if algo == "panel":
        from harness.kernels.cpu import panel_kernel

        return panel_kernel.row_group_panel_kernel
    from harness.kernels.cpu import jit

    return jit.KERNELS[kind]


def warm(kind: str, dtype: str, algo: str = "rows", tile: int = 64) -> tuple[float, bool]:
    """(seconds to get machine code, loaded from the disk cache?) for kernel `kind`/`algo` in
    `dtype` with `tile`. The first call per process compiles or loads; later calls answer the
    first call's figures."""
    return compiled(kernel_for(kind, algo), f"{dtype}/tile{tile}",
                    lambda: _tiny_args(kind, dtype, algo, tile))


def compiled(kernel: Any, variant: str, tiny_args: Callable[[], tuple]) -> tuple[float, bool]:
    """(seconds to get `kernel`'s machine code for `variant` (dtype, tile), loaded from the disk
    cache?): one call on tiny arguments of the real call's types, the first time per process."""
    key = (kernel.py_func.__name__, variant)
    if key not in _WARM:
        t0 = time.perf_counter()
        hits = sum(kernel.stats.cache_hits.values())
        kernel(*tiny_args())
        _WARM[key] = (time.perf_counter() - t0, sum(kernel.stats.cache_hits.values()) > hits)
    return _WARM[key]


def entry_point(kernel: Any, args: tuple) -> Callable[..., Any]:
    """The compiled overload for `args`, called directly. The kernels specialise on their last
    argument (the tile) with `numba.literally`: through the dispatcher every call would first
    type the plain integer, fail over to the literal and look it up again (milliseconds)."""
    from numba import typeof, types

    sig = (*(typeof(a) for a in args[:-1]), types.literal(args[-1]))
    overload = kernel.overloads.get(sig)
    return overload.entry_point if overload is not None else kernel


def max_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]  # set at import


@dataclass
class Bound:
    """The timed call: a compiled kernel with its arguments bound. `counters` travel to the
    Measurement (numba.compile_s: first compile or cache load in this process; numba.cache_hit;
    numba.config; numba.threads)."""

    kernel: Any
    args: tuple
    threads: int
    result: Any  # the torch view of the output array
    counters: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entry = entry_point(self.kernel, self.args)

    def __call__(self) -> Any:
        import numba

        numba.set_num_threads(self.threads)  # per calling thread; a few hundred ns
        self.entry(*self.args)
        return self.result


def check(op: Operand, x: torch.Tensor, bias: torch.Tensor | None,
          out: torch.Tensor | None) -> tuple[int, int, int]:
    if op.format not in KINDS:
        raise UnsupportedError(f"the CPU kernels run {', '.join(KINDS)}, not {op.format!r}")
    m, k = op.shape
    if x.dim() != 2 or x.shape[0] != k:
        raise InputError(f"x must be K×N with K={k}, got shape {tuple(x.shape)}")
    n = x.shape[1]
    w_dt, x_dt = dtype_name(op.dtype), dtype_name(x.dtype)
    if w_dt not in DTYPES or w_dt != x_dt:
        raise UnsupportedError(f"the CPU kernels run {', '.join(DTYPES)} with matching W and X "
                               f"dtypes, got W {w_dt} and X {x_dt}")
    if x.device.type != "cpu" or op.device.type != "cpu":
        raise UnsupportedError(f"the CPU kernels run on cpu, got W on {op.device}, x on {x.device}")
    if op.format == "bsr" and (m % op.meta["block"][0] or k % op.meta["block"][1]):
        raise InputError(f"bsr block {op.meta['block']} does not tile {m}×{k}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != m or bias.dtype != x.dtype
                             or bias.device.type != "cpu"):
        raise InputError(f"bias must have shape ({m},), dtype {x_dt}, on cpu; got "
                         f"{tuple(bias.shape)} {dtype_name(bias.dtype)} on {bias.device}")
    if out is not None and (tuple(out.shape) != (m, n) or out.dtype != x.dtype
                            or not out.is_contiguous()):
        raise InputError(f"out must be a contiguous {m}×{n} {x_dt} tensor, "
                         f"got {tuple(out.shape)} {dtype_name(out.dtype)}")
    return m, k, n


def stored_width(op: Operand) -> int:
    """Consecutive columns one stored weight row covers: g, a block's c, 1 for csr."""
    if op.format == "row_group":
        return int(op.meta.get("group_size", 1))
    return int(op.meta.get("block", (1, 1))[1]) if op.format == "bsr" else 1


def bind(op: Operand, x: torch.Tensor, *, bias: torch.Tensor | None = None, relu: bool = False,
         clamp: float | None = None, config: CpuConfig | None = None,
         out: torch.Tensor | None = None, threads: int | None = None) -> Bound:
    """Everything but the product itself: checks, numpy views (no copies of contiguous
    tensors), the panel order, padding and scratch buffers, output allocation, compilation.
    `threads` defaults to torch's thread count (the suite's `threads`, set by the measurement
    core), capped at Numba's pool size."""
    import numpy as np
    import torch

    m, k, n = check(op, x, bias, out)
    t = max(1, min(int(threads or torch.get_num_threads()), max_threads()))
    out = out if out is not None else torch.empty((m, n), dtype=x.dtype)
    kind = op.format
    dtype = dtype_name(x.dtype)
    cfg = config or default_config(kind, n, dtype=dtype, width=stored_width(op), m=m, threads=t)
    reason = validate(kind, cfg)
    if reason:
        raise UnsupportedError(reason)
    compile_s, hit = warm(kind, dtype, cfg.algo, cfg.tile)
    dt = np.dtype(dtype)
    xn = x.detach().contiguous().numpy()
    width = -(-n // cfg.tile) * cfg.tile  # whole tiles (the row kernel pads its last)
    bias_n = bias.detach().contiguous().numpy() if bias is not None else np.zeros(1, dt)
    tail = (out.numpy(), bias_n, bias is not None, bool(relu), clamp is not None,
            dt.type(clamp if clamp is not None else 0), int(cfg.rows), int(cfg.tile))
    if cfg.algo == "panel":
        from harness.kernels.cpu import panel

        ptr, prow, pvals = panel.order(op, cfg.rows)
        args = (ptr, prow, pvals, xn, np.empty((m, panel_layout(n, cfg.tile)[2]), dt), *tail)
    else:
        ptr, idx = _index_arrays(op)
        values = op.arrays["values"].detach().contiguous().numpy()
        xpad = xn if width == n else np.zeros((k, width), dt)  # zero lanes past N stay zero
        args = (ptr, idx, values, xn, xpad, *tail)
    counters = {ck.NUMBA_COMPILE_S: compile_s, ck.NUMBA_CACHE_HIT: hit,
                ck.NUMBA_CONFIG: cfg.label(), ck.NUMBA_THREADS: t}
    return Bound(kernel_for(kind, cfg.algo), args, t, out, counters)
