"""Loads rendered reports in a real headless Chromium driven over the DevTools protocol.

Without a Chromium the tests skip, except under CI (env CI=true) where they fail. Set
HARNESS_UPDATE_SCREENSHOT=1 to write docs/report-synthetic.png from the synthetic fc run.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest
from report_cdp import Browser, find_chromium
from report_shots import OVERLAPS_JS
from report_synth import evil_data, fc_data

from harness.report import ReportData, write

CHROMIUM = find_chromium()
DOCS = Path(__file__).resolve().parents[2] / "docs"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required in CI for the report browser test")
        pytest.skip("chromium not installed")
    b = Browser(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    for domain in ("Page", "Runtime", "Network", "Log"):
        b.call(f"{domain}.enable")
    b.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    yield b
    b.close()


def load(b: Browser, path: Path) -> list[dict]:
    """Navigate to `path`; returns the events seen while loading it."""
    b.events.clear()
    b.call("Page.navigate", {"url": path.as_uri()})
    b.wait_for("Page.loadEventFired")
    b.evaluate("new Promise(r => requestAnimationFrame(() => r(1)))")  # let layout settle
    return list(b.events)


def problems(events: list[dict]) -> list[dict]:
    bad = []
    for ev in events:
        m, p = ev["method"], ev.get("params", {})
        if m == "Runtime.exceptionThrown" or m == "Page.javascriptDialogOpening":
            bad.append(ev)
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            bad.append(ev)
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            bad.append(ev)
    return bad


def requests(events: list[dict]) -> list[str]:
    return [
        ev["params"]["request"]["url"]
        for ev in events
        if ev["method"] == "Network.requestWillBeSent"
    ]


def test_report_loads_cleanly_and_hover_shows_configuration(browser, tmp_path):
    index = write(fc_data(), tmp_path / "fc")
    events = load(browser, index)
    assert problems(events) == []
    assert requests(events) == [index.as_uri()]  # nothing but the file itself
    counts = browser.evaluate("""({
        plots: document.querySelectorAll('svg.plot').length,
        fig3: document.querySelectorAll('#fig3 svg.plot').length,
        heat: document.querySelectorAll('#heatmap rect.cell').length,
        front: document.querySelectorAll('#pareto .pt.front').length,
        dominated: document.querySelectorAll('#pareto .pt.dominated').length,
        dense: document.querySelectorAll('#fig5 .pt.dense').length,
        best: document.querySelectorAll('table.best tbody tr').length,
    })""")
    assert counts["fig3"] == 2 and counts["plots"] >= 10
    assert counts["heat"] == 7 * 8 + 3 * 8
    assert counts["front"] >= 5 and counts["dominated"] > counts["front"]
    assert counts["dense"] == 1 and counts["best"] == 20

    # hover the Pareto point with the highest speedup: the tooltip shows its configuration
    rect = browser.evaluate("""(() => {
        const pts = [...document.querySelectorAll('#pareto .pt.front')];
        const el = pts.reduce((a, b) => a.getBoundingClientRect().top < b.getBoundingClientRect().top ? a : b);
        el.scrollIntoView({block: 'center'});
        const r = el.getBoundingClientRect();
        return {x: r.left + r.width / 2, y: r.top + r.height / 2};
    })()""")
    browser.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": rect["x"], "y": rect["y"]})
    tip = browser.evaluate("""(() => { const t = document.getElementById('tip');
        return {shown: getComputedStyle(t).display, text: t.textContent}; })()""")
    assert tip["shown"] == "block"
    for fact in (
        "Pareto-optimal",
        "rate 98.0%",
        "float32",
        "4096×4096×50",
        "median",
        "speedup",
        "×",
    ):
        assert fact in tip["text"], (fact, tip["text"])
    assert "row_group" in tip["text"] and "g=" in tip["text"]

    # moving off the plot hides it; the toggle hides dominated points
    browser.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 2, "y": 2})
    assert browser.evaluate("getComputedStyle(document.getElementById('tip')).display") == "none"
    hidden = browser.evaluate("""(() => { const box = document.querySelector('input[data-toggle]');
        box.click();
        return getComputedStyle(document.querySelector('#pareto .pt.dominated')).display; })()""")
    assert hidden == "none"
    assert problems(browser.events) == []


def test_injected_markup_stays_inert(browser, tmp_path):
    index = write(evil_data(), tmp_path / "evil")
    events = load(browser, index)
    assert problems(events) == []  # no alert dialog, no CSP violation, no exception
    state = browser.evaluate("""({
        scripts: document.querySelectorAll('script').length,
        titleText: document.querySelector('h1').textContent,
    })""")
    assert state["scripts"] == 1
    assert state["titleText"] == "<script>alert(1)</script>"


def test_no_text_overlaps_as_chromium_draws_it(browser, tmp_path):
    """The rendered boxes of every SVG's texts (the layout's width estimate checked against the
    real font), at the page width of the committed screenshots."""
    index = write(fc_data(), tmp_path / "overlaps")
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        load(browser, index)
        assert browser.evaluate("document.querySelectorAll('svg.plot text').length") > 100
        assert browser.evaluate(OVERLAPS_JS) == []
    finally:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )


def test_empty_report_in_browser(browser, tmp_path):
    index = write(ReportData(title="empty", scope="study nope"), tmp_path / "empty")
    events = load(browser, index)
    assert problems(events) == []
    assert "No measurements" in browser.evaluate("document.body.textContent")


def test_screenshot(browser, tmp_path):
    index = write(fc_data(), tmp_path / "shot")
    load(browser, index)
    browser.evaluate("window.scrollTo(0, 0)")
    height = int(
        browser.evaluate("document.querySelector('#pareto').getBoundingClientRect().bottom + 12")
    )
    # a viewport as tall as the shot, so a hovered point's tooltip can be part of the picture
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        at = browser.evaluate("""(() => {
            const pts = [...document.querySelectorAll('#pareto .pt.front')];
            const r = pts[Math.floor(pts.length / 2)].getBoundingClientRect();
            return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()""")
        browser.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": at["x"], "y": at["y"]})
        shot = browser.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "clip": {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1},
            },
        )
    finally:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
    assert "Pareto-optimal" in browser.evaluate("document.getElementById('tip').textContent")
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    out = tmp_path / "report.png"
    out.write_bytes(png)
    if os.environ.get("HARNESS_UPDATE_SCREENSHOT") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(out, DOCS / "report-synthetic.png")
