"""The server-rendered pages: index, report, endpoint and pair."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from analysis.report.html import live_refresh
from analysis.web import charts
from analysis.web.api import DT, HOUR, REPORT
from analysis.web.canaries import rows as canary_rows
from analysis.web.present import endpoint_view, endpoints_of, pair_sides, report_row
from analysis.web.render import PAGE_HEADERS, Renderer
from analysis.web.roots import PAIRS_FILE
from analysis.web.service import NotFound, ReportService

RAW_FILES = {
    "report.html": "text/html; charset=utf-8",
    "report.md": "text/markdown; charset=utf-8",
    "report.json": "application/json",
}


_FOUND_IN = {
    "report": PAIRS_FILE,
    "index": "the record source, by the report's correlation index (cids/)",
    "records": "the record source, by the partition hint",
}


def router(service: ReportService, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    cache: dict[str, Any] = {"version": -1, "html": ""}

    @r.get("/", response_class=HTMLResponse)
    def index() -> Response:
        snap = service.snapshot()
        version = (snap.version, service.canaries.snapshot().version)
        if cache["version"] != version:
            rows = [report_row(rep.data) for rep in snap.reports]
            oldest_first = rows[::-1]
            labels = [str(row["generated_at"] or row["id"])[:10] for row in oldest_first]
            live = [r for r in (live_refresh(rep.data) for rep in snap.reports) if r]
            html = renderer.html(
                "index.html.j2",
                rows=rows,
                refresh=min(live) if live else None,
                root=service.catalog.root.uri,
                trend=charts.trend_chart(
                    labels,
                    [row["status_mismatch_rate"] for row in oldest_first],
                    [row["body_mismatch_rate"] for row in oldest_first],
                ),
                verdicts=charts.verdict_chart(
                    labels, [row["latency_verdicts"] for row in oldest_first]
                ),
                canaries=canary_rows(service),
            )
            cache.update(version=version, html=html)
        return HTMLResponse(cache["html"], headers=PAGE_HEADERS)

    @r.get("/reports/{report_id}", response_class=HTMLResponse)
    def report_page(report_id: str) -> Response:
        report = service.report(report_id)
        return renderer.page(
            "report.html.j2",
            report=report.data,
            row=report_row(report.data),
            endpoints=endpoints_of(report.data),
            refresh=live_refresh(report.data),
        )

    @r.get("/reports/{report_id}/files/{name}")
    def report_file(report_id: str, name: str) -> Response:
        """The files ``shadowdiff report`` wrote, as they are (no script runs: same CSP)."""
        if name not in RAW_FILES:
            raise NotFound(f"file {name!r} is not one of {', '.join(RAW_FILES)}")
        report = service.report(report_id)
        raw = service.catalog.root.read(report.folder, name)
        return Response(raw, media_type=RAW_FILES[name], headers=PAGE_HEADERS)

    @r.get("/reports/{report_id}/endpoints/{endpoint:path}", response_class=HTMLResponse)
    def endpoint_page(report_id: str, endpoint: Annotated[str, Path()]) -> Response:
        report, data = service.endpoint(report_id, endpoint)
        view = endpoint_view(data)
        return renderer.page(
            "endpoint.html.j2",
            report=report.data,
            ep=view,
            latency=charts.latency_chart(view["latency"]),
            refresh=live_refresh(report.data),
        )

    @r.get("/pairs/{correlation_id}", response_class=HTMLResponse)
    def pair_page(
        correlation_id: str,
        report: str | None = REPORT,
        dt: str | None = DT,
        hour: int | None = HOUR,
    ) -> Response:
        found = service.pair(correlation_id, report, dt, hour)
        diff = found.pair.get("diff")
        reasons = found.pair.get("reasons")
        return renderer.page(
            "pair.html.j2",
            cid=correlation_id,
            pair=found.pair,
            report=found.report.data if found.report else None,
            found_in=_FOUND_IN.get(found.found_in, found.found_in),
            sides=pair_sides(found.pair),
            diff=[d for d in diff if isinstance(d, dict)] if isinstance(diff, list) else [],
            reasons=[str(r) for r in reasons] if isinstance(reasons, list) else [],
        )

    return r
