"""Reports and pairs as view data for the templates and the JSON API (pure functions).

The pages and the API read the same numbers from here, so a rate on the index
and the ``/api/reports`` list never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.web.bodies import Body, render_body
from shadowdiff.record import ROLES

VERDICTS = ("slower", "faster", "same", "insufficient_data")


def _num(value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return 0


def _rate(num: Any, den: Any) -> float:
    try:
        return float(num) / float(den) if den else 0.0
    except (TypeError, ValueError):
        return 0.0


def report_row(data: dict[str, Any]) -> dict[str, Any]:
    """One report as a line of the index (and of ``GET /api/reports``)."""
    summary = data.get("summary") or {}
    endpoints = [e for e in data.get("endpoints") or [] if isinstance(e, dict)]
    compared = sum(_num((e.get("body") or {}).get("compared")) for e in endpoints)
    verdicts = dict.fromkeys(VERDICTS, 0)
    for e in endpoints:
        verdict = (e.get("latency_ms") or {}).get("verdict")
        if verdict in verdicts:
            verdicts[verdict] += 1
    pairs = _num(summary.get("pairs"))
    generated = data.get("generated_at")
    window = data.get("window")
    return {
        "id": data["id"],
        "generated_at": generated if isinstance(generated, str) else None,
        "window": window if isinstance(window, dict) else {},
        "pairs": pairs,
        "endpoints": len(endpoints),
        "status_mismatches": _num(summary.get("status_mismatches")),
        "body_mismatches": _num(summary.get("body_mismatches")),
        "shadow_errors": _num(summary.get("shadow_errors")),
        "status_mismatch_rate": _rate(summary.get("status_mismatches"), pairs),
        "body_mismatch_rate": _rate(summary.get("body_mismatches"), compared),
        "latency_verdicts": verdicts,
    }


def endpoint_of(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    for e in data.get("endpoints") or []:
        if isinstance(e, dict) and e.get("endpoint") == name:
            return e
    return None


def split_fields(endpoint: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(real differences, noise), each sorted by count, highest first."""
    fields = [f for f in (endpoint.get("body") or {}).get("fields") or [] if isinstance(f, dict)]
    fields.sort(key=lambda f: -(f.get("count") or 0))
    return [f for f in fields if not f.get("noise")], [f for f in fields if f.get("noise")]


@dataclass(slots=True)
class Side:
    role: str
    record: dict[str, Any] | None
    status_mark: str
    request_headers: list[tuple[str, str, str]]  # name, value, mark
    response_headers: list[tuple[str, str, str]]
    request_body: Body
    response_body: Body


def _marks(diff: list[dict[str, Any]]) -> dict[str, str]:
    marks: dict[str, str] = {}
    for d in diff:
        path = d.get("path")
        if isinstance(path, str):
            mark = "noise" if d.get("noise") else "diff"
            if marks.get(path) != "diff":
                marks[path] = mark
    return marks


def _headers(records: dict[str, Any], role: str, part: str) -> list[tuple[str, str, str]]:
    def hdrs(r: str) -> dict[str, str]:
        rec = records.get(r) or {}
        return (rec.get(part) or {}).get("headers") or {}

    mine = hdrs(role)
    others = [hdrs(r) for r in ROLES if r != role and records.get(r)]
    rows = []
    for name in sorted(mine):
        differs = any(o.get(name) != mine[name] for o in others)
        rows.append((name, str(mine[name]), "diff" if differs else ""))
    return rows


def pair_sides(pair: dict[str, Any]) -> list[Side]:
    """Primary, shadow and (when captured) secondary, with the diff marked on each."""
    records = pair.get("records") or {}
    marks = _marks([d for d in pair.get("diff") or [] if isinstance(d, dict)])
    statuses = {
        r: ((records.get(r) or {}).get("response") or {}).get("status")
        for r in ROLES
        if records.get(r)
    }
    sides = []
    for role in ROLES:
        rec = records.get(role)
        if rec is None and role == "secondary":
            continue
        status = statuses.get(role)
        differs = any(s != status for s in statuses.values())
        rec = rec or None
        sides.append(
            Side(
                role=role,
                record=rec,
                status_mark="diff" if rec and differs else "",
                request_headers=_headers(records, role, "request") if rec else [],
                response_headers=_headers(records, role, "response") if rec else [],
                request_body=render_body((rec or {}).get("request"), {}),
                response_body=render_body((rec or {}).get("response"), marks),
            )
        )
    return sides
