"""A digest of harness's own source, per package: what lets a stored result say which code made
it (the measuring code for a timing, harness.measure.context; the training code for a trained
model, harness.train.identity). It changes with any commit or uncommitted edit to those files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the `harness` package folder


def source_digest(packages: Iterable[str], base: Path = PACKAGE_ROOT) -> str:
    """SHA-1 (16 hex digits) over the path and bytes of every .py file of `packages` under
    `base`, in a fixed order."""
    h = hashlib.sha1()
    for pkg in packages:
        for path in sorted((base / pkg).rglob("*.py")):
            h.update(path.relative_to(base).as_posix().encode())
            h.update(b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()[:16]
