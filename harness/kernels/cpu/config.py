"""Meta-parameters of the CPU kernels and their search space (tuned by harness.kernels.cpu.tune).

algo: `rows` (one output row at a time; every layout) or `panel` (row_group only: column groups
outer, four rows share each X panel; see harness/kernels/cpu/jit.py).
rows: output rows per parallel work item (`rows`: small blocks balance threads on skewed rows,
large ones cut scheduling overhead; bsr counts block rows) or per row block (`panel`: the rows
whose partial sums stay in one thread's scratch; one block per thread keeps X panels shared
longest).
tile: columns of N held in registers per pass (a compile-time constant: one compiled kernel per
tile). The rule `tile_for` takes the narrowest tile that holds N, up to 64 fp32 / 32 fp64 columns
(4 AVX-512 registers per row: a four-row panel then keeps 16 accumulators and the X loads in the
32 vector registers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

KINDS = ("row_group", "bsr", "csr")
DTYPES = ("float32", "float64")
ALGOS = ("rows", "panel")
TILES = (8, 16, 32, 48, 64)
MAX_TILE = {"float32": 64, "float64": 32}
# Where panels run: every row_group with g ≥ 2. Measured on the development VM (4096², 2 threads,
# fp32), the panel kernel beat the row kernel at every g from 2 to 64, rates 0.80–0.98 and N from
# 1 to 256 (1.5–4.5×); at g = 1 (a group is one element) the two tie, so g = 1 keeps the row kernel.
PANEL_MIN_G = 2
# At N ≤ DOT_TAIL the panel kernel computes each column as dot products along the group (16
# lanes of g at a time, then a reduction) instead of a tile of which N lanes would be used: 1.6×
# faster at N = 1 (4096², 90 %, g = 32). As the tail of a wider N (50 as 48 + 2) they lost: the
# reductions cost more than the padded lanes' FMAs they saved (1.65 against 1.15 ms).
DOT_TAIL = 4


@dataclass(frozen=True)
class CpuConfig:
    algo: str = "rows"
    rows: int = 16
    tile: int = 64

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CpuConfig:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def label(self) -> str:
        return f"{self.algo},rows={self.rows},tile={self.tile}"


def validate(kind: str, config: CpuConfig) -> str | None:
    """None if `config` is legal for `kind`, else the reason."""
    if kind not in KINDS:
        return f"unknown CPU kernel kind {kind!r}; valid: {', '.join(KINDS)}"
    if config.algo not in ALGOS:
        return f"algo must be one of {ALGOS}, got {config.algo!r}"
    if config.algo == "panel" and kind != "row_group":
        return f"the panel algorithm runs row_group operands, not {kind}"
    if config.tile not in TILES:
        return f"tile must be one of {TILES}, got {config.tile!r}"
    if not isinstance(config.rows, int) or config.rows < 1:
        return f"rows must be a positive integer, got {config.rows!r}"
    return None


def tile_for(n: int, dtype: str) -> int:
    """The narrowest tile that holds N columns, capped at MAX_TILE (wider N takes several)."""
    cap = MAX_TILE.get(dtype, 32)
    return next((t for t in TILES if n <= t <= cap), cap)


def panel_layout(n: int, tile: int) -> tuple[int, int, int]:
    """(tile passes, dot-product columns, scratch width) of the panel kernel for N columns."""
    if n <= DOT_TAIL:
        return 0, n, n
    passes = -(-n // tile)
    return passes, 0, passes * tile


def panel_applies(kind: str, width: int) -> bool:
    return kind == "row_group" and width >= PANEL_MIN_G


def panel_rows(m: int, threads: int, split: int = 1) -> int:
    """Rows per panel block: the rows split evenly into `split` blocks per thread."""
    return max(1, -(-m // (max(1, threads) * split)))


def default_config(kind: str, n: int, *, dtype: str = "float32", width: int = 1, m: int = 1,
                   threads: int = 1) -> CpuConfig:
    """Untuned choice: panels for row groups of g ≥ PANEL_MIN_G (one block per thread), else the
    row kernel with 16-row work items (4 block rows for bsr)."""
    if panel_applies(kind, width):
        return CpuConfig("panel", panel_rows(m, threads), tile_for(n, dtype))
    return CpuConfig("rows", 16 if kind != "bsr" else 4, tile_for(n, dtype))


def candidates(kind: str, n: int, *, dtype: str = "float32", width: int = 1, m: int = 1,
               threads: int = 1) -> list[CpuConfig]:
    """The tuning space, kept small because tuning runs inside `prepare` of every new shape
    class: where panels apply, two block sizes (one and two blocks per thread: more blocks copy
    each X panel more often and leave more rows outside whole fours); elsewhere two work-item
    sizes of the row kernel. The tile follows `tile_for` (each tile is one more compile)."""
    if panel_applies(kind, width):
        tile = tile_for(n, dtype)
        return [CpuConfig("panel", panel_rows(m, threads, s), tile) for s in (1, 2)]
    return [CpuConfig("rows", r, tile_for(n, dtype)) for r in (4, 32)]
