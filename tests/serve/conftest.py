"""Fixtures of the report service tests: a root of hand-made report folders and clients."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from analysis.web.app import create_app
from analysis.web.settings import ServeSettings
from serve.reportdata import write_report

NIGHTS = (23, 24, 25)
TOKEN = "s3cr3t-token"


def free_port() -> int:
    """A free loopback port (``from conftest import`` is ambiguous across test dirs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout}s: {exc}") from exc
            time.sleep(0.05)


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
