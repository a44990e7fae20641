"""Whole-model studies (`harness tune` on a model suite): the model's front of predicted speedup
against model pruning rate, the exported configurations measured end to end beside their
predictions, the per-layer table and the uniform baselines — each drawn from the stored record
(harness.tune.model_record), one section per study record, never recomputed here.

Per-layer choices and measured layer speedups follow the whole-model step of Hartenstein et al.
(their Fig. 5 at model level); masks alone bring no speed (Ou Yang's survey), so every exported
configuration runs real sparse kernels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.answers import speedup_text
from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid, table
from harness.report.figures.lines import HEIGHT, WIDTH, framed_plot
from harness.report.figures.papers import HARTENSTEIN, OUYANG
from harness.tune.model_record import SLOWER

Record = Mapping[str, Any]
PER_LAYER, UNIFORM, MEASURED = "#0072B2", "#E69F00", "#009E73"


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}×"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1e3:.3g} ms"


def _measured(r: Mapping[str, Any]) -> str:
    """An exported model's measured speedup with its 95 % CI: "13.99× [13.61, 14.14]"."""
    return speedup_text({"speedup": r.get("measured_speedup"), "speedup_ci": r.get("measured_ci")},
                        times="×")


def latest(records: Sequence[Record]) -> list[Record]:
    """The latest record of each model suite, in the order the suites first appear."""
    return list({str(rec.get("suite")): rec for rec in records}.values())


def _cand(rec: Record, i: int | None) -> Mapping[str, Any] | None:
    return None if i is None else rec["candidates"][i]


def front_plot(rec: Record) -> str:
    """Every candidate at (model pruning rate, predicted model speedup): per-layer and uniform
    ones apart, the front filled, the exported ones' measured speedups with their CI."""
    cands = rec["candidates"]
    front = set(rec.get("front") or ())
    outcomes = [(rec.get("chosen"), rec.get("chosen_result")),
                (rec.get("best_uniform"), rec.get("uniform_result"))]
    measured = [(cands[i], r) for i, r in outcomes
                if i is not None and r and r.get("measured_speedup") is not None]
    ys = [c["predicted_speedup"] for c in cands] + [1.0]
    for _, r in measured:
        ys += [r["measured_speedup"], *(r.get("measured_ci") or ())]
    frame = svg.Frame.make(svg.padded([c["rate"] for c in cands] + [0.0], pad=0.04),
                           svg.padded(ys, pad=0.08), width=WIDTH, height=HEIGHT)
    body = [svg.axes(frame, xlabel="model pruning rate", ylabel="model speedup over dense",
                     xfmt=lambda v: f"{v:.0%}", yfmt=lambda v: f"{v:g}×")]
    x0, _, x1, _ = frame.box
    body.append(svg.line(x0, frame.y(1.0), x1, frame.y(1.0), color="#c0392b", dash="5 4",
                         cls="ref-line"))
    # dominated first, so front points are drawn on top
    for i in sorted(range(len(cands)), key=lambda i: i in front):
        c = cands[i]
        on = i in front
        color = UNIFORM if c["uniform"] else PER_LAYER
        tip = (("front\n" if on else "") + f"{c['label']}\nmodel pruning {c['rate']:.1%}\n"
               f"predicted {c['predicted_speedup']:.2f}× ({_ms(c['time_s'])})")
        body.append(svg.marker(frame.x(c["rate"]), frame.y(c["predicted_speedup"]), color=color,
                               r=5 if on else 3.5, hollow=not on, tip=tip,
                               cls="pt front" if on else "pt dominated",
                               shape="square" if c["uniform"] else "circle"))
    for c, r in measured:
        ci = r.get("measured_ci")
        if ci:
            body.append(svg.errorbar(frame, c["rate"], ci[0], ci[1], color=MEASURED))
        tip = (f"measured end to end: {c['label']}\n{_measured(r)}"
               + f", predicted {_x(r.get('predicted_speedup'))}")
        body.append(svg.marker(frame.x(c["rate"]), frame.y(r["measured_speedup"]),
                               color=MEASURED, r=5, tip=tip, cls="pt measured", shape="cross"))
    items = [("per-layer configuration (predicted)", PER_LAYER),
             ("uniform configuration (predicted)", UNIFORM)]
    if measured:
        items.append(("exported, measured end to end (95% CI)", MEASURED))
    return framed_plot(frame, body, items, cls="plot model-front", label="model speedup vs rate",
                       shapes={items[1][0]: "square", **({items[2][0]: "cross"} if measured
                                                         else {})})


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}"


def outcome_rows(rec: Record) -> list[Sequence[object]]:
    """The exported configurations: measured end to end beside the search's prediction (from
    the study's kernel measurements) and the export run's (from its own layer timings)."""
    rows: list[Sequence[object]] = []
    first = "fastest at the target rate" + (" within the accuracy budget"
                                            if rec.get("accuracy") else "")
    for title, key, result in ((first, "chosen", "chosen_result"),
                               ("best uniform", "best_uniform", "uniform_result")):
        i = rec.get(key)
        c, r = _cand(rec, i), rec.get(result)
        if c is None or (key == "best_uniform" and i == rec.get("chosen")):
            continue  # the best uniform one is the fastest: one row says it
        if r is None:
            rows.append((title, c["label"], _pct(c["rate"]), _x(c["predicted_speedup"]),
                         "not exported", "", "", "", ""))
            continue
        if not r.get("verified"):
            rows.append((title, c["label"], _pct(r.get("pruning_rate")),
                         _x(c["predicted_speedup"]), "export NOT verified", "", "", "", ""))
            continue
        measured = r.get("measured_speedup")
        rows.append((title, c["label"], _pct(r.get("pruning_rate")),
                     _x(c["predicted_speedup"]),
                     _measured(r),
                     _ratio(measured, c["predicted_speedup"]),
                     _x(r.get("predicted_speedup")), _ratio(measured, r.get("predicted_speedup")),
                     r.get("contended") or ""))
    return rows


def accuracy_rows(rec: Record) -> list[Sequence[object]]:
    """The accuracy stage's trained configurations, fastest first (predicted by the search)."""
    stage = rec.get("accuracy") or {}
    rows: list[Sequence[object]] = []
    for t in sorted(stage.get("trained", ()),
                    key=lambda t: rec["candidates"][t["candidate"]]["time_s"]):
        c = rec["candidates"][t["candidate"]]
        rows.append((c["label"], _pct(c["rate"]), _x(c["predicted_speedup"]),
                     f"{t['accuracy']:.4f}", f"{t['accuracy_before']:.4f}",
                     f"{-t['drop'] * 100:+.2f} points", "yes" if t["within_budget"] else "no"))
    return rows


def _accuracy_of(rec: Record, i: int | None) -> Mapping[str, Any] | None:
    stage = rec.get("accuracy") or {}
    return next((t for t in stage.get("trained", ()) if t["candidate"] == i), None)


def layer_rows(rec: Record) -> list[Sequence[object]]:
    """The chosen configuration's layers as exported and timed (else the dense shares)."""
    r = rec.get("chosen_result") or {}
    if r.get("layers"):
        rows: list[Sequence[object]] = [
            (t["name"], "×".join(map(str, t["shape"])), _pct(t["share"]), t["choice"],
             _ms(t["dense_s"]), _ms(t["sparse_s"]),
             _x(t["dense_s"] / t["sparse_s"] if t["sparse_s"] else None)) for t in r["layers"]]
        if r.get("rest_s") is not None and r.get("dense_model_s"):
            rows.append(("(rest of the model)", "", _pct(r["rest_s"] / r["dense_model_s"]), "",
                         _ms(r["rest_s"]), "", ""))
        return rows
    return [(t["name"], "×".join(map(str, t["shape"])), _pct(t["share"]), "not exported",
             _ms(t["dense_s"]), "", "") for t in rec.get("layers", ())]


def uniform_rows(rec: Record) -> list[Sequence[object]]:
    """Per uniform rate: the fastest uniform option and the fastest per-layer configuration at
    an equal model rate, as the study compared them."""
    rows: list[Sequence[object]] = []
    for e in rec.get("equal_rates", ()):
        u, p = _cand(rec, e["uniform"]), _cand(rec, e.get("per_layer"))
        ratio = e.get("time_ratio")
        rows.append((_pct(e["rate"]), u["label"] if u else "",
                     _x(u["predicted_speedup"] if u else None),
                     p["label"] if p else "none found", _pct(p["rate"] if p else None),
                     _x(p["predicted_speedup"] if p else None),
                     "-" if ratio is None else f"{ratio:.2f}"))
    return rows


def _accuracy_part(rec: Record) -> list[str]:
    stage = rec.get("accuracy")
    if not stage:
        return []
    return [f"<h3>Accuracy after fine-tuning ({svg.esc(stage['dataset'])}; dense "
            f"{stage['dense_accuracy']:.4f}; budget: {svg.esc(stage['budget'])})</h3>",
            table(("configuration", "model pruning", "predicted speedup", "accuracy",
                   "before fine-tuning", "vs dense", "within budget"), accuracy_rows(rec))]


def model_section(rec: Record, n: int) -> Section:
    head = (f"{rec['model']} at batch {rec['batch']} on {rec['device']}: dense model "
            f"{_ms(rec['dense_model_s'])}, {len(rec['candidates'])} configurations "
            f"({rec.get('trials')} trials of the per-layer search and every uniform one); target "
            f"model pruning rate {rec['target_rate']:.0%}.")
    parts = [f"<p>{svg.esc(head)}</p>", grid([front_plot(rec)], wide=True),
             "<h3>Exported and measured end to end</h3>",
             table(("configuration", "choice", "model pruning", "predicted (search)",
                    "measured [95% CI]", "measured / predicted (search)",
                    "predicted (export run)", "measured / predicted (export run)",
                    "contended"), outcome_rows(rec)),
             *_accuracy_part(rec),
             "<h3>Per layer (the exported configuration)</h3>",
             table(("layer", "shape M×K×N", "share of dense time", "configuration",
                    "dense", "exported", "layer speedup"), layer_rows(rec)),
             "<h3>Uniform baselines and per-layer choices at an equal model rate</h3>",
             table(("uniform rate", "fastest uniform", "predicted", "fastest per-layer",
                    "its rate", "predicted", "model time per-layer / uniform"),
                   uniform_rows(rec))]
    if rec.get("contended"):
        parts.append(f"<p class=\"note\">disturbed layer timings (the probe's verdicts): "
                     f"{svg.esc('; '.join(rec['contended'][:8]))}</p>")
    if rec.get("failures"):
        parts.append(f"<p class=\"note\">could not run: "
                     f"{svg.esc('; '.join(rec['failures'][:8]))}</p>")
    return Section(f"model-{n}", f"Whole model: {rec['suite']}", "".join(parts),
                   "Predicted = dense model time over (the model's rest + each layer's time as "
                   "exported: its kernel with the backend wrapper, input copy and a conv's "
                   "unfolding): by the search from its per-(shape, choice) layer timings, and "
                   "again by the export run from its own; measured = the exported model "
                   "(real sparse kernels, verified against the masked dense model) timed against "
                   "the dense model, interleaved in the export run. "
                   + HARTENSTEIN.cite("Fig. 5, at model level") + "; masks alone bring no "
                   "speed: " + OUYANG.cite() + ".")


def headline(rec: Record) -> tuple[str, str] | None:
    """The header's line for a model study: its exported configuration, measured end to end."""
    c, r = _cand(rec, rec.get("chosen")), rec.get("chosen_result")
    stage = rec.get("accuracy")
    if c is None:
        return (f"{rec['suite']}: model pruning ≥ {rec['target_rate']:.0%}",
                "no configuration reaches it" if not stage else
                f"none within the accuracy budget ({stage['budget']})")
    if not r or not r.get("verified") or r.get("measured_speedup") is None:
        return (f"{rec['suite']}: fastest at ≥ {rec['target_rate']:.0%} (not measured end to end)",
                f"predicted {_x(c['predicted_speedup'])} · {c['label']}")
    if r.get("pays_off") == SLOWER:  # the study's verdict (harness.tune.model.pays_off)
        return (f"{rec['suite']}: fastest at ≥ {rec['target_rate']:.0%} is slower than dense "
                f"(measured end to end)", f"{_x(r['measured_speedup'])} · {c['label']}: "
                f"serve this model dense")
    acc = _accuracy_of(rec, rec.get("chosen"))
    return (f"{rec['suite']}: fastest at ≥ {rec['target_rate']:.0%}"
            + (" within the accuracy budget" if stage else "") + ", measured end to end",
            f"{_measured(r)} · {c['label']} · predicted {_x(c['predicted_speedup'])}"
            + ("" if acc is None else f" · accuracy {acc['accuracy']:.4f} "
               f"({-acc['drop'] * 100:+.2f} points)"))


@figure("models", 5)
def models(data: ReportData) -> Section | None:
    """The latest record of each model suite in the selection, as one section."""
    secs = [model_section(rec, i) for i, rec in enumerate(latest(data.models))]
    if not secs:
        return None
    if len(secs) == 1:
        return secs[0]
    return Section("models", "Whole models",
                   "".join(f"<h3>{svg.esc(s.title)}</h3>{s.html}" for s in secs), secs[0].note)


__all__ = ["accuracy_rows", "front_plot", "headline", "latest", "layer_rows", "model_section", "outcome_rows", "uniform_rows"]
