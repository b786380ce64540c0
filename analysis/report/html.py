"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no CDN).

Rendered by jinja2 with autoescaping on, so every captured value (paths,
correlation IDs, endpoint names) is text, never markup. The only unescaped
fragment is the SVG chart, built here from numbers alone.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

from analysis.core.explain_words import words_of

W, H, PAD = 420, 160, 30


def _polyline(values: list[float], hi: float, color: str) -> str:
    if not values:
        return ""
    n = len(values) - 1 or 1
    pts = " ".join(
        f"{PAD + (W - 2 * PAD) * (v / hi if hi else 0):.1f},{H - PAD - (H - 2 * PAD) * i / n:.1f}"
        for i, v in enumerate(values)
    )
    return f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{pts}"/>'


def cdf_svg(chart: dict[str, list[float]], sides: tuple[str, str] = ("primary", "shadow")) -> str:
    """Latency CDF of both sides (x: ms, y: share of requests); ``sides`` names the two keys."""
    prim, shad = chart.get(sides[0], []), chart.get(sides[1], [])
    if not prim and not shad:
        return '<p class="muted">no latency samples</p>'
    hi = max(prim + shad) or 1.0
    hi = float(hi)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
        f'aria-label="latency CDF">'
        f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" fill="none" stroke="#ccc"/>'
        f"{_polyline(prim, hi, '#1f77b4')}{_polyline(shad, hi, '#d62728')}"
        f'<text x="{PAD}" y="{H - 8}">0 ms</text><text x="{W - PAD - 60}" y="{H - 8}">{hi:.1f} ms</text>'
        f'<text x="2" y="{PAD + 4}">100%</text><text x="8" y="{H - PAD}">0%</text>'
        f'<text x="{PAD + 6}" y="{PAD - 8}" style="fill:#1f77b4">{sides[0]}</text>'
        f'<text x="{PAD + 70}" y="{PAD - 8}" style="fill:#d62728">{sides[1]}</text></svg>'
    )


def live_refresh(report: dict[str, Any]) -> int | None:
    """Seconds between reloads of a live report's page, or None for a finished report.

    ``shadowdiff watch`` marks the report it keeps replacing with a ``live`` object
    in report.json (``every_seconds`` among others); nothing else writes one. A
    ``<meta http-equiv="refresh">`` needs no script, so the pages' CSP allows it.
    """
    live = report.get("live")
    if not isinstance(live, dict):
        return None
    every = live.get("every_seconds")
    seconds = every if isinstance(every, int | float) and not isinstance(every, bool) else 60
    return int(min(300, max(2, round(seconds))))


@functools.cache
def _environment() -> jinja2.Environment:
    """One jinja2 environment per process: compiling the template costs more than rendering
    it, and ``shadowdiff watch`` renders a report every tick."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("analysis.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(report: dict[str, Any], pair_base: str = "../pairs/") -> str:
    env = _environment()
    endpoints = []
    for ep in report["endpoints"]:
        cells = [k.split("->", 1) for k in ep["status"]["matrix"]]
        view = dict(ep)
        view["matrix_rows"] = sorted({c[0] for c in cells})
        view["matrix_cols"] = sorted({c[1] for c in cells})
        view["svg"] = cdf_svg(ep.get("chart", {}))
        view.setdefault("errors", 0)
        view["fields"] = [dict(f, why=words_of(f.get("explain"))) for f in ep["body"]["fields"]]
        view["status_why"] = {
            cell: words_of(entries)
            for cell, entries in ep["status"].get("explain", {}).items()
            if entries
        }
        endpoints.append(view)
    r = dict(report)
    r["endpoints"] = endpoints
    r.setdefault("notes", [])
    r.setdefault("sources", {})
    r.setdefault("invalid_reasons", {})
    r["refresh"] = live_refresh(report)
    return env.get_template("report.html.j2").render(r=r, pair_base=pair_base)
