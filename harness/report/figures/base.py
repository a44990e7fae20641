"""The section registry: each figure or table is a builder `ReportData -> Section | None`
registered under a name and an order; `build_sections` runs them all. Plus the HTML pieces
every section uses (a panel grid, a table).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from harness.core.registry import Registry
from harness.report.data import ReportData
from harness.report.svg import esc


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    html: str  # already escaped
    note: str = ""  # plain text, escaped when rendered


@dataclass(frozen=True)
class Figure:
    order: int
    build: Callable[[ReportData], Section | None]


FIGURES: Registry[Figure] = Registry("report figure")


def figure(name: str, order: int) -> Callable[[Callable[[ReportData], Section | None]], Callable]:
    def deco(fn: Callable[[ReportData], Section | None]) -> Callable[[ReportData], Section | None]:
        FIGURES.register(name, Figure(order, fn))
        return fn

    return deco


def build_sections(data: ReportData) -> list[Section]:
    """Every registered figure, in order; builders answering None are left out."""
    out = []
    for _, fig in sorted(FIGURES.items(), key=lambda kv: (kv[1].order, kv[0])):
        sec = fig.build(data)
        if sec is not None:
            out.append(sec)
    return out


def grid(panels: Sequence[str], *, wide: bool = False) -> str:
    """Panels side by side, wrapping. `wide` panels (the main plots) scale with the page: each is
    at least 560 px wide where the page allows, so its text stays readable; others keep their
    drawn size."""
    cls = "panels wide" if wide else "panels"
    return f'<div class="{cls}">' + "".join(f'<div class="panel">{p}</div>' for p in panels) + "</div>"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, cls: str = "") -> str:
    h = "".join(f"<th>{esc(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>'
