"""Fixtures of the report service tests: a root of hand-made report folders and clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analysis.web.app import create_app
from analysis.web.settings import ServeSettings
from serve.reportdata import write_report

NIGHTS = (23, 24, 25)
TOKEN = "s3cr3t-token"


def report_id(night: int) -> str:
    return f"2026-11-{night:02d}T00-00Z_r{night}"


@pytest.fixture
def reports_root(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    for night in NIGHTS:
        write_report(root, night)
    broken = root / "broken-night"
    broken.mkdir()
    (broken / "report.json").write_text('{"schema": "shadowdiff.report/1", "id": ')
    (root / "not-a-report").mkdir()
    return root


def settings_for(root: Path, **kw: object) -> ServeSettings:
    kw.setdefault("rescan_seconds", 0.0)
    return ServeSettings(reports=str(root), **kw)  # type: ignore[arg-type]


@pytest.fixture
def client(reports_root: Path) -> TestClient:
    return TestClient(create_app(settings_for(reports_root)))


@pytest.fixture
def token_client(reports_root: Path) -> TestClient:
    return TestClient(create_app(settings_for(reports_root, token=TOKEN)))
