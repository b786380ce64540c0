"""The few lines the demo prints about its report before serving it.

Only the headline: per endpoint the pairs, status and body mismatches and the
latency verdict, then the field differences that are not noise and the request
attributes behind them (``explain``). The browser report has the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def field_lines(report: dict[str, Any], limit: int = 12) -> list[str]:
    """``GET /items/{sku}  $.price  type_changed  100%`` for each non-noise field difference."""
    rows: list[tuple[float, str]] = []
    for ep in report.get("endpoints", []):
        for f in ep.get("body", {}).get("fields", []):
            if not f.get("noise"):
                line = f"{ep['endpoint']}  {f['path']}  {f['kind']}  {f.get('rate', 0):.0%}"
                rows.append((-float(f.get("count", 0)), line))
    return [line for _, line in sorted(rows)[:limit]]


def noise_count(report: dict[str, Any]) -> int:
    return sum(
        1
        for ep in report.get("endpoints", [])
        for f in ep.get("body", {}).get("fields", [])
        if f.get("noise")
    )


def print_summary(console: Any, report: dict[str, Any], report_dir: Path) -> None:
    from rich.table import Table

    from analysis.core.explain_words import explained, sentence

    s = report.get("summary", {})
    console.print(
        f"\n[bold]Report[/] {report.get('id')}: {s.get('pairs', 0)} pairs, "
        f"{s.get('status_mismatches', 0)} status mismatches, "
        f"{s.get('body_mismatches', 0)} body mismatches, "
        f"{s.get('shadow_errors', 0)} shadow errors"
    )
    table = Table(show_edge=False, pad_edge=False)
    for col in ("endpoint", "pairs", "status ≠", "body ≠", "p50 ms primary → shadow", "latency"):
        table.add_column(col)
    for ep in report.get("endpoints", []):
        lat = ep.get("latency_ms", {})
        p50 = f"{lat.get('primary', {}).get('p50', 0):.1f} → {lat.get('shadow', {}).get('p50', 0):.1f}"
        table.add_row(
            ep["endpoint"],
            str(ep.get("pairs", 0)),
            _matrix(ep.get("status", {})),
            str(ep.get("body", {}).get("mismatches", 0)),
            p50,
            str(lat.get("verdict", "")),
        )
    console.print(table)
    fields = field_lines(report)
    if fields:
        console.print("[bold]Field differences[/] (noise left out):")
        for line in fields:
            console.print(f"  {line}")
    why = explained(report)
    if why:
        console.print("[bold]Requests behind them[/] (the attribute that sets them apart):")
        for name, what, entry in why[:5]:
            line = f"  {name}  {what}: {sentence(entry)}"
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(f"{noise_count(report)} differing fields recognised as noise (ids, timestamps)")
    if report.get("_exit_status") == 3:
        console.print("The fail_on thresholds are crossed (exit status 3), as v2 was built to do.")
    console.print(f"Files: {report_dir}/report.html, report.md, report.json", soft_wrap=True)


def _matrix(status: dict[str, Any]) -> str:
    changed = {k: v for k, v in status.get("matrix", {}).items() if v and _differs(k)}
    if not changed:
        return str(status.get("mismatches", 0))
    return ", ".join(f"{k} ×{v}" for k, v in sorted(changed.items()))


def _differs(transition: str) -> bool:
    before, _, after = transition.partition("->")
    return before != after
