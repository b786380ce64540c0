"""Any pair of a night, found with no hint through what the real ``shadowdiff report`` wrote.

An identical pair is never an example, and a divergent one beyond the example
cap (5 per endpoint and reason) is not either: both must still be found, via
the report's ``cids/`` index and the record source the report names.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from support import free_port, running

from analysis.web.app import create_app
from analysis.web.settings import ServeSettings
from serve.conftest import settings_for
from serve.reportdata import record, write_records
from serve.test_records_fallback import HOUR
from shadowdiff.cli import main

DIVERGENT = [f"div-{i:02d}" for i in range(20)]
IDENTICAL = [f"same-{i}" for i in range(4)]


def _records(root: Path) -> None:
    recs = []
    for cid in DIVERGENT:
        recs.append(record(cid, "primary", 200, json.dumps({"id": cid, "price": 10})))
        recs.append(record(cid, "shadow", 200, json.dumps({"id": cid, "price": 11})))
    for cid in IDENTICAL:
        for role in ("primary", "shadow"):
            recs.append(record(cid, role, 200, json.dumps({"id": cid, "price": 10})))
    write_records(root, HOUR, recs)


def _examples(report: dict[str, Any]) -> set[str]:
    return {ex["correlation_id"] for ep in report["endpoints"] for ex in ep["examples"]}


@pytest.fixture
def night(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    _records(tmp_path / "records")
    out = tmp_path / "reports" / "tonight"
    assert main(["report", "--records", str(tmp_path / "records"), "--out", str(out)]) == 0
    assert (out / "cids" / "manifest.json").is_file()
    return tmp_path / "reports", json.loads((out / "report.json").read_text())


def _beyond_the_cap(report: dict[str, Any]) -> str:
    missing = [c for c in DIVERGENT if c not in _examples(report)]
    assert missing, "every divergent pair is an example: raise the count"
    return missing[-1]


def test_identical_and_uncapped_divergent_pairs_are_found_without_a_hint(night) -> None:
    reports, report = night
    c = TestClient(create_app(settings_for(reports)))
    same = c.get(f"/api/pairs/{IDENTICAL[2]}")
    assert same.status_code == 200, same.text
    body = same.json()
    assert body["found_in"] == "index" and body["report_id"] == report["id"]
    assert body["reasons"] == [] and all(d["noise"] for d in body["diff"])
    cid = _beyond_the_cap(report)
    div = c.get(f"/api/pairs/{cid}").json()
    assert div["found_in"] == "index" and div["reasons"] == ["body"]
    assert [d["path"] for d in div["diff"] if not d["noise"]] == ["$.price"]
    assert div["records"]["shadow"]["correlation_id"] == cid
    assert c.get(f"/pairs/{cid}").status_code == 200


def test_an_id_in_no_report_is_a_404_naming_it(night) -> None:
    reports, _ = night
    r = TestClient(create_app(settings_for(reports))).get("/api/pairs/never-captured")
    assert r.status_code == 404 and "never-captured" in r.json()["detail"]


@pytest.fixture
def served(night, subprocess_env: dict[str, str]) -> Iterator[tuple[str, dict[str, Any]]]:
    reports, report = night
    port = free_port()
    cmd = [sys.executable, "-m", "shadowdiff", "serve", "--reports", str(reports)]
    url = f"http://127.0.0.1:{port}"
    with running([*cmd, "--port", str(port)], url + "/healthz", env=subprocess_env):
        yield url, report


def test_the_real_server_finds_a_pair_that_is_no_example(served) -> None:
    url, report = served
    cid = _beyond_the_cap(report)
    r = httpx.get(f"{url}/api/pairs/{cid}", timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["found_in"] == "index"
    assert httpx.get(f"{url}/api/pairs/{IDENTICAL[0]}", timeout=30).json()["found_in"] == "index"


def test_reports_and_records_on_s3_find_any_pair(aws_env: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    bucket = "cids-real-report"
    s3.create_bucket(Bucket=bucket)
    _records(tmp_path / "records")
    for f in (tmp_path / "records").rglob("*.jsonl.gz"):
        key = "cap/" + f.relative_to(tmp_path / "records").as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=f.read_bytes())
    out = f"s3://{bucket}/nightly/r1"
    assert main(["report", "--records", f"s3://{bucket}/cap", "--out", out]) == 0
    keys = {
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="nightly/r1/cids/")["Contents"]
    }
    assert "nightly/r1/cids/manifest.json" in keys
    report = json.loads(s3.get_object(Bucket=bucket, Key="nightly/r1/report.json")["Body"].read())
    # no --records: the service reads the source the report names (s3://.../cap)
    c = TestClient(create_app(ServeSettings(reports=f"s3://{bucket}/nightly", rescan_seconds=0.0)))
    for cid in (_beyond_the_cap(report), IDENTICAL[1]):
        r = c.get(f"/api/pairs/{cid}")
        assert r.status_code == 200, r.text
        assert r.json()["found_in"] == "index" and r.json()["report_id"] == report["id"]
    assert c.get("/api/pairs/never-captured").status_code == 404


def test_a_dask_report_has_an_index_that_finds_the_same_pairs(tmp_path: Path) -> None:
    from analysis.job import JobOptions, run_job

    _records(tmp_path / "records")
    out = tmp_path / "reports" / "dask"
    opts = JobOptions(out=str(out), records=str(tmp_path / "records"), engine="dask", workers=1)
    report = run_job(opts).report
    assert (out / "cids" / "manifest.json").is_file()
    c = TestClient(create_app(settings_for(tmp_path / "reports")))
    for cid in (_beyond_the_cap(report), IDENTICAL[3]):
        r = c.get(f"/api/pairs/{cid}")
        assert r.status_code == 200, r.text
        assert r.json()["found_in"] == "index"
