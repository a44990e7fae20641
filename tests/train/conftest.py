"""Fixtures of the training tests: one torch thread (tiny models run fastest single-threaded on a
shared CPU), a private model cache, and small seeded data."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _train_env(tmp_path, monkeypatch):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "models"))
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_data():
    from harness.train.data import load_dataset

    return load_dataset("synthetic", seed=0, options={"n": 400, "features": 16, "n_classes": 4})
