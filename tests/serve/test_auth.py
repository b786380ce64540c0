"""Bearer-token auth on every route but /healthz, and the refusal to serve unprotected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analysis.web import app as app_module
from analysis.web.settings import TOKEN_ENV, build_settings, is_loopback
from serve.conftest import NIGHTS, TOKEN, report_id
from shadowdiff.model.errors import ConfigError

ROUTES = (
    "/",
    f"/reports/{report_id(NIGHTS[0])}",
    f"/reports/{report_id(NIGHTS[0])}/endpoints/GET%20%2Fusers%2F%7Bid%7D",
    f"/reports/{report_id(NIGHTS[0])}/files/report.md",
    "/api/reports",
    f"/api/reports/{report_id(NIGHTS[0])}",
    f"/api/reports/{report_id(NIGHTS[0])}/endpoints/GET%20%2Fusers%2F%7Bid%7D",
    "/pairs/cid-json-23",
    "/api/pairs/cid-json-23",
    "/docs",
    "/openapi.json",
)
GOOD = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_needs_the_token(token_client: TestClient, route: str) -> None:
    assert token_client.get(route).status_code == 401
    wrong = token_client.get(route, headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert token_client.get(route, headers=GOOD).status_code == 200


def test_401_is_json_for_the_api_and_html_for_pages(token_client: TestClient) -> None:
    api = token_client.get("/api/reports", headers={"Authorization": "Basic abc"})
    assert api.status_code == 401 and "Bearer" in api.json()["detail"]
    page = token_client.get("/")
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")


def test_healthz_stays_open(token_client: TestClient) -> None:
    assert token_client.get("/healthz").status_code == 200


def test_the_token_is_compared_in_constant_time(
    token_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = app_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(app_module.hmac, "compare_digest", spy)
    token_client.get("/api/reports", headers=GOOD)
    assert seen == [(TOKEN.encode(), TOKEN.encode())]


def test_token_falls_back_to_the_environment() -> None:
    s = build_settings("/r", environ={TOKEN_ENV: "from-env"})
    assert s.token == "from-env"
    assert build_settings("/r", token="flag", environ={TOKEN_ENV: "env"}).token == "flag"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com"])
def test_a_non_loopback_bind_without_token_is_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="--insecure"):
        build_settings("/r", host=host, environ={})
    assert build_settings("/r", host=host, insecure=True, environ={}).insecure
    assert build_settings("/r", host=host, token="t", environ={}).token == "t"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "::1", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)
    assert build_settings("/r", host=host, environ={}).token is None


def test_the_cli_refuses_with_one_line_and_exit_2(
    reports_root: Path, subprocess_env: dict[str, str]
) -> None:
    subprocess_env.pop(TOKEN_ENV, None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "serve",
            "--reports",
            str(reports_root),
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--insecure" in lines[0] and "0.0.0.0" in lines[0]


def test_the_cli_names_a_missing_reports_root(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    missing = tmp_path / "nope"
    proc = subprocess.run(
        [sys.executable, "-m", "shadowdiff", "serve", "--reports", str(missing)],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert str(missing) in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
