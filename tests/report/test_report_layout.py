"""Layout of the report's figures: no text overlaps (computed boxes, see report_layout.py),
shared y ranges, confidence-interval bars, distinct legend colours, readable main plots and
papers cited by title."""

from __future__ import annotations

import re

import pytest
from report_layout import problems, svgs, text_boxes
from report_synth import fc_data, fc_measurements, fc_train, measurement

from harness.core.point import Point, PruneSpec
from harness.report import render
from harness.report.figures import build_sections
from harness.report.svg import PALETTE, REFERENCE, colours


def crowded_data():
    """Long names, more series than the palette has colours, three problems, and trained models
    whose points cluster (their labels compete for the same place)."""
    import random

    rng = random.Random(3)
    ms = fc_measurements(fmt="row_group", backend="numba_bundled_kernel_with_a_long_name")
    for g in (3, 5, 6, 7, 12, 24, 48, 96, 128):  # 16 geometries in one panel
        for r in (0.8, 0.9, 0.95):
            p = Point(1024, 8192, 1, "bfloat16", "cpu", "row_group", "numba_bundled_kernel",
                      PruneSpec("row_group", r, g, aggregation="max"))
            ms.append(measurement(p, 0.5 + r * g / 20, rng))
    train = list(fc_train())
    for i, g in enumerate((1, 2, 4, 8, 16, 32, 64)):
        for rate in (0.8, 0.95):
            train.append(dict(train[1 + i], pruning_rate=rate, group_size=g,
                              accuracy=0.96 - 0.001 * i, schedule="admm"))
    return fc_data(measurements=tuple(ms), train=tuple(train))


@pytest.mark.parametrize("make", [fc_data, crowded_data], ids=["fc", "crowded"])
def test_no_text_overlaps_or_leaves_its_svg(make):
    page = render(make())
    found = {i: problems(s) for i, s in enumerate(svgs(page))}
    assert len(found) >= 10
    assert {i: p for i, p in found.items() if p} == {}


def test_the_overlap_check_can_fail():
    two = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 50">'
           '<text x="10" y="20" font-size="12">panel title one</text>'
           '<text x="40" y="22" font-size="12">another</text></svg>')
    assert problems(two) == ["'panel title one' overlaps 'another'"]
    out = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50">'
           '<text x="90" y="20" font-size="12">too long for the box</text></svg>')
    assert problems(out) == ["'too long for the box' leaves the svg"]


def _section(page: str, sid: str) -> str:
    return page.split(f'<section id="{sid}">')[1].split("</section>")[0]


def _y_ticks(svg: str) -> list[str]:
    """Tick labels right-aligned left of the plot: the y axis."""
    _, boxes = text_boxes(svg)
    return [s for s, _ in boxes if s and re.fullmatch(r"[\d.]+[×%]?( mJ)?", s)]


@pytest.mark.parametrize("sid", ["fig3", "pareto", "fig4", "roofline", "energy"])
def test_panels_of_one_figure_share_their_y_range(sid):
    page = render(crowded_data())
    panels = svgs(_section(page, sid))
    assert len(panels) >= 2
    ticks = [re.findall(r'y="([\d.]+)" text-anchor="end" font-size="11" class="tick">([^<]*)<', p)
             for p in panels]
    assert ticks[0] and all(t == ticks[0] for t in ticks)


def test_accuracy_axis_spans_at_least_five_points():
    train = [dict(t) for t in fc_train()[:3]]  # the dense model and two pruned ones
    train[0]["accuracy"], train[1]["accuracy"], train[2]["accuracy"] = 0.975, 0.972, 0.970
    page = render(fc_data(train=tuple(train)))
    for sid in ("fig4", "fig5"):
        fig = svgs(_section(page, sid))[0]
        ticks = [(float(y), float(v)) for y, v in
                 re.findall(r'y="([\d.]+)" text-anchor="end" font-size="11" class="tick">([\d.]+)%<', fig)]
        height = float(re.search(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" '
                                 r'fill="#fff" stroke="#bbb"/>', fig).group(1))
        (y0, v0), (y1, v1) = ticks[0], ticks[-1]
        span = height * (v1 - v0) / (y0 - y1)  # accuracy points over the plot's height
        assert 5.0 - 1e-6 <= span < 8.0, sid


def test_speedups_carry_their_stored_confidence_interval():
    data = fc_data()
    page = render(data)
    timed = [m for m in data.timed if m.speedup_ci]
    assert len(re.findall(r'class="ci( dominated)?"', _section(page, "pareto"))) == len(timed)
    m = timed[0]
    lo, hi = m.speedup_ci
    assert f"95% CI [{lo:.2f}, {hi:.2f}]×" in _section(page, "heatmap")
    assert _section(page, "fig3").count('class="ci"') == len(timed)
    assert _section(page, "fig5").count('class="ci"') == 7  # each trained model's kernel


def _legend_colours(svg: str) -> list[str]:
    leg = svg.split('<g class="legend">')[1].split("</g>")[0]
    return re.findall(r'(?:fill|stroke)="(#[0-9A-Fa-f]{6}|#000000)"', leg.replace('fill="#fff"', ""))


def test_legend_colours_are_distinct_and_never_the_dense_marker():
    page = render(crowded_data())
    for sid in ("fig3", "pareto", "fig5", "fig4"):
        for svg in svgs(_section(page, sid)):
            cols = _legend_colours(svg)
            series = [c for c in cols if c != REFERENCE]
            assert len(set(series)) == len(series), (sid, cols)
            if sid == "fig5":
                assert cols.count(REFERENCE) == 1  # the dense model, drawn as a cross
            else:
                assert REFERENCE not in cols
    many = colours(40)
    assert len(set(many)) == 40 and REFERENCE not in many and many[: len(PALETTE)] == list(PALETTE)


def test_main_plots_scale_to_at_least_560_px():
    page = render(fc_data())
    for sid in ("fig3", "pareto", "fig5", "fig4"):
        sec = _section(page, sid)
        assert '<div class="panels wide">' in sec
        for svg in svgs(sec):
            assert float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1)) >= 560
    assert ".panels.wide svg.plot{width:100%;height:auto}" in page


def test_papers_cited_by_title_and_authors():
    page = render(fc_data())
    cite = "T. Hartenstein, D. Maier, B. Cosenza, B. Juurlink, “Weight Pruning for Deep Neural Networks on GPUs”"
    for sid in ("fig3", "fig4", "fig5"):
        assert cite in _section(page, sid)
    assert ".md" not in " ".join(s.note for s in build_sections(fc_data()))


def test_fig4_panels_only_for_rates_that_compare_group_sizes():
    train = list(fc_train())  # the dense model and every g at 90 %
    train.append(dict(train[1], pruning_rate=0.98, group_size=8, accuracy=0.2))
    page = render(fc_data(train=tuple(train)))
    fig4 = _section(page, "fig4")
    assert len(svgs(fig4)) == 1 and "pruning rate 90%" in fig4
    assert "Rates with one group size (98%) are in Fig. 5." in fig4
    only_one = [dict(train[1], pruning_rate=r) for r in (0.9, 0.98)]  # nothing to compare: keep all
    assert len(svgs(_section(render(fc_data(train=(train[0], *only_one))), "fig4"))) == 2
