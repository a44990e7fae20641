"""Identity of a tuning run's measurement context and its default study name.

Two measurements may be reused for each other only if everything that can change a timing is the
same: the suite's measure settings, the device (name, not just 'cuda'), thread count, harness and
library versions. The point itself is keyed separately (`Point.key()`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

# provenance fields that can change a timing (the git SHA cannot by itself; versions can)
_TIMING_FIELDS = ("device_name", "device_uuid", "cpu_model", "threads", "driver_version",
                  "cuda_version", "torch_version", "triton_version", "cupy_version",
                  "scipy_version", "harness_version", "schema_version")


def _plain(obj: Any) -> Any:
    if is_dataclass(obj):
        return _plain(asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def context_key(measure_settings: Any, device: str, provenance: Mapping[str, Any]) -> str:
    blob = {
        "measure": _plain(measure_settings),
        "device": device,
        "provenance": {k: provenance.get(k) for k in _TIMING_FIELDS},
    }
    text = json.dumps(blob, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def default_study_name(suite_name: str, device: str) -> str:
    return f"{suite_name}-{device.split(':', 1)[0]}"
