"""Canary folders beside the reports: ``/canaries/{id}`` (HTML) and ``/api/canaries[/{id}]``.

A folder under ``--reports`` that holds ``canary.json`` (what ``shadowdiff canary
--out ROOT/NAME`` writes) is a canary; the service lists it with the same
catalog machinery as reports (:class:`analysis.web.catalog.Catalog`), so a new
canary appears without a restart and a broken one is logged and left out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from analysis.canary.writer import failed_share
from analysis.core.explain_words import words_of
from analysis.report.html import cdf_svg
from analysis.web.api import ERRORS
from analysis.web.render import Renderer
from analysis.web.service import ReportService

ARMS = ("baseline", "canary")


class CanaryRow(BaseModel):
    id: str
    generated_at: str | None
    window: dict[str, Any]
    verdict: str
    baseline: dict[str, Any]
    canary: dict[str, Any]
    reasons: list[str]
    links: dict[str, str]


class CanaryList(BaseModel):
    canaries: list[CanaryRow]


def canary_row(data: dict[str, Any]) -> dict[str, Any]:
    """One line of the index: verdict, arms, first reason, links."""
    seg = quote(str(data["id"]), safe="")
    reasons = [str(r) for r in data.get("reasons") or []]
    arms: dict[str, dict[str, Any]] = {arm: _mapping(data.get(arm)) for arm in ARMS}
    return {
        "id": str(data["id"]),
        "generated_at": None if data.get("generated_at") is None else str(data["generated_at"]),
        "window": data.get("window") if isinstance(data.get("window"), dict) else {},
        "verdict": str(data.get("verdict", "")),
        "baseline": {
            "label": arms["baseline"].get("label"),
            "requests": arms["baseline"].get("requests"),
        },
        "canary": {
            "label": arms["canary"].get("label"),
            "requests": arms["canary"].get("requests"),
        },
        "reasons": reasons,
        "links": {"html": f"/canaries/{seg}", "json": f"/api/canaries/{seg}"},
    }


def rows(service: ReportService) -> list[dict[str, Any]]:
    return [canary_row(c.data) for c in service.canaries.snapshot().reports]


def router(service: ReportService, renderer: Renderer) -> APIRouter:
    r = APIRouter()

    @r.get(
        "/api/canaries",
        tags=["api"],
        response_model=CanaryList,
        responses=ERRORS,
        summary="Every canary, newest first",
    )
    def list_canaries() -> Response:
        return Response(orjson.dumps({"canaries": rows(service)}), media_type="application/json")

    @r.get(
        "/api/canaries/{canary_id}",
        tags=["api"],
        response_model=dict[str, Any],
        responses=ERRORS,
        summary="One canary.json",
    )
    def get_canary(canary_id: str) -> Response:
        return Response(orjson.dumps(service.canary(canary_id).data), media_type="application/json")

    @r.get("/canaries/{canary_id}", response_class=HTMLResponse, include_in_schema=False)
    def canary_page(canary_id: str) -> Response:
        data = service.canary(canary_id).data
        endpoints = []
        for ep in data.get("endpoints", []):
            if isinstance(ep, dict):
                chart = _numbers(_mapping(ep.get("chart")))
                why = words_of(failed_share(ep))
                endpoints.append({**ep, "svg": cdf_svg(chart, ARMS), "why": why})
        return renderer.page(
            "canary.html.j2", canary=data, row=canary_row(data), endpoints=endpoints
        )

    return r


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _numbers(chart: dict[str, Any]) -> dict[str, list[float]]:
    """Only numbers reach the SVG (it is the one fragment the templates do not escape)."""
    out: dict[str, list[float]] = {}
    for arm in ARMS:
        values = chart.get(arm)
        if isinstance(values, list):
            out[arm] = [
                float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
            ]
    return out
