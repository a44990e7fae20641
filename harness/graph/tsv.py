"""Loader for the Sparse DNN Graph Challenge's official TSV files, from a local path only.

Layout (GraphChallenge.org, "Sparse Deep Neural Network Graph Challenge"), all 1-based:

    <root>/neuron{N}/n{N}-l{k}.tsv       one layer: `row<TAB>col<TAB>weight` per line, k = 1 … L
    <root>/sparse-images-{N}.tsv         inputs: `image<TAB>neuron<TAB>value` per line
    <root>/neuron{N}-l{L}-categories.tsv truth: one 1-based image index per line

Nothing is downloaded. A missing or malformed file is an InputError whose one line names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.core.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp


def layer_path(root: str | Path, neurons: int, k: int) -> Path:
    return Path(root) / f"neuron{neurons}" / f"n{neurons}-l{k}.tsv"


def images_path(root: str | Path, neurons: int) -> Path:
    return Path(root) / f"sparse-images-{neurons}.tsv"


def categories_path(root: str | Path, neurons: int, layers: int) -> Path:
    return Path(root) / f"neuron{neurons}-l{layers}-categories.tsv"


def _read(path: Path, columns: int) -> np.ndarray:
    """The file's numbers as a (lines × columns) float64 array; one-line errors naming it."""
    import numpy as np

    if not path.is_file():
        raise InputError("file not found", file=str(path))
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    lines = text.split()
    if not lines:
        raise InputError(f"empty file; expected lines of {columns} tab-separated numbers",
                         file=str(path))
    try:
        values = np.array(lines, dtype=np.float64)
    except ValueError:
        bad = next(i for i, tok in enumerate(lines) if not _is_number(tok))
        line = text.count("\n", 0, _offset(text, bad)) + 1
        raise InputError(f"expected {columns} tab-separated numbers per line, got "
                         f"{lines[bad]!r}", file=str(path), line=line) from None
    rows = [ln for ln in text.splitlines() if ln.strip()]
    widths = {len(ln.split()) for ln in rows}
    if widths != {columns}:
        line = next(i for i, ln in enumerate(text.splitlines(), 1)
                    if ln.strip() and len(ln.split()) != columns)
        raise InputError(f"expected {columns} tab-separated numbers per line",
                         file=str(path), line=line)
    return values.reshape(-1, columns)


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _offset(text: str, token_index: int) -> int:
    pos = 0
    for _ in range(token_index + 1):
        while text[pos].isspace():
            pos += 1
        start = pos
        while pos < len(text) and not text[pos].isspace():
            pos += 1
    return start


def read_triples(path: str | Path, shape: tuple[int, int]) -> sp.csr_matrix:
    """A 1-based `row col value` TSV as a float32 CSR of `shape` (duplicates summed)."""
    import numpy as np
    import scipy.sparse as sp

    path = Path(path)
    t = _read(path, 3)
    r, c = t[:, 0], t[:, 1]
    for name, idx, limit in (("row", r, shape[0]), ("column", c, shape[1])):
        bad = (idx != np.floor(idx)) | (idx < 1) | (idx > limit)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"{name} index {idx[i]:g} out of range; expected an integer "
                             f"1…{limit} (1-based)", file=str(path), line=i + 1)
    m = sp.csr_matrix((t[:, 2].astype(np.float32), (r.astype(np.int64) - 1,
                                                   c.astype(np.int64) - 1)), shape=shape)
    m.sum_duplicates()
    return m


def load_layers(root: str | Path, neurons: int, layers: int) -> list[sp.csr_matrix]:
    """Layers n{N}-l1.tsv … n{N}-l{L}.tsv of the official network under `root`."""
    return [read_triples(layer_path(root, neurons, k), (neurons, neurons))
            for k in range(1, layers + 1)]


def load_images(path: str | Path, neurons: int, limit: int | None = None) -> sp.csr_matrix:
    """sparse-images-{N}.tsv as an (images × neurons) CSR; rows up to the largest image index,
    cut to the first `limit` images when given."""
    import numpy as np

    path = Path(path)
    t = _read(path, 3)
    n_images = int(t[:, 0].max()) if len(t) and np.isfinite(t[:, 0]).all() else 0
    m = read_triples(path, (max(n_images, 1), neurons))
    return m[:limit] if limit is not None else m


def write_triples(path: str | Path, m: sp.spmatrix) -> None:
    """`m`'s stored entries as 1-based `row col value` lines (the official layout), atomically."""
    import numpy as np

    from harness.core.paths import write_text

    c = m.tocoo()
    order = np.lexsort((c.col, c.row))
    lines = [f"{r + 1}\t{k + 1}\t{v:g}\n" for r, k, v in
             zip(c.row[order], c.col[order], c.data[order], strict=True)]
    write_text(path, "".join(lines))


def load_categories(path: str | Path) -> np.ndarray:
    """The truth file as sorted 0-based image indices."""
    import numpy as np

    path = Path(path)
    t = _read(path, 1)[:, 0]
    bad = (t != np.floor(t)) | (t < 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"expected a positive integer image index (1-based), got {t[i]:g}",
                         file=str(path), line=i + 1)
    return np.sort(t.astype(np.int64) - 1)
