"""`shadowdiff demo --live --no-serve`: a live report fills in while the requests flow."""

from __future__ import annotations

import json
import os
import re
import signal

import pytest

from demo.test_demo_e2e import _demo

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_the_live_report_fills_in_during_the_traffic_and_ends_with_every_pair(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = _demo(out, env, "--no-serve", "--live", "--requests", "600", "--concurrency", "2")
    try:
        stdout, _ = proc.communicate(timeout=200)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
    assert proc.returncode == 0, stdout
    (nightly,) = (p for p in (out / "reports").glob("demo-*/report.json"))
    nightly_report = json.loads(nightly.read_text())
    live = json.loads((out / "reports" / "live" / "report.json").read_text())
    assert live["id"] == "live" and live["live"]["pending"] == 0
    assert live["summary"]["pairs"] == nightly_report["summary"]["pairs"] > 0
    assert live["summary"]["status_mismatches"] == nightly_report["summary"]["status_mismatches"]
    # Replaced several times on the way, with more pairs each time: it filled in as they came.
    log = (out / "logs" / "watch.log").read_text()
    counts = [int(n) for n in re.findall(r"(\d+) pairs in the window, report replaced", log)]
    growing = sorted({n for n in counts if n})
    assert len(growing) >= 2 and growing[-1] == live["summary"]["pairs"], log
    assert "shadowdiff watch" in stdout and "live report has every pair" in stdout
    processes = json.loads((out / "logs" / "processes.json").read_text())
    assert any(p["name"] == "watch" for p in processes)
