"""A real `shadowdiff watch` process: local and moto-S3 sources, a webhook receiver, /metrics.

Every wait is on a condition with a bounded timeout; "within two ticks" is checked
on the watch's own tick counter, never on the clock.
"""

from __future__ import annotations

import gzip
import http.server
import json
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from analysis_helpers import T0, pair, rec
from live_helpers import comparable, pairs_at, total_size, write_capture
from prometheus_client.parser import text_string_to_metric_families
from support import free_port, running, stop_proc, wait_for

from shadowdiff.model.layout import object_name, partition_dir

EXE = [sys.executable, "-m", "shadowdiff"]


class Receiver:
    """A webhook receiver on 127.0.0.1 that refuses the first POST with a 503."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if outer.refused == 0:
                    outer.refused += 1
                    self.send_response(503)
                else:
                    outer.accepted.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [a["event"] for a in self.accepted]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@contextmanager
def watch(args: list[str], metrics_port: int, env: dict[str, str], log: Path) -> Iterator[Any]:
    argv = [*EXE, "watch", *args, "--metrics-port", str(metrics_port)]
    with (
        log.open("wb") as out,
        running(argv, f"http://127.0.0.1:{metrics_port}/metrics", env=env, stderr=out) as proc,
    ):
        yield proc
        assert stop_proc(proc) == 0, log.read_text()  # SIGTERM: the tick ends, exit 0


@pytest.mark.slow
def test_a_live_report_follows_new_files_slides_alerts_and_exports_gauges(
    tmp_path, receiver, subprocess_env
):
    rec_dir, reports = tmp_path / "rec", tmp_path / "reports"
    rec_dir.mkdir()
    write_capture(rec_dir, pairs_at("bad", 10, bad=5))
    port = free_port()
    args = ["--records", str(rec_dir), "--reports", str(reports), "--every", "0.5",
            "--grace", "1s", "--fail-on", "status_mismatch_rate > 0.2",
            "--alert-webhook", receiver.url]  # fmt: skip
    report_json = reports / "live" / "report.json"

    def report() -> dict[str, Any]:
        try:
            return json.loads(report_json.read_text())
        except (OSError, ValueError):
            return {}

    with watch(args, port, subprocess_env, tmp_path / "watch.log"):
        wait_for(
            what="the live report",
            timeout=60,
            predicate=lambda: report().get("summary", {}).get("pairs") == 10,
        )
        m = metrics(port)
        ep = (("endpoint", "GET /users/{id}"),)
        assert m[("shadowdiff_live_pairs", ())] == 10
        assert m[("shadowdiff_live_status_mismatch_rate", ep)] == 0.5
        assert m[("shadowdiff_live_body_mismatch_rate", ep)] == 0.0
        assert m[("shadowdiff_live_fail_on", (("expression", "status_mismatch_rate > 0.2"),))] == 1
        wait_for(
            what="the firing alert", timeout=60, predicate=lambda: receiver.events() == ["firing"]
        )

        ticks = metrics(port)[("shadowdiff_live_ticks_total", ())]
        write_capture(rec_dir, pairs_at("ok", 40, minutes=1))
        seen = wait_for(
            what="the new pairs",
            timeout=60,
            predicate=lambda: report().get("summary", {}).get("pairs") == 50 and report(),
        )
        assert seen["live"]["tick"] <= ticks + 2, "followed within two ticks"
        wait_for(
            what="the resolved alert",
            timeout=60,
            predicate=lambda: receiver.events() == ["firing", "resolved"],
        )
        m = metrics(port)
        assert m[("shadowdiff_live_status_mismatch_rate", ep)] == 5 / 50
        assert m[("shadowdiff_live_fail_on", (("expression", "status_mismatch_rate > 0.2"),))] == 0

        write_capture(rec_dir, pairs_at("later", 7, minutes=150))  # 2.5 h on: the window slides
        slid = wait_for(
            what="the window to slide",
            timeout=60,
            predicate=lambda: report().get("summary", {}).get("pairs") == 7 and report(),
        )
        assert slid["window"]["start"] == "2026-11-25T11:31:00.000Z"
        ticks = metrics(port)[("shadowdiff_live_ticks_total", ())]
        wait_for(
            what="two more ticks",
            timeout=60,
            predicate=lambda: metrics(port)[("shadowdiff_live_ticks_total", ())] >= ticks + 2,
        )
        assert receiver.events() == ["firing", "resolved"] and receiver.refused == 1
        alert = receiver.accepted[0]
        assert {k: alert[k] for k in ("event", "expression", "report_id")} == {
            "event": "firing", "expression": "status_mismatch_rate > 0.2", "report_id": "live",
        }  # fmt: skip
        assert alert["value"] == 0.5 and alert["text"] and alert["alerts"][0]["status"] == "firing"
        assert metrics(port)[("shadowdiff_live_bytes_read_total", ())] == total_size(rec_dir)


def _put(s3: Any, bucket: str, records: list[dict]) -> None:
    groups: dict[str, list[bytes]] = {}
    for r in records:
        when = T0 if r["captured_at"] < "2026-11-25T11" else T0 + timedelta(hours=1)
        groups.setdefault(partition_dir(r["role"], when), []).append(orjson.dumps(r) + b"\n")
    for part, lines in groups.items():
        s3.put_object(
            Bucket=bucket, Key=f"cap/{part}/{object_name()}", Body=gzip.compress(b"".join(lines))
        )


@pytest.mark.slow
def test_a_live_report_on_s3_equals_shadowdiff_report_and_reads_each_object_once(
    aws_env, tmp_path, subprocess_env
):
    s3 = boto3.client("s3")
    bucket = f"live-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    records = [
        *pairs_at("a", 30, bad=4),
        *pair("body", {"x": 1, "y": [1, 2]}, {"x": 2, "y": [1]}, at=T0 + timedelta(minutes=3)),
        rec("only-p", "primary", at=T0 + timedelta(minutes=4), body={}),
        rec("err", "primary", at=T0 + timedelta(minutes=5), body={}),
        rec("err", "shadow", at=T0 + timedelta(minutes=5), status=None),
    ]
    _put(s3, bucket, records)
    port = free_port()
    args = ["--records", f"s3://{bucket}/cap", "--reports", f"s3://{bucket}/reports",
            "--every", "0.5", "--grace", "1s", "--window", "30m"]  # fmt: skip

    def live() -> dict[str, Any]:
        try:
            body = s3.get_object(Bucket=bucket, Key="reports/live/report.json")["Body"].read()
        except s3.exceptions.NoSuchKey:
            return {}
        return json.loads(body)

    with watch(args, port, subprocess_env, tmp_path / "watch.log"):
        wait_for(
            lambda: live().get("live", {}).get("pending") == 0 and live()["summary"]["pairs"] == 32,
            60,
            what="the live report",
        )
        _put(s3, bucket, pairs_at("b", 5, minutes=6))
        report = wait_for(
            what="the next objects",
            timeout=60,
            predicate=lambda: live().get("summary", {}).get("pairs") == 37 and live(),
        )
        sizes = sum(o["Size"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="cap/")["Contents"])
        assert metrics(port)[("shadowdiff_live_bytes_read_total", ())] == sizes
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/live/")["Contents"]}
    assert {f"reports/live/{n}" for n in ("report.json", "report.html", "report.md", "pairs.jsonl.gz",
            "cids/manifest.json")} <= keys  # fmt: skip
    window = report["window"]
    done = subprocess.run(
        [*EXE, "report", "--records", f"s3://{bucket}/cap", "--since", window["start"], "--until",
         window["end"], "--out", f"s3://{bucket}/reports/nightly", "--latency-sample", "10000"],
        env=subprocess_env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    nightly = json.loads(
        s3.get_object(Bucket=bucket, Key="reports/nightly/report.json")["Body"].read()
    )
    assert report["summary"]["primary_only"] == 1 and report["summary"]["shadow_errors"] == 1
    assert comparable(report) == comparable(nightly)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--window", "abc"], "--window"),
        (["--window", "0s"], "--window"),
        (["--every", "0"], "--every"),
        (["--every", "soon"], "--every"),
        (["--grace", "-1m"], "--grace"),
        (["--alert-webhook", "ftp://x"], "--alert-webhook"),
        (["--metrics-port", "70000"], "--metrics-port"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(tmp_path, flags, named):
    (tmp_path / "rec").mkdir()
    done = subprocess.run(
        [*EXE, "watch", "--records", str(tmp_path / "rec"), "--reports", str(tmp_path / "r"), *flags],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and named in done.stderr


def test_an_unreachable_source_at_start_is_one_line_and_exit_2(tmp_path, aws_env, subprocess_env):
    missing = tmp_path / "nowhere"
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    for src in (str(missing), f"s3://{bucket}/cap"):
        done = subprocess.run(
            [*EXE, "watch", "--records", src, "--reports", str(tmp_path / "r")],
            capture_output=True, text=True, timeout=60, env=subprocess_env,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        err = done.stderr.strip().splitlines()
        assert len(err) == 1 and ("nowhere" in err[0] or bucket in err[0])
    (tmp_path / "rec").mkdir()
    done = subprocess.run(
        [*EXE, "watch", "--records", str(tmp_path / "rec"), "--reports", f"s3://{bucket}/r"],
        capture_output=True, text=True, timeout=60, env=subprocess_env,
    )  # fmt: skip
    assert done.returncode == 2 and bucket in done.stderr and "--reports" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
