"""Provenance: where and how the results were measured; secrets never shown.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, table

_SECRET_KEY = re.compile(r"(pass|secret|token|credential|url|dsn)", re.I)
_URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*):[^@\s]*@")


def redact(key: str, value: object) -> str | None:
    """None for keys that may hold secrets (except `url_redacted`); passwords cut out of URLs."""
    if _SECRET_KEY.search(key) and key != "url_redacted":
        return None
    return _URL_PASSWORD.sub(r"\1:***@", str(value))


def _flatten(d: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for k, v in d.items():
        if isinstance(v, Mapping):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


# the facts a reader checks first, in this order; every other key follows alphabetically
_PROV_FIRST = [
    "device",
    "device_name",
    "device_uuid",
    "compute_capability",
    "driver_version",
    "cuda_version",
    "torch_version",
    "cupy_version",
    "triton_version",
    "cpu_model",
    "threads",
    "git_sha",
    "harness_version",
    "schema_version",
    "hostname",
]


@figure("provenance", 80)
def provenance(data: ReportData) -> Section | None:
    if not data.runs and not data.measurements:
        return None
    values: dict[str, Counter] = defaultdict(Counter)
    for r in data.runs:
        for k, v in _flatten(r.provenance):
            values[k][_stringify(v)] += 1
    for m in data.measurements:
        for k, v in _flatten(m.provenance):
            values[k][_stringify(v)] += 1
    rows = [
        ("report scope", data.scope),
        ("storage", _URL_PASSWORD.sub(r"\1:***@", data.source)),
        ("generated", data.generated_at),
    ]
    rows = [r for r in rows if r[1]]
    for k in sorted(
        values, key=lambda k: (_PROV_FIRST.index(k) if k in _PROV_FIRST else len(_PROV_FIRST), k)
    ):
        shown = [x for x in (redact(k, v) for v in values[k]) if x is not None]
        if shown:
            rows.append((k, "; ".join(sorted(shown)[:6]) + (" …" if len(shown) > 6 else "")))
    if data.runs:
        runs = table(
            ["run", "kind", "suite", "study", "status", "started", "finished"],
            [
                (r.id, r.kind, r.suite, r.study or "", r.status, r.started_at, r.finished_at or "")
                for r in data.runs
            ],
            cls="runs",
        )
    else:
        runs = ""
    return Section(
        "provenance",
        "Provenance",
        table(["key", "value(s)"], rows, cls="prov") + runs,
        "Where and how the results were measured. Storage credentials are never shown.",
    )


def _stringify(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return str(v)
