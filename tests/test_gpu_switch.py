"""The test suite's GPU switch: with HARNESS_REQUIRE_GPU=1 and no CUDA, `gpu` tests fail instead of
skipping (a GPU job cannot pass by skipping everything); without it they skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

GPU_TEST = """\
import pytest


@pytest.mark.gpu
def test_needs_a_gpu():
    import torch

    assert torch.cuda.is_available()
"""


def _run(tmp_path: Path, require: str | None) -> tuple[int, str]:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_g.py").write_text(GPU_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    gpu: needs CUDA\n")
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_REQUIRE_GPU"}
    if require is not None:
        env["HARNESS_REQUIRE_GPU"] = require
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--strict-markers", str(tmp_path)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    return out.returncode, out.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="the switch matters where CUDA is absent")
def test_required_gpu_tests_fail_without_cuda(tmp_path):
    rc, out = _run(tmp_path, "1")
    assert rc == 1 and "1 error" in out and "HARNESS_REQUIRE_GPU=1" in out, out


@pytest.mark.skipif(torch.cuda.is_available(), reason="the switch matters where CUDA is absent")
def test_gpu_tests_skip_without_the_switch(tmp_path):
    for require in (None, "0"):
        rc, out = _run(tmp_path, require)
        assert rc == 0 and "1 skipped" in out, out


@pytest.mark.gpu
def test_required_gpu_tests_run_on_a_gpu(tmp_path):
    rc, out = _run(tmp_path, "1")
    assert rc == 0 and "1 passed" in out, out
