"""Inline SVG charts, drawn on the server: no script, no CDN, readable offline.

Each function takes plain numbers and returns SVG markup in which every label
is escaped, so a report id or endpoint name cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

W, H = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 40
COLORS = {
    "status": "#c0392b",
    "body": "#2471a3",
    "slower": "#c0392b",
    "faster": "#27ae60",
    "same": "#95a5a6",
    "insufficient_data": "#d5d8dc",
    "primary": "#566573",
    "shadow": "#e67e22",
}


def _svg(body: list[str], label: str, w: int = W, h: int = H) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{escape(label)}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f"<title>{escape(label)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _legend(items: Sequence[tuple[str, str]], x: float = LEFT) -> list[str]:
    out = []
    for name, color in items:
        out.append(f'<rect x="{x:.0f}" y="8" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14:.0f}" y="17" font-size="11">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return out


def _axes(ymax: float, fmt: str) -> list[str]:
    out = []
    plot_h = H - TOP - BOTTOM
    for i in range(5):
        v = ymax * i / 4
        y = H - BOTTOM - plot_h * i / 4
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        label = fmt.format(v)
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{label}</text>'
        )
    return out


def _xlabels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    if not labels:
        return []
    picks = sorted({0, len(labels) // 2, len(labels) - 1})
    return [
        f'<text x="{xs[i]:.1f}" y="{H - BOTTOM + 16}" font-size="10" text-anchor="middle">'
        f"{escape(labels[i][:16])}</text>"
        for i in picks
    ]


def trend_chart(labels: Sequence[str], status: Sequence[float], body: Sequence[float]) -> Markup:
    """Status and body mismatch rates across nights, oldest on the left."""
    n = len(labels)
    ymax = max([0.01, *status, *body]) * 1.1
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    xs = [LEFT + (plot_w * (i + 0.5) / n if n else 0) for i in range(n)]
    out = _axes(ymax, "{:.1%}") + _xlabels(labels, xs)
    for name, series in (("status", status), ("body", body)):
        pts = [(x, H - BOTTOM - plot_h * v / ymax) for x, v in zip(xs, series, strict=True)]
        color = COLORS[name]
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        if n <= 62:
            for (x, y), label, v in zip(pts, labels, series, strict=True):
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                    f"<title>{escape(label)}: {name} {v:.2%}</title></circle>"
                )
    out += _legend(
        [("status mismatch rate", COLORS["status"]), ("body mismatch rate", COLORS["body"])]
    )
    return _svg(out, "Mismatch rates per night")


def verdict_chart(labels: Sequence[str], counts: Sequence[dict[str, int]]) -> Markup:
    """Endpoints per latency verdict, one stacked bar per night."""
    n = len(labels)
    tallest = max([1, *(sum(c.values()) for c in counts)])
    ymax = -(-tallest // 4) * 4  # a multiple of the 4 grid steps, so tick labels are whole
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    bw = plot_w / n if n else 0
    xs = [LEFT + bw * (i + 0.5) for i in range(n)]
    out = _axes(ymax, "{:.0f}") + _xlabels(labels, xs)
    for i, c in enumerate(counts):
        y: float = H - BOTTOM
        for verdict in ("slower", "faster", "same", "insufficient_data"):
            h = plot_h * c.get(verdict, 0) / ymax
            if h <= 0:
                continue
            y -= h
            out.append(
                f'<rect x="{LEFT + bw * i + bw * 0.1:.1f}" y="{y:.1f}" width="{max(bw * 0.8, 0.5):.1f}" '
                f'height="{h:.1f}" fill="{COLORS[verdict]}"><title>{escape(labels[i])}: '
                f"{c.get(verdict, 0)} {verdict}</title></rect>"
            )
    out += _legend([(v, COLORS[v]) for v in ("slower", "faster", "same", "insufficient_data")])
    return _svg(out, "Latency verdicts per night")


def latency_chart(latency: dict[str, object]) -> Markup:
    """p50/p90/p99 of primary beside shadow, in milliseconds."""
    qs = ("p50", "p90", "p99")
    values: dict[str, list[float]] = {}
    for role in ("primary", "shadow"):
        side = latency.get(role)
        side = side if isinstance(side, dict) else {}
        values[role] = [_num(side.get(q)) for q in qs]
    ymax = max([1.0, *values["primary"], *values["shadow"]]) * 1.1
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    group = plot_w / len(qs)
    out = _axes(ymax, "{:.0f} ms")
    for gi, q in enumerate(qs):
        x0 = LEFT + group * gi
        out.append(
            f'<text x="{x0 + group / 2:.1f}" y="{H - BOTTOM + 16}" font-size="11" '
            f'text-anchor="middle">{q}</text>'
        )
        for ri, role in enumerate(("primary", "shadow")):
            v = values[role][gi]
            h = plot_h * v / ymax
            out.append(
                f'<rect x="{x0 + group * (0.15 + 0.35 * ri):.1f}" y="{H - BOTTOM - h:.1f}" '
                f'width="{group * 0.33:.1f}" height="{h:.1f}" fill="{COLORS[role]}">'
                f"<title>{role} {q}: {v:.1f} ms</title></rect>"
            )
    out += _legend([("primary", COLORS["primary"]), ("shadow", COLORS["shadow"])])
    return _svg(out, "Latency percentiles, primary and shadow")


def _num(v: object) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0
