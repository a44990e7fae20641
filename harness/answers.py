"""The answer a user acts on: the fastest configuration whose trained accuracy is within budget.

Pure functions of the training stage's records (each trained configuration with the speedup of
its fastest measured kernel joined): `decide` ranks them by speedup, marks each within budget or
not, and recommends the fastest within budget — never a configuration whose accuracy was not
measured, and never one that destroys accuracy. The decision is stored with the run (a training
record of kind "decision"); the terminal and the report draw that stored record, they do not
decide again.

The budget (suite `train:`): `max_accuracy_drop`, the largest drop of test accuracy against the
dense model, as a fraction (0.01 = one point; the seed hartenstein-weight-pruning-gpus.md reports
95.30 % at 90 %, g = 8 against a dense 96 %+ net), and/or `min_accuracy`, an absolute floor.
Both given: both must hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

DECISION = "decision"  # the `kind` of the stored decision record


@dataclass(frozen=True)
class Budget:
    max_drop: float | None = 0.01
    min_accuracy: float | None = None

    def allows(self, accuracy: float, dense: float | None) -> bool:
        if self.min_accuracy is not None and accuracy < self.min_accuracy:
            return False
        if self.max_drop is not None:
            if dense is None:
                return False  # a drop cannot be judged without the dense model
            return dense - accuracy <= self.max_drop + 1e-12
        return True

    def describe(self) -> str:
        parts = []
        if self.max_drop is not None:
            parts.append(f"at most {self.max_drop * 100:.3g} percentage point(s) below dense")
        if self.min_accuracy is not None:
            parts.append(f"accuracy at least {self.min_accuracy:.4g}")
        return " and ".join(parts) or "any accuracy"

    @staticmethod
    def of(spec: Any) -> Budget:
        return Budget(max_drop=getattr(spec, "max_accuracy_drop", 0.01),
                      min_accuracy=getattr(spec, "min_accuracy", None))


@dataclass(frozen=True)
class Row:
    """One configuration of the answer table."""

    label: str
    speedup: float | None
    accuracy: float | None  # None: not trained (or training failed)
    drop: float | None  # dense accuracy − accuracy
    within: bool | None  # None: not trained
    status: str = ""
    measurement_id: int | None = None
    vs_fastest_dense: float | None = None  # speedup over the device's fastest dense dtype
    speedup_ci: tuple[float, float] | None = None  # the linked measurement's 95 % CI


def label(rec: Mapping[str, Any]) -> str:
    if rec.get("dense"):
        return "dense"
    geo = {"row_group": f"g={rec.get('group_size')}",
           "block": "x".join(map(str, rec.get("block") or ())),
           "nm": ":".join(map(str, rec.get("nm") or ()))}.get(str(rec.get("pattern")), "")
    rate = rec.get("pruning_rate")
    rate_s = f"{float(rate):.0%}" if rate is not None else "?"
    return f"{rec.get('pattern')} {geo} at {rate_s}".replace("  ", " ")


def decide(records: Sequence[Mapping[str, Any]], budget: Budget,
           untrained: Sequence[tuple[Any, ...]] = (),
           dense_alt: Mapping[int, tuple[str, float]] | None = None,
           speedup_ci: Mapping[int, tuple[float, float]] | None = None) -> dict[str, Any]:
    """The decision record: every trained configuration (fastest first), the configurations on
    the front that were not trained (`untrained`: label, speedup and optionally the measurement
    id), and the recommendation: the fastest within budget whose kernel beats the dense product
    (speedup > 1).

    `speedup_ci`: per measurement id, the 95 % confidence interval of its speedup; each row
    carries its measurement's, so the table reads "2.29x [2.20, 2.41]".

    `dense_alt`: per measurement id, the fastest cheaper dense dtype timed with that
    measurement's problem and its speedup over the same-dtype dense
    (`harness.measure.alternatives`): each row is also compared with it, and the decision says
    when that dense product alone beats the recommendation (its accuracy is not checked)."""
    alt = dict(dense_alt or {})
    cis: dict[Any, tuple[float, float]] = {k: (float(v[0]), float(v[1]))
                                           for k, v in (speedup_ci or {}).items() if v}
    dense = next((r for r in records if r.get("dense")), None)
    dense_acc = _num(dense.get("accuracy")) if dense else None
    rows: list[Row] = []
    for rec in records:
        if rec.get("dense") or rec.get("kind") == DECISION:
            continue
        acc = _num(rec.get("accuracy")) if rec.get("status") == "ok" else None
        drop = dense_acc - acc if acc is not None and dense_acc is not None else None
        speedup, mid = _num(rec.get("speedup")), rec.get("measurement_id")
        vs = speedup / alt[mid][1] if speedup is not None and mid in alt else None
        rows.append(Row(label(rec), speedup, acc, drop,
                        None if acc is None else budget.allows(acc, dense_acc),
                        str(rec.get("status") or ""), mid, vs, cis.get(mid)))
    trained = {r.label for r in rows}
    for lab, sp, *more in untrained:
        if lab not in trained:
            mid = more[0] if more else None
            rows.append(Row(lab, sp, None, None, None, "not trained", mid,
                            speedup_ci=cis.get(mid)))
    rows.sort(key=lambda r: -(r.speedup or 0.0))
    within = [r for r in rows if r.within and r.speedup is not None]
    fit = [r for r in within if (r.speedup or 0.0) > 1.0]  # pruning must pay: faster than dense
    best = fit[0] if fit else None
    why = None
    if best is None and within:
        why = ("no configuration within the accuracy budget is faster than the dense model: "
               "keep it dense")
    elif best is None:
        why = ("no trained configuration with a measured kernel is within the accuracy budget "
               f"({budget.describe()})" if rows else "nothing was trained")
    # the cheaper dense product of the recommendation's problem (else of any trained row)
    mids = [r.measurement_id for r in ([best] if best else []) + rows if r.measurement_id in alt]
    fastest = alt[mids[0]] if mids else None
    return {"kind": DECISION, "dense": False, "status": "ok", "budget": asdict(budget),
            "budget_text": budget.describe(), "dense_accuracy": dense_acc,
            "rows": [asdict(r) for r in rows],
            "recommended": asdict(best) if best is not None else None, "why_none": why,
            "dense_alternative": None if fastest is None else
            {"dtype": fastest[0], "speedup": fastest[1]}}


def stored_decision(train: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The latest stored decision among training records."""
    found = [t for t in train if t.get("kind") == DECISION]
    return found[-1] if found else None


COLUMNS = ("speedup", "accuracy", "vs dense", "within budget")


def columns(decision: Mapping[str, Any]) -> tuple[str, ...]:
    """The table's columns: COLUMNS, and the speedup over the fastest dense dtype when one was
    timed (decisions stored before it existed have none)."""
    alt = decision.get("dense_alternative")
    return COLUMNS if not alt else (*COLUMNS, f"speedup vs dense {_short(alt['dtype'])}")


def row_cells(r: Mapping[str, Any], *, times: str = "x", dash: str = "-",
              alt: bool = False) -> list[str]:
    """A stored answer row's columns as text (terminal: "x" and "-"; the report: "×" and "–");
    `alt`: with the speedup over the fastest dense dtype (see `columns`)."""
    cells = [speedup_text(r, times=times, dash=dash),
             "not trained" if r["accuracy"] is None else f"{r['accuracy']:.4f}",
             dash if r["drop"] is None else f"{-r['drop'] * 100:+.2f} pt",
             {True: "yes", False: "no", None: dash}[r["within"]]]
    if alt:
        vs = r.get("vs_fastest_dense")
        cells.append(dash if vs is None else f"{vs:.2f}{times}")
    return cells


def speedup_text(r: Mapping[str, Any], *, times: str = "x", dash: str = "-") -> str:
    """A stored row's speedup with its 95 % CI when the measurement had one:
    "2.29x [2.20, 2.41]" (rows stored before the CI was kept show the speedup alone)."""
    if r.get("speedup") is None:
        return dash
    text = f"{r['speedup']:.2f}{times}"
    ci = r.get("speedup_ci")
    return text + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def alternative_line(decision: Mapping[str, Any], *, times: str = "x") -> str | None:
    """One sentence on the dense product in the fastest cheaper dtype, if one was timed."""
    alt = decision.get("dense_alternative")
    if not alt:
        return None
    rec = decision.get("recommended")
    line = (f"alternative without pruning: the dense product in {_short(alt['dtype'])} is "
            f"{alt['speedup']:.2f}{times} the same-dtype dense (accuracy in "
            f"{_short(alt['dtype'])} not checked)")
    if rec is not None and rec.get("speedup") is not None and rec["speedup"] < alt["speedup"]:
        line += "; it is faster than the recommendation"
    return line


def _short(dtype: str) -> str:
    return {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(dtype, dtype)


def format_answer(decision: Mapping[str, Any], wall_s: float | None = None) -> str:
    """The terminal's closing table, recommendation and wall time (from the stored decision)."""
    alt = bool(decision.get("dense_alternative"))
    head = ["configuration", *columns(decision)]
    body = [[r["label"], *row_cells(r, alt=alt)] for r in decision.get("rows", [])]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(head), line(["-" * w for w in widths]), *map(line, body)]
    dense = decision.get("dense_accuracy")
    out.append(f"accuracy budget: {decision.get('budget_text')}; dense accuracy "
               f"{'n/a' if dense is None else f'{dense:.4f}'}")
    rec = decision.get("recommended")
    if rec is not None:
        out.append(f"recommended: {rec['label']} — {speedup_text(rec)}, accuracy "
                   f"{rec['accuracy']:.4f} ({-rec['drop'] * 100:+.2f} points against dense)")
    else:
        out.append(f"recommended: none — {decision.get('why_none')}")
    other = alternative_line(decision)
    if other is not None:
        out.append(other)
    if wall_s is not None:
        out.append(f"wall time: {wall_s:.0f} s")
    return "\n".join(out)


def _num(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None
