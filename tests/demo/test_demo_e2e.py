"""`shadowdiff demo --no-serve` end to end: the report finds what v2 was built to break.

Runs the real command as a subprocess in a tmp dir (apps, collectors, front door
with the real edge handler, report), then reads report.json and the records.
A second test interrupts a running demo and checks that nothing is left running.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

REQUESTS = 600
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _demo(
    out: Path, env: dict[str, str], *extra: str, sigint_ignored: bool = False
) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "shadowdiff", "demo", "--out", str(out), *extra]
    # A shell starts background jobs with SIGINT ignored; the demo must still stop on it.
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True, preexec_fn=preexec,
    )  # fmt: skip


@pytest.fixture(scope="module", params=["edge", "tap"])
def demo_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The demo with the mirrors sent by the edge handler, and by the primary tap (docs/contract.md §8).

    Every assertion below holds for both: the report is just as exact either way.
    """
    out = tmp_path_factory.mktemp("demo") / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    mirror_from = ["--mirror-from", request.param]
    proc = _demo(out, env, "--no-serve", "--requests", str(REQUESTS), *mirror_from)
    try:
        stdout, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
    assert proc.returncode == 0, stdout + "\n".join(
        f"--- {log.name}\n{log.read_text()[-2000:]}" for log in (out / "logs").glob("*.log")
    )
    (report_json,) = (out / "reports").glob("*/report.json")
    return {
        "out": out,
        "stdout": stdout,
        "report": json.loads(report_json.read_text()),
        "traffic": json.loads((out / "traffic.json").read_text()),
    }


def _endpoint(report: dict[str, Any], name: str) -> dict[str, Any]:
    by_name = {ep["endpoint"]: ep for ep in report["endpoints"]}
    assert name in by_name, sorted(by_name)
    return by_name[name]


def _field(ep: dict[str, Any], path: str) -> dict[str, Any]:
    by_path = {f["path"]: f for f in ep["body"]["fields"]}
    assert path in by_path, (ep["endpoint"], sorted(by_path))
    return by_path[path]


def _records(out: Path, role: str) -> list[dict[str, Any]]:
    lines = []
    for path in (out / "records" / f"role={role}").rglob("*.jsonl.gz"):
        with gzip.open(path, "rt") as fh:
            lines += [json.loads(line) for line in fh if line.strip()]
    return lines


@pytest.mark.parametrize(
    ("endpoint", "path", "kind"),
    [
        ("GET /users/{id}", "$.tier", "changed"),
        ("GET /users/{id}", "$.avatar_url", "added"),
        ("GET /users/{id}", "$.legacy_id", "removed"),
        ("GET /items/{sku}", "$.price", "type_changed"),
    ],
)
def test_the_report_finds_each_planted_body_difference(demo_run, endpoint, path, kind):
    ep = _endpoint(demo_run["report"], endpoint)
    field = _field(ep, path)
    assert (field["kind"], field["noise"]) == (kind, False)
    assert field["count"] > 0
    assert ep["body"]["mismatches"] > 0


def test_only_some_users_change_tier_but_every_found_item_price_changes_type(demo_run):
    users = _endpoint(demo_run["report"], "GET /users/{id}")
    items = _endpoint(demo_run["report"], "GET /items/{sku}")
    assert 0 < _field(users, "$.tier")["rate"] < 0.5
    found = items["status"]["matrix"]["200->200"]  # the rest are 404s for unknown SKUs
    assert _field(items, "$.price")["count"] == found


def test_the_eur_only_currency_change_is_explained_by_the_query(demo_run):
    """v2 mislabels the currency only for ?currency=EUR: explain names that (docs/contract.md §12)."""
    items = _endpoint(demo_run["report"], "GET /items/{sku}")
    currency = _field(items, "$.currency")
    assert (currency["kind"], currency["noise"]) == ("changed", False)
    top = currency["explain"][0]
    assert (top["attribute"], top["value"], top["support"]) == ("query.currency", "EUR", 1.0)
    assert top["pairs"] == currency["count"] >= 5
    assert top["baseline"] < 0.2 and top["lift"] >= 2
    assert "have query `currency` = `EUR`" in demo_run["stdout"]


def test_the_changed_cache_control_header_is_reported(demo_run):
    items = _endpoint(demo_run["report"], "GET /items/{sku}")
    fields = [f for f in items["body"]["fields"] if "cache-control" in f["path"].lower()]
    assert fields, sorted(f["path"] for f in items["body"]["fields"])
    assert all(not f["noise"] for f in fields)


def test_request_ids_and_timestamps_are_flagged_as_noise(demo_run):
    for name in ("GET /users/{id}", "GET /items/{sku}", "GET /search"):
        ep = _endpoint(demo_run["report"], name)
        for path in ("$.meta.request_id", "$.meta.generated_at"):
            field = _field(ep, path)
            assert field["noise"] is True, field
            assert field["noise_reason"] in ("secondary", "auto"), field


def test_the_search_that_got_slower_is_reported_slower(demo_run):
    latency = _endpoint(demo_run["report"], "GET /search")["latency_ms"]
    assert latency["verdict"] == "slower", latency
    assert latency["p_value"] < 0.01


def test_the_bulk_order_5xx_are_counted_exactly(demo_run):
    out, report = demo_run["out"], demo_run["report"]
    planted = set(demo_run["traffic"]["planted_5xx_correlation_ids"])
    assert planted
    shadow_500 = {
        r["correlation_id"]
        for r in _records(out, "shadow")
        if (r["response"] or {}).get("status") == 500
    }
    primary_ids = {r["correlation_id"] for r in _records(out, "primary")}
    assert shadow_500 <= planted  # nothing else failed
    expected = len(shadow_500 & primary_ids)
    assert expected >= 0.9 * len(planted)  # mirrors are at-least-once, never mostly lost
    orders = _endpoint(report, "POST /orders")
    assert orders["status"]["matrix"].get("201->500") == expected
    assert orders["status"]["mismatches"] == expected
    assert report["summary"]["status_mismatches"] == expected
    assert report["summary"]["shadow_errors"] == 0


def test_the_demo_prints_where_the_report_is(demo_run):
    assert "report.html" in demo_run["stdout"]
    assert "Traceback" not in demo_run["stdout"]


def test_ctrl_c_stops_every_process_the_demo_started(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = _demo(out, env, "--no-serve", "--requests", "100000", sigint_ignored=True)
    try:
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until everything is up and traffic flows
            if "sending" in line or time.monotonic() > deadline:
                break
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    started = json.loads((out / "logs" / "processes.json").read_text())
    assert {p["name"] for p in started} >= {"frontdoor", "collector-shadow", "app-v2"}
    alive = [p["name"] for p in started if _alive(p["pid"])]
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_step_that_fails_stops_everything_and_says_which_in_one_line(tmp_path):
    out = tmp_path / "out"
    with socket.socket() as taken:  # the report service's port is already in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [sys.executable, "-m", "shadowdiff", "demo", "--out", str(out)]
        proc = subprocess.run(
            [*argv, "--port", str(port), "--requests", "50"],
            capture_output=True, text=True, timeout=180, start_new_session=True,
        )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "serve" in line and "serve.log" in line
    started = json.loads((out / "logs" / "processes.json").read_text())
    assert [p["name"] for p in started if _alive(p["pid"])] == []


def test_the_report_is_served_until_ctrl_c_and_then_everything_stops(tmp_path):
    out = tmp_path / "out"
    proc = _demo(out, {**os.environ, "PYTHONUNBUFFERED": "1"}, "--requests", "60")
    try:
        assert proc.stdout is not None
        report_url = None
        for line in proc.stdout:
            if line.startswith("Report: "):
                report_url = line.split()[-1]
            if "Ctrl-C stops everything" in line:
                break
        assert report_url, "the demo printed no report URL"
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(report_url, timeout=30) as resp:
            assert resp.status == 200
            assert "GET /search" in resp.read().decode()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    started = json.loads((out / "logs" / "processes.json").read_text())
    assert "serve" in {p["name"] for p in started}
    assert [p["name"] for p in started if _alive(p["pid"])] == []
