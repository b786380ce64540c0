"""`shadowdiff serve` lists canary folders beside reports: pages, API, escaping, Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import free_port, running

from analysis.canary.job import CanaryOptions, run_canary
from analysis.web.app import create_app
from serve.conftest import TOKEN, report_id, settings_for
from serve.reportdata import write_report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
from analysis_helpers import rec, write_records
from canary_data import arm

EVIL = "/<script>window.__pwned=1</script>"


def _canary(tmp: Path, root: Path, name: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    data = write_records(tmp / f"records-{name}", records)
    return run_canary(CanaryOptions(out=str(root / name), records=str(data), workers=1)).doc


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("canaries")
    root = tmp / "reports"
    write_report(root, 25)
    failing = arm("baseline", 900, seed=1) + arm("canary", 300, seed=2, errors={"orders": 0.2})
    failing += [rec(f"xb{i}", path=EVIL, deployment="baseline") for i in range(25)]
    failing += [rec(f"xc{i}", path=EVIL, deployment="canary", status=500) for i in range(25)]
    docs = {
        "fail": _canary(tmp, root, "canary-fail", failing),
        "pass": _canary(
            tmp, root, "canary-pass", arm("baseline", 900, seed=1) + arm("canary", 300, seed=3)
        ),
    }
    (root / "canary-broken").mkdir()
    (root / "canary-broken" / "canary.json").write_text('{"schema": "shadowdiff.canary/1"')
    return root, docs


@pytest.fixture
def client(root) -> TestClient:
    return TestClient(create_app(settings_for(root[0])))


def test_index_lists_canaries_beside_reports(client, root):
    _, docs = root
    html = client.get("/").text
    assert report_id(25) in html
    for doc in docs.values():
        assert f'href="/canaries/{doc["id"]}"' in html
    assert "canary-broken" not in html


def test_api_lists_canaries_and_serves_each_canary_json(client, root):
    _, docs = root
    listed = client.get("/api/canaries").json()["canaries"]
    assert {c["id"]: c["verdict"] for c in listed} == {d["id"]: d["verdict"] for d in docs.values()}
    assert client.get(f"/api/canaries/{docs['fail']['id']}").json() == docs["fail"]
    assert client.get("/api/reports").json()["reports"][0]["id"] == report_id(25)


def test_canary_page_shows_verdict_reasons_and_both_arms_latency(client, root):
    doc = root[1]["fail"]
    resp = client.get(f"/canaries/{doc['id']}")
    assert resp.status_code == 200
    assert "script-src" not in resp.headers["content-security-policy"]  # no script at all
    html = resp.text
    assert '<span id="verdict" class="bad">fail</span>' in html
    assert "POST /orders: 5xx " in html
    assert html.count("<svg") == len(doc["endpoints"])
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned" in html


def test_unknown_canary_is_a_404_naming_it(client):
    assert client.get("/api/canaries/nope").json() == {
        "detail": f"canary 'nope' not found under {client.app.state.service.canaries.root.uri}"
    }
    assert client.get("/canaries/nope").status_code == 404


def test_canaries_need_the_token_like_every_route(root):
    secured = TestClient(create_app(settings_for(root[0], token=TOKEN)))
    doc = root[1]["pass"]
    assert secured.get(f"/api/canaries/{doc['id']}").status_code == 401
    assert secured.get(f"/canaries/{doc['id']}").status_code == 401
    ok = secured.get(f"/api/canaries/{doc['id']}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(root) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "shadowdiff", "serve", "--reports", str(root[0])]
    with running(
        [*cmd, "--port", str(port)], url + "/healthz", env=dict(os.environ), stderr=subprocess.PIPE
    ):
        yield url


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")
def test_in_chromium_the_index_links_to_a_canary_page_whose_charts_render(server, root):
    from playwright.sync_api import sync_playwright

    doc = root[1]["fail"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        page.goto(server + "/")
        assert page.locator("#canaries tbody tr").count() == 2
        page.click(f"text={doc['id']}")
        page.wait_for_selector("#reasons")
        assert page.locator("#verdict").inner_text() == "fail"
        assert page.locator("#reasons li").all_inner_texts() == doc["reasons"]
        boxes = page.eval_on_selector_all(
            "svg",
            "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])",
        )
        assert len(boxes) == len(doc["endpoints"]) and all(w > 100 and h > 100 for w, h in boxes)
        assert page.locator("svg polyline").count() == 2 * len(doc["endpoints"])
        assert page.evaluate("window.__pwned === undefined")
        assert EVIL.lstrip("/") in page.locator("#endpoints").inner_text()
        browser.close()


def test_a_canary_written_to_s3_is_served_from_an_s3_root(aws_env, tmp_path):
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="canaries-s3-root")
    data = write_records(tmp_path / "r", arm("baseline", 300, seed=1) + arm("canary", 300, seed=2))
    opts = CanaryOptions(
        out="s3://canaries-s3-root/reports/canary-1", records=str(data), workers=1,
        clients={"s3": s3},
    )  # fmt: skip
    doc = run_canary(opts).doc
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="canaries-s3-root")["Contents"]]
    assert sorted(keys) == [
        f"reports/canary-1/{n}" for n in ("canary.html", "canary.json", "canary.md")
    ]
    client = TestClient(create_app(settings_for("s3://canaries-s3-root/reports")))
    assert client.get(f"/api/canaries/{doc['id']}").json() == doc
    assert client.get("/api/canaries").json()["canaries"][0]["verdict"] == doc["verdict"]


def test_the_canary_page_says_what_the_failed_requests_share_escaped(tmp_path):
    root = tmp_path / "reports"
    canary = arm("canary", 600, seed=4, errors={"orders": 0.0})
    for i, r in enumerate(canary):
        if r["request"]["path"] == "/orders":
            r["request"]["query"] = "x=<b>bold</b>" if i % 5 == 0 else "x=plain"
            if i % 5 == 0:
                r["response"].update(status=500, body='{"error": "boom"}')
    doc = _canary(tmp_path, root, "canary-why", arm("baseline", 1800, seed=1) + canary)
    (entry,) = next(ep for ep in doc["endpoints"] if ep["endpoint"] == "POST /orders")["errors"][
        "explain"
    ]
    assert (entry["attribute"], entry["value"]) == ("query.x", "<b>bold</b>")
    html = TestClient(create_app(settings_for(root))).get(f"/canaries/{doc['id']}").text
    assert "of these failed requests" in html
    assert "<code>&lt;b&gt;bold&lt;/b&gt;</code>" in html and "<b>bold</b>" not in html
