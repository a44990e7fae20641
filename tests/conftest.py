"""Test-wide setup.

Without CUDA, Triton kernels run in the interpreter: TRITON_INTERPRET must be set before any
kernel is decorated, so it is set here, before test modules import harness.kernels.
HARNESS_CONTENTION=off: see below.
"""

from __future__ import annotations

import os

import pytest

try:
    import torch

    HAS_CUDA = torch.cuda.is_available()
except Exception:  # pragma: no cover - torch is a hard dependency
    HAS_CUDA = False

if not HAS_CUDA:
    os.environ.setdefault("TRITON_INTERPRET", "1")

# The contention probe would (rightly) flag timings taken while other tests, workers or a busy
# development machine compete for the CPUs; tests of other mechanics must not depend on that.
# The tests of contention itself inject the real probe (tests/measure/test_measure_contention.py).
os.environ.setdefault("HARNESS_CONTENTION", "off")


# HARNESS_REQUIRE_GPU=1 (benchmarks/gpu_session.sh sets it): a `gpu` test without CUDA fails
# instead of skipping, so a GPU job whose CUDA went missing cannot pass by skipping everything.
REQUIRE_GPU = os.environ.get("HARNESS_REQUIRE_GPU", "") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    if HAS_CUDA or REQUIRE_GPU:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_setup(item):
    if REQUIRE_GPU and not HAS_CUDA and "gpu" in item.keywords:
        pytest.fail("HARNESS_REQUIRE_GPU=1 but torch sees no CUDA device", pytrace=False)


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """A suite's `threads:` sets torch's thread count for the whole process: every test gets
    back the count it started with."""
    n = torch.get_num_threads()
    yield
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
