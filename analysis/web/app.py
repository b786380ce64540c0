"""The FastAPI application: auth, error pages, OpenAPI, and the two routers.

Auth is one dependency on every route but ``/healthz`` (``/docs`` and
``/openapi.json`` included, as the contract says), comparing the bearer token
in constant time. Errors keep the shape of the route that raised them: JSON
under ``/api/`` and for the OpenAPI document, an HTML page everywhere else.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from analysis.web import api, canaries, pages
from analysis.web.render import Renderer
from analysis.web.roots import ReportRoot, open_root
from analysis.web.service import NotFound, RecordLookup, ReportService
from analysis.web.settings import ServeSettings
from shadowdiff import __version__
from shadowdiff.model.errors import SourceError


class Unauthorized(Exception):
    """No bearer token, or the wrong one."""


def _auth_dependency(token: str | None) -> Any:
    if token is None:

        def open_access() -> None:
            return None

        return open_access
    expected = token.encode("utf-8")
    bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")

    def check(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        given = (creds.credentials if creds else "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            raise Unauthorized()

    return check


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/openapi.json"


def create_app(
    settings: ServeSettings,
    root: ReportRoot | None = None,
    records: RecordLookup | None = None,
) -> FastAPI:
    """The app for ``settings``; ``root`` and ``records`` are injected by tests and benchmarks."""
    from analysis.config import load_settings
    from analysis.web.records import ReportSources, open_lookup

    report_settings = load_settings(settings.config)  # checked even without --records
    if records is None and settings.records:
        records = open_lookup(settings.records, report_settings=report_settings)
    service = ReportService(
        settings,
        root or open_root(settings.reports),
        records,
        report_sources=ReportSources(report_settings=report_settings),
    )
    renderer = Renderer()
    auth = Depends(_auth_dependency(settings.token))
    app = FastAPI(
        title="shadowdiff report service",
        version=__version__,
        description="Nightly shadowdiff reports and every divergent request (docs/contract.md §7).",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return renderer.error(404, "Not found", str(exc))

    @app.exception_handler(Unauthorized)
    async def unauthorized(request: Request, exc: Unauthorized) -> Response:
        message = "a valid Authorization: Bearer <token> header is required"
        headers = {"WWW-Authenticate": "Bearer"}
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=401, headers=headers)
        response = renderer.error(401, "Unauthorized", message)
        response.headers.update(headers)
        return response

    @app.exception_handler(SourceError)
    async def unavailable(request: Request, exc: SourceError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return renderer.error(503, "Reports unavailable", str(exc))

    @app.get("/healthz", tags=["service"], summary="Liveness; never needs a token")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/openapi.json", include_in_schema=False, dependencies=[auth])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[auth])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)

    app.include_router(api.router(service), dependencies=[auth])
    app.include_router(pages.router(service, renderer), dependencies=[auth])
    app.include_router(canaries.router(service, renderer), dependencies=[auth])
    return app
