"""Replay reads every source the report reads: S3 (moto server), Kinesis, CloudFront logs, windows.

The window selects the original primaries only; the replayed records, captured
now, are never windowed out, and the report's window is the one given.
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import timedelta

import boto3
import orjson
import pytest
from replay_helpers import T0, app_process, later, primary, replay, write_source

from shadowdiff.cli import main
from shadowdiff.model.layout import partition_dir

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def app():
    with app_process("v1") as url:
        yield url


def test_s3_source_window_keep_records_and_report_all_in_s3(aws_env, app):
    s3 = boto3.client("s3")
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    inside = [primary(f"in{i}", f"/users/{i}", later(60 * i)) for i in range(4)]
    outside = [primary(f"out{i}", "/users/9", T0 + timedelta(hours=3, seconds=i)) for i in range(2)]
    for recs in (inside, outside):
        moment = T0 if recs is inside else T0 + timedelta(hours=3)
        key = f"cap/{partition_dir('primary', moment)}/x.jsonl.gz"
        body = gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in recs))
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    since, until = "2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"
    argv = [
        "replay", "--records", f"s3://{bucket}/cap", "--since", since, "--until", until,
        "--target", app, "--keep-records", f"s3://{bucket}/replays",
        "--out", f"s3://{bucket}/reports/r1",
    ]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(s3.get_object(Bucket=bucket, Key="reports/r1/report.json")["Body"].read())
    s = report["summary"]
    assert (s["primary_records"], s["shadow_records"], s["pairs"]) == (4, 4, 4)
    assert report["window"] == {
        "start": "2026-11-25T02:00:00.000Z",
        "end": "2026-11-25T03:00:00.000Z",
    }
    assert report["sources"] == {
        "primary": f"s3://{bucket}/cap",
        "shadow": f"s3://{bucket}/replays",
    }
    kept = s3.list_objects_v2(Bucket=bucket, Prefix="replays/")["Contents"]
    assert kept and all(o["Key"].startswith("replays/role=shadow/dt=") for o in kept)
    lines = b"".join(
        gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in kept
    ).splitlines()
    assert sorted(json.loads(x)["correlation_id"] for x in lines) == [f"in{i}" for i in range(4)]


def test_kinesis_source(aws_env, app, tmp_path):
    kin = boto3.client("kinesis")
    stream = f"s-{uuid.uuid4().hex[:8]}"
    kin.create_stream(StreamName=stream, ShardCount=2)
    kin.get_waiter("stream_exists").wait(
        StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    shadow = primary("s0", "/users/1", later(0))
    shadow["role"] = "shadow"
    for r in [*(primary(f"k{i}", f"/users/{i}", later(i)) for i in range(3)), shadow]:
        kin.put_record(
            StreamName=stream,
            Data=orjson.dumps(r) + b"\n",
            PartitionKey=r["role"] + r["correlation_id"],
        )
    code, report = replay(tmp_path, "--primary", f"kinesis://{stream}", "--target", app)
    assert code == 0
    s = report["summary"]
    assert (s["primary_records"], s["pairs"], s["shadow_only"]) == (3, 3, 0)
    assert report["sources"] == {"primary": f"kinesis://{stream}"}


CF_LOG = (
    "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
    "sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
    "x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n"
    + "".join(
        f"2026-11-25\t02:00:0{i}\tFRA2\t1\t1.2.3.4\tGET\td.net\t/items/{i}\t200\t-\tua\t-\t-\t"
        f"Miss\tcf-{i}\texample.com\thttps\t1\t0.010\n"
        for i in range(3)
    )
)


def test_cloudfront_logs_as_primary_replay_status_and_latency_only(app, tmp_path):
    src = tmp_path / "cf"
    src.mkdir()
    (src / "E2.2026-11-25-02.abcd.gz").write_bytes(gzip.compress(CF_LOG.encode()))
    code, report = replay(tmp_path, "--primary", str(src), "--target", app)
    assert code == 0
    s = report["summary"]
    assert (s["pairs"], s["body_compared"], s["status_mismatches"]) == (3, 0, 0)


def test_duplicate_deliveries_are_replayed_once_and_counted(app, tmp_path):
    recs = [primary(f"d{i}", "/users/1", later(i)) for i in range(3)]
    src = write_source(tmp_path / "src", [*recs, recs[1], recs[2]])
    code, report = replay(tmp_path, "--records", str(src), "--target", app)
    assert code == 0
    s = report["summary"]
    assert (s["pairs"], s["shadow_records"], s["duplicates"]) == (3, 3, 2)
    assert any("2 primary records repeated" in n for n in report["notes"])
