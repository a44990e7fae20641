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
position l mod len(list)); every weight is 1/16. With `permute` (the default) the neurons of every
layer boundary are relabelled by a seeded random permutation, W_l ← P_l·W_l·P_{l+1}ᵀ, which keeps
32 connections per row and per column but hides the block replication from the kernels (our
reading: the exact permutation of the official files is not reproducible, so use their TSV files
through `harness.graph.tsv` when bit-identical networks matter).

A layer is a SciPy CSR matrix of shape (neurons, neurons): rows are the input neurons, columns
the output neurons, so a layer is Y·W with Y (inputs × neurons).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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


def generate(neurons: int, layers: int, *, seed: int = 0, permute: bool = True) -> list[sp.csr_matrix]:
    """The challenge network `neurons` × `layers` (see the module docstring), not cached."""
    return generate_from(config(neurons), layers, seed=seed, permute=permute)


def generate_from(cfg: NetConfig, layers: int, *, seed: int = 0,
                  permute: bool = True) -> list[sp.csr_matrix]:
    """A RadiX-Net of `layers` layers cycling through `cfg`'s radix list."""
    import numpy as np

    neurons = cfg.neurons
    if layers < 1:
        raise InputError(f"layers: expected a positive integer, got {layers}")
    cycle = base_layers(cfg)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(neurons) if permute else None  # labels of the current boundary
    out = []
    for layer in range(layers):
        cols = cycle[layer % len(cycle)]
        if perm is not None:
            nxt = rng.permutation(neurons)
            # W'[perm[i], nxt[c]] = W[i, c]: rows relabelled by perm, columns by nxt
            new = np.empty_like(cols)
            new[perm] = nxt[cols]
            cols, perm = new, nxt
        out.append(_csr(cols, neurons))
    return out


def cache_dir() -> Path:
    """Where generated networks are kept: $HARNESS_GRAPH_CACHE, else $HARNESS_CACHE_DIR/graph,
    else ~/.cache/harness/graph."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("HARNESS_CACHE_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "harness") / "graph"


def cache_path(neurons: int, layers: int, seed: int, permute: bool,
               root: Path | None = None) -> Path:
    tag = hashlib.sha1(f"radixnet-v1:{neurons}:{layers}:{seed}:{permute}".encode()).hexdigest()[:10]
    return (root or cache_dir()) / f"radixnet-n{neurons}-l{layers}-s{seed}-{tag}.npz"


def load_or_generate(neurons: int, layers: int, *, seed: int = 0, permute: bool = True,
                     root: Path | None = None) -> list[sp.csr_matrix]:
    """`generate(...)`, read from the cache when present, else generated and written atomically."""
    import numpy as np

    path = cache_path(neurons, layers, seed, permute, root)
    if path.is_file():
        try:
            with np.load(path) as z:
                cols = z["cols"]
            if cols.shape == (layers, neurons, CONNECTIONS):
                return [_csr(c, neurons) for c in cols]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is regenerated below
    net = generate(neurons, layers, seed=seed, permute=permute)
    cols = np.stack([w.indices.reshape(neurons, CONNECTIONS) for w in net]).astype(np.int32)
    with atomic_target(path) as tmp, tmp.open("wb") as f:  # a file object: savez adds no suffix
        np.savez(f, cols=cols)
    return net
