"""``shadowdiff serve`` over a report root made by ``shadowdiff report`` (docs/contract.md §6, §7)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import free_port, stop_proc, wait_http

from .acc_support import EXE, env, http, record, report, write_hive

SCRIPT = "<script>alert(1)</script>"
TOKEN = "s3cret-token"


def make_report(tmp_path: Path, root: Path, name: str) -> dict[str, Any]:
    records = tmp_path / f"records-{name}"
    write_hive(records, [record("xss-1", "primary", path="/w/1", body={"html": "ok"})], "primary")
    write_hive(records, [record("xss-1", "shadow", path="/w/1", body={"html": SCRIPT})], "shadow")
    write_hive(
        records,
        [record("xss-1", "secondary", path="/w/1", body={"html": "ok-secondary"})],
        "secondary",
    )
    run = report(["--records", str(records)], root / name)
    assert run.code == 0, run.stderr
    assert run.report is not None
    return run.report


def start(
    root: Path, args: list[str], extra_env: dict[str, str]
) -> tuple[subprocess.Popen[Any], str]:
    port = free_port()
    proc = subprocess.Popen(
        [EXE, "serve", "--reports", str(root), "--port", str(port), *args],
        env={**env(), **extra_env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz")
    return proc, base


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("serve")
    root = tmp / "reports"
    rep = make_report(tmp, root, "first")
    proc, base = start(root, ["--token", TOKEN], {})
    try:
        yield base, tmp, rep
    finally:
        stop_proc(proc)


def test_every_route_answers_with_the_token(served: tuple[str, Path, dict[str, Any]]) -> None:
    base, _, rep = served
    rid = rep["id"]
    status, body, ctype = http(base + "/", TOKEN)
    assert status == 200 and "html" in ctype and rid in body.decode()
    status, body, ctype = http(f"{base}/reports/{rid}", TOKEN)
    assert status == 200 and "html" in ctype
    assert "GET /w/{id}" in body.decode()
    status, body, _ = http(base + "/api/reports", TOKEN)
    assert status == 200 and rid in body.decode()
    status, body, _ = http(f"{base}/api/reports/{rid}", TOKEN)
    assert status == 200 and json.loads(body) == rep
    status, body, _ = http(f"{base}/api/reports/no-such-report", TOKEN)
    assert status == 404
    status, body, _ = http(base + "/docs", TOKEN)
    assert status == 200


def test_pair_json_shows_every_role(served: tuple[str, Path, dict[str, Any]]) -> None:
    base, _, _ = served
    status, body, ctype = http(base + "/api/pairs/xss-1", TOKEN)
    assert status == 200 and "json" in ctype
    data = json.loads(body)
    text = json.dumps(data)
    # Key layout is the product's; each role's record must be there, side by side.
    sides = data.get("records", data)
    for role in ("primary", "shadow", "secondary"):
        assert sides[role]["role"] == role
        assert sides[role]["correlation_id"] == "xss-1"
    assert "ok-secondary" in text
    assert "$.html" in text  # the diff is included


def test_captured_script_is_escaped_in_pair_page(served: tuple[str, Path, dict[str, Any]]) -> None:
    base, _, _ = served
    status, body, ctype = http(base + "/pairs/xss-1", TOKEN)
    assert status == 200 and "html" in ctype
    page = body.decode()
    assert SCRIPT not in page
    assert "&lt;script&gt;" in page or "\\u003cscript" in page
    # primary, shadow and secondary side by side
    assert "ok-secondary" in page and "alert(1)" in page


def test_captured_script_is_escaped_in_report_page(
    served: tuple[str, Path, dict[str, Any]],
) -> None:
    base, _, rep = served
    _, body, _ = http(f"{base}/reports/{rep['id']}", TOKEN)
    assert SCRIPT not in body.decode()


def test_token_needed_everywhere_but_healthz(served: tuple[str, Path, dict[str, Any]]) -> None:
    base, _, rep = served
    for route in (
        "/",
        f"/reports/{rep['id']}",
        "/api/reports",
        f"/api/reports/{rep['id']}",
        "/pairs/xss-1",
        "/api/pairs/xss-1",
        "/docs",
    ):
        assert http(base + route)[0] == 401, route
        assert http(base + route, "wrong-token")[0] == 401, route
    assert http(base + "/healthz")[0] == 200


def test_new_reports_appear_newest_first_without_restart(
    served: tuple[str, Path, dict[str, Any]],
) -> None:
    base, tmp, first = served
    second = make_report(tmp, tmp / "reports", "second")
    assert second["id"] != first["id"]
    # "appear without a restart": allow a short listing cache, bounded.
    deadline = time.monotonic() + 20
    page = ""
    while time.monotonic() < deadline:
        status, body, _ = http(base + "/", TOKEN)
        page = body.decode()
        if status == 200 and second["id"] in page:
            break
        time.sleep(0.5)
    assert page.index(second["id"]) < page.index(first["id"])
    _, body, _ = http(f"{base}/api/reports/{second['id']}", TOKEN)
    assert json.loads(body) == second


def test_token_from_environment(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    rep = make_report(tmp_path, root, "only")
    proc, base = start(root, [], {"SHADOWDIFF_TOKEN": "from-env"})
    try:
        assert http(f"{base}/api/reports/{rep['id']}")[0] == 401
        assert http(f"{base}/api/reports/{rep['id']}", "from-env")[0] == 200
        assert http(base + "/healthz")[0] == 200
    finally:
        stop_proc(proc)


def test_unknown_ids_are_404(served: tuple[str, Path, dict[str, Any]]) -> None:
    base, _, _ = served
    for route in ("/reports/nope", "/api/reports/nope", "/pairs/nope", "/api/pairs/nope"):
        assert http(base + route, TOKEN)[0] == 404, route
