"""Sources: S3 (moto server over HTTP), Kinesis, CloudFront standard logs, bad input."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import timedelta

import boto3
import orjson
import pytest
from analysis_helpers import T0, pair, rec, write_records

from analysis.sources import iter_lines, open_source
from shadowdiff.cli import main
from shadowdiff.model.errors import SourceError
from shadowdiff.model.layout import partition_dir


def _put_records(s3, bucket, prefix, records):
    by_dir: dict[str, list[bytes]] = {}
    for r in records:
        moment = T0 if r["captured_at"].startswith("2026-11-25T10") else T0 + timedelta(hours=5)
        by_dir.setdefault(partition_dir(r["role"], moment), []).append(orjson.dumps(r))
    for d, lines in by_dir.items():
        s3.put_object(
            Bucket=bucket, Key=f"{prefix}/{d}/x.jsonl.gz", Body=gzip.compress(b"\n".join(lines))
        )


def test_s3_source_reads_the_contract_layout_and_lists_only_window_partitions(aws_env, tmp_path):
    s3 = boto3.client("s3")
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    late = [
        dict(r, captured_at="2026-11-25T15:00:00.000Z") for r in pair("late", {"a": 1}, {"a": 1})
    ]
    _put_records(s3, bucket, "cap", [*pair("a", {"v": 1}, {"v": 2}), *pair("b", {}, {}), *late])
    calls: list[str] = []
    s3.meta.events.register(
        "provide-client-params.s3.ListObjectsV2",
        lambda params, **_: calls.append(params.get("Prefix", "")),
    )
    src = open_source(f"s3://{bucket}/cap", "shadow", {"s3": s3})
    parts = src.parts(T0, T0 + timedelta(minutes=30))
    assert [p.name for p in parts] == [
        f"s3://{bucket}/cap/role=shadow/dt=2026-11-25/hour=10/x.jsonl.gz"
    ]
    assert all("hour=15" not in c for c in calls)
    assert any(c.endswith("hour=10/") for c in calls)

    out = tmp_path / "out"
    code = main(["report", "--records", f"s3://{bucket}/cap", "--out", f"s3://{bucket}/reports/r1"])
    assert code == 0
    report = json.loads(s3.get_object(Bucket=bucket, Key="reports/r1/report.json")["Body"].read())
    assert report["summary"]["pairs"] == 3 and report["summary"]["body_mismatches"] == 1
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/r1/")["Contents"]}
    assert {k for k in keys if not k.startswith("reports/r1/cids/")} == {
        f"reports/r1/{n}" for n in ("report.json", "report.html", "report.md", "pairs.jsonl.gz")
    }
    assert {"reports/r1/cids/manifest.json", "reports/r1/cids/0000.tsv.gz"} <= keys
    code = main(
        [
            "report",
            "--records",
            f"s3://{bucket}/cap",
            "--since",
            "2026-11-25T10:00:00Z",
            "--until",
            "2026-11-25T11:00:00Z",
            "--out",
            str(out),
        ]
    )
    assert code == 0 and json.loads((out / "report.json").read_text())["summary"]["pairs"] == 2


def test_missing_bucket_and_missing_key_are_one_line_errors(aws_env, tmp_path, capsys):
    name = f"missing-{uuid.uuid4().hex[:8]}"
    assert main(["report", "--records", f"s3://{name}/x", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and name in err
    s3 = boto3.client("s3")
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket,
        Key="p/role=shadow/dt=2026-11-25/hour=10/bad.jsonl.gz",
        Body=b"\x1f\x8bnot gzip at all",
    )
    assert main(["report", "--records", f"s3://{bucket}/p", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.jsonl.gz" in err and len(err.splitlines()) == 1


def test_kinesis_source_reads_every_shard_from_the_start(aws_env, tmp_path):
    kin = boto3.client("kinesis")
    stream = f"s-{uuid.uuid4().hex[:8]}"
    kin.create_stream(StreamName=stream, ShardCount=2)
    kin.get_waiter("stream_exists").wait(
        StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    records = [
        *pair("a", {"v": 1}, {"v": 1}),
        *pair("b", {"v": 1}, {"v": 2}),
        rec("c", "shadow", body={}),
    ]
    for r in records:
        kin.put_record(
            StreamName=stream,
            Data=orjson.dumps(r) + b"\n",
            PartitionKey=r["correlation_id"] + r["role"],
        )
    out = tmp_path / "out"
    assert main(["report", "--records", f"kinesis://{stream}", "--out", str(out)]) == 0
    s = json.loads((out / "report.json").read_text())["summary"]
    assert (s["pairs"], s["shadow_only"], s["body_mismatches"]) == (2, 1, 1)


CF_HEADER = (
    "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
    "sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
    "x-host-header cs-protocol cs-bytes time-taken\n"
)


def _cf_line(
    cid: str, status: int, seconds: float, path: str = "/users/7", query: str = "-"
) -> str:
    cols = [
        "2026-11-25",
        "10:00:00",
        "FRA2-C1",
        "123",
        "1.2.3.4",
        "GET",
        "d1.cloudfront.net",
        path,
        str(status),
        "-",
        "ua",
        query,
        "-",
        "Miss",
        cid,
        "example.com",
        "https",
        "100",
        str(seconds),
    ]
    return "\t".join(cols) + "\n"


def test_cloudfront_logs_as_primary_give_status_and_latency_but_no_body_compare(tmp_path):
    logs = tmp_path / "cf"
    logs.mkdir()
    text = (
        CF_HEADER
        + "".join(_cf_line(f"r{i}", 200, 0.010) for i in range(25))
        + _cf_line("r-bad", 200, 0.01)
        + _cf_line("r-st", 200, 0.01)
    )
    (logs / "E2EXAMPLE.2026-11-25-10.abcd1234.gz").write_bytes(gzip.compress(text.encode()))
    shadow = [rec(f"r{i}", "shadow", body={"x": i}, latency=30.0) for i in range(25)]
    shadow += [
        rec("r-bad", "shadow", body={"totally": "different"}),
        rec("r-st", "shadow", status=503, body={}),
    ]
    write_records(tmp_path / "s", shadow)
    out = tmp_path / "out"
    assert (
        main(["report", "--primary", str(logs), "--shadow", str(tmp_path / "s"), "--out", str(out)])
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    s = report["summary"]
    assert s["pairs"] == 27 and s["status_mismatches"] == 1 and s["body_mismatches"] == 0
    ep = report["endpoints"][0]
    assert ep["endpoint"] == "GET /users/{id}" and ep["body"]["compared"] == 0
    assert ep["latency_ms"]["primary"]["p50"] == 10.0 and ep["latency_ms"]["verdict"] == "slower"


def test_plain_jsonl_files_and_file_urls_are_read(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    (root / "a.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in pair("a", {}, {})) + b"\n\n")
    parts = open_source(f"file://{root}", None).parts(None, None)
    assert [len(list(iter_lines(p))) for p in parts] == [3]
    out = tmp_path / "out"
    assert main(["report", "--records", f"file://{root}", "--out", str(out)]) == 0
    assert json.loads((out / "report.json").read_text())["summary"]["pairs"] == 1


def test_corrupt_gzip_raises_source_error_naming_the_file(tmp_path):
    bad = tmp_path / "x.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    (part,) = open_source(str(bad), None).parts(None, None)
    with pytest.raises(SourceError, match=r"x\.jsonl\.gz"):
        list(iter_lines(part))


def test_cloudfront_logs_in_s3_are_filtered_by_the_hour_in_their_names(aws_env, tmp_path):
    s3 = boto3.client("s3")
    bucket = f"cf-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    body = CF_HEADER + _cf_line("r1", 200, 0.01)
    s3.put_object(
        Bucket=bucket, Key="logs/E2X.2026-11-25-10.aaaa.gz", Body=gzip.compress(body.encode())
    )
    s3.put_object(
        Bucket=bucket, Key="logs/E2X.2026-11-25-20.bbbb.gz", Body=gzip.compress(b"\x00broken")
    )
    src = open_source(f"s3://{bucket}/logs", "primary", {"s3": s3})
    names = [p.name for p in src.parts(T0, T0 + timedelta(hours=1))]
    assert names == [f"s3://{bucket}/logs/E2X.2026-11-25-10.aaaa.gz"]
    write_records(tmp_path / "s", [rec("r1", "shadow", body={})])
    out = tmp_path / "out"
    argv = [
        "report",
        "--primary",
        f"s3://{bucket}/logs",
        "--shadow",
        str(tmp_path / "s"),
        "--out",
        str(out),
    ]
    assert main([*argv, "--since", "2026-11-25T10:00:00Z", "--until", "2026-11-25T11:00:00Z"]) == 0
    assert json.loads((out / "report.json").read_text())["summary"]["pairs"] == 1
