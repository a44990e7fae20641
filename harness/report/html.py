"""One self-contained HTML page from a `ReportData` (pure), and writing it to `out_dir/index.html`.

The page loads nothing: inline CSS, inline SVG and one small inline script whose SHA-256 is the
only script the page's Content-Security-Policy allows, so even a string that escaped escaping
could not run, and the browser refuses any network request (default-src 'none').
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from pathlib import Path

from harness import __version__
from harness.answers import speedup_text
from harness.report.data import ReportData
from harness.report.figures import Section, build_sections, geometry
from harness.report.figures.model import headline, latest
from harness.report.svg import esc

CSS = """
:root{--fg:#1d2330;--muted:#5b6473;--line:#dde1e7;--bg:#f6f7f9;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:18px 28px 12px}
header h1{margin:0 0 4px;font-size:21px}
.meta{color:var(--muted);font-size:13px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin-top:10px}
.kpi{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:6px 12px}
.kpi b{display:block;font-size:17px}
nav{margin-top:10px;font-size:13px}
nav a{color:var(--accent);margin-right:14px;text-decoration:none}
main{padding:8px 28px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;margin:16px 0;padding:14px 18px}
section h2{margin:0 0 4px;font-size:17px}
h3{font-size:14px;margin:16px 0 6px}
p.note{color:var(--muted);margin:0 0 10px;font-size:13px}
.panels{display:flex;flex-wrap:wrap;gap:14px 22px;align-items:flex-start}
.panels.wide .panel{flex:1 1 560px;max-width:860px;min-width:0}
.panels.wide svg.plot{width:100%;height:auto}
svg.plot{font-family:"DejaVu Sans",Verdana,system-ui,sans-serif;overflow:hidden}
svg .tick{fill:#555}
svg .axis-label{fill:#333}
svg .panel-title{fill:#222}
svg .legend,svg .point-label{fill:#333}
svg .ref-label{fill:#c0392b}
svg .dense-label{fill:#333}
svg [data-tip]{cursor:pointer}
svg .pt:hover,svg .cell:hover{stroke:#000;stroke-width:2.5}
body.hide-dominated svg .dominated{display:none}
.toggle{font-size:13px;color:var(--muted);display:inline-block;margin-bottom:8px}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0 4px;width:100%}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
table.best td:nth-child(9){font-weight:600}
#tip{position:fixed;display:none;pointer-events:none;z-index:10;background:#1d2330;color:#fff;
 padding:7px 10px;border-radius:5px;font-size:12px;line-height:1.4;white-space:pre-line;max-width:360px;
 box-shadow:0 2px 8px rgba(0,0,0,.25)}
.empty{font-size:16px;padding:40px;text-align:center;color:var(--muted)}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
"""

# Hover tooltips and toggles; text is set with textContent, never parsed as HTML.
JS = """(function(){
var tip=document.getElementById('tip');
function place(e){var x=e.clientX+14,y=e.clientY+14,w=tip.offsetWidth,h=tip.offsetHeight;
 if(x+w>innerWidth-4)x=e.clientX-w-14; if(y+h>innerHeight-4)y=e.clientY-h-14;
 tip.style.left=Math.max(4,x)+'px';tip.style.top=Math.max(4,y)+'px';}
function target(e){return e.target&&e.target.closest?e.target.closest('[data-tip]'):null;}
document.addEventListener('mouseover',function(e){var t=target(e);
 if(!t){tip.style.display='none';return;}
 tip.textContent=t.getAttribute('data-tip');tip.style.display='block';place(e);});
document.addEventListener('mousemove',function(e){if(tip.style.display==='block')place(e);});
document.addEventListener('focusin',function(e){var t=target(e);if(!t)return;
 var r=t.getBoundingClientRect();tip.textContent=t.getAttribute('data-tip');tip.style.display='block';
 place({clientX:r.right,clientY:r.bottom});});
document.addEventListener('focusout',function(){tip.style.display='none';});
Array.prototype.forEach.call(document.querySelectorAll('input[data-toggle]'),function(box){
 box.addEventListener('change',function(){document.body.classList.toggle(box.getAttribute('data-toggle'),box.checked);});});
})();"""


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'"
    )


def _section(sec: Section) -> str:
    note = f'<p class="note">{esc(sec.note)}</p>' if sec.note else ""
    return f'<section id="{esc(sec.id)}"><h2>{esc(sec.title)}</h2>{note}{sec.html}</section>'


def _kpis(data: ReportData) -> str:
    counts = Counter(m.status for m in data.measurements)
    timed = data.timed
    best = max(timed, key=lambda m: m.speedup or 0.0) if timed else None
    items = [("measurements", str(len(data.measurements))), ("verified & timed", str(len(timed)))]
    items += [(s, str(counts[s])) for s in ("invalid", "unsupported", "error") if counts[s]]
    # each model study's answer
    items += [h for rec in latest(data.models) if (h := headline(rec)) is not None]
    decision = data.decision
    if decision is not None:  # the stored answer: fastest within the accuracy budget
        rec = decision.get("recommended")
        if rec is not None:
            items.append(("recommended (within the accuracy budget)",
                          f"{speedup_text(rec, times='×')} · {rec['label']} · accuracy "
                          f"{rec['accuracy']:.4f} ({-rec['drop'] * 100:+.2f} points)"))
        else:
            items.append(("recommended", f"none: {decision.get('why_none')}"))
        alt = decision.get("dense_alternative")
        if alt:  # what a user could pick instead of pruning (harness.answers)
            items.append((f"no pruning: dense {alt['dtype']} (accuracy not checked)",
                          f"{alt['speedup']:.2f}× over the same-dtype dense"))
    if best is not None:
        p = best.point
        # never an unqualified recommendation: the fastest kernel's accuracy is not known here
        items.append(
            (
                "fastest kernel (accuracy not checked)",
                f"{best.speedup:.2f}× · {p.format}/{p.backend} {geometry(p)[1]} "
                f"at rate {p.prune.rate:.0%}",
            )
        )
    if data.train:
        items.append(("trained models", str(len(data.train))))
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi"><span class="meta">{esc(k)}</span><b>{esc(v)}</b></div>'
            for k, v in items
        )
        + "</div>"
    )


def render(data: ReportData) -> str:
    """The whole report as one HTML string (deterministic for a given `data`)."""
    meta = " · ".join(
        esc(x)
        for x in (data.scope, data.source, data.generated_at and f"generated {data.generated_at}")
        if x
    )
    if data.empty:
        sections = [
            Section(
                "empty",
                "No measurements",
                '<p class="empty">No measurements and no training results '
                "were found for this selection.</p>",
            )
        ]
        head_extra = ""
    else:
        sections = build_sections(data)
        nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
        head_extra = _kpis(data) + f"<nav>{nav}</nav>"
    body = "".join(_section(s) for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_csp(JS))}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(data.title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(data.title)}</h1><div class="meta">{meta}</div>{head_extra}</header>'
        f"<main>{body}</main><footer>harness {esc(__version__)}</footer>"
        f'<div id="tip" role="tooltip"></div><script>{JS}</script></body></html>\n'
    )


def write(data: ReportData, out_dir: str | Path) -> Path:
    """Render and write `out_dir/index.html` atomically (a temporary file renamed over it: a
    full disk leaves the old report, and a symlinked index.html is replaced, never followed);
    returns its path. Any URL secret that reached the data is cut out on the way."""
    from harness.core.paths import write_text
    from harness.store.urls import scrub

    return write_text(Path(out_dir) / "index.html", scrub(render(data)))
