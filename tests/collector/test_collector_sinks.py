"""Sinks in-process: layout, atomic files, S3 and Kinesis on moto, limits, retries, spool."""

from __future__ import annotations

import gzip
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import orjson
import pytest
from collector_helpers import check_record, parse_lines, read_local, read_s3, wait_for

from collector.metrics import Metrics
from collector.sinks.items import Item, item_from_line
from collector.sinks.kinesis import MAX_CALL_BYTES, MAX_RECORD_BYTES, KinesisSink, chunk_entries
from collector.sinks.local import LocalDirSink
from collector.sinks.s3 import S3Sink
from collector.sinks.spool import Spool
from shadowdiff.model.errors import SinkError
from shadowdiff.model.layout import parse_partition, partition_bucket
from shadowdiff.model.record import CaptureRecord, CaptureRequest, CaptureResponse, encode_body
from shadowdiff.model.timefmt import format_ms


def make_item(cid, at=None, body=b'{"ok": true}', role="shadow") -> Item:
    at = at or datetime.now(UTC)
    text, enc, trunc, size, sha = encode_body(body, 4 * 1024 * 1024)
    rec = CaptureRecord(
        correlation_id=cid, role=role, captured_at=format_ms(at),
        request=CaptureRequest(method="GET", path="/x"),
        response=CaptureResponse(status=200, headers={"content-type": "application/json"},
                                 body=text, body_encoding=enc, body_truncated=trunc,
                                 body_size=size, body_sha256=sha),
        latency_ms=1.5,
    )  # fmt: skip
    return item_from_line(rec.to_line())


def fast(sink):
    sink.retry_base = sink.replay_base = 0.01
    if isinstance(sink, KinesisSink):
        sink.entry_backoff = 0.01
    return sink


def common(tmp_path: Path, **kw):
    return {
        "spool_dir": tmp_path / "spool",
        "metrics": Metrics("shadow"),
        "flush_seconds": 0.05,
        **kw,
    }


def counter(c) -> float:
    return c._value.get()


def test_local_sink_partitions_by_captured_at_and_leaves_no_partial_files(tmp_path):
    root = tmp_path / "rec"
    sink = LocalDirSink(root, **common(tmp_path))
    sink.start()
    t0 = datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)
    for i in range(10):
        sink.submit(make_item(f"a{i}", t0 + timedelta(seconds=i % 2)))
    sink.close(10)
    dirs = sorted(p.parent.relative_to(root).as_posix() for p in root.rglob("*.jsonl.gz"))
    assert set(dirs) == {"role=shadow/dt=2026-11-25/hour=23", "role=shadow/dt=2026-11-26/hour=00"}
    assert not [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".jsonl.gz")]
    assert {r["correlation_id"] for r in read_local(root)} == {f"a{i}" for i in range(10)}


def test_local_files_rotate_by_size(tmp_path):
    root = tmp_path / "rec"
    sink = LocalDirSink(root, **common(tmp_path, flush_seconds=30, batch_records=10))
    sink.start()
    for i in range(25):
        sink.submit(make_item(f"r{i}"))
    sink.close(10)
    assert len(list(root.rglob("*.jsonl.gz"))) == 3
    assert len(read_local(root)) == 25


def test_spooled_batches_are_replayed_at_start(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.write([make_item(f"s{i}").line for i in range(5)])
    root = tmp_path / "rec"
    sink = LocalDirSink(root, **common(tmp_path))
    sink.start()
    wait_for(lambda: len(read_local(root)) == 5, 10)
    sink.close(5)
    assert not spool.files()
    assert counter(sink.metrics.records_replayed) == 5


def test_full_queue_drops_and_counts_instead_of_blocking(tmp_path):
    sink = LocalDirSink(tmp_path / "rec", **common(tmp_path, queue_size=3))
    started = time.monotonic()
    accepted = [sink.submit(make_item(f"q{i}")) for i in range(5)]  # worker not started
    assert time.monotonic() - started < 1
    assert accepted == [True, True, True, False, False]
    sink.close(5)  # what was queued is spooled, not lost
    assert len(Spool(tmp_path / "spool").files()) == 1


def test_s3_sink_writes_valid_records_in_the_hive_layout(aws_env, tmp_path):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="caps")
    sink = fast(S3Sink("caps", "nightly/", client=s3, **common(tmp_path)))
    sink.start()
    for i in range(30):
        sink.submit(make_item(f"s3-{i}", role="primary"))
    sink.close(10)
    recs = read_s3(s3, "caps", "nightly/role=primary/")
    assert sorted(r["correlation_id"] for r in recs) == sorted(f"s3-{i}" for i in range(30))


def _read_stream(kinesis, stream):
    desc = kinesis.describe_stream(StreamName=stream)["StreamDescription"]
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=desc["Shards"][0]["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    out = []
    for _ in range(20):
        resp = kinesis.get_records(ShardIterator=it, Limit=10000)
        out.extend(resp["Records"])
        it = resp["NextShardIterator"]
        if not resp["Records"]:
            break
    return out


@pytest.fixture
def stream(aws_env):
    kinesis = boto3.client("kinesis")
    name = f"caps-{os.getpid()}-{time.monotonic_ns()}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return kinesis, name


def test_kinesis_sink_puts_one_newline_terminated_line_per_record_keyed_by_correlation_id(
    stream, tmp_path
):
    kinesis, name = stream
    sink = fast(KinesisSink(name, client=kinesis, **common(tmp_path)))
    sink.start()
    for i in range(20):
        sink.submit(make_item(f"k-{i}"))
    sink.close(10)
    got = _read_stream(kinesis, name)
    assert len(got) == 20
    for rec in got:
        assert rec["Data"].endswith(b"\n") and rec["Data"].count(b"\n") == 1
        obj = parse_lines(rec["Data"])[0]
        assert rec["PartitionKey"] == obj["correlation_id"]


def test_too_large_kinesis_record_is_cut_and_marked_not_rejected(stream, tmp_path):
    kinesis, name = stream
    body = orjson.dumps({"blob": "é" * 1_500_000})
    sink = fast(KinesisSink(name, client=kinesis, **common(tmp_path)))
    sink.start()
    sink.submit(make_item("huge", body=body))
    sink.close(10)
    (rec,) = _read_stream(kinesis, name)
    assert len(rec["Data"]) + len(rec["PartitionKey"]) <= MAX_RECORD_BYTES
    obj = check_record(orjson.loads(rec["Data"]))
    assert obj["response"]["body_truncated"] is True
    assert obj["response"]["body_size"] == len(body)


def test_kinesis_partial_failures_are_retried_until_every_entry_is_in(stream, tmp_path):
    kinesis, name = stream
    calls = []

    def fail_some(parsed, **_):
        calls.append(len(parsed["Records"]))
        if len(calls) <= 2:  # the first two calls: every other entry fails
            for i, entry in enumerate(parsed["Records"]):
                if i % 2 == 0:
                    entry.clear()
                    entry.update(ErrorCode="ProvisionedThroughputExceededException",
                                 ErrorMessage="slow down")  # fmt: skip
            parsed["FailedRecordCount"] = sum(1 for e in parsed["Records"] if "ErrorCode" in e)

    kinesis.meta.events.register("after-call.kinesis.PutRecords", fail_some)
    sink = fast(KinesisSink(name, client=kinesis, **common(tmp_path)))
    sink.start()
    for i in range(12):
        sink.submit(make_item(f"p-{i}"))
    sink.close(10)
    kinesis.meta.events.unregister("after-call.kinesis.PutRecords", fail_some)
    assert calls[:3] == [12, 6, 3]
    keys = [r["PartitionKey"] for r in _read_stream(kinesis, name)]
    assert set(keys) == {f"p-{i}" for i in range(12)}  # at least once: failed ones repeat
    assert counter(sink.metrics.records_written) == 12


def test_put_records_calls_stay_within_500_entries_and_5_mib():
    small = [(make_item(f"c{i}"), {"Data": b"x" * 100, "PartitionKey": "k"}) for i in range(1200)]
    assert [len(c) for c in chunk_entries(small)] == [500, 500, 200]
    big = [(make_item(f"b{i}"), {"Data": b"x" * 900_000, "PartitionKey": "k"}) for i in range(12)]
    calls = chunk_entries(big)
    assert sum(len(c) for c in calls) == 12
    for call in calls:
        assert sum(len(e["Data"]) + 1 for _, e in call) <= MAX_CALL_BYTES


def test_sink_that_fails_then_recovers_replays_its_spool(tmp_path):
    root = tmp_path / "rec"
    sink = fast(LocalDirSink(root, **common(tmp_path)))
    real = sink._write
    state = {"down": True}

    def flaky(items):
        if state["down"]:
            raise SinkError("local sink: disk on fire")
        real(items)

    sink._write = flaky
    sink.start()
    for i in range(10):
        sink.submit(make_item(f"f{i}"))
    wait_for(lambda: counter(sink.metrics.records_spooled) == 10, 10)
    state["down"] = False
    wait_for(lambda: len(read_local(root)) == 10, 15)
    sink.close(5)
    assert {r["correlation_id"] for r in read_local(root)} == {f"f{i}" for i in range(10)}
    assert not list((tmp_path / "spool").glob("*.jsonl.gz"))


def test_spool_reads_back_what_it_wrote(tmp_path):
    spool = Spool(tmp_path / "s")
    path = spool.write([b'{"a":1}\n', b'{"b":2}\n'])
    assert gzip.decompress(path.read_bytes()) == b'{"a":1}\n{"b":2}\n'
    assert spool.read(path) == [b'{"a":1}\n', b'{"b":2}\n']


def test_local_sink_with_buckets_files_each_record_under_its_correlation_ids_bucket(tmp_path):
    root = tmp_path / "rec"
    sink = LocalDirSink(root, buckets=4, **common(tmp_path))
    sink.start()
    t0 = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    for i in range(20):
        sink.submit(make_item(f"b{i}", t0, role=("primary", "shadow")[i % 2]))
    sink.close(10)
    seen = 0
    for path in root.rglob("*.jsonl.gz"):
        rel = path.parent.relative_to(root).as_posix()
        for rec in parse_lines(gzip.decompress(path.read_bytes())):
            bucket = partition_bucket(rec["correlation_id"], 4)
            assert rel == f"role={rec['role']}/dt=2026-11-25/hour=07/bucket={bucket:02d}"
            seen += 1
    assert seen == 20


def test_s3_sink_with_buckets_adds_the_level_to_every_key(aws_env, tmp_path):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="caps-b")
    sink = fast(S3Sink("caps-b", "nightly", client=s3, buckets=16, **common(tmp_path)))
    sink.start()
    for i in range(12):
        sink.submit(make_item(f"k-{i}", role="primary"))
    sink.close(10)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="caps-b")["Contents"]]
    ids = []
    for key in keys:
        level = parse_partition(key)["bucket"]
        body = gzip.decompress(s3.get_object(Bucket="caps-b", Key=key)["Body"].read())
        recs = parse_lines(body)
        assert {f"{partition_bucket(r['correlation_id'], 16):02d}" for r in recs} == {level}
        ids.extend(r["correlation_id"] for r in recs)
    assert sorted(ids) == sorted(f"k-{i}" for i in range(12))
