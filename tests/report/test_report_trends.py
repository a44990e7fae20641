"""Trend charts of nightly regression runs: history in ReportData, one chart per point, steps."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from report_synth import EVIL, fc_data

from harness.core.measurement import Measurement, Stats
from harness.core.point import Point, PruneSpec
from harness.report import ReportData, from_store, render
from harness.report.data import HistoryPoint
from harness.report.figures import build_sections
from harness.report.svg import esc
from harness.report.trends import per_run, run_axis

N_RUNS = 10
FIRST_RUN = 101
STEP_AT = 6  # the 7th run starts the slower level
# small deterministic wobble so no series is perfectly flat
WOBBLE = (1.0, 1.008, 0.994, 1.003, 0.997, 1.006, 0.992, 1.004, 0.998, 1.002)


def sha(i: int) -> str:
    return f"{i:x}".rjust(7, "a") + "0" * 33


def stepped(i: int) -> float:
    return 1e-3 * (1.3 if i >= STEP_AT else 1.0) * WOBBLE[i]


def outlier(i: int) -> float:
    return 2e-3 * (1.6 if i == 4 else 1.0) * WOBBLE[(i + 3) % N_RUNS]


def flat(i: int) -> float:
    return 5e-4 * WOBBLE[(i + 5) % N_RUNS]


SERIES = {"stepped": stepped, "outlier": outlier, "flat": flat}


def history(labels: dict[str, str] | None = None, *, missing: tuple = ()) -> tuple:
    """One HistoryPoint per (run, point); `missing` (name, run index) pairs are not timed."""
    labels = labels or {name: f"point {name}" for name in SERIES}
    out = []
    for i in range(N_RUNS):
        for name, fn in SERIES.items():
            gone = (name, i) in missing
            out.append(
                HistoryPoint(
                    run_id=FIRST_RUN + i,
                    started_at=f"2026-11-{i + 1:02d}T02:00:00+00:00",
                    git_sha=sha(i),
                    point_key=f"key-{name}",
                    label=labels[name],
                    median_s=None if gone else fn(i),
                    status="error" if gone else "ok",
                )
            )
    return tuple(out)


def trend_data(**kw) -> ReportData:
    base = dict(title="nightly", history=history(), scope="suite nightly")
    base.update(kw)
    return ReportData(**base)


def trends_section(page: str) -> str:
    assert page.count('<section id="trends">') == 1
    return page.split('<section id="trends">')[1].split("</section>")[0]


def panels(section: str) -> dict[str, str]:
    """aria-label (the point label, unescaped) → that chart's SVG."""
    out = {}
    for chunk in section.split('<svg class="plot trend"')[1:]:
        label = re.search(r'aria-label="([^"]*)"', chunk).group(1)
        out[label] = chunk.split("</svg>")[0]
    return out


class Tips(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.steps: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if "step" in (a.get("class") or "").split():
            self.steps.append(a["data-tip"])


def step_tips(svg_text: str) -> list[str]:
    p = Tips()
    p.feed(svg_text)
    return p.steps


def test_one_chart_per_point_and_the_step_marked_on_its_run_only():
    page = render(fc_data(history=history()))
    sec = trends_section(page)
    charts = panels(sec)
    assert set(charts) == {"point stepped", "point outlier", "point flat"}
    # the point that got slower is shown first
    assert next(iter(charts)) == "point stepped"
    tips = step_tips(charts["point stepped"])
    assert len(tips) == 1
    run = FIRST_RUN + STEP_AT
    assert f"run {run} · {sha(STEP_AT)[:7]} · 2026-11-07" in tips[0]
    assert "step +30%" in tips[0]
    assert f"+30% from run {run} ({sha(STEP_AT)[:7]})" in charts["point stepped"]
    # a single outlier and a flat history are never steps
    assert step_tips(charts["point outlier"]) == [] and step_tips(charts["point flat"]) == []
    assert "step-line" not in charts["point outlier"] + charts["point flat"]
    # every run is a hover point on every chart, x labels carry short SHA and date
    for chart in charts.values():
        assert chart.count("data-tip=") == N_RUNS
        ET.fromstring('<svg class="plot trend"' + chart + "</svg>")  # well-formed XML
        assert sha(0)[:7] in chart and "2026-11-01" in chart
    # the summary table lists exactly the one step
    table = sec.split('<table class="steps">')[1].split("</table>")[0]
    assert table.count("<tr>") == 2 and "point stepped" in table and f">{run}<" in table


def test_trends_section_is_last_and_absent_without_history():
    ids = [s.id for s in build_sections(fc_data(history=history()))]
    assert ids[-1] == "trends"
    assert "trends" not in {s.id for s in build_sections(fc_data())}
    assert '<section id="trends">' not in render(fc_data())


def test_runs_where_a_point_was_not_timed_are_gaps_not_steps():
    data = trend_data(history=history(missing=(("flat", 3), ("stepped", 8))))
    charts = panels(trends_section(render(data)))
    assert charts["point flat"].count('class="pt not-timed"') == 1
    assert "not timed: error" in charts["point flat"]
    # the flat line is broken at the missing run: two polylines
    assert charts["point flat"].count("<polyline") == 2
    tips = step_tips(charts["point stepped"])
    assert len(tips) == 1 and f"run {FIRST_RUN + STEP_AT} " in tips[0]


def test_repeated_measurements_in_a_run_are_combined():
    h = history()
    extra = HistoryPoint(
        FIRST_RUN, h[0].started_at, h[0].git_sha, "key-flat", "point flat", 9.0, "ok"
    )
    cells = per_run([*[x for x in h if x.point_key == "key-flat"], extra])
    assert len(cells) == N_RUNS and cells[FIRST_RUN][0] == (flat(0) + 9.0) / 2
    assert [t.run_id for t in run_axis(h)] == list(range(FIRST_RUN, FIRST_RUN + N_RUNS))


def test_labels_shas_and_dates_are_escaped():
    h = tuple(
        HistoryPoint(
            x.run_id,
            EVIL,
            EVIL,
            x.point_key,
            EVIL if x.point_key == "key-stepped" else x.label,
            x.median_s,
            x.status,
        )
        for x in history()
    )
    page = render(trend_data(history=h, measurements=tuple(fc_data().measurements[:3])))
    sec = trends_section(page)
    assert EVIL not in page and "<script" not in sec
    assert esc(EVIL) in sec
    p = Tips()
    p.feed(page)
    assert p.tags.count("script") == 1  # only the report's own script


# --------------------------------------------------------------------------- with a real store


def point(rate: float) -> Point:
    return Point(256, 256, 8, "float32", "cpu", "csr", "torch", PruneSpec("row_group", rate, 4))


def measured(p: Point, median: float, status: str = "ok") -> Measurement:
    if status != "ok":
        return Measurement(point=p, status=status, reason="boom")
    samples = tuple(median * f for f in (0.99, 1.0, 1.01))
    return Measurement(
        point=p,
        status="ok",
        samples_s=samples,
        stats=Stats(3, median, 0.02 * median, median, 0.01 * median, samples[0], 0.01),
        verified=True,
    )


def test_history_from_a_sqlite_store_in_run_order(tmp_path, capsys):
    from harness.cli.main import main
    from harness.store import open_store

    url = "sqlite:///" + str(tmp_path / "h.db")
    store = open_store(url)
    a, b = point(0.9), point(0.5)
    run_ids = []
    try:
        # a tune run of the same suite and a regress run of another suite stay out of the history
        other = store.begin_run("tune", "nightly", config={}, provenance={"git_sha": "f" * 40})
        store.add_measurement(other, measured(a, 5.0))
        store.end_run(other)
        for i in range(N_RUNS):
            rid = store.begin_run(
                "regress", "nightly", config={}, provenance={"git_sha": sha(i), "threads": 2}
            )
            store.add_measurement(rid, measured(a, stepped(i)))
            store.add_measurement(rid, measured(b, flat(i), "error" if i == 2 else "ok"))
            store.end_run(rid)
            run_ids.append(rid)
        elsewhere = store.begin_run("regress", "weekly", config={}, provenance={})
        store.add_measurement(elsewhere, measured(a, 7.0))
        store.end_run(elsewhere)

        data = from_store(store, suite="nightly")
        single = from_store(store, run_id=run_ids[0])
    finally:
        store.close()

    h = data.history
    assert len(h) == 2 * N_RUNS
    assert [x.run_id for x in h] == [r for r in run_ids for _ in (a, b)]
    assert [x.git_sha for x in h[::2]] == [sha(i) for i in range(N_RUNS)]
    assert [x.point_key for x in h[:2]] == [a.key(), b.key()]
    assert h[0].label == a.label() and h[0].started_at == data.runs[1].started_at
    assert [x.median_s for x in h[::2]] == [stepped(i) for i in range(N_RUNS)]
    assert h[5].status == "error" and h[5].median_s is None
    assert single.history == ()  # one run is no trend
    assert len(data.measurements) == 1 + 2 * N_RUNS  # the rest of the snapshot is as before

    charts = panels(trends_section(render(data)))
    assert set(charts) == {a.label(), b.label()}
    tips = step_tips(charts[a.label()])
    assert len(tips) == 1 and f"run {run_ids[STEP_AT]} · {sha(STEP_AT)[:7]}" in tips[0]
    assert step_tips(charts[b.label()]) == []

    out = tmp_path / "report"
    assert main(["report", "--suite", "nightly", "--storage", url, "-o", str(out)]) == 0
    capsys.readouterr()
    assert '<section id="trends">' in (out / "index.html").read_text()


def _verdict(key: str, verdict: str, ratio: float, confirmed: int = 2):
    from harness.store.api import VerdictRecord

    return VerdictRecord(point_key=key, verdict=verdict, ratio=ratio, p_value=1e-4,
                         normalize="dense", factor=1.02, threshold=1.1,
                         baseline_median_s=1e-3, current_median_s=1.3e-3, n_baseline=10,
                         n_current=10, confirmed=confirmed)


def test_stored_regress_verdicts_are_boxed_on_their_run_and_listed_as_regress_judged_them():
    from harness.store.api import StoredVerdict

    run = FIRST_RUN + STEP_AT
    verdicts = (StoredVerdict(1, run, _verdict("key-stepped", "regression", 1.274)),
                StoredVerdict(2, run, _verdict("key-flat", "unchanged", 1.01)),
                StoredVerdict(3, FIRST_RUN + 2, _verdict("key-outlier", "improvement", 0.8)))
    sec = trends_section(render(fc_data(history=history(), verdicts=verdicts)))
    charts = panels(sec)
    boxed = re.findall(r'class="pt verdict"[^>]*data-tip="([^"]*)"', charts["point stepped"])
    assert len(boxed) == 1 and f"run {run} " in boxed[0]
    assert "regression 1.274x dense-relative" in boxed[0] and "confirmed 2x" in boxed[0]
    assert "pt verdict" not in charts["point flat"]  # an unchanged verdict is not marked
    assert len(re.findall(r'class="pt verdict"', charts["point outlier"])) == 1
    table = sec.split('<table class="verdicts">')[1].split("</table>")[0]
    assert table.count("<tr>") == 3 and "improvement 0.800x" in table
    assert "verdicts" not in trends_section(render(fc_data(history=history())))


def test_verdicts_come_from_the_store_with_the_regress_runs(tmp_path):
    from harness.store import open_store

    store = open_store("sqlite:///" + str(tmp_path / "h.db"))
    try:
        a = point(0.9)
        rids = []
        for i in range(2):
            rid = store.begin_run("regress", "nightly", config={}, provenance={})
            store.add_measurement(rid, measured(a, stepped(i)))
            rids.append(rid)
        store.add_verdict(rids[1], _verdict(a.key(), "regression", 1.3))
        data = from_store(store, suite="nightly")
        single = from_store(store, run_id=rids[1])
    finally:
        store.close()
    assert [(v.run_id, v.record.verdict) for v in data.verdicts] == [(rids[1], "regression")]
    assert single.verdicts == ()  # one run is no trend
