"""Shared fixtures of the model tests: a user's own package of model factories on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def make_user_package(tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], str]]:
    """make(name, source) → "name.nets": a package `name` whose module `nets` holds `source`,
    importable for the test and forgotten by sys.modules afterwards."""
    names: list[str] = []

    def make(name: str, source: str) -> str:
        pkg = tmp_path / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "nets.py").write_text(source)
        monkeypatch.syspath_prepend(str(tmp_path))
        names.append(name)
        return f"{name}.nets"

    yield make
    for mod in [m for m in sys.modules if m.split(".")[0] in names]:
        del sys.modules[mod]
