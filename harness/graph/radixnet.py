"""RadiX-Net networks of the Sparse DNN Graph Challenge, generated and cached on disk.

Construction (Robinett & Kepner, "RadiX-Net: Structured Sparse Matrices for Deep Neural
Networks", 2019; the challenge's networks as described in "Performance of Training Sparse Deep
Neural Networks on GPUs", Table I): a *mixed-radix* layer over N' base neurons with radix r and
place value p (the product of the radices before it in its radix list) connects base neuron i to
the r neurons (i − j·p) mod N', j = 0 … r−1 — a sum of r cyclic shifts of the identity, as in the
authors' public emr_net code. Each base layer is then Kronecker-expanded by a dense B×B block,
kron(ones(B, B), W'), so every neuron has B·r connections. The challenge uses radix 2 throughout
and B = 16 (32 connections per neuron per layer):

    neurons   base N'  radix list      bias
    1024      64       [2]*6           -0.30
    4096      256      [2]*8           -0.35
    16384     1024     [2]*10          -0.40
    65536     4096     [2]*12          -0.45

A deep network (120, 480, 1920 layers) cycles through the radix list (layer l uses the radix at
position l mod len(list)); every weight is 1/16. How the official files hide the structure (read
from their first layers, published as GraphChallenge.org's `neuron1024/n1024-l{k}.tsv`): the
first cycle (layers 1–6 for 1024 neurons) is the plain structured network; every later cycle c
draws one random permutation P_c and relabels the *rows* (input neurons) of each of its layers,
W_l = P_c·W'_l, while the columns stay in structured order. Permutation modes (`PERMUTATIONS`):

    challenge    as the official files (the default; P_c seeded, so not the files' own P_c)
    every-layer  every layer boundary relabelled, W_l ← P_l·W_l·P_{l+1}ᵀ (hides more structure;
                 keeps far fewer inputs alive: 1 of the first 1200 MNIST images at 1024 × 120,
                 against 19 with the official files)
    none         the bare structured network

A network is stored as its len(list) structured layers plus one permutation per cycle, and its
layers are built on access (`ChallengeLayers`), so a 1920-layer network costs a few MB until an
engine converts its layers (the 65536 × 1920 network would be 32 GB as CSR).

A layer is a SciPy CSR matrix of shape (neurons, neurons): rows are the input neurons, columns
the output neurons, so a layer is Y·W with Y (inputs × neurons).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, overload

from harness.core.errors import InputError
from harness.core.paths import atomic_target

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

WEIGHT = 1.0 / 16.0  # the challenge's weight value
YMAX = 32.0  # activations are clamped at 32
CONNECTIONS = 32  # per neuron per layer
KRON_BLOCK = 16
CACHE_ENV = "HARNESS_GRAPH_CACHE"
CHALLENGE_LAYERS = (120, 480, 1920)


@dataclass(frozen=True)
class NetConfig:
    """One challenge network size: neurons per layer, base radix list and bias."""

    neurons: int
    radices: tuple[int, ...]
    bias: float
    block: int = KRON_BLOCK  # side of the dense Kronecker block

    @property
    def base(self) -> int:
        return self.neurons // self.block

    @property
    def connections(self) -> tuple[int, ...]:
        """Connections per neuron of each base layer: block × radix."""
        return tuple(self.block * r for r in self.radices)

    def __post_init__(self) -> None:
        import math

        if self.neurons % self.block or math.prod(self.radices) != self.neurons // self.block:
            raise ValueError(f"radices {self.radices} × block {self.block} do not give "
                             f"{self.neurons} neurons")


CONFIGS: dict[int, NetConfig] = {
    1024: NetConfig(1024, (2,) * 6, -0.30),
    4096: NetConfig(4096, (2,) * 8, -0.35),
    16384: NetConfig(16384, (2,) * 10, -0.40),
    65536: NetConfig(65536, (2,) * 12, -0.45),
}


def config(neurons: int) -> NetConfig:
    try:
        return CONFIGS[neurons]
    except KeyError:
        valid = ", ".join(str(n) for n in CONFIGS)
        raise InputError(f"neurons: expected one of {valid}, got {neurons}") from None


def bias_for(neurons: int) -> float:
    return config(neurons).bias


def radix_layer(base: int, radix: int, place: int) -> np.ndarray:
    """Column indices (base × radix) of one mixed-radix layer: row i → (i − j·place) mod base."""
    import numpy as np

    i = np.arange(base, dtype=np.int64)[:, None]
    j = np.arange(radix, dtype=np.int64)[None, :]
    return (i - j * place) % base


def kron_expand(cols: np.ndarray, block: int) -> np.ndarray:
    """Columns (block·base × block·radix) of kron(ones(block, block), W') for W' given by `cols`."""
    import numpy as np

    base = cols.shape[0]
    # output column b·base + c for every block b; the same for every input block a
    expanded = (np.arange(block, dtype=np.int64)[None, :, None] * base + cols[:, None, :])
    expanded = expanded.reshape(base, -1)
    return np.tile(expanded, (block, 1))


def base_layers(cfg: NetConfig) -> list[np.ndarray]:
    """The column-index arrays (neurons × 32) of the len(radices) distinct structured layers."""
    out, place = [], 1
    for r in cfg.radices:
        out.append(kron_expand(radix_layer(cfg.base, r, place), cfg.block))
        place *= r
    return out


def _csr(cols: np.ndarray, n: int, dtype: str = "float32") -> sp.csr_matrix:
    import numpy as np
    import scipy.sparse as sp

    cols = np.sort(cols, axis=1)
    indptr = np.arange(0, cols.size + 1, cols.shape[1], dtype=np.int64)
    data = np.full(cols.size, WEIGHT, dtype=dtype)
    return sp.csr_matrix((data, cols.ravel().astype(np.int32), indptr), shape=(n, n))


PERMUTATIONS = ("challenge", "every-layer", "none")


class ChallengeLayers(Sequence["sp.csr_matrix"]):
    """The layers of a generated network, each built on access from the structured cycle and
    the relabellings: layer i is cycle[i mod len] with its columns relabelled by
    labels[cols[i]] and then its rows by labels[rows[i]] (an index of -1 keeps the order)."""

    def __init__(self, neurons: int, cycle: Sequence[np.ndarray], labels: np.ndarray,
                 rows: np.ndarray, cols: np.ndarray) -> None:
        self.neurons, self.cycle = neurons, tuple(cycle)
        self.labels, self.rows, self.cols = labels, rows, cols

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> sp.csr_matrix: ...
    @overload
    def __getitem__(self, i: slice) -> list[sp.csr_matrix]: ...

    def __getitem__(self, i: int | slice) -> sp.csr_matrix | list[sp.csr_matrix]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return _csr(self.columns(i), self.neurons)

    def columns(self, i: int) -> np.ndarray:
        """Layer i as its (neurons × 32) column indices, row r holding row r's connections."""
        import numpy as np

        cols = self.cycle[i % len(self.cycle)]
        if self.cols[i] >= 0:
            cols = self.labels[self.cols[i]][cols]
        if self.rows[i] >= 0:
            moved = np.empty_like(cols)
            moved[self.labels[self.rows[i]]] = cols  # W'[P[r], :] = W[r, :]
            cols = moved
        return cols

    @property
    def nnz(self) -> int:
        return len(self) * sum(c.size for c in self.cycle) // len(self.cycle)


def generate(neurons: int, layers: int, *, seed: int = 0,
             permute: str = "challenge") -> list[sp.csr_matrix]:
    """The challenge network `neurons` × `layers` (see the module docstring), not cached."""
    return list(generate_from(config(neurons), layers, seed=seed, permute=permute))


def generate_from(cfg: NetConfig, layers: int, *, seed: int = 0,
                  permute: str = "challenge") -> ChallengeLayers:
    """A RadiX-Net of `layers` layers cycling through `cfg`'s radix list, relabelled by the
    permutation mode `permute` (one of PERMUTATIONS)."""
    import numpy as np

    if layers < 1:
        raise InputError(f"layers: expected a positive integer, got {layers}")
    if permute not in PERMUTATIONS:
        raise InputError(f"network.permute: expected one of {', '.join(PERMUTATIONS)}, "
                         f"got {permute!r}")
    n, cycle = cfg.neurons, base_layers(cfg)
    rng = np.random.default_rng(seed)
    idx = np.arange(layers, dtype=np.int64)
    keep = np.full(layers, -1, dtype=np.int64)
    if permute == "every-layer":  # label sets 0 … layers; layer i maps set i to set i + 1
        labels = np.stack([rng.permutation(n) for _ in range(layers + 1)])
        rows, cols = idx, idx + 1
    elif permute == "challenge":  # cycle c ≥ 1 relabels its layers' rows with labels[c − 1]
        cycles = -(-layers // len(cycle))
        labels = np.stack([rng.permutation(n) for _ in range(cycles - 1)]) if cycles > 1 \
            else np.zeros((0, n), dtype=np.int64)
        rows, cols = idx // len(cycle) - 1, keep
    else:
        labels, rows, cols = np.zeros((0, n), dtype=np.int64), keep, keep
    return ChallengeLayers(n, cycle, labels.astype(np.int32), rows, cols)


def cache_dir() -> Path:
    """Where generated networks are kept: $HARNESS_GRAPH_CACHE, else $HARNESS_CACHE_DIR/graph,
    else ~/.cache/harness/graph."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("HARNESS_CACHE_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "harness") / "graph"


def cache_path(neurons: int, layers: int, seed: int, permute: str,
               root: Path | None = None) -> Path:
    tag = hashlib.sha1(f"radixnet-v2:{neurons}:{layers}:{seed}:{permute}".encode()).hexdigest()[:10]
    return (root or cache_dir()) / f"radixnet-n{neurons}-l{layers}-s{seed}-{permute}-{tag}.npz"


def load_or_generate(neurons: int, layers: int, *, seed: int = 0, permute: str = "challenge",
                     root: Path | None = None) -> ChallengeLayers:
    """`generate_from(...)`, read from the cache when present, else generated and written
    atomically. The file holds the relabellings only (a few MB even for 1920 layers)."""
    import numpy as np

    cfg = config(neurons)
    path = cache_path(neurons, layers, seed, permute, root)
    if path.is_file():
        try:
            with np.load(path) as z:
                labels, rows, cols = z["labels"], z["rows"], z["cols"]
            if rows.shape == cols.shape == (layers,) and labels.shape[1:] == (neurons,):
                return ChallengeLayers(neurons, base_layers(cfg), labels, rows, cols)
        except (OSError, ValueError, KeyError, IndexError):
            pass  # a damaged cache file is regenerated below
    net = generate_from(cfg, layers, seed=seed, permute=permute)
    with atomic_target(path) as tmp, tmp.open("wb") as f:  # a file object: savez adds no suffix
        np.savez(f, labels=net.labels, rows=net.rows, cols=net.cols)
    return net
