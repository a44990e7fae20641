"""Screenshots of a rendered report, one PNG per section, and the overlaps a real browser finds.

    python tests/report/report_shots.py reports/fc/index.html docs/report --width 1400

writes `<prefix>-<section id>.png` for each section (the header goes with the first) and prints,
per SVG, any two text elements whose rendered boxes intersect and any text that leaves its SVG.
`OVERLAPS_JS` is also what the browser test evaluates.
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

from report_cdp import Browser, find_chromium

# For every SVG: the rendered boxes of its text elements; pairs that intersect by more than 0.5 px
# and texts that leave the SVG's own box. Heatmap cell values sit inside their cells and are left
# out (they are not laid out against each other).
OVERLAPS_JS = """(() => {
  const out = [];
  document.querySelectorAll('svg.plot').forEach((svg, si) => {
    const s = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].filter(t => !t.hasAttribute('pointer-events'));
    const boxes = texts.map(t => [t.textContent, t.getBoundingClientRect()]);
    const where = (svg.closest('section') || {}).id + '#' + si;
    boxes.forEach(([a, r]) => {
      if (r.width && (r.left < s.left - 0.5 || r.right > s.right + 0.5 ||
                      r.top < s.top - 0.5 || r.bottom > s.bottom + 0.5))
        out.push(where + ': "' + a + '" leaves its svg');
    });
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i], [b, q] = boxes[j];
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 0.5 && h > 0.5) out.push(where + ': "' + a + '" overlaps "' + b + '"');
    }
  });
  return out;
})()"""


def open_page(b: Browser, index: Path, width: int) -> None:
    for domain in ("Page", "Runtime"):
        b.call(f"{domain}.enable")
    b.call("Emulation.setDeviceMetricsOverride",
           {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    b.events.clear()
    b.call("Page.navigate", {"url": index.resolve().as_uri()})
    b.wait_for("Page.loadEventFired")
    b.evaluate("new Promise(r => requestAnimationFrame(() => r(1)))")


def shoot(b: Browser, width: int, prefix: Path) -> list[Path]:
    ids = b.evaluate("[...document.querySelectorAll('main > section')].map(s => s.id)")
    out = []
    for k, sid in enumerate(ids):
        r = b.evaluate(f"""(() => {{ const r = document.getElementById('{sid}')
            .getBoundingClientRect(); return {{y: r.top + scrollY, h: r.height}}; }})()""")
        y = 0 if k == 0 else r["y"] - 8  # the first shot includes the header
        h = r["y"] + r["h"] + 8 - y
        shot = b.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": y, "width": width, "height": h, "scale": 1}})
        path = prefix.parent / f"{prefix.name}-{sid}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        out.append(path)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("prefix", type=Path)
    ap.add_argument("--width", type=int, default=1400)
    args = ap.parse_args()
    exe = find_chromium()
    if exe is None:
        print("no chromium found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(exe, Path(profile), width=args.width)
        try:
            open_page(b, args.index, args.width)
            bad = b.evaluate(OVERLAPS_JS)
            args.prefix.parent.mkdir(parents=True, exist_ok=True)
            for p in shoot(b, args.width, args.prefix):
                print(p, p.stat().st_size)
        finally:
            b.close()
    print("\n".join(bad) if bad else "no text overlaps")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
