"""`shadowdiff demo --replay`: the captured v1 traffic replayed against v2 gives its own report.

The replay report must find what the live shadow report finds (the planted 5xx on
bulk orders, ``$.price`` turned into a string) from the primary records alone,
and explain the per-response ids as noise through the secondary v1 copy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _endpoint(report, name):
    by_name = {ep["endpoint"]: ep for ep in report["endpoints"]}
    assert name in by_name, sorted(by_name)
    return by_name[name]


@pytest.fixture(scope="module")
def replay_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-replay") / "out"
    argv = [sys.executable, "-m", "shadowdiff", "demo", "--out", str(out), "--no-serve",
            "--replay", "--requests", "300"]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, _ = proc.communicate(timeout=200)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
    assert proc.returncode == 0, stdout
    (live,) = (out / "reports").glob("demo-*/report.json")
    (replayed,) = (out / "reports").glob("replay-*/report.json")
    return {
        "out": out,
        "stdout": stdout,
        "live": json.loads(live.read_text()),
        "replay": json.loads(replayed.read_text()),
    }


def test_the_replay_report_pairs_every_captured_primary(replay_run):
    s = replay_run["replay"]["summary"]
    primaries = replay_run["live"]["summary"]["primary_records"]
    assert (s["primary_records"], s["pairs"], s["primary_only"]) == (primaries, primaries, 0)
    assert s["secondary_records"] == primaries
    assert replay_run["replay"]["sources"]["primary"] == str(Path(replay_run["out"]) / "records")


def test_the_replay_finds_the_planted_5xx_and_the_type_change(replay_run):
    traffic = json.loads((replay_run["out"] / "traffic.json").read_text())
    orders = _endpoint(replay_run["replay"], "POST /orders")
    planted = orders["status"]["matrix"].get("201->500", 0)
    assert planted > 0 and planted <= traffic["planted_5xx"]
    items = {
        f["path"]: f for f in _endpoint(replay_run["replay"], "GET /items/{sku}")["body"]["fields"]
    }
    assert items["$.price"]["kind"] == "type_changed" and items["$.price"]["noise"] is False
    users = {
        f["path"]: f for f in _endpoint(replay_run["replay"], "GET /users/{id}")["body"]["fields"]
    }
    assert users["$.meta.request_id"]["noise_reason"] == "secondary"


def test_the_demo_prints_both_summaries(replay_run):
    stdout = replay_run["stdout"]
    assert "replaying the captured v1 traffic against v2" in stdout
    assert stdout.count("Report ") >= 2 and "replay-" in stdout
    assert "Traceback" not in stdout
