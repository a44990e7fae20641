"""Text boxes of the report's SVGs, computed from their markup (no browser), and the overlaps
between them. The sizes are the ones `harness.report.svg` writes on every text element and the
widths its `text_width` estimate (an upper bound for the report's font)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness.report.svg import Box, overlaps, text_width

NS = "{http://www.w3.org/2000/svg}"


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, flags=re.S)


def text_boxes(svg: str) -> tuple[Box, list[tuple[str, Box]]]:
    """(the SVG's viewBox, [(text, box)]) for every laid-out text; heatmap cell values (drawn
    inside their cells, marked pointer-events) are left out."""
    root = ET.fromstring(svg)
    vb = [float(v) for v in root.attrib["viewBox"].split()]
    out = []
    for t in root.iter(f"{NS}text"):
        if "pointer-events" in t.attrib:
            continue
        s = "".join(t.itertext())
        x, y, size = float(t.attrib["x"]), float(t.attrib["y"]), float(t.attrib["font-size"])
        w = text_width(s, size, bold=t.attrib.get("font-weight") == "600")
        anchor = t.attrib.get("text-anchor", "start")
        a = {"start": 0.0, "middle": w / 2, "end": w}[anchor]
        if "rotate(-90" in t.attrib.get("transform", ""):
            # rotated about (x, y): the text runs upwards, its ascent to the left of x
            box = (x - 0.8 * size, y - w + a, x + 0.2 * size, y + a)
        else:
            box = (x - a, y - 0.8 * size, x - a + w, y + 0.2 * size)
        out.append((s, box))
    return (vb[0], vb[1], vb[0] + vb[2], vb[1] + vb[3]), out


def problems(svg: str) -> list[str]:
    """Pairs of texts whose boxes intersect, and texts that leave the SVG."""
    (vx0, vy0, vx1, vy1), boxes = text_boxes(svg)
    bad = [
        f"{s!r} leaves the svg"
        for s, b in boxes
        if b[0] < vx0 - 0.5 or b[2] > vx1 + 0.5 or b[1] < vy0 - 0.5 or b[3] > vy1 + 0.5
    ]
    for i, (s, a) in enumerate(boxes):
        for t, b in boxes[i + 1 :]:
            if overlaps(a, b, -0.5):
                bad.append(f"{s!r} overlaps {t!r}")
    return bad
