from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_synth import EVIL, PROVENANCE, evil_data, fc_data, fc_measurements

from harness.core.measurement import Measurement
from harness.core.point import Point, PruneSpec
from harness.report import ReportData, render, write
from harness.report.figures import FIGURES, break_even, build_sections, geometry, redact
from harness.report.svg import Scale, nice_ticks


class Tags(HTMLParser):
    """Collects start tags with their attributes (how a browser would tokenise the page)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict]]:
    p = Tags()
    p.feed(page)
    return p.tags


def test_full_report_has_every_figure():
    page = render(fc_data())
    for sec in (
        "fig3",
        "heatmap",
        "pareto",
        "fig5",
        "fig4",
        "roofline",
        "energy",
        "best",
        "provenance",
    ):
        assert f'<section id="{sec}">' in page, sec
    assert page.count('class="plot fig3"') == 2  # one panel per (format, backend, shape, dtype)
    assert "break-even 1×" in page
    assert 'data-toggle="hide-dominated"' in page


def test_every_svg_is_well_formed_xml():
    page = render(fc_data())
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    assert len(svgs) >= 10
    for s in svgs:
        ET.fromstring(s)  # raises on broken markup


def test_no_external_resources_and_strict_csp():
    page = render(fc_data())
    for tag, attrs in tags_of(page):
        for name, value in attrs.items():
            if name in ("src", "href") and value:
                assert value.startswith(("#", "data:")), (tag, name, value)
    csp = [
        a["content"] for t, a in tags_of(page) if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(csp) == 1 and "default-src 'none'" in csp[0] and "script-src 'sha256-" in csp[0]
    assert not re.search(r"https?://", page.replace("http://www.w3.org/2000/svg", ""))


def test_render_is_deterministic_and_write_creates_index(tmp_path):
    data = fc_data()
    assert render(data) == render(data)
    path = write(data, tmp_path / "reports" / "fc")
    assert path == tmp_path / "reports" / "fc" / "index.html"
    assert path.read_text(encoding="utf-8") == render(data)


def test_strings_from_suite_and_store_are_escaped():
    page = render(evil_data())
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    scripts = [t for t, _ in tags_of(page) if t == "script"]
    assert len(scripts) == 1  # only the report's own script
    assert not any(k.startswith("on") for _, attrs in tags_of(page) for k in attrs)


def test_passwords_never_shown():
    page = render(fc_data(source="postgresql://bench:***@db/harness"))
    assert "hunter2" not in page  # PROVENANCE carries a storage URL with a password
    assert PROVENANCE["device"] in page
    assert redact("storage_url", "x") is None
    assert redact("note", "see postgresql://u:pw@host/db") == "see postgresql://u:***@host/db"


def test_empty_data_renders_clear_page():
    page = render(ReportData(title="nothing here", scope="study nope"))
    assert "No measurements" in page
    assert "<svg" not in page


def test_only_failed_measurements_lists_reasons():
    bad = [m for m in fc_measurements() if m.status != "ok"]
    page = render(ReportData(title="t", measurements=tuple(bad)))
    assert "Not timed: 1 invalid, 1 unsupported" in page
    assert "cusparselt does not support dtype float32" in page
    assert "No verified configuration with a speedup" in page
    assert '<section id="fig3">' not in page


def test_missing_counters_give_notes():
    plain = [
        Measurement(**{**m.__dict__, "counters": {}, "peak_fraction": None})
        for m in fc_measurements()
        if m.status == "ok"
    ]
    page = render(ReportData(title="t", measurements=tuple(plain)))
    assert "No energy was measured" in page
    assert "No measurement recorded a roofline fraction" in page


def test_training_figures_only_with_training_results():
    sections = {s.id for s in build_sections(fc_data(train=()))}
    assert "fig5" not in sections and "fig4" not in sections and "fig3" in sections
    sections = {s.id for s in build_sections(fc_data())}
    assert {"fig4", "fig5"} <= sections


def test_every_figure_survives_empty_data():
    for _, fig in FIGURES.items():
        assert fig.build(ReportData(title="t")) is None


def test_fig5_joins_kernel_speedup_and_marks_dense():
    page = render(fc_data())
    fig5 = page.split('<section id="fig5">')[1].split("</section>")[0]
    assert fig5.count('class="pt dense"') == 1
    # each pruned model at 90% gets the csr/triton best kernel speedup at rate 0.9
    assert len(re.findall(r"kernel speedup \d", fig5)) == 1 + 7


@pytest.mark.parametrize(
    ("pts", "expected"),
    [
        ([(0.8, 0.5, 1), (0.9, 0.9, 1), (0.95, 1.1, 1)], 0.9 + 0.1 / 0.2 * 0.05),
        ([(0.8, 1.2, 1), (0.9, 1.5, 1)], 0.8),
        ([(0.8, 0.5, 1), (0.9, 0.7, 1)], None),
        ([(0.8, 1.2, 1), (0.9, 0.9, 1), (0.95, 1.0, 1)], 0.95),
    ],
)
def test_break_even(pts, expected):
    got = break_even(pts)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_geometry_labels_sort_by_size():
    pts = [Point(8, 8, 8, prune=PruneSpec("row_group", 0.5, g)) for g in (32, 1, 4)]
    labels = [geometry(p)[1] for p in sorted(pts, key=lambda p: geometry(p)[0])]
    assert labels == ["g=1", "g=4", "g=32"]
    assert geometry(Point(8, 8, 8, prune=PruneSpec("block", 0.5, block=(4, 2))))[1] == "block 4x2"
    assert geometry(Point(8, 8, 8, prune=PruneSpec("nm", 0.5, nm=(2, 4))))[1] == "2:4"


def test_ticks_and_scales():
    assert nice_ticks(0.8, 0.98, 5) == pytest.approx([0.8, 0.85, 0.9, 0.95])
    s = Scale(0.1, 10, 0, 100, log=True)
    assert s(1.0) == pytest.approx(50)
    assert 1.0 in s.ticks()


@st.composite
def random_results(draw):
    ms = []
    for _ in range(draw(st.integers(0, 12))):
        p = Point(
            draw(st.sampled_from([64, 4096])),
            64,
            8,
            draw(st.sampled_from(["float32", "float16"])),
            "cpu",
            draw(st.sampled_from(["csr", "bsr", "dense"])),
            "torch",
            PruneSpec(
                draw(st.sampled_from(["row_group", "block", "nm", "unstructured"])),
                draw(st.sampled_from([0.0, 0.5, 0.9, 0.99])),
                draw(st.sampled_from([1, 8, 64])),
            ),
        )
        status = draw(st.sampled_from(["ok", "ok", "invalid", "unsupported", "error"]))
        speedup = (
            draw(st.one_of(st.none(), st.floats(1e-3, 1e3), st.just(float("nan"))))
            if status == "ok"
            else None
        )
        extra = {}
        if status == "ok" and draw(st.booleans()):
            extra = {
                "peak_fraction": draw(st.floats(0, 1.5)),
                "counters": {"nvml.energy_j_per_call": 1e-3},
            }
        ms.append(
            Measurement(
                point=p,
                status=status,
                speedup=speedup,
                verified=status == "ok",
                reason="r" if status != "ok" else "",
                **extra,
            )
        )
    train = [
        {
            "accuracy": draw(st.floats(0, 1)),
            "pattern": "row_group",
            "group_size": g,
            "pruning_rate": draw(st.sampled_from([0.5, 0.9])),
            "dense": g == 0,
        }
        for g in draw(st.lists(st.sampled_from([0, 1, 8, 64]), max_size=5))
    ]
    return ReportData(title="t", measurements=tuple(ms), train=tuple(train))


@settings(max_examples=30, deadline=None)
@given(random_results())
def test_any_results_render_to_well_formed_svg(data):
    page = render(data)
    assert page.startswith("<!DOCTYPE html>") and page.count("<script") == 1
    for s in re.findall(r"<svg .*?</svg>", page, flags=re.S):
        assert "nan" not in s.lower().replace("nanos", "")
        ET.fromstring(s)


def test_answer_table_shows_the_fastest_dense_dtype_like_the_terminal():
    from harness.answers import columns
    from harness.report.figures.best import best

    base = {"kind": "decision", "budget_text": "at most 1 point below dense",
            "dense_accuracy": 0.97, "why_none": None,
            "rows": [{"label": "row_group g=8 at 90%", "speedup": 2.5, "accuracy": 0.965,
                      "drop": 0.005, "within": True, "vs_fastest_dense": 0.66}]}
    base["recommended"] = base["rows"][0]
    plain = best(fc_data(decision=base)).html
    assert "speedup vs dense" not in plain and "alternative without pruning" not in plain
    alt = dict(base, dense_alternative={"dtype": "bfloat16", "speedup": 3.8})
    html = best(fc_data(decision=alt)).html
    assert columns(alt)[-1] == "speedup vs dense bf16"
    assert "<th>speedup vs dense bf16</th>" in html and "<td>0.66×</td>" in html
    assert "Alternative without pruning: the dense product in bf16 is 3.80×" in html
    assert "it is faster than the recommendation" in html
    head = render(fc_data(decision=alt)).split("</header>")[0]
    assert "no pruning: dense bfloat16 (accuracy not checked)" in head
    assert "3.80× over the same-dtype dense" in head
