"""The Point: one fully specified configuration to prune, store and time.

A Point is what the tuner proposes and what the measurement core measures. It is frozen and
hashable; `key()` is its stable identity in the store (same key ⇒ same measurement context, so a
resumed run can reuse the stored result instead of measuring again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace


def pair(values: Iterable[int]) -> tuple[int, int]:
    """Two values (a list read from YAML/JSON, a tuple, a 2-D torch.Size) as a 2-tuple."""
    first, second = values
    return first, second


@dataclass(frozen=True)
class PruneSpec:
    """What a pruning pattern needs: the pattern, the exact rate and the group geometry.

    rate is the fraction of *groups* removed: round(rate × number_of_groups) groups are zeroed.
    """

    pattern: str = "unstructured"
    rate: float = 0.0
    group_size: int = 1  # row_group: 1×g groups along a row (hartenstein seed)
    block: tuple[int, int] = (1, 1)  # block pattern: r×c blocks
    nm: tuple[int, int] = (2, 4)  # nm pattern: keep N of every M along a row
    aggregation: str = "rms"
    seed: int = 0


@dataclass(frozen=True)
class Point:
    """Weight M×K times activations K×N, pruned by `prune`, stored as `format`, run by `backend`."""

    m: int
    k: int
    n: int
    dtype: str = "float32"
    device: str = "cpu"
    format: str = "dense"
    backend: str = "torch"
    prune: PruneSpec = field(default_factory=PruneSpec)
    seed: int = 0  # seeds the problem's weights and activations

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.m, self.k, self.n)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["prune"]["block"] = list(self.prune.block)
        d["prune"]["nm"] = list(self.prune.nm)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Point:
        p = dict(d["prune"])
        p["block"] = pair(p["block"])
        p["nm"] = pair(p["nm"])
        rest = {k: v for k, v in d.items() if k != "prune"}
        return cls(prune=PruneSpec(**p), **rest)

    def key(self) -> str:
        """Stable identity: sha1 of the canonical JSON of every field."""
        blob = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(blob.encode()).hexdigest()[:16]

    def baseline(self) -> Point:
        """The dense reference of this point: same shape, dtype, device and problem seed."""
        return replace(self, format="dense", backend="torch", prune=PruneSpec())

    def label(self) -> str:
        p = self.prune
        geo = {"row_group": f"g={p.group_size}", "block": f"{p.block[0]}x{p.block[1]}",
               "nm": f"{p.nm[0]}:{p.nm[1]}"}.get(p.pattern, "")
        return (f"{self.m}x{self.k}x{self.n} {self.dtype} {self.device} {self.format}/{self.backend}"
                f" {p.pattern}{(' ' + geo) if geo else ''} rate={p.rate:g}")
