"""Results out: stored measurements, trials and trained models as pandas DataFrames.

    from harness.export import frames
    f = frames("sqlite:///runs/harness.db", study="fc-cpu", samples=True)
    f["measurements"], f["samples"], f["trials"], f["models"], f["decision"]
    f["model_configs"]   # only where the selection has whole-model studies

The selection (study, suite, run id) is the report's (harness.report.data.from_store), so the
exported numbers are the ones the report draws. Every frame has flat columns of plain values
(numbers, strings, booleans, empty where absent) so that CSV, Parquet and JSON hold the same
table; the columns are documented in the README ("Results out"). `harness export` writes them
to files (harness.cli.cmd_export).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed (pandas-stubs is not a dependency)

from harness.answers import DECISION, stored_decision
from harness.core import counter_keys as ck
from harness.core.measurement import Measurement

if TYPE_CHECKING:
    from harness.store.api import RunRow, Store, StoredMeasurement

# always; plus "samples" on request and "model_configs" where whole-model studies are selected
FRAMES = ("measurements", "trials", "models", "decision")

POINT_COLUMNS = ("m", "k", "n", "dtype", "device", "format", "backend", "pattern", "rate",
                 "group_size", "block", "nm", "aggregation", "seed", "prune_seed", "point_key",
                 "label")
COUNTER_COLUMNS = (ck.TIMER_TOTAL_ROUNDS, ck.TIMER_DISTURBED_ROUNDS, ck.TIMER_MODE, ck.TIMER_BLOCK)
MEASUREMENT_COLUMNS = (
    "id", "run_id", "study", "suite", *POINT_COLUMNS, "status", "reason", "verified",
    "rel_error", "speedup", "speedup_ci_lo", "speedup_ci_hi", "median_s", "iqr_s", "n_samples",
    "rel_noise", "bytes_total", "flops", "bandwidth_gbs", "peak_fraction", "throttled",
    *COUNTER_COLUMNS, "backend_ran", "baseline_key", "wall_s")
SAMPLE_COLUMNS = ("measurement_id", "i", "seconds")
MODEL_COLUMNS = ("id", "run_id", "kind", "dense", "status", "model", "dataset", "schedule",
                 "pattern", "pruning_rate", "group_size", "block", "nm", "aggregation",
                 "accuracy", "val_accuracy", "loss", "sparsity", "speedup", "measurement_id")
MODEL_CONFIG_COLUMNS = (
    "record_id", "run_id", "suite", "model", "batch", "device", "index", "label", "uniform",
    "trial", "rate", "predicted_s", "predicted_speedup", "on_front", "chosen", "best_uniform",
    "accuracy", "accuracy_before", "drop", "within_budget", "measured_speedup",
    "measured_ci_lo", "measured_ci_hi", "export_predicted_speedup", "verified")
DECISION_COLUMNS = ("decision_id", "run_id", "label", "speedup", "speedup_ci_lo",
                    "speedup_ci_hi", "vs_fastest_dense", "accuracy", "drop", "within", "status",
                    "measurement_id", "recommended", "dense_accuracy", "budget_text")


def frames(storage: str | Store | None = None, *, study: str | None = None,
           suite: str | None = None, run_id: int | None = None,
           samples: bool = False) -> dict[str, pd.DataFrame]:
    """DataFrames of the stored results selected by study, suite and/or run id (none: all).

    `storage` is a database URL (default: $HARNESS_STORAGE, else runs/harness.db) or an open
    Store (left open). Keys: "measurements" (one row per stored measurement), "trials" (one
    row per Optuna trial of the selected studies), "models" (one row per trained model),
    "decision" (the rows of the latest stored recommendation) and, with `samples`, "samples"
    (every raw timing sample, long form: measurement_id, i, seconds).
    """
    if storage is None or isinstance(storage, str):
        from harness.store import open_store

        store = open_store(storage)
        try:
            return _frames(store, study=study, suite=suite, run_id=run_id, samples=samples)
        finally:
            store.close()
    return _frames(storage, study=study, suite=suite, run_id=run_id, samples=samples)


def _frames(store: Store, *, study: str | None, suite: str | None, run_id: int | None,
            samples: bool) -> dict[str, pd.DataFrame]:
    runs = [r for r in store.runs(study=study, suite=suite) if run_id is None or r.id == run_id]
    by_id = {r.id: r for r in runs}
    stored = store.measurements(run_id=run_id, study=study, suite=suite)
    train = _train_records(store, runs, study=study, suite=suite, run_id=run_id)
    out = {
        "measurements": _frame([measurement_row(sm, by_id.get(sm.run_id)) for sm in stored],
                               MEASUREMENT_COLUMNS),
        "trials": _trials(store, runs, study=study, run_id=run_id),
        "models": _frame([model_row(t) for t in train if t.get("kind") != DECISION],
                         MODEL_COLUMNS),
        "decision": _frame(decision_rows(stored_decision(train)), DECISION_COLUMNS),
    }
    configs = [row for rec in store.model_results(run_id=run_id, study=study, suite=suite)
               for row in model_config_rows(rec)]
    if configs:  # a selection with whole-model studies
        out["model_configs"] = _frame(configs, MODEL_CONFIG_COLUMNS)
    if samples:
        out["samples"] = _frame(_sample_rows(stored), SAMPLE_COLUMNS)
    return out


def _train_records(store: Store, runs: Sequence[RunRow], *, study: str | None,
                   suite: str | None, run_id: int | None) -> list[dict[str, Any]]:
    """The training records the report reads for the same selection (from_store's rule)."""
    if suite is not None and run_id is None and study is None:
        return [t for r in runs for t in store.train_results(run_id=r.id)]
    return list(store.train_results(run_id=run_id, study=study))


def _trials(store: Store, runs: Sequence[RunRow], *, study: str | None,
            run_id: int | None) -> pd.DataFrame:
    from harness.tune.export_trials import BASE_COLUMNS, trial_rows  # Optuna stays in tune/

    names = [study] if study is not None else sorted({r.study for r in runs if r.study})
    rows = trial_rows(store, names, run_ids={run_id} if run_id is not None else None)
    return _frame(rows, BASE_COLUMNS)


def measurement_row(sm: StoredMeasurement, run: RunRow | None = None) -> dict[str, Any]:
    """One stored measurement as flat columns (MEASUREMENT_COLUMNS)."""
    m: Measurement = sm.measurement
    p, pr = m.point, m.point.prune
    stats, ci, c = m.stats, m.speedup_ci, m.counters
    return {
        "id": sm.id, "run_id": sm.run_id,
        "study": run.study if run else None, "suite": run.suite if run else None,
        "m": p.m, "k": p.k, "n": p.n, "dtype": p.dtype, "device": p.device,
        "format": p.format, "backend": p.backend, "pattern": pr.pattern, "rate": pr.rate,
        "group_size": pr.group_size, "block": _geometry(pr.block, "x"),
        "nm": _geometry(pr.nm, ":"), "aggregation": pr.aggregation, "seed": p.seed,
        "prune_seed": pr.seed, "point_key": p.key(), "label": p.label(),
        "status": m.status, "reason": m.reason, "verified": m.verified,
        "rel_error": m.rel_error, "speedup": m.speedup,
        "speedup_ci_lo": ci[0] if ci else None, "speedup_ci_hi": ci[1] if ci else None,
        "median_s": stats.median if stats else None, "iqr_s": stats.iqr if stats else None,
        "n_samples": stats.n if stats else len(m.samples_s),
        "rel_noise": stats.rel_noise if stats else None,
        "bytes_total": sum(m.bytes.values()) if m.bytes else None, "flops": m.flops,
        "bandwidth_gbs": m.bandwidth_gbs, "peak_fraction": m.peak_fraction,
        "throttled": m.throttled, **{k: _plain(c.get(k)) for k in COUNTER_COLUMNS},
        "backend_ran": m.provenance.get("backend"), "baseline_key": m.baseline_key,
        "wall_s": m.wall_s,
    }


def _sample_rows(stored: Iterable[StoredMeasurement]) -> list[dict[str, Any]]:
    return [{"measurement_id": sm.id, "i": i, "seconds": s}
            for sm in stored for i, s in enumerate(sm.measurement.samples_s)]


def model_row(rec: Mapping[str, Any]) -> dict[str, Any]:
    """One training record: its scalar fields as they are, lists and mappings as JSON text
    (block and nm as "RxC" / "N:M"); the nested `prune` is dropped (its fields are flat)."""
    row: dict[str, Any] = {}
    for key, value in rec.items():
        if key == "prune":
            continue
        if key in ("block", "nm") and value is not None:
            row[key] = _geometry(value, "x" if key == "block" else ":")
        else:
            row[key] = _plain(value)
    return row


def model_config_rows(rec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per configuration of a stored whole-model study (harness.tune.model_record):
    its prediction, whether the study chose it, its accuracy if trained and, for the exported
    ones, the end-to-end measurement."""
    trained = {t["candidate"]: t for t in (rec.get("accuracy") or {}).get("trained", ())}
    results = {rec.get("chosen"): rec.get("chosen_result"),
               rec.get("best_uniform"): rec.get("uniform_result")}
    front = set(rec.get("front") or ())
    rows = []
    for i, c in enumerate(rec.get("candidates", ())):
        t, r = trained.get(i, {}), results.get(i) or {}
        ci = r.get("measured_ci") or (None, None)
        rows.append({
            "record_id": rec.get("id"), "run_id": rec.get("run_id"), "suite": rec.get("suite"),
            "model": rec.get("model"), "batch": rec.get("batch"), "device": rec.get("device"),
            "index": i, "label": c["label"], "uniform": c["uniform"], "trial": c.get("trial"),
            "rate": c["rate"], "predicted_s": c["time_s"],
            "predicted_speedup": c["predicted_speedup"], "on_front": i in front,
            "chosen": i == rec.get("chosen"), "best_uniform": i == rec.get("best_uniform"),
            "accuracy": t.get("accuracy"), "accuracy_before": t.get("accuracy_before"),
            "drop": t.get("drop"), "within_budget": t.get("within_budget"),
            "measured_speedup": r.get("measured_speedup"), "measured_ci_lo": ci[0],
            "measured_ci_hi": ci[1], "export_predicted_speedup": r.get("predicted_speedup"),
            "verified": r.get("verified")})
    return rows


def decision_rows(decision: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The rows of a stored decision (harness.answers), the recommended one marked."""
    if decision is None:
        return []
    rec = decision.get("recommended") or {}
    return [{"decision_id": decision.get("id"), "run_id": decision.get("run_id"), **_ci(row),
             "recommended": bool(rec) and row.get("label") == rec.get("label"),
             "dense_accuracy": decision.get("dense_accuracy"),
             "budget_text": decision.get("budget_text")}
            for row in decision.get("rows", [])]


def _ci(row: Mapping[str, Any]) -> dict[str, Any]:
    """A decision row with its speedup's CI as two columns, as in the measurements frame."""
    out = {k: v for k, v in row.items() if k != "speedup_ci"}
    ci = row.get("speedup_ci")
    out["speedup_ci_lo"], out["speedup_ci_hi"] = (ci[0], ci[1]) if ci else (None, None)
    return out


INT_COLUMNS = ("id", "run_id", "measurement_id", "decision_id", "number", "i", "group_size")


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows as a frame with `columns` first (present even when there are no rows), then any
    other keys the rows carry in first-seen order. Id columns stay integers where some rows
    have none (pandas' nullable Int64), so they join across frames and formats."""
    extra = list(dict.fromkeys(k for r in rows for k in r if k not in columns))
    df = pd.DataFrame(rows, columns=[*columns, *extra])
    for col in INT_COLUMNS:
        raw = [r.get(col) for r in rows]
        if col in df.columns and rows and all(
                v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in raw):
            df[col] = pd.array(raw, dtype="Int64")
    return df


# --- files -------------------------------------------------------------------------------------

def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)  # floats as repr: read back exactly (float_precision="round_trip")


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False, engine="pyarrow")


def _write_json(df: pd.DataFrame, path: Path) -> None:
    # stdlib json writes floats exactly (pandas' to_json rounds to at most 15 digits)
    records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
    path.write_text(json.dumps(records, indent=1, default=_json_default, allow_nan=False),
                    encoding="utf-8")


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else str(value)


WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    "csv": _write_csv, "parquet": _write_parquet, "json": _write_json}


def write(tables: Mapping[str, pd.DataFrame], folder: str | Path, fmt: str) -> list[Path]:
    """Write each frame to `folder`/<name>.<fmt> atomically (harness.core.paths); returns the
    paths. JSON files hold a list of row objects."""
    from harness.core.paths import atomic_target

    writer = WRITERS[fmt]
    paths = []
    for name, df in tables.items():
        target = Path(folder) / f"{name}.{fmt}"
        with atomic_target(target) as tmp:
            writer(df, tmp)
        paths.append(target)
    return paths


def _geometry(values: Any, sep: str) -> str:
    return sep.join(str(v) for v in values)


def _plain(value: Any) -> Any:
    """A value a CSV/Parquet cell holds as is: scalars stay, the rest becomes JSON text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return json.dumps(value, sort_keys=True, default=str)
