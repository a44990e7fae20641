"""Identity of a measurement context: when may one stored measurement stand for another?

Two measurements may be reused for each other only if everything that can change a timing is the
same: the suite's measure settings, the device (name, not just 'cuda'), thread count, library
versions, the harness version — and the measuring code itself. The code is identified by a digest
of the source of the packages that prepare, run, verify and time a point (`MEASURING_CODE`): it
changes with every commit that touches them and with uncommitted edits in a checkout, and is the
same for an installed wheel of the same code. The git commit (provenance `git_sha`) is recorded
beside it. The point itself is keyed separately (`Point.key()`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from harness.core.digest import source_digest

# packages whose code decides what a stored timing means
MEASURING_CODE = ("core", "measure", "backends", "kernels", "formats", "pruning")

# provenance fields that can change a timing (the git SHA cannot by itself; versions can)
TIMING_FIELDS = ("device_name", "device_uuid", "cpu_model", "threads", "driver_version",
                 "cuda_version", "torch_version", "triton_version", "cupy_version",
                 "scipy_version", "numba_version", "harness_version", "schema_version")
CODE_FIELD = "measuring_code"


@functools.cache
def code_digest(root: str | None = None) -> str:
    """SHA-1 (16 hex digits) over the path and bytes of every .py file of MEASURING_CODE."""
    return source_digest(MEASURING_CODE, Path(root)) if root else source_digest(MEASURING_CODE)


def _plain(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return _plain(asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def context_key(measure_settings: Any, device: str, provenance: Mapping[str, Any], *,
                code: bool = True) -> str:
    """The reuse key. `code=False` leaves the measuring code out (the behaviour before it was
    part of the key: stored timings stay reusable across harness changes of the same version)."""
    fields = TIMING_FIELDS + ((CODE_FIELD,) if code else ())
    blob = {
        "measure": _plain(measure_settings),
        "device": device,
        "provenance": {k: provenance.get(k) for k in fields},
    }
    text = json.dumps(blob, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]
