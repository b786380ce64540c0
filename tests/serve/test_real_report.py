"""The service over a folder that the real ``shadowdiff report`` wrote (not a hand-made one)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from analysis.web.app import create_app
from serve.conftest import settings_for
from serve.reportdata import SCRIPT, record, write_records
from serve.test_records_fallback import HOUR
from shadowdiff.cli import main


def test_a_report_written_by_shadowdiff_report_is_served(tmp_path: Path) -> None:
    recs = []
    for i in range(12):
        cid = f"real-{i}"
        p = {"id": i, "price": 10}
        s = {"id": i, "price": 11 if i % 2 else 10}
        recs.append(record(cid, "primary", 200, json.dumps(p)))
        recs.append(record(cid, "shadow", 500 if i == 4 else 200, json.dumps(s)))
    recs.append(record("xss", "primary", 200, SCRIPT, "text/html", "/page/1"))
    recs.append(record("xss", "shadow", 200, SCRIPT + "!", "text/html", "/page/1"))
    write_records(tmp_path / "records", HOUR, recs)
    out = tmp_path / "reports" / "tonight"
    assert main(["report", "--records", str(tmp_path / "records"), "--out", str(out)]) == 0
    rid = json.loads((out / "report.json").read_text())["id"]

    c = TestClient(create_app(settings_for(tmp_path / "reports")))
    assert rid in c.get("/").text
    page = c.get(f"/reports/{rid}")
    assert page.status_code == 200
    examples = []
    for ep in c.get(f"/api/reports/{rid}").json()["endpoints"]:
        assert f"/reports/{rid}/endpoints/{quote(ep['endpoint'], safe='')}" in page.text
        ep_page = c.get(f"/reports/{rid}/endpoints/{quote(ep['endpoint'], safe='')}").text
        for ex in ep["examples"]:
            examples.append(ex["correlation_id"])
            assert f"/pairs/{ex['correlation_id']}?report={rid}" in ep_page
            assert c.get(f"/pairs/{ex['correlation_id']}?report={rid}").status_code == 200
    assert {"real-4", "xss"} <= set(examples)
    pair = c.get("/api/pairs/real-1").json()
    assert pair["report_id"] == rid
    assert [d["path"] for d in pair["diff"] if not d["noise"]] == ["$.price"]
    xss = c.get("/pairs/xss").text
    assert SCRIPT not in xss and "&lt;script&gt;" in xss
