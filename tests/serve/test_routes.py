"""Every route of the report service, in process (TestClient), over hand-made report folders."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from serve.conftest import NIGHTS, report_id
from serve.reportdata import SCRIPT, write_report

NEWEST = report_id(NIGHTS[-1])
USERS = quote("GET /users/{id}", safe="")


def test_index_lists_reports_newest_first_with_both_charts(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    positions = [r.text.index(report_id(n)) for n in reversed(NIGHTS)]
    assert positions == sorted(positions)
    assert r.text.count("<svg") == 2
    assert "Mismatch rates per night" in r.text and "Latency verdicts per night" in r.text


def test_api_reports_mirrors_the_index(client: TestClient) -> None:
    rows = client.get("/api/reports").json()["reports"]
    assert [row["id"] for row in rows] == [report_id(n) for n in reversed(NIGHTS)]
    newest = rows[0]
    assert newest["status_mismatch_rate"] == 0 / 125
    assert newest["links"]["html"] == f"/reports/{NEWEST}"
    assert newest["latency_verdicts"]["slower"] == 1


def test_a_broken_report_json_is_skipped_and_logged_not_a_500(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="shadowdiff.serve"):
        assert client.get("/").status_code == 200
    assert "broken-night" in caplog.text
    assert len(client.get("/api/reports").json()["reports"]) == len(NIGHTS)


def test_a_new_report_appears_without_a_restart(client: TestClient, reports_root: Path) -> None:
    assert client.get(f"/api/reports/{report_id(26)}").status_code == 404
    write_report(reports_root, 26)
    assert client.get(f"/api/reports/{report_id(26)}").status_code == 200
    assert client.get("/api/reports").json()["reports"][0]["id"] == report_id(26)


def test_routes_use_the_report_json_id_not_the_folder_name(
    client: TestClient, reports_root: Path
) -> None:
    write_report(reports_root, 27, folder="whatever-folder", report_id="custom-id")
    assert client.get("/api/reports/custom-id").json()["id"] == "custom-id"
    assert client.get("/api/reports/whatever-folder").status_code == 404


def test_api_report_is_the_report_json(client: TestClient, reports_root: Path) -> None:
    body = client.get(f"/api/reports/{NEWEST}").json()
    assert body["schema"] == "shadowdiff.report/1"
    assert body["sources"] == {"records": "/data/records"}
    assert body["summary"]["pairs"] == 125


def test_report_page_links_to_endpoints_examples_and_files(client: TestClient) -> None:
    r = client.get(f"/reports/{NEWEST}")
    assert r.status_code == 200
    assert f'href="/reports/{NEWEST}/endpoints/{USERS}"' in r.text
    assert f'href="/pairs/cid-json-25?report={NEWEST}"' in r.text
    assert client.get(f"/reports/{NEWEST}/files/report.md").text.startswith("# ")
    assert client.get(f"/reports/{NEWEST}/files/report.html").status_code == 200
    assert client.get(f"/reports/{NEWEST}/files/secrets.txt").status_code == 404


def test_endpoint_page_shows_fields_noise_apart_matrix_latency_and_examples(
    client: TestClient,
) -> None:
    r = client.get(f"/reports/{NEWEST}/endpoints/{USERS}")
    assert r.status_code == 200
    fields, noise = r.text.split('id="noise"')
    assert "$.price" in fields and "$.generated_at" not in fields.split('id="fields"')[1]
    assert "$.generated_at" in noise and "auto" in noise
    assert "200-&gt;500" in r.text
    assert "Latency percentiles" in r.text
    assert "cid-json-25" in r.text
    api = client.get(f"/api/reports/{NEWEST}/endpoints/{USERS}").json()
    assert api["endpoint"] == "GET /users/{id}"


def test_endpoint_page_says_which_requests_are_behind_a_field_and_a_status_cell(
    client: TestClient,
) -> None:
    r = client.get(f"/reports/{NEWEST}/endpoints/{USERS}")
    fields = r.text.split('id="fields"')[1].split('id="noise"')[0]
    assert (
        "97 % of these pairs (58), and 3 % of the others, have query <code>currency</code>"
        " = <code>EUR</code>" in fields
    )
    matrix = r.text.split('id="status-matrix"')[1]
    assert "have header <code>user-agent</code> = <code>&lt;script&gt;" in matrix
    assert "<script>" not in r.text


def test_pair_page_puts_sides_together_with_the_diff_marked(client: TestClient) -> None:
    r = client.get("/pairs/cid-json-25")
    assert r.status_code == 200
    for role in ("primary", "shadow", "secondary"):
        assert f'id="side-{role}"' in r.text
    # pretty-printed JSON, one leaf per line, differing leaf highlighted, noise marked
    assert re.search(r'<span class="line diff">\s*&#34;price&#34;: 12,?</span>', r.text)
    assert re.search(r'<span class="line noise">\s*&#34;generated_at&#34;', r.text)
    assert '<span class="line">  &#34;name&#34;: &#34;Ada&#34;,</span>' in r.text


def test_pair_without_secondary_shows_two_sides(client: TestClient) -> None:
    r = client.get(f"/pairs/cid-xss-25?report={NEWEST}")
    assert 'id="side-secondary"' not in r.text
    assert 'class="status diff">500' in r.text


def test_a_script_body_is_escaped_text(client: TestClient) -> None:
    r = client.get("/pairs/cid-xss-24")
    assert SCRIPT not in r.text
    assert "&lt;script&gt;document.title=" in r.text
    assert "script-src" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_binary_bodies_show_size_and_hash(client: TestClient) -> None:
    r = client.get("/pairs/cid-bin-23")
    assert "binary body: 1024 bytes, sha256" in r.text
    api = client.get("/api/pairs/cid-bin-23").json()
    assert api["records"]["primary"]["response"]["body_encoding"] == "base64"


def test_api_pair_names_where_it_was_found(client: TestClient) -> None:
    body = client.get("/api/pairs/cid-json-24").json()
    assert body["report_id"] == report_id(24)
    assert body["found_in"] == "report"
    assert {d["path"] for d in body["diff"]} == {"$.price", "$.generated_at"}
    assert set(body["records"]) == {"primary", "shadow", "secondary"}


def test_unknown_things_are_404s_that_name_them(client: TestClient) -> None:
    api = client.get("/api/reports/no-such-report")
    assert api.status_code == 404 and "no-such-report" in api.json()["detail"]
    page = client.get("/reports/no-such-report")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no-such-report" in page.text
    assert "ghost-cid" in client.get("/api/pairs/ghost-cid").json()["detail"]
    assert "ghost-cid" in client.get("/pairs/ghost-cid").text
    assert client.get(f"/pairs/cid-json-24?report={NEWEST}").status_code == 404
    ep = client.get(f"/api/reports/{NEWEST}/endpoints/{quote('PUT /nope', safe='')}")
    assert ep.status_code == 404 and "PUT /nope" in ep.json()["detail"]


def test_healthz_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert "swagger" in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/reports", "/api/reports/{report_id}", "/api/pairs/{correlation_id}"} <= set(paths)


def test_an_empty_root_serves_an_empty_index(tmp_path: Path) -> None:
    from analysis.web.app import create_app
    from serve.conftest import settings_for

    c = TestClient(create_app(settings_for(tmp_path)))
    assert "No reports yet" in c.get("/").text
    assert c.get("/api/reports").json() == {"reports": []}
