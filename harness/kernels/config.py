"""Meta-parameters of the bundled kernels and the shape guards that keep them GPU-legal.

The Triton interpreter accepts tile shapes a real GPU rejects (tl.dot below 16, non-power-of-two
aranges), so every launch goes through `validate_config` first: a config that would fail to
compile on a GPU is refused on the CPU too, and the reason is a readable string, not a crash.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

KINDS = ("row_group", "bsr")
GROUP_SIZES = (4, 8, 16, 32, 64)
BLOCK_DIMS = (16, 32, 64)
NUM_WARPS = (1, 2, 4, 8, 16)
STRATEGIES = ("row", "tile")
MAX_TILE_ELEMENTS = 16384  # per-program register tile (elements of fp32) above which GPUs spill
# Tile strategy: the software pipeline buffers the group-slot gathers of every stage in shared
# memory, which grows as block_m × (block_k/g)² × num_stages (compiled for sm_90 without a GPU,
# harness.kernels.aot, fp32: 64·8²·3 → 144 KiB, 128·8²·2 → 150 KiB, 128·8²·3 → 284 KiB, over the
# 227 KiB an H100 block may have). Capped so every legal config fits an A100's 163 KiB too.
MAX_TILE_GATHER = 16384


@dataclass(frozen=True)
class KernelConfig:
    """block_n: tile of N per program. row_group only: strategy 'row' (gather per group, block_k
    non-zeros per step, `rows` rows per program) or 'tile' (block_m rows × block_k columns of W
    scattered into a dense tile for tl.dot); block_k is a multiple of g. allow_tf32: fp32 tl.dot
    via TF32 (bsr and tile; off by default because it loses ~3 decimal digits)."""

    block_n: int = 16
    block_k: int = 64
    rows: int = 1
    strategy: str = "row"
    block_m: int = 64
    num_warps: int = 4
    num_stages: int = 2
    allow_tf32: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> KernelConfig:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def interpreter_active() -> bool:
    """True when Triton runs kernels in its CPU interpreter (TRITON_INTERPRET=1)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def _pow2(v: int) -> bool:
    return isinstance(v, int) and v > 0 and v & (v - 1) == 0


def validate_config(kind: str, config: KernelConfig, *, interpreter: bool,
                    group_size: int | None = None,
                    block: tuple[int, int] | None = None) -> str | None:
    """None if `config` is legal for kernel `kind` on the target, else the reason.

    GPU rules (also enforced under the interpreter, which would accept them silently): tile sizes
    are powers of two; tl.dot (bsr) needs every tile dimension ≥ 16; block_k is a multiple of g;
    the register tile stays under MAX_TILE_ELEMENTS. `interpreter` only relaxes launch-only knobs
    (num_warps/num_stages are ignored there, so they are not checked).
    """
    if kind not in KINDS:
        return f"unknown kernel kind {kind!r}; valid: {', '.join(KINDS)}"
    c = config
    if not _pow2(c.block_n):
        return f"block_n must be a power of two, got {c.block_n}"
    if not interpreter:
        if c.num_warps not in NUM_WARPS:
            return f"num_warps must be one of {NUM_WARPS}, got {c.num_warps}"
        if not 1 <= c.num_stages <= 8:
            return f"num_stages must be in 1..8, got {c.num_stages}"
    if kind == "row_group":
        if group_size is not None and group_size not in GROUP_SIZES:
            return f"row_group kernel needs g in {GROUP_SIZES}, got {group_size}"
        if not _pow2(c.block_k):
            return f"block_k must be a power of two, got {c.block_k}"
        if group_size is not None and c.block_k % group_size:
            return f"block_k ({c.block_k}) must be a multiple of g ({group_size})"
        if c.strategy not in STRATEGIES:
            return f"strategy must be one of {STRATEGIES}, got {c.strategy!r}"
        if c.strategy == "row":
            if not 1 <= c.rows <= 16:
                return f"rows per program must be in 1..16, got {c.rows}"
            if c.block_k * c.block_n > MAX_TILE_ELEMENTS:
                return f"tile block_k×block_n = {c.block_k * c.block_n} exceeds {MAX_TILE_ELEMENTS}"
        else:
            for name in ("block_m", "block_k", "block_n"):
                v = getattr(c, name)
                if not _pow2(v) or v < 16:
                    return f"tl.dot needs {name} ≥ 16 and a power of two, got {v}"
            if group_size is not None and c.block_k // group_size > 16:
                return f"tile strategy scans ≤ 16 group slots per chunk, got {c.block_k // group_size}"
            if group_size is not None:
                gather = c.block_m * (c.block_k // group_size) ** 2 * c.num_stages
                if gather > MAX_TILE_GATHER:
                    return (f"tile block_m·(block_k/g)²·num_stages = {gather} exceeds "
                            f"{MAX_TILE_GATHER} (shared memory of the pipelined gathers)")
            big = max(c.block_m * c.block_k, c.block_m * c.block_n, c.block_k * c.block_n)
            if big > MAX_TILE_ELEMENTS:
                return f"tile of {c.block_m}×{c.block_k}×{c.block_n} exceeds {MAX_TILE_ELEMENTS}"
    else:
        if c.block_n < 16:
            return f"tl.dot needs block_n ≥ 16, got {c.block_n}"
        if block is not None:
            r, cc = block
            if r not in BLOCK_DIMS or cc not in BLOCK_DIMS:
                return f"bsr kernel needs r, c in {BLOCK_DIMS}, got {r}×{cc}"
            if r * c.block_n > MAX_TILE_ELEMENTS or cc * c.block_n > MAX_TILE_ELEMENTS:
                return f"tile of {r}×{cc} blocks with block_n={c.block_n} exceeds {MAX_TILE_ELEMENTS}"
    return None
