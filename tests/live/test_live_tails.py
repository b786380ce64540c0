"""Source tails: only new parts, each exactly once, a failed read again (local, moto S3, Kinesis)."""

from __future__ import annotations

import gzip
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import orjson
import pytest
from analysis_helpers import T0, pair, rec

from analysis.live.reading import read_whole
from analysis.sources import Horizon, open_source
from analysis.sources.s3 import REWIND
from collector.metrics import Metrics
from collector.sinks.items import item_from_line
from collector.sinks.local import LocalDirSink
from shadowdiff.model.errors import SourceError
from shadowdiff.model.layout import object_name, partition_dir

HOUR = Horizon(timedelta(hours=1))


def _gz(records) -> bytes:
    return gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in records))


def _take(tail, horizon=HOUR):
    """Poll, read every part whole, ack it; returns the names read."""
    names = []
    for part in tail.poll(horizon):
        read_whole(part)
        tail.ack(part)
        names.append(part.name.rsplit("/", 1)[-1])
    return names


def test_a_local_tail_returns_each_finished_file_once_and_skips_files_being_written(tmp_path):
    root = tmp_path / "records"
    hour = root / partition_dir("shadow", T0)
    hour.mkdir(parents=True)
    (hour / "a.jsonl.gz").write_bytes(_gz([rec("a", "shadow")]))
    # The local sink writes `.<name>.tmp` and renames it when whole: a reader never sees it.
    (hour / ".b.jsonl.gz.tmp").write_bytes(b"\x1f\x8b half a file")
    tail = open_source(str(root), None).tail()
    assert _take(tail) == ["a.jsonl.gz"]
    assert _take(tail) == []
    os.replace(hour / ".b.jsonl.gz.tmp", hour / "b.jsonl.gz")
    (hour / "b.jsonl.gz").write_bytes(_gz([rec("b", "shadow")]))
    assert _take(tail) == ["b.jsonl.gz"]
    assert _take(tail) == []


def test_the_collectors_own_local_sink_files_are_read_once_complete(tmp_path):
    sink = LocalDirSink(tmp_path / "rec", spool_dir=tmp_path / "spool", metrics=Metrics("shadow"))
    (tmp_path / "rec").mkdir()
    tail = open_source(str(tmp_path / "rec"), None).tail()
    assert _take(tail) == []  # nothing written yet: an empty root is fine
    lines = [orjson.dumps(r) + b"\n" for r in pair("p", {"a": 1}, {"a": 1}, at=T0)]
    sink._write([item_from_line(line) for line in lines])
    first = _take(tail)
    assert len(first) == 2 and _take(tail) == []
    sink._write([item_from_line(lines[0])])
    assert len(_take(tail)) == 1


def test_a_part_whose_read_fails_comes_back_until_it_reads_whole(tmp_path):
    root = tmp_path / "records"
    hour = root / partition_dir("primary", T0)
    hour.mkdir(parents=True)
    good = _gz([rec("a"), rec("b")])
    (hour / "x.jsonl.gz").write_bytes(good[: len(good) // 2])  # truncated
    tail = open_source(str(root), None).tail()
    [part] = tail.poll(HOUR)
    with pytest.raises(SourceError, match=r"x\.jsonl\.gz"):
        read_whole(part)
    [again] = tail.poll(HOUR)  # not acked: offered again
    assert again.name == part.name
    (hour / "x.jsonl.gz").write_bytes(good)
    lines, size = read_whole(again)
    assert len(lines) == 2 and size == len(good)
    tail.ack(again)
    assert tail.poll(HOUR) == []


def test_a_local_tail_lists_only_the_open_hours_of_the_window(tmp_path):
    root = tmp_path / "records"
    for hours_back in (0, 1, 5):
        d = root / partition_dir("primary", T0 - timedelta(hours=hours_back))
        d.mkdir(parents=True)
        (d / f"h{hours_back}.jsonl.gz").write_bytes(_gz([rec(f"c{hours_back}")]))
    tail = open_source(str(root), "primary").tail()
    assert sorted(_take(tail)) == ["h0.jsonl.gz", "h1.jsonl.gz"]
    # Once a record is known the window follows it: an hour far behind stays closed.
    later = Horizon(timedelta(hours=1), T0 + timedelta(minutes=30))
    d = root / partition_dir("primary", T0 + timedelta(hours=1))
    d.mkdir(parents=True)
    (d / "next.jsonl.gz").write_bytes(_gz([rec("n")]))
    assert _take(tail, later) == ["next.jsonl.gz"]


def _s3():
    s3 = boto3.client("s3")
    bucket = f"live-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    return s3, bucket


def test_an_s3_tail_lists_after_the_last_key_and_still_finds_a_late_put(aws_env):
    s3, bucket = _s3()
    base = f"cap/{partition_dir('shadow', T0)}"
    t = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    first = object_name(t)
    s3.put_object(Bucket=bucket, Key=f"{base}/{first}", Body=_gz([rec("a", "shadow")]))
    calls: list[dict] = []
    s3.meta.events.register(
        "provide-client-params.s3.ListObjectsV2", lambda params, **_: calls.append(dict(params))
    )
    tail = open_source(f"s3://{bucket}/cap", None, {"s3": s3}).tail()
    assert _take(tail) == [first]
    calls.clear()
    assert _take(tail) == []
    after = [c["StartAfter"] for c in calls if c.get("Prefix") == f"{base}/"]
    assert (
        after
        and after[0] < f"{base}/{first}"
        and after[0] >= f"{base}/{object_name(t - REWIND)[:16]}"
    )
    # A PUT that began earlier but finished later has an older name: still found, once.
    slow = object_name(t - timedelta(seconds=20))
    newer = object_name(t + timedelta(seconds=5))
    s3.put_object(Bucket=bucket, Key=f"{base}/{newer}", Body=_gz([rec("b", "shadow")]))
    s3.put_object(Bucket=bucket, Key=f"{base}/{slow}", Body=_gz([rec("c", "shadow")]))
    assert sorted(_take(tail)) == sorted([slow, newer])
    assert _take(tail) == []


def test_an_s3_tail_with_bucket_levels_lists_the_open_hour_whole(aws_env):
    s3, bucket = _s3()
    base = f"cap/{partition_dir('primary', T0, 3)}"
    s3.put_object(Bucket=bucket, Key=f"{base}/one.jsonl.gz", Body=_gz([rec("a")]))
    tail = open_source(f"s3://{bucket}/cap", "primary", {"s3": s3}).tail()
    assert _take(tail) == ["one.jsonl.gz"]
    other = f"cap/{partition_dir('primary', T0, 1)}"
    s3.put_object(Bucket=bucket, Key=f"{other}/two.jsonl.gz", Body=_gz([rec("b")]))
    assert _take(tail) == ["two.jsonl.gz"]
    assert _take(tail) == []


def test_an_s3_tail_of_a_missing_bucket_is_an_error_naming_it(aws_env):
    name = f"missing-{uuid.uuid4().hex[:8]}"
    tail = open_source(f"s3://{name}/cap", None).tail()
    with pytest.raises(SourceError, match=name):
        tail.poll(HOUR)


def test_a_kinesis_tail_reads_on_from_its_iterators(aws_env):
    kin = boto3.client("kinesis")
    stream = f"s-{uuid.uuid4().hex[:8]}"
    kin.create_stream(StreamName=stream, ShardCount=2)
    kin.get_waiter("stream_exists").wait(
        StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )

    def put(records):
        for r in records:
            kin.put_record(StreamName=stream, Data=orjson.dumps(r) + b"\n", PartitionKey=r["role"])

    put(pair("a", {"v": 1}, {"v": 1}))
    tail = open_source(f"kinesis://{stream}", None, {"kinesis": kin}).tail()

    def lines():
        out = []
        for part in tail.poll(HOUR):
            got, _ = read_whole(part)
            tail.ack(part)
            out += got
        return out

    assert len(lines()) == 2
    assert lines() == []
    put(pair("b", {"v": 1}, {"v": 2}))
    assert sorted(orjson.loads(x)["correlation_id"] for x in lines()) == ["b", "b"]


def test_a_root_that_does_not_exist_is_an_error_naming_it(tmp_path):
    with pytest.raises(SourceError, match="nowhere"):
        open_source(str(tmp_path / "nowhere"), None).tail().poll(HOUR)


def test_an_unpartitioned_root_is_listed_whole(tmp_path: Path):
    (tmp_path / "a.jsonl").write_bytes(orjson.dumps(rec("a")) + b"\n")
    tail = open_source(str(tmp_path), None).tail()
    assert _take(tail) == ["a.jsonl"]
    (tmp_path / "b.jsonl").write_bytes(orjson.dumps(rec("b")) + b"\n")
    assert _take(tail) == ["b.jsonl"]
