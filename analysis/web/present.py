"""Reports and pairs as view data for the templates and the JSON API (pure functions).

The pages and the API read the same numbers from here, so a rate on the index
and the ``/api/reports`` list never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.core.explain_words import words_of
from analysis.report.html import live_refresh
from analysis.web.bodies import Body, render_body
from shadowdiff.model.record import ROLES

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
    summary = _dict(data.get("summary"))
    endpoints = _dicts(data.get("endpoints"))
    compared = sum(_num(_dict(e.get("body")).get("compared")) for e in endpoints)
    verdicts = dict.fromkeys(VERDICTS, 0)
    for e in endpoints:
        verdict = _dict(e.get("latency_ms")).get("verdict")
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
        "live": live_refresh(data) is not None,
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def endpoint_view(ep: dict[str, Any]) -> dict[str, Any]:
    """One endpoint object with every part the pages read in its contract type.

    report.json is written by another program and may be older or newer than
    this one; an odd value shows as empty rather than breaking the page.
    """
    status, latency, body = (
        _dict(ep.get("status")),
        _dict(ep.get("latency_ms")),
        _dict(ep.get("body")),
    )
    real, noise = split_fields(ep)
    return {
        "endpoint": str(ep.get("endpoint", "")),
        "pairs": _num(ep.get("pairs")),
        "status": {
            "mismatches": _num(status.get("mismatches")),
            "matrix": _dict(status.get("matrix")),
            "why": {str(c): words_of(e) for c, e in _dict(status.get("explain")).items()},
        },
        "latency": {
            "primary": _dict(latency.get("primary")),
            "shadow": _dict(latency.get("shadow")),
            "p_value": latency.get("p_value"),
            "verdict": str(latency.get("verdict") or ""),
        },
        "compared": _num(body.get("compared")),
        "mismatches": _num(body.get("mismatches")),
        "real": [dict(f, why=words_of(f.get("explain"))) for f in real],
        "noise": noise,
        "examples": [
            e for e in _dicts(ep.get("examples")) if isinstance(e.get("correlation_id"), str)
        ],
    }


def endpoints_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [endpoint_view(e) for e in _dicts(data.get("endpoints"))]


def endpoint_of(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    for e in _dicts(data.get("endpoints")):
        if e.get("endpoint") == name:
            return e
    return None


def split_fields(endpoint: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(real differences, noise), each sorted by count, highest first."""
    fields = _dicts(_dict(endpoint.get("body")).get("fields"))
    fields.sort(key=lambda f: -_num(f.get("count")))
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


def _headers(
    records: dict[str, dict[str, Any]], role: str, part: str
) -> list[tuple[str, str, str]]:
    def hdrs(r: str) -> dict[str, Any]:
        return _dict(_dict(records.get(r, {}).get(part)).get("headers"))

    mine = hdrs(role)
    others = [hdrs(r) for r in ROLES if r != role and r in records]
    rows = []
    for name in sorted(mine, key=str):
        differs = any(o.get(name) != mine[name] for o in others)
        rows.append((str(name), str(mine[name]), "diff" if differs else ""))
    return rows


def pair_sides(pair: dict[str, Any]) -> list[Side]:
    """Primary, shadow and (when captured) secondary, with the diff marked on each."""
    raw = _dict(pair.get("records"))
    records: dict[str, dict[str, Any]] = {r: raw[r] for r in ROLES if isinstance(raw.get(r), dict)}
    marks = _marks(_dicts(pair.get("diff")))
    statuses = {r: _dict(rec.get("response")).get("status") for r, rec in records.items()}
    sides = []
    for role in ROLES:
        rec = records.get(role)
        if rec is None and role == "secondary":
            continue
        differs = any(s != statuses.get(role) for s in statuses.values())
        request, response = _dict((rec or {}).get("request")), (rec or {}).get("response")
        sides.append(
            Side(
                role=role,
                record=rec,
                status_mark="diff" if rec and differs else "",
                request_headers=_headers(records, role, "request") if rec else [],
                response_headers=_headers(records, role, "response") if rec else [],
                request_body=render_body(request, {}),
                response_body=render_body(_dict(response), marks),
            )
        )
    return sides
