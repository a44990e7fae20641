"""The trials of stored Optuna studies as rows for `harness.export` (only harness/tune imports
Optuna, so the reading lives here; harness.export imports this module lazily).

One row per trial: the study, its number and state, one `value.<objective>` column per
objective (named as the study's metric names, else `value_0`, `value_1`, …), one
`param.<name>` column per sampled parameter, and the user attributes the tuner sets
(point_key, measurement_id, run_id, reason, reused, new, status, label).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.tune.front import stored_objectives
from harness.tune.objective import base_name
from harness.tune.storage import optuna_storage

if TYPE_CHECKING:
    from harness.store.api import Store

ATTRS = ("point_key", "measurement_id", "run_id", "status", "reason", "reused", "new", "label")
BASE_COLUMNS = ("study", "number", "state", "datetime_start", "datetime_complete",
                "duration_s", *ATTRS)


def trial_rows(store: Store, studies: Sequence[str], *,
               run_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """Rows of the trials of `studies` stored beside `store`'s tables (studies Optuna does not
    hold, e.g. of `bench` runs, give none). With `run_ids`, only trials made by those runs."""
    import optuna

    storage = optuna_storage(store)
    known = set(optuna.study.get_all_study_names(storage=storage))
    rows: list[dict[str, Any]] = []
    for name in studies:
        if name not in known:
            continue
        study = optuna.load_study(study_name=name, storage=storage)
        names, _ = stored_objectives(study)
        for t in study.get_trials(deepcopy=False):
            if run_ids is not None and t.user_attrs.get("run_id") not in run_ids:
                continue
            rows.append(_row(name, t, names))
    return rows


def _row(study: str, t: Any, names: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "study": study, "number": t.number, "state": t.state.name,
        "datetime_start": _iso(t.datetime_start), "datetime_complete": _iso(t.datetime_complete),
        "duration_s": t.duration.total_seconds() if t.duration is not None else None,
    }
    row.update({a: t.user_attrs.get(a) for a in ATTRS})
    values = t.values or [None] * len(names)
    row.update({f"value.{n}": v for n, v in zip(names, values, strict=False)})
    # a narrowed parameter ("format in ['csr']") is exported under the space's name
    row.update({f"param.{base_name(k)}": v for k, v in sorted(t.params.items())})
    return row


def _iso(when: _dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
