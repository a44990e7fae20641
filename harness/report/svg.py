"""Tiny inline-SVG plotting helpers: scales, axes, lines, scatter, cells, legends.

Every function returns an SVG fragment as a string. All text goes through `esc`, so names that
come from suites or the store can never inject markup. Hover text is put in a `data-tip`
attribute (escaped) that the report's script shows with `textContent`.
"""

from __future__ import annotations

import colorsys
import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

# Okabe–Ito + extras: distinguishable for colour-blind readers, in a stable order. Black and
# grey are not series colours: black marks the dense reference, grey what was not timed.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#8C6D1F",
    "#B2182B",
    "#6A3D9A",
    "#1B9E9E",
)
REFERENCE = "#000000"  # the dense model / dense baseline marker

# Font size of each text class (the CSS sets colours only, so these sizes are the ones drawn and
# the ones the layout and the overlap test measure).
CLASS_SIZE = {"tick": 11.0, "axis-label": 12.0, "panel-title": 12.0, "legend": 11.0,
              "point-label": 11.0, "ref-label": 10.0, "dense-label": 10.0}


def colours(n: int) -> list[str]:
    """n distinct series colours: the palette first, then evenly spaced hues (never black or
    grey, never a repeat)."""
    out = list(PALETTE[:n])
    extra = n - len(out)
    for i in range(extra):
        h = (i + 0.5) / extra
        r, g, b = colorsys.hls_to_rgb(h, 0.42, 0.65)
        out.append("#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b)))
    return out


# Advance widths in em of a sans-serif face, rounded up (DejaVu Sans, the widest common
# fallback): enough to lay text out without a browser and to test that no two labels overlap.
_NARROW = set("ijlI.,:;'|!()[] ")
_WIDE = set("mwMW%×@")


def text_width(s: object, size: float, *, bold: bool = False) -> float:
    """Estimated rendered width of `s` in pixels at `size` px (an upper bound for common faces)."""
    em = 0.0
    for ch in str(s):
        if ch in _NARROW:
            em += 0.34
        elif ch in _WIDE:
            em += 0.95
        elif ch.isupper():
            em += 0.72
        else:
            em += 0.64
    return em * size * (1.08 if bold else 1.0)


def wrap(s: str, size: float, max_width: float, *, sep: str = " · ", bold: bool = False) -> list[str]:
    """`s` split at `sep` into lines no wider than `max_width` where possible (a single part
    wider than that stays one line)."""
    parts = s.split(sep)
    lines: list[str] = []
    for part in parts:
        cand = f"{lines[-1]}{sep}{part}" if lines else part
        if lines and text_width(cand, size, bold=bold) <= max_width:
            lines[-1] = cand
        else:
            lines.append(part)
    return lines


def esc(text: object) -> str:
    """HTML/XML-escape any value (quotes included: safe in attributes)."""
    return html.escape(str(text), quote=True)


def fmt(v: float) -> str:
    """Compact coordinate (SVG numbers don't need more than 2 decimals)."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi] (1-2-5 steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out, v = [], first
    while v <= hi + step * 1e-9:
        out.append(round(v, 12))
        v += step
    return out


@dataclass(frozen=True)
class Scale:
    """Maps data [lo, hi] to pixels [a, b]; `log` uses log10 (positive data only)."""

    lo: float
    hi: float
    a: float
    b: float
    log: bool = False

    def _t(self, v: float) -> float:
        return math.log10(v) if self.log else v

    def __call__(self, v: float) -> float:
        lo, hi = self._t(self.lo), self._t(self.hi)
        if hi == lo:
            return (self.a + self.b) / 2
        return self.a + (self._t(v) - lo) / (hi - lo) * (self.b - self.a)

    def ticks(self, n: int = 5) -> list[float]:
        if not self.log:
            return nice_ticks(self.lo, self.hi, n)
        lo, hi = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
        cands = [m * 10.0**e for e in range(lo, hi + 1) for m in (1, 2, 5)]
        inside = [c for c in cands if self.lo * 0.999 <= c <= self.hi * 1.001]
        return (
            inside if len(inside) <= n + 3 else [c for c in inside if str(c).lstrip("0.")[0] == "1"]
        )


def padded(
    values: Iterable[float], *, pad: float = 0.05, include: Sequence[float] = (), log: bool = False
) -> tuple[float, float]:
    """Data range with a margin (multiplicative on log axes), including extra values."""
    vals = [
        v for v in [*values, *include] if v is not None and math.isfinite(v) and (v > 0 or not log)
    ]
    if not vals:
        return (0.1, 10.0) if log else (0.0, 1.0)
    lo, hi = min(vals), max(vals)
    if log:
        lo, hi = (lo / 1.5, hi * 1.5) if lo == hi else (lo / (1 + pad * 2), hi * (1 + pad * 2))
        return lo, hi
    span = hi - lo or max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span


@dataclass(frozen=True)
class Frame:
    """A plot area inside a width × height SVG, with scales for x and y."""

    width: float
    height: float
    x: Scale
    y: Scale

    @classmethod
    def make(
        cls,
        xr: tuple[float, float],
        yr: tuple[float, float],
        *,
        width: float = 420,
        height: float = 280,
        left: float = 58,
        right: float = 14,
        top: float = 16,
        bottom: float = 46,
        xlog: bool = False,
        ylog: bool = False,
    ) -> Frame:
        return cls(
            width,
            height,
            Scale(xr[0], xr[1], left, width - right, xlog),
            Scale(yr[0], yr[1], height - bottom, top, ylog),
        )

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the plot area in pixels (y0 is the top)."""
        return (self.x.a, self.y.b, self.x.b, self.y.a)


def svg(
    frame_or_size: Frame | tuple[float, float],
    body: str,
    *,
    cls: str = "plot",
    label: str = "",
) -> str:
    """An SVG of the given size; its viewBox lets CSS scale it (main plots fill their panel)."""
    w, h = (
        (frame_or_size.width, frame_or_size.height)
        if isinstance(frame_or_size, Frame)
        else frame_or_size
    )
    return (
        f'<svg class="{esc(cls)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fmt(w)} {fmt(h)}" '
        f'width="{fmt(w)}" height="{fmt(h)}" role="img" aria-label="{esc(label)}">{body}</svg>'
    )


def text(
    x: float,
    y: float,
    s: object,
    *,
    anchor: str = "start",
    cls: str = "",
    size: float | None = None,
    rotate: float | None = None,
    weight: str = "",
) -> str:
    """A text element; its size is the class's (CLASS_SIZE) unless given."""
    size = size if size is not None else CLASS_SIZE.get(cls, 11.0)
    rot = f' transform="rotate({fmt(rotate)} {fmt(x)} {fmt(y)})"' if rotate is not None else ""
    c = f' class="{esc(cls)}"' if cls else ""
    wt = f' font-weight="{esc(weight)}"' if weight else ""
    return (
        f'<text x="{fmt(x)}" y="{fmt(y)}" text-anchor="{anchor}" font-size="{fmt(size)}"'
        f"{wt}{c}{rot}>{esc(s)}</text>"
    )


def line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    color: str = "#999",
    width: float = 1,
    dash: str = "",
    cls: str = "",
) -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    c = f' class="{esc(cls)}"' if cls else ""
    return (
        f'<line x1="{fmt(x1)}" y1="{fmt(y1)}" x2="{fmt(x2)}" y2="{fmt(y2)}" stroke="{esc(color)}"'
        f' stroke-width="{fmt(width)}"{d}{c}/>'
    )


TITLE_LINE = 15.0  # px between the lines of a wrapped panel title


def title_lines(title: str, width: float) -> list[str]:
    """A panel title wrapped to the SVG's width (at ' · ' separators)."""
    size = CLASS_SIZE["panel-title"]
    return wrap(title, size, width - 8, bold=True) if title else []


def title_top(title: str, width: float, top: float = 22.0) -> float:
    """Top margin of a frame whose title, wrapped to `width`, sits above the plot area."""
    return top + TITLE_LINE * max(0, len(title_lines(title, width)) - 1)


def axes(
    frame: Frame,
    *,
    xlabel: str = "",
    ylabel: str = "",
    xfmt: Callable[[float], str] = "{:g}".format,
    yfmt: Callable[[float], str] = "{:g}".format,
    xticks: Sequence[float] | None = None,
    yticks: Sequence[float] | None = None,
    title: str = "",
) -> str:
    """Frame, grid lines, tick labels and axis titles. A title wider than the SVG wraps onto
    several lines; make the frame with `top=title_top(title, width)` to leave room for them."""
    x0, y0, x1, y1 = frame.box
    parts = [
        f'<rect x="{fmt(x0)}" y="{fmt(y0)}" width="{fmt(x1 - x0)}" height="{fmt(y1 - y0)}" '
        f'fill="#fff" stroke="#bbb"/>'
    ]
    for t in frame.x.ticks() if xticks is None else xticks:
        px = frame.x(t)
        if x0 - 0.5 <= px <= x1 + 0.5:
            parts.append(line(px, y0, px, y1, color="#eee"))
            parts.append(text(px, y1 + 14, xfmt(t), anchor="middle", cls="tick"))
    widest = 0.0
    for t in frame.y.ticks() if yticks is None else yticks:
        py = frame.y(t)
        if y0 - 0.5 <= py <= y1 + 0.5:
            parts.append(line(x0, py, x1, py, color="#eee"))
            parts.append(text(x0 - 5, py + 4, yfmt(t), anchor="end", cls="tick"))
            widest = max(widest, text_width(yfmt(t), CLASS_SIZE["tick"]))
    if xlabel:
        parts.append(text((x0 + x1) / 2, y1 + 34, xlabel, anchor="middle", cls="axis-label"))
    if ylabel:
        # just left of the widest tick label (baseline of the rotated text is its right edge)
        yx = max(CLASS_SIZE["axis-label"], x0 - 5 - widest - 6)
        parts.append(text(yx, (y0 + y1) / 2, ylabel, anchor="middle", cls="axis-label", rotate=-90))
    lines = title_lines(title, frame.width)
    for i, ln in enumerate(lines):
        y = y0 - 6 - TITLE_LINE * (len(lines) - 1 - i)
        parts.append(text(4, y, ln, cls="panel-title", weight="600"))
    return "".join(parts)


def errorbar(frame: Frame, x: float, lo: float, hi: float, *, color: str, cap: float = 3,
             cls: str = "ci") -> str:
    """A vertical interval [lo, hi] at data x (a confidence interval), with caps."""
    px, a, b = frame.x(x), frame.y(lo), frame.y(hi)
    return (
        f'<path class="{esc(cls)}" d="M{fmt(px)},{fmt(a)}V{fmt(b)}M{fmt(px - cap)},{fmt(a)}'
        f'H{fmt(px + cap)}M{fmt(px - cap)},{fmt(b)}H{fmt(px + cap)}" stroke="{esc(color)}" '
        f'stroke-width="1.2" fill="none" opacity="0.7"/>'
    )


def hbar(frame: Frame, y: float, lo: float, hi: float, *, color: str, cap: float = 3) -> str:
    """A horizontal interval [lo, hi] at data y (a confidence interval on the x axis)."""
    py, a, b = frame.y(y), frame.x(lo), frame.x(hi)
    return (
        f'<path class="ci" d="M{fmt(a)},{fmt(py)}H{fmt(b)}M{fmt(a)},{fmt(py - cap)}'
        f'V{fmt(py + cap)}M{fmt(b)},{fmt(py - cap)}V{fmt(py + cap)}" stroke="{esc(color)}" '
        f'stroke-width="1.2" fill="none" opacity="0.7"/>'
    )


def polyline(
    frame: Frame,
    pts: Sequence[tuple[float, float]],
    *,
    color: str,
    width: float = 2,
    dash: str = "",
    cls: str = "series",
) -> str:
    if len(pts) < 2:
        return ""
    coords = " ".join(f"{fmt(frame.x(x))},{fmt(frame.y(y))}" for x, y in pts)
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline class="{esc(cls)}" points="{coords}" fill="none" stroke="{esc(color)}" '
        f'stroke-width="{fmt(width)}" stroke-linejoin="round"{d}/>'
    )


def marker(
    px: float,
    py: float,
    *,
    color: str,
    r: float = 3.5,
    tip: str = "",
    cls: str = "pt",
    shape: str = "circle",
    hollow: bool = False,
) -> str:
    """A point in pixel coordinates; `tip` becomes hover text."""
    t = f' data-tip="{esc(tip)}" tabindex="0"' if tip else ""
    fill = "#fff" if hollow else esc(color)
    common = f'class="{esc(cls)}" fill="{fill}" stroke="{esc(color)}" stroke-width="1.5"{t}'
    if shape == "cross":
        s = r * 1.3
        d = (
            f"M{fmt(px - s)},{fmt(py - s)}L{fmt(px + s)},{fmt(py + s)}"
            f"M{fmt(px - s)},{fmt(py + s)}L{fmt(px + s)},{fmt(py - s)}"
        )
        # a transparent disc under the cross keeps it easy to hover
        return (
            f'<g class="{esc(cls)}"{t}><circle cx="{fmt(px)}" cy="{fmt(py)}" r="{fmt(s + 2)}" '
            f'fill="transparent"/><path d="{d}" stroke="{esc(color)}" stroke-width="2.5"/></g>'
        )
    if shape == "square":
        return (
            f'<rect x="{fmt(px - r)}" y="{fmt(py - r)}" width="{fmt(2 * r)}" height="{fmt(2 * r)}" '
            f"{common}/>"
        )
    return f'<circle cx="{fmt(px)}" cy="{fmt(py)}" r="{fmt(r)}" {common}/>'


def cell(
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    color: str,
    label: str = "",
    tip: str = "",
    dark: bool = False,
) -> str:
    """A heatmap cell with an optional centred value label."""
    t = f' data-tip="{esc(tip)}"' if tip else ""
    out = (
        f'<rect class="cell" x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" '
        f'fill="{esc(color)}" stroke="#fff"{t}/>'
    )
    if label:
        out += (
            f'<text x="{fmt(x + w / 2)}" y="{fmt(y + h / 2 + 4)}" text-anchor="middle" '
            f'font-size="10" fill="{"#fff" if dark else "#222"}" pointer-events="none">{esc(label)}</text>'
        )
    return out


SWATCH = 21.0  # px from an item's start to its label


def legend_layout(items: Sequence[tuple[str, str]], width: float) -> tuple[int, float]:
    """(columns, column width) so that no label runs into the next column within `width`."""
    if not items:
        return 1, width
    col_w = SWATCH + max(text_width(lab, CLASS_SIZE["legend"]) for lab, _ in items) + 14
    cols = max(1, min(len(items), int(width // col_w)))
    return cols, col_w


def legend(
    items: Sequence[tuple[str, str]],
    x: float,
    y: float,
    *,
    cols: int = 1,
    col_width: float = 110,
    row_height: float = 16,
    swatch: str = "line",
    shapes: Mapping[str, str] | None = None,
) -> str:
    """Colour swatches (`swatch`: "line", "dot", "square" or "cross"; "cross" always for the
    dense reference; `shapes` overrides it per label) with labels, in `cols` columns from
    (x, y)."""
    parts = []
    for i, (label, color) in enumerate(items):
        cx, cy = x + (i % cols) * col_width, y + (i // cols) * row_height
        kind = "cross" if color == REFERENCE else (shapes or {}).get(label, swatch)
        if kind == "square":
            parts.append(
                f'<rect x="{fmt(cx + 4)}" y="{fmt(cy - 8)}" width="8" height="8" '
                f'fill="{esc(color)}"/>'
            )
        elif kind == "dot":
            parts.append(
                f'<circle cx="{fmt(cx + 8)}" cy="{fmt(cy - 4)}" r="4.5" fill="{esc(color)}"/>'
            )
        elif kind == "cross":
            parts.append(
                f'<path d="M{fmt(cx + 4)},{fmt(cy - 8)}L{fmt(cx + 12)},{fmt(cy)}M{fmt(cx + 4)},'
                f'{fmt(cy)}L{fmt(cx + 12)},{fmt(cy - 8)}" stroke="{esc(color)}" stroke-width="2.5"/>'
            )
        else:
            parts.append(line(cx, cy - 4, cx + 16, cy - 4, color=color, width=3))
        parts.append(text(cx + SWATCH, cy, label, cls="legend"))
    return f'<g class="legend">{"".join(parts)}</g>'


def legend_height(n: int, cols: int, row_height: float = 16) -> float:
    return math.ceil(n / max(cols, 1)) * row_height


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


def overlaps(a: Box, b: Box, gap: float = 0.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


class LabelPlacer:
    """Places point labels where they overlap no marker and no other label, inside `area`.

    Each label tries the four corners around its point, then its sides, in turn; one that fits nowhere is left
    out (its point keeps the same text in its hover tip)."""

    def __init__(self, area: Box, size: float) -> None:
        self.area, self.size = area, size
        self.taken: list[Box] = []

    def block(self, px: float, py: float, r: float) -> None:
        """Keep a marker of radius r at (px, py) free of labels."""
        self.taken.append((px - r, py - r, px + r, py + r))

    def place(self, px: float, py: float, label: str, *, cls: str = "point-label") -> str:
        w, h = text_width(label, self.size), self.size
        gap = 8.0
        for dx, dy, anchor in ((7, -5, "start"), (7, h + 3, "start"), (-7, -5, "end"),
                               (-7, h + 3, "end"), (gap, h / 3, "start"), (-gap, h / 3, "end"),
                               (0, -gap, "middle"), (0, h + gap, "middle")):
            x = px + dx
            x0 = {"start": x, "end": x - w, "middle": x - w / 2}[anchor]
            box = (x0, py + dy - h, x0 + w, py + dy + 0.25 * h)
            inside = (box[0] >= self.area[0] and box[2] <= self.area[2]
                      and box[1] >= self.area[1] and box[3] <= self.area[3])
            if inside and not any(overlaps(box, t, 1.0) for t in self.taken):
                self.taken.append(box)
                return text(x, py + dy, label, anchor=anchor, cls=cls, size=self.size)
        return ""
