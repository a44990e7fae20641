"""A challenge network and the reference inference that is the truth for every variant.

The layer rule is the challenge's reference (inferenceReLUvec of "Sparse Deep Neural Network Graph
Challenge", as used in "Performance of Training Sparse Deep Neural Networks on GPUs"):

    Z = Y·W;  Z = Z + b on the nonzeros of Z only;  Z[Z < 0] = 0;  Z[Z > 32] = 32;  Y = Z

and the categories are the inputs whose final row of Y has a nonzero. With the challenge's
negative biases, adding b to every entry and then applying ReLU gives the same Y (a zero entry
becomes b < 0 and then 0 again), so a dense-output kernel with a fused bias/ReLU/clamp epilogue
is exact for this rule; `Network.bias_everywhere_ok` says when that holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.graph.radixnet import CONNECTIONS, YMAX, bias_for, load_or_generate

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import numpy as np
    import scipy.sparse as sp


@dataclass(frozen=True, eq=False)
class Network:
    """`layers` are (neurons × neurons) CSR matrices, applied as Y·W; one bias for all neurons."""

    neurons: int
    layers: Sequence[sp.csr_matrix]  # a tuple, or radixnet.ChallengeLayers (built on access)
    bias: float
    source: str = "radixnet"

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def connections(self) -> int:
        """Nonzero connections of the whole network (neurons × 32 × layers for the challenge)."""
        nnz = getattr(self.layers, "nnz", None)  # ChallengeLayers knows it without building
        return int(nnz) if nnz is not None else int(sum(w.nnz for w in self.layers))

    @property
    def bias_everywhere_ok(self) -> bool:
        return self.bias <= 0.0


def challenge_network(neurons: int, layers: int, *, seed: int = 0, permute: str = "challenge",
                      cache: Path | None = None) -> Network:
    """The generated RadiX-Net network with the challenge's bias (cached on disk; its layers are
    built on access, one at a time)."""
    net = load_or_generate(neurons, layers, seed=seed, permute=permute, root=cache)
    return Network(neurons, net, bias_for(neurons))


def official_network(root: str | Path, neurons: int, layers: int) -> Network:
    """The official TSV network under `root` (see harness.graph.tsv) with the challenge's bias."""
    from harness.graph.tsv import load_layers

    return Network(neurons, tuple(load_layers(root, neurons, layers)), bias_for(neurons),
                   source="tsv")


def reference_layer(y: sp.csr_matrix, w: sp.csr_matrix, bias: float) -> sp.csr_matrix:
    """One layer of the reference rule in SciPy (dtype of y and w)."""
    import numpy as np

    z = (y @ w).tocsr()
    z.eliminate_zeros()  # "nonzeros of Z" are numeric nonzeros, as MATLAB's logical(Z)
    z.data += z.dtype.type(bias)
    np.clip(z.data, 0.0, YMAX, out=z.data)
    z.eliminate_zeros()
    return z


def reference(y0: sp.csr_matrix, net: Network) -> sp.csr_matrix:
    """Final Y of the reference inference, in float64 (the truth)."""
    y = y0.astype("float64").tocsr()
    for w in net.layers:
        y = reference_layer(y, w.astype("float64"), net.bias)
    return y


def categories_of(y: sp.csr_matrix) -> np.ndarray:
    """0-based indices of the rows with a nonzero (after dropping stored zeros)."""
    import numpy as np

    y = y.tocsr(copy=True)
    y.eliminate_zeros()
    return np.flatnonzero(np.diff(y.indptr) > 0).astype(np.int64)


def reference_categories(y0: sp.csr_matrix, net: Network) -> np.ndarray:
    return categories_of(reference(y0, net))


def edges(inputs: int, net: Network) -> int:
    """The challenge's work count: inputs × connections (the numerator of the rate)."""
    return inputs * net.connections


__all__ = ["CONNECTIONS", "Network", "categories_of", "challenge_network", "edges",
           "official_network", "reference", "reference_categories", "reference_layer"]
