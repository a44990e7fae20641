"""The GPU benchmark script parses and runs a tiny interpreter pass, writing JSON and CSV."""

from __future__ import annotations

import json

import torch
from benchmark_scripts import load


def _load():
    return load("triton_bench")


def test_parse_defaults_cover_the_grid():
    a = _load().parse_args([])
    assert a.shapes == [(4096, 4096, 50), (16384, 16384, 1), (16384, 16384, 16),
                        (16384, 16384, 64)]
    assert a.rates == [0.8, 0.9, 0.95, 0.98] and a.groups == [8, 16, 32, 64]
    assert a.dtypes == ["float16", "float32"] and a.strategies == ["row", "tile"]


def test_prune_row_groups_exact_rate():
    bench = _load()
    w = torch.randn(12, 70)
    p = bench.prune_row_groups(w, 8, 0.75)
    groups = torch.nn.functional.pad(p, (0, 2)).view(12, 9, 8)
    assert int((groups != 0).any(-1).sum()) == 12 * 9 - round(0.75 * 12 * 9)


def test_tiny_run_writes_results(tmp_path):
    bench = _load()
    out = tmp_path / "r.json"
    assert bench.main(["--dry-run", "--no-tune", "--shapes", "16x40x3", "--blocks", "",
                       "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert {"device", "driver", "cuda", "torch", "triton", "peak_copy_gbs"} <= set(data["provenance"])
    by_variant = {r["variant"]: r for r in data["rows"]}
    assert {"cublas_dense", "cusparse_csr", "triton_rg_row", "triton_rg_tile"} <= set(by_variant)
    for name in ("triton_rg_row", "triton_rg_tile", "cublas_dense"):
        assert by_variant[name]["status"] == "ok" and by_variant[name]["rel_error"] < 1e-4
    assert out.with_suffix(".csv").read_text().startswith("m,k,n,dtype")


def test_without_cuda_the_full_grid_is_refused_in_one_line(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also on a GPU machine
    assert _load().main(["--shapes", "4096x4096x50"]) == 2
    err = capsys.readouterr().err
    assert "no CUDA device" in err and err.count("\n") == 1
