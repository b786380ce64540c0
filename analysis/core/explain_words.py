"""``explain`` entries in plain words, for every page and summary that shows them.

"97 % of these pairs (58), and 3 % of the others, have query `currency` = `EUR`".
:func:`words` gives the parts (so an HTML template can escape and mark up each
one itself), :func:`words_of` those of every entry of an ``explain`` list;
:func:`sentence` joins them for text (Markdown, the terminal). The
entries may come from a report.json written by another version, so odd values
show as zeros rather than failing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

PREFIXES = (("query.", "query"), ("header.", "header"), ("body.", "body"))


def pct(share: float) -> str:
    """A share as a percentage that never rounds "some" to 0 % or "not all" to 100 %."""
    p = 100.0 * share
    if p <= 0.0:
        return "0 %"
    if p >= 100.0:
        return "100 %"
    if p < 1.0 or p > 99.0:
        return f"{p:.1f} %"
    return f"{p:.0f} %"


def subject(attribute: str) -> tuple[str, str | None]:
    """``query.currency`` → ("query", "currency"); ``path[1]`` → ("path segment 1", None)."""
    for prefix, what in PREFIXES:
        if attribute.startswith(prefix):
            return what, attribute[len(prefix) :]
    if attribute.startswith("path[") and attribute.endswith("]"):
        return f"path segment {attribute[5:-1]}", None
    return attribute, None


def _share(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def words(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of one entry's sentence: shares, pair count, what, its name and value."""
    what, name = subject(str(entry.get("attribute", "")))
    value = str(entry.get("value", ""))
    pairs = entry.get("pairs")
    return {
        "share": pct(_share(entry.get("support"))),
        "others": pct(_share(entry.get("baseline"))),
        "pairs": pairs if isinstance(pairs, int) and not isinstance(pairs, bool) else 0,
        "what": what,
        "name": name,
        "value": value if value else '""',
    }


def words_of(value: Any) -> list[dict[str, Any]]:
    """:func:`words` of each entry of an ``explain`` list (anything else: none)."""
    return [words(e) for e in entries(value)]


def _backticks(text: str) -> str:
    return f"`{text}`"


def sentence(
    entry: Mapping[str, Any], code: Callable[[str], str] = _backticks, noun: str = "pairs"
) -> str:
    """The entry as text; ``noun`` names what D holds (a canary's "failed requests")."""
    w = words(entry)
    named = w["what"] if w["name"] is None else f"{w['what']} {code(w['name'])}"
    return (
        f"{w['share']} of these {noun} ({w['pairs']}), and {w['others']} of the others, "
        f"have {named} = {code(w['value'])}"
    )


def explained(report: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(endpoint, what differs, first entry) for each field and status cell with an entry.

    In report order: endpoints most severe first, then status cells, then fields.
    """
    out: list[tuple[str, str, dict[str, Any]]] = []
    for ep in entries(report.get("endpoints")):
        name = str(ep.get("endpoint", ""))
        status = ep.get("status")
        cells = status.get("explain") if isinstance(status, dict) else None
        if isinstance(cells, dict):
            for cell, listed in cells.items():
                first = entries(listed)[:1]
                if first:
                    out.append((name, f"status {cell}", first[0]))
        body = ep.get("body")
        for f in entries(body.get("fields") if isinstance(body, dict) else None):
            first = entries(f.get("explain"))[:1]
            if first and not f.get("noise"):
                out.append((name, f"{f.get('path', '')} {f.get('kind', '')}", first[0]))
    return out


def entries(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (``explain`` entries, endpoints, fields); else none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
