"""A report.json that passes the schema check but holds odd values never breaks a page."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from analysis.web.app import create_app
from serve.conftest import settings_for

ODD = {
    "schema": "shadowdiff.report/1",
    "id": "odd <b>report",
    "generated_at": 20261125,
    "window": "all night",
    "sources": ["not", "a", "mapping"],
    "notes": "a string, not a list",
    "summary": {"pairs": "lots", "status_mismatches": None, "body_mismatches": True},
    "endpoints": [
        1,
        "GET /x",
        {
            "endpoint": "GET /odd/<script>",
            "pairs": None,
            "status": "x",
            "latency_ms": [],
            "body": {"compared": "n", "fields": ["a", {"count": "many", "noise": 1}, {}]},
            "examples": "none",
        },
        {"endpoint": "GET /empty"},
    ],
}


def test_odd_values_render_instead_of_a_500(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(ODD))
    c = TestClient(create_app(settings_for(tmp_path)), raise_server_exceptions=False)
    rid = quote(ODD["id"], safe="")
    urls = [
        "/",
        "/api/reports",
        f"/reports/{rid}",
        f"/api/reports/{rid}",
        f"/reports/{rid}/endpoints/{quote('GET /odd/<script>', safe='')}",
        f"/reports/{rid}/endpoints/{quote('GET /empty', safe='')}",
    ]
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        if r.headers["content-type"].startswith("text/html"):
            assert "<script>" not in r.text and "<b>report" not in r.text
    assert c.get(f"/pairs/x?report={rid}").status_code == 404


ODD_PAIRS = [
    {"correlation_id": "odd-1", "records": "none", "diff": "x", "reasons": "body"},
    {
        "correlation_id": "odd-2",
        "endpoint": 7,
        "records": {
            "primary": {"request": "GET /", "response": {"status": "200", "body": 5}},
            "shadow": {"response": {"headers": ["a"], "body": "<script>x</script>"}},
            "secondary": 3,
        },
        "diff": [1, {"path": 2}, {"path": "$", "noise": "yes"}],
    },
    "not an object",
]


def test_odd_pairs_render_instead_of_a_500(tmp_path: Path) -> None:
    import gzip

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(ODD))
    lines = "".join(json.dumps(p) + "\n" for p in ODD_PAIRS) + "{broken\n"
    (folder / "pairs.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    c = TestClient(create_app(settings_for(tmp_path)), raise_server_exceptions=False)
    for cid in ("odd-1", "odd-2"):
        for prefix in ("/pairs/", "/api/pairs/"):
            r = c.get(prefix + cid)
            assert r.status_code == 200, (prefix, cid, r.text[:300])
    assert "<script>x" not in c.get("/pairs/odd-2").text
