"""benchmarks/cpu_kernels.py in its smoke mode: every variant verified, timed, and written."""

from __future__ import annotations

import json

from benchmark_scripts import load


def test_cpu_kernels_smoke_writes_verified_points(tmp_path, monkeypatch, capsys):
    from harness.measure import roofline

    monkeypatch.setattr(roofline, "measure_peak", lambda device: 2e10)
    monkeypatch.setattr(roofline, "measure_peak_flops", lambda device, dtype: 1e11)
    bench = load("cpu_kernels")
    out = tmp_path / "cpu.json"
    assert bench.main(["--smoke", "--threads", "1", "--reps", "2", "--ns", "1",
                       "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["machine"]["bandwidth_Bps"] == 2e10
    assert data["machine"]["flops"] == {"float32": 1e11, "bfloat16": 1e11}
    points = {(p["rate"], p["g"], p["n"]): p for p in data["points"]}
    assert set(points) == {(0.9, 1, 50), (0.9, 32, 50), (0.9, 32, 1), (0.5, 32, 50)}
    rg = points[(0.9, 32, 50)]["variants"]
    for name in ("dense_fp32", "dense_bf16", "mkl_csr", "numba_csr", "numba_row_group"):
        assert (len(rg[name]["samples_s"]) == 2 and rg[name]["rel_error"] < 1e-4) or \
            name == "dense_bf16"
        assert 0 < rg[name]["roofline_fraction"]
    assert "skipped" in rg["mkl_bsr"] and "skipped" in points[(0.9, 1, 50)]["variants"][
        "numba_row_group"]
    assert "numba.compile_s" in rg["numba_row_group"]
    table = capsys.readouterr().out
    assert "| 256×256·50 | 0.90 | 32 |" in table
    # the targets are read off the same points
    spot = data["targets"]["spot"]
    assert (spot["rate"], spot["g"], spot["n"]) == (0.9, 32, 50)
    assert spot["speedup_vs_dense_fp32"] == rg["numba_row_group"]["speedup_vs_dense_fp32"]
    curve = dict((r, s) for r, s in data["targets"]["breakeven_curve"])
    assert set(curve) == {0.5, 0.9}
    assert isinstance(data["targets"]["row_group_loses_to_a_library_at"], list)
    # the block sweep: bundled BSR and MKL BSR on the same b×b-pruned weight, both verified
    (bp,) = data["block_points"]
    assert bp["block"] == 8 and bp["rate"] == 0.9
    for name in ("mkl_bsr", "numba_bsr"):
        assert len(bp["variants"][name]["samples_s"]) == 2
        assert bp["variants"][name]["rel_error"] < 1e-4
    assert "| 256×256·50 | 0.90 | 8×8 |" in table
