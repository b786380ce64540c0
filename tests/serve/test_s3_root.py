"""Reports under ``s3://bucket/prefix`` (moto's standalone server over HTTP, real boto3)."""

from __future__ import annotations

import logging
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from fastapi.testclient import TestClient

from analysis.web.app import create_app
from analysis.web.roots import S3Root, open_root
from analysis.web.settings import ServeSettings
from serve.conftest import report_id
from serve.reportdata import write_report
from shadowdiff.model.errors import ConfigError, SourceError


def _upload(client: object, bucket: str, prefix: str, folder: Path) -> None:
    for path in folder.iterdir():
        client.put_object(  # type: ignore[attr-defined]
            Bucket=bucket, Key=f"{prefix}/{folder.name}/{path.name}", Body=path.read_bytes()
        )


@pytest.fixture
def s3_reports(aws_env: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, object]:
    s3 = boto3.client("s3")
    bucket = "reports-" + request.node.name.replace("_", "-")[:40].lower()
    s3.create_bucket(Bucket=bucket)
    for night in (1, 2):
        _upload(s3, bucket, "nightly", write_report(tmp_path, night))
    s3.put_object(Bucket=bucket, Key="nightly/broken/report.json", Body=b"[1, 2")
    return bucket, s3


def test_reports_and_pairs_are_served_from_s3(s3_reports, tmp_path: Path, caplog) -> None:
    bucket, s3 = s3_reports
    settings = ServeSettings(reports=f"s3://{bucket}/nightly", rescan_seconds=0.0)
    c = TestClient(create_app(settings))
    with caplog.at_level(logging.WARNING, logger="shadowdiff.serve"):
        rows = c.get("/api/reports").json()["reports"]
    assert [r["id"] for r in rows] == [report_id(2), report_id(1)]
    assert "nightly/broken/report.json" in caplog.text
    assert c.get("/api/pairs/cid-json-1").json()["report_id"] == report_id(1)
    assert "report.md" in c.get(f"/reports/{report_id(1)}").text
    # a report uploaded while the service runs shows up without a restart
    _upload(s3, bucket, "nightly", write_report(tmp_path, 3))
    assert c.get(f"/reports/{report_id(3)}").status_code == 200


def test_an_unreadable_bucket_is_a_503_naming_it(aws_env: str) -> None:
    c = TestClient(create_app(ServeSettings(reports="s3://no-such-bucket-here/x")))
    r = c.get("/api/reports")
    assert r.status_code == 503 and "s3://no-such-bucket-here/x" in r.json()["detail"]
    assert c.get("/healthz").status_code == 200


def test_a_throttled_read_is_a_source_error_naming_the_key(aws_env: str) -> None:
    client = boto3.client("s3")
    root = S3Root("bucket", "p", client)
    with Stubber(client) as stub:
        stub.add_client_error("get_object", "SlowDown", http_status_code=503)
        with pytest.raises(SourceError, match=r"s3://bucket/p/f/report\.json"):
            root.read("f", "report.json")


def test_open_root_rejects_what_is_not_a_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no bucket"):  # a bad --reports value
        open_root("s3://")
    with pytest.raises(SourceError, match="not a directory"):
        open_root(str(tmp_path / "missing"))
    assert open_root(f"file://{tmp_path}").uri == str(tmp_path)


def test_a_hinted_pair_is_read_from_s3_records(s3_reports, tmp_path: Path) -> None:
    from serve.reportdata import record, write_records
    from serve.test_records_fallback import HOUR

    bucket, s3 = s3_reports
    local = tmp_path / "records"
    write_records(
        local, HOUR, [record("s3-cid", r, 200, '{"a": 1}') for r in ("primary", "shadow")]
    )
    for path in local.rglob("*.jsonl.gz"):
        key = f"records/{path.relative_to(local).as_posix()}"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    settings = ServeSettings(
        reports=f"s3://{bucket}/nightly", records=f"s3://{bucket}/records", rescan_seconds=0.0
    )
    c = TestClient(create_app(settings))
    body = c.get("/api/pairs/s3-cid?dt=2026-11-25&hour=7").json()
    assert body["found_in"] == "records" and body["diff"] == []
    assert body["records"]["primary"]["correlation_id"] == "s3-cid"
