"""The real ``shadowdiff serve`` process on a free loopback port (uvicorn, not TestClient)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import free_port, running

from serve.conftest import TOKEN, report_id
from serve.reportdata import write_report


@pytest.fixture
def served(reports_root: Path, subprocess_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    env = dict(subprocess_env, SHADOWDIFF_TOKEN=TOKEN)
    cmd = [sys.executable, "-m", "shadowdiff", "serve", "--reports", str(reports_root)]
    url = f"http://127.0.0.1:{port}"
    with running([*cmd, "--port", str(port)], url + "/healthz", env=env):
        yield url


def test_the_real_server_takes_its_token_from_the_environment(served: str) -> None:
    assert httpx.get(served + "/healthz").status_code == 200
    assert httpx.get(served + "/api/reports").status_code == 401
    ok = httpx.get(served + "/api/reports", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and len(ok.json()["reports"]) == 3


def test_the_real_server_picks_up_a_new_report(served: str, reports_root: Path) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    write_report(reports_root, 28)
    deadline = time.monotonic() + 15  # the listing is refreshed about once a second
    while time.monotonic() < deadline:
        if httpx.get(f"{served}/api/reports/{report_id(28)}", headers=auth).status_code == 200:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"report {report_id(28)} did not appear without a restart")
    page = httpx.get(served + "/", headers=auth)
    assert page.text.index(report_id(28)) < page.text.index(report_id(25))
