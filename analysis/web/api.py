"""The JSON API: the same data as the pages (docs/contract.md §7), described in OpenAPI."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from analysis.web.present import report_row
from analysis.web.service import FoundPair, ReportService
from shadowdiff.model.record import ROLES

DT = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="partition hint: day (UTC)")
HOUR = Query(None, ge=0, le=23, description="partition hint: hour (UTC)")
REPORT = Query(None, description="look only in this report's pairs.jsonl.gz")


class Problem(BaseModel):
    detail: str


class ReportRow(BaseModel):
    id: str
    generated_at: str | None
    window: dict[str, Any]
    pairs: int | float
    endpoints: int
    status_mismatches: int | float
    body_mismatches: int | float
    shadow_errors: int | float
    status_mismatch_rate: float
    body_mismatch_rate: float
    latency_verdicts: dict[str, int]
    live: bool = False  # kept up to date by `shadowdiff watch`
    links: dict[str, str]


class ReportList(BaseModel):
    reports: list[ReportRow]


class Pair(BaseModel):
    correlation_id: str
    endpoint: str | None
    reasons: list[str]
    found_in: str
    report_id: str | None
    records: dict[str, Any]
    diff: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "no such report, endpoint or pair"},
    401: {"model": Problem, "description": "missing or wrong bearer token"},
    503: {"model": Problem, "description": "the reports root or record source is unreadable"},
}


def row_with_links(data: dict[str, Any]) -> dict[str, Any]:
    row = report_row(data)
    seg = quote(str(data["id"]), safe="")
    row["links"] = {"html": f"/reports/{seg}", "json": f"/api/reports/{seg}"}
    return row


def pair_json(found: FoundPair) -> dict[str, Any]:
    pair = found.pair
    reasons, records, diff = pair.get("reasons"), pair.get("records"), pair.get("diff")
    records = records if isinstance(records, dict) else {}
    endpoint = pair.get("endpoint")
    return {
        "correlation_id": str(pair.get("correlation_id")),
        "endpoint": None if endpoint is None else str(endpoint),
        "reasons": [str(r) for r in reasons] if isinstance(reasons, list) else [],
        "found_in": found.found_in,
        "report_id": found.report.id if found.report else None,
        "records": {r: records.get(r) if isinstance(records.get(r), dict) else None for r in ROLES},
        "diff": [d for d in diff if isinstance(d, dict)] if isinstance(diff, list) else [],
    }


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


def router(service: ReportService) -> APIRouter:
    r = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
    cache: dict[str, Any] = {"version": -1, "body": b""}

    @r.get("/reports", response_model=ReportList, summary="Every report, newest first")
    def list_reports() -> Response:
        snap = service.snapshot()
        if cache["version"] != snap.version:
            rows = [row_with_links(rep.data) for rep in snap.reports]
            cache.update(version=snap.version, body=orjson.dumps({"reports": rows}))
        return Response(cache["body"], media_type="application/json")

    @r.get("/reports/{report_id}", response_model=dict[str, Any], summary="One report.json")
    def get_report(report_id: str) -> Response:
        return _json(service.report(report_id).data)

    @r.get(
        "/reports/{report_id}/endpoints/{endpoint:path}",
        response_model=dict[str, Any],
        summary="One endpoint of a report (the name URL-encoded)",
    )
    def get_endpoint(report_id: str, endpoint: Annotated[str, Path()]) -> Response:
        return _json(service.endpoint(report_id, endpoint)[1])

    @r.get(
        "/pairs/{correlation_id}",
        response_model=Pair,
        summary="One request's primary, shadow and secondary records with their diff",
    )
    def get_pair(
        correlation_id: str,
        report: str | None = REPORT,
        dt: str | None = DT,
        hour: int | None = HOUR,
    ) -> Response:
        return _json(pair_json(service.pair(correlation_id, report, dt, hour)))

    return r
