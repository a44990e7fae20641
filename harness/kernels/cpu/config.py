"""Meta-parameters of the CPU kernels and their search space (tuned by harness.kernels.cpu.tune).

rows: output rows per parallel work item (block rows for bsr): small blocks balance threads on
skewed rows, large ones cut scheduling overhead. unroll: weights folded into one pass over an
output row (1, 2, 4, 8; see harness/kernels/cpu/jit.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import product

KINDS = ("row_group", "bsr", "csr")
DTYPES = ("float32", "float64")
UNROLLS = (1, 2, 4, 8)
ROWS = (1, 4, 16, 64)


@dataclass(frozen=True)
class CpuConfig:
    rows: int = 16
    unroll: int = 8

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CpuConfig:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def label(self) -> str:
        return f"rows={self.rows},unroll={self.unroll}"


def validate(kind: str, config: CpuConfig) -> str | None:
    """None if `config` is legal for `kind`, else the reason."""
    if kind not in KINDS:
        return f"unknown CPU kernel kind {kind!r}; valid: {', '.join(KINDS)}"
    if config.unroll not in UNROLLS:
        return f"unroll must be one of {UNROLLS}, got {config.unroll}"
    if not isinstance(config.rows, int) or config.rows < 1:
        return f"rows must be a positive integer, got {config.rows!r}"
    return None


def default_config(kind: str, n: int, *, width: int = 32) -> CpuConfig:
    """Untuned choice: fold up to 8 weights per pass, but never more than a group / block row
    holds (`width`: g for row_group, c for bsr; csr folds any consecutive non-zeros)."""
    unroll = 8 if kind == "csr" else max(u for u in UNROLLS if u <= max(1, width))
    return CpuConfig(rows=16 if kind != "bsr" else 4, unroll=unroll)


def candidates(kind: str, *, width: int = 32) -> list[CpuConfig]:
    """The tuning space, kept small because tuning runs inside `prepare` of every new shape
    class: the two largest unrolls a group can use (folding fewer weights never won in our
    measurements, except where a group holds fewer) × two row-block sizes."""
    cap = 8 if kind == "csr" else max(1, width)
    unrolls = [u for u in UNROLLS if u <= cap][-2:]
    return [CpuConfig(rows=r, unroll=u) for r, u in product((4, 32), unrolls)]
