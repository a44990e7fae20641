"""pytest-benchmark set for harness's own hot paths: pruning, format conversion, store writes.

Run with `python -m pytest benchmarks/test_hot_paths.py --benchmark-only` (not part of the test
suite: `testpaths` is tests/). Compare runs with `--benchmark-autosave` and
`pytest-benchmark compare`.
"""

from __future__ import annotations

import pytest
import torch

from harness.core.measurement import Measurement, Stats
from harness.core.point import Point, PruneSpec
from harness.formats.base import get_format
from harness.pruning.base import prune_mask

M = K = 4096
SPECS = {
    "row_group_g32": PruneSpec("row_group", 0.9, group_size=32),
    "block_32x32": PruneSpec("block", 0.9, block=(32, 32)),
    "unstructured": PruneSpec("unstructured", 0.9),
}


@pytest.fixture(scope="module")
def weight() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(M, K, generator=g)


@pytest.mark.parametrize("name", list(SPECS))
def test_prune(benchmark, weight, name):
    mask = benchmark(prune_mask, weight, SPECS[name])
    assert mask.shape == weight.shape


@pytest.mark.parametrize(("fmt", "spec", "kw"), [
    ("csr", "row_group_g32", {}),
    ("row_group", "row_group_g32", {"group_size": 32}),
    ("bsr", "block_32x32", {"block": (32, 32)}),
])
def test_convert(benchmark, weight, fmt, spec, kw):
    pruned = torch.where(prune_mask(weight, SPECS[spec]), weight, torch.zeros(()))
    f = get_format(fmt)
    op = benchmark(f.encode, pruned, **kw)
    assert torch.equal(f.decode(op), pruned)


def test_store_write(benchmark, tmp_path):
    from harness.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    run = store.begin_run("bench", "hot", config={}, provenance={"device_name": "cpu"})
    samples = tuple(1e-3 + i * 1e-6 for i in range(200))
    m = Measurement(Point(M, K, 50, format="csr", prune=SPECS["row_group_g32"]), "ok",
                    samples_s=samples, stats=Stats(200, 1.1e-3, 5e-5, 1.1e-3, 6e-5, 1e-3, 0.05),
                    verified=True, rel_error=1e-7, speedup=2.0, speedup_ci=(1.9, 2.1))
    try:
        benchmark(store.add_measurement, run, m, context_key="ctx")
    finally:
        store.close()
