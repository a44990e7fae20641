"""Resource guard: problems too large for the limit or the machine are refused up front."""

from __future__ import annotations

import pytest

from harness.cli.main import main
from harness.config import resources

SUITE = """\
name: big
space: {{shape: {shape}, pruning_rate: [0.5], format: csr}}
dtype: {dtype}
"""


def test_estimate_counts_operands_outputs_and_the_float64_reference():
    m, k, n = 10, 20, 3
    assert resources.problem_bytes(m, k, n, "float32") == \
        4 * (2 * 200 + 60 + 2 * 30) + 4 * 200 + 8 * (200 + 60 + 30)
    assert resources.problem_bytes(m, k, n, "float16") < resources.problem_bytes(m, k, n,
                                                                                  "float32")


@pytest.mark.parametrize(("shape", "dtype"), [
    ("[100000, 100000, 100000]", "float32"),
    ("[30000, 30000, 8]", "float32"),
    ("[[8, 8, 8], [30000, 30000, 8]]", "float16"),
])
def test_huge_shapes_are_refused_with_one_line(tmp_path, monkeypatch, capsys, shape, dtype):
    monkeypatch.setenv(resources.ENV_LIMIT, str(2**30))
    (tmp_path / "s.yaml").write_text(SUITE.format(shape=shape, dtype=dtype))
    assert main(["check", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "space.shape" in err and f"in {dtype} needs about" in err
    assert f"expected at most 1 GiB ({resources.ENV_LIMIT}=1073741824)" in err


def test_a_small_problem_passes_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv(resources.ENV_LIMIT, "1e9")
    (tmp_path / "s.yaml").write_text(SUITE.format(shape="[64, 96, 8]", dtype="float32"))
    assert main(["check", str(tmp_path / "s.yaml")]) == 0


def test_the_host_memory_is_a_limit_too(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(resources.ENV_LIMIT, raising=False)
    monkeypatch.setattr(resources, "host_available", lambda: 10 * 2**20)
    (tmp_path / "s.yaml").write_text(SUITE.format(shape="[1024, 1024, 8]", dtype="float32"))
    assert main(["check", str(tmp_path / "s.yaml")]) == 2
    assert "expected at most 10 MiB (the memory available on this machine)" in \
        capsys.readouterr().err


def test_a_bad_limit_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(resources.ENV_LIMIT, "lots")
    (tmp_path / "s.yaml").write_text(SUITE.format(shape="[8, 8, 8]", dtype="float32"))
    assert main(["check", str(tmp_path / "s.yaml")]) == 2
    assert f"{resources.ENV_LIMIT}: expected a positive number of bytes, got 'lots'" in \
        capsys.readouterr().err


def test_cuda_free_memory_is_checked(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (2**30, 2**34))
    assert resources.device_problem("cpu", [(10**5,) * 3], ["float32"]) is None
    assert resources.device_problem("cuda", [(64, 64, 8)], ["float32"]) is None
    why = resources.device_problem("cuda:0", [(64, 64, 8), (30000, 30000, 8)], ["float16"])
    assert why == ("problem [30000, 30000, 8] in float16 needs about 13.4 GiB; expected at most "
                   "the 1 GiB free on cuda:0")
