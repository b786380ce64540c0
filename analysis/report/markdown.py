"""``report.md``: a summary short enough for a chat message or a pull request."""

from __future__ import annotations

from typing import Any

from analysis.core.explain_words import explained, sentence

MAX_ROWS = 10
MAX_WHY = 5


def md_cell(text: object) -> str:
    """Text safe inside a Markdown table cell or code span (report.md and canary.md)."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _code(text: str) -> str:
    return f"`{md_cell(text)}`"


def why_lines(report: dict[str, Any]) -> list[str]:
    """One line per explained field or status cell (its strongest entry), most severe first."""
    found = explained(report)
    lines = [
        f"- `{md_cell(name)}` {_code(what)}: {sentence(entry, _code)}"
        for name, what, entry in found[:MAX_WHY]
    ]
    if len(found) > MAX_WHY:
        lines.append(f"- …and {len(found) - MAX_WHY} more in report.html.")
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    lines = [
        f"### shadowdiff report `{report['id']}`",
        f"Window {report['window']['start']} → {report['window']['end']}: "
        f"**{s['pairs']}** pairs, **{s['status_mismatches']}** status mismatches, "
        f"**{s['body_mismatches']}** body mismatches, **{s['shadow_errors']}** shadow errors "
        f"({s['primary_only']} primary only, {s['shadow_only']} shadow only, "
        f"{s['duplicates']} duplicates, {s['invalid_records']} invalid).",
        "",
    ]
    for note in report.get("notes", []):
        lines += [f"> {note}", ""]
    eps = report["endpoints"][:MAX_ROWS]
    if eps:
        lines += [
            "| endpoint | pairs | status ≠ | body ≠ | p50 ms (P→S) | latency |",
            "|---|---:|---:|---:|---|---|",
        ]
        for ep in eps:
            lat = ep["latency_ms"]
            lines.append(
                f"| `{md_cell(ep['endpoint'])}` | {ep['pairs']} | {ep['status']['mismatches']} | "
                f"{ep['body']['mismatches']} | {lat['primary']['p50']:.1f} → {lat['shadow']['p50']:.1f} | "
                f"{lat['verdict']} |"
            )
        more = len(report["endpoints"]) - len(eps)
        if more > 0:
            lines.append(f"\n…and {more} more endpoints in report.html.")
        top = [
            (ep["endpoint"], f)
            for ep in report["endpoints"]
            for f in ep["body"]["fields"]
            if not f["noise"]
        ]
        top.sort(key=lambda ef: -ef[1]["rate"])
        if top:
            lines += ["", "Top differing fields:"]
            for name, f in top[:5]:
                lines.append(
                    f"- `{md_cell(name)}` `{md_cell(f['path'])}` {f['kind']} in {100 * f['rate']:.1f}% of bodies"
                )
        why = why_lines(report)
        if why:
            lines += ["", "Requests behind the differences:", *why]
    return "\n".join(lines) + "\n"
