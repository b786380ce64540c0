"""`shadowdiff demo --canary` end to end: 20 % of users on v2, sticky, and a failing verdict.

Runs the real command (apps, two primary taps, the front door running the real
canary split, ``shadowdiff canary``, ``shadowdiff serve``) as a subprocess, reads
the printed verdict, the served canary and the records, then stops it with Ctrl-C.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
REQUESTS = 1500
WEIGHT = 0.2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _records(out: Path) -> list[dict[str, Any]]:
    found = []
    for path in (out / "records").rglob("*.jsonl*"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            found += [json.loads(line) for line in fh if line.strip()]
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("canary-demo") / "out"
    argv = [sys.executable, "-m", "shadowdiff", "demo", "--canary", "--out", str(out)]
    proc = subprocess.Popen(
        [*argv, "--requests", str(REQUESTS)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    served: dict[str, Any] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Canary: "):
                served["url"] = line.split()[-1]
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        assert "url" in served, "".join(lines)
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(served["url"], timeout=30) as resp:
            served["html"] = resp.read().decode()
        api = served["url"].replace("/canaries/", "/api/canaries/")
        with direct.open(api, timeout=30) as resp:
            served["doc"] = json.loads(resp.read())
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return {"out": out, "stdout": "".join(lines), "code": proc.returncode, **served}


def test_the_demo_prints_and_serves_a_failing_verdict_with_its_reasons(demo):
    doc = demo["doc"]
    assert doc["verdict"] == "fail"
    assert "FAIL" in demo["stdout"] and "Traceback" not in demo["stdout"]
    reasons = "\n".join(doc["reasons"])
    for expected in (
        "POST /orders: 5xx ",
        "GET /search: p50 latency ",
        "GET /items/{sku}: $.price changed type from number on baseline to string on canary",
        "GET /users/{id}: $.legacy_id is gone",
    ):
        assert expected in reasons
        assert expected.split(":")[0] in demo["stdout"]
    for reason in doc["reasons"]:
        assert reason in demo["stdout"]
    assert "POST /orders: 5xx " in demo["html"]


def test_about_a_fifth_of_the_requests_went_to_the_canary(demo):
    doc = demo["doc"]
    share = doc["canary"]["requests"] / (doc["canary"]["requests"] + doc["baseline"]["requests"])
    assert 0.1 < share < 0.35
    assert doc["baseline"]["requests"] + doc["canary"]["requests"] >= 0.95 * REQUESTS


def test_each_user_stays_on_the_arm_the_sha256_rule_gives_and_the_app_sees_the_arm(demo):
    by_user: dict[str, set[str]] = {}
    for record in _records(demo["out"]):
        headers = record["request"]["headers"]
        user = headers["x-demo-user"]
        by_user.setdefault(user, set()).add(record["deployment"])
        assert headers["x-shadowdiff-arm"] == record["deployment"]
    assert len(by_user) > 100
    for user, arms in by_user.items():
        point = int.from_bytes(hashlib.sha256(user.encode()).digest()[:8], "big") / 2**64
        assert arms == {"canary" if point < WEIGHT else "baseline"}


def test_ctrl_c_stops_everything_the_canary_demo_started(demo):
    assert demo["code"] == 130
    started = json.loads((demo["out"] / "logs" / "processes.json").read_text())
    assert {p["name"] for p in started} >= {"frontdoor", "tap-baseline", "tap-canary", "serve"}
    assert [p["name"] for p in started if _alive(p["pid"])] == []
