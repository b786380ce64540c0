"""`shadowdiff serve` shows the live report like any other, marks it live, and its pages reload."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from live_helpers import FakeClock, pairs_at, write_capture
from support import free_port, running

from analysis.live.settings import build_watch_settings
from analysis.live.watcher import Watcher
from analysis.web.app import create_app
from analysis.web.settings import ServeSettings

CHROMIUM = "/usr/bin/chromium"
REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')


def test_serve_lists_the_live_report_marks_it_and_its_pages_reload(tmp_path):
    records, reports = tmp_path / "rec", tmp_path / "reports"
    records.mkdir()
    write_capture(records, pairs_at("a", 8, bad=2))
    ws = build_watch_settings(reports=str(reports), records=str(records), every="15")
    watcher = Watcher(ws, monotonic=FakeClock())
    watcher.start()
    watcher.tick()
    nightly = reports / "2026-11-24"
    subprocess.run(
        [sys.executable, "-m", "shadowdiff", "report", "--records", str(records), "--out",
         str(nightly)], check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    client = TestClient(create_app(ServeSettings(reports=str(reports), rescan_seconds=0.0)))

    index = client.get("/").text
    assert 'class="tag live"' in index and REFRESH.search(index).group(1) == "15"
    rows = {r["id"]: r for r in client.get("/api/reports").json()["reports"]}
    assert rows["live"]["live"] is True and sum(r["live"] for r in rows.values()) == 1
    page = client.get("/reports/live").text
    assert REFRESH.search(page).group(1) == "15"
    assert "reloads every 15 s" in page
    nightly_id = next(i for i in rows if i != "live")
    assert not REFRESH.search(client.get(f"/reports/{nightly_id}").text)
    endpoint = client.get("/reports/live/endpoints/GET%20%2Fusers%2F%7Bid%7D").text
    assert REFRESH.search(endpoint)

    example = client.get("/api/reports/live").json()["endpoints"][0]["examples"][0]
    found = client.get(f"/api/pairs/{example['correlation_id']}?report=live").json()
    assert found["found_in"] == "report" and found["records"]["shadow"]["response"]["status"] == 500
    by_index = client.get("/api/pairs/a7?report=live").json()  # no example: the live cids/
    assert by_index["found_in"] == "index" and by_index["report_id"] == "live"

    write_capture(records, pairs_at("b", 3, minutes=1))
    watcher.tick()
    assert client.get("/api/reports/live").json()["summary"]["pairs"] == 11
    raw = client.get("/reports/live/files/report.html").text
    assert REFRESH.search(raw).group(1) == "15"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")
def test_the_live_page_reloads_itself_in_a_browser_as_new_records_arrive(tmp_path, subprocess_env):
    from playwright.sync_api import expect, sync_playwright

    records, reports = tmp_path / "rec", tmp_path / "reports"
    records.mkdir()
    write_capture(records, pairs_at("a", 4))
    exe = [sys.executable, "-m", "shadowdiff"]
    metrics, port = free_port(), free_port()
    watch = [*exe, "watch", "--records", str(records), "--reports", str(reports), "--every",
             "0.5", "--metrics-port", str(metrics)]  # fmt: skip
    serve = [*exe, "serve", "--reports", str(reports), "--port", str(port)]
    with (
        running(watch, f"http://127.0.0.1:{metrics}/metrics", env=subprocess_env),
        running(serve, f"http://127.0.0.1:{port}/healthz", env=subprocess_env),
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox"], headless=True
        )
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/reports/live")
        pairs = page.locator("#summary tr", has_text="pairs").first
        expect(pairs).to_contain_text("4", timeout=30_000)
        write_capture(records, pairs_at("b", 6, minutes=1))
        # No reload from here: the page's own meta refresh brings the new count.
        expect(pairs).to_contain_text("10", timeout=60_000)
        browser.close()
