"""Schemathesis against the app's own OpenAPI: every documented API route, bounded examples.

Responses must match their documented schemas, status codes and content types
and never be a server error. The app has a token configured and every
generated request carries it.
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from analysis.web.app import create_app
from serve.conftest import NIGHTS, TOKEN, settings_for
from serve.reportdata import write_report

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _schema() -> schemathesis.BaseSchema:
    """Built at import (parametrize needs it then); the lazy fixture loader breaks on pytest 9."""
    tmp = tempfile.TemporaryDirectory(prefix="shadowdiff-openapi-")
    atexit.register(tmp.cleanup)
    for night in NIGHTS:
        write_report(Path(tmp.name), night)
    app = create_app(settings_for(Path(tmp.name), token=TOKEN))
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)


schema = _schema()


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH)


def test_the_schema_documents_every_api_route() -> None:
    assert set(schema.raw_schema["paths"]) == {
        "/healthz",
        "/api/reports",
        "/api/reports/{report_id}",
        "/api/reports/{report_id}/endpoints/{endpoint}",
        "/api/pairs/{correlation_id}",
        "/api/canaries",
        "/api/canaries/{canary_id}",
    }
