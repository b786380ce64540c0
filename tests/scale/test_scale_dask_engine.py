"""``--engine dask`` on a real two-process LocalCluster gives the local engine's report.

One cluster for the module (starting worker processes costs seconds); the
worker-kill test comes last because it leaves a restarted worker behind.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from scale_data import night, write

from analysis.core.latency import RELATIVE_ACCURACY
from analysis.core.settings import ReportSettings
from analysis.job import JobOptions, run_job
from analysis.report import json_schema
from shadowdiff.cli import main
from shadowdiff.model.errors import ShadowdiffError

distributed = pytest.importorskip("distributed")


def _report(out: Path) -> dict[str, Any]:
    doc = json.loads((out / "report.json").read_text())
    doc.pop("id")
    doc.pop("generated_at")
    return doc


def _pairs(out: Path) -> list[Any]:
    with gzip.open(out / "pairs.jsonl.gz") as fh:
        return [json.loads(line) for line in fh]


def _both(tmp: Path, data: Path, scheduler: str, settings: ReportSettings | None = None):
    settings = settings or ReportSettings()
    local = run_job(JobOptions(out=str(tmp / "local"), records=str(data), settings=settings))
    dask = run_job(
        JobOptions(
            out=str(tmp / "dask"),
            records=str(data),
            settings=settings,
            engine="dask",
            scheduler=scheduler,
        )
    )
    return local, dask


@pytest.mark.parametrize("buckets", [None, 8], ids=["shuffle-join", "bucket-level"])
def test_dask_report_equals_local_report(tmp_path: Path, cluster: Any, buckets: int | None) -> None:
    data = write(tmp_path / "data", night(900), buckets)
    if buckets:
        assert any("bucket=" in str(p) for p in data.rglob("*.gz"))
    local, _ = _both(tmp_path, data, cluster.scheduler_address)
    assert local.report["summary"]["pairs"] > 800
    assert local.report["summary"]["invalid_records"] == 2
    assert local.report["summary"]["duplicates"] > 0
    assert _report(tmp_path / "dask") == _report(tmp_path / "local")
    assert _pairs(tmp_path / "dask") == _pairs(tmp_path / "local")


def test_collector_bucket_level_is_read_without_a_shuffle(tmp_path: Path, cluster: Any) -> None:
    """What a collector writes with ``--buckets`` is what the Dask engine pairs per bucket."""
    from analysis import dask_engine
    from analysis.sources import open_source
    from collector.metrics import Metrics
    from collector.sinks.items import item_from_line
    from collector.sinks.local import LocalDirSink

    root = tmp_path / "rec"
    records = night(300, seed=9)
    for role in ("primary", "shadow", "secondary"):
        sink = LocalDirSink(
            root, buckets=8, spool_dir=tmp_path / f"spool-{role}", metrics=Metrics(role)
        )
        sink.start()
        for r in records:
            if r["role"] == role:
                sink.submit(item_from_line(json.dumps(r).encode() + b"\n"))
        sink.close(10)
    parts = open_source(str(root), None).parts(None, None)
    assert parts and all(dask_engine.bucket_level(p) is not None for p in parts)
    local, _ = _both(tmp_path, root, cluster.scheduler_address)
    assert local.report["summary"]["pairs"] > 250
    assert _report(tmp_path / "dask") == _report(tmp_path / "local")


def test_cli_engine_dask_with_scheduler(tmp_path: Path, cluster: Any, capsys: Any) -> None:
    data = write(tmp_path / "data", night(120), 4)
    base = ["report", "--records", str(data), "--latency-sample", "30"]
    assert main([*base, "--out", str(tmp_path / "l"), "--workers", "1"]) == 0
    assert main([*base, "--out", str(tmp_path / "d"), "--engine", "dask",
                 "--scheduler", cluster.scheduler_address]) == 0  # fmt: skip
    assert _report(tmp_path / "d") == _report(tmp_path / "l")
    assert "written to" in capsys.readouterr().out


def test_sketch_percentiles_within_stated_accuracy_above_k(tmp_path: Path, cluster: Any) -> None:
    records = night(1500, seed=11, slow_shadow=1.5)
    data = write(tmp_path / "data", records, None)
    settings = replace(ReportSettings(), latency_sample=100)
    local, _ = _both(tmp_path, data, cluster.scheduler_address, settings)
    assert _report(tmp_path / "dask") == _report(tmp_path / "local")
    jsonschema.validate(local.report, json_schema())
    by_cid: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        by_cid.setdefault(r["correlation_id"], {}).setdefault(r["role"], r)
    for ep in local.report["endpoints"]:
        lat = ep["latency_ms"]
        assert lat["exact"] is False and lat["sketch_relative_accuracy"] == RELATIVE_ACCURACY
        assert lat["sampled"] == 100 and lat["samples"] > 100
        assert lat["verdict"] == "slower"
        for side in ("primary", "shadow"):
            values = np.array(
                [
                    roles[side]["latency_ms"]
                    for roles in by_cid.values()
                    if "primary" in roles
                    and "shadow" in roles
                    and roles["primary"]["response"]
                    and roles["shadow"]["response"]
                    and _endpoint(roles["primary"]) == ep["endpoint"]
                ]
            )
            assert values.size == lat["samples"]
            for q, key in ((50, "p50"), (90, "p90"), (99, "p99")):
                lo = np.percentile(values, q, method="lower") * (1 - RELATIVE_ACCURACY)
                hi = np.percentile(values, q, method="higher") * (1 + RELATIVE_ACCURACY)
                assert lo <= lat[side][key] <= hi, (ep["endpoint"], side, key)


def _endpoint(record: dict[str, Any]) -> str:
    path = record["request"]["path"]
    return "GET /search" if path == "/search" else "GET /" + path.split("/")[1] + "/{id}"


def test_unreachable_scheduler_fails_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from analysis import dask_engine

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", "2s")
    data = write(tmp_path / "data", night(20), None)
    addr = f"tcp://127.0.0.1:{port}"
    code = main(["report", "--records", str(data), "--out", str(tmp_path / "o"),
                 "--engine", "dask", "--scheduler", addr])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and addr in err and "\n" not in err
    assert not (tmp_path / "o").exists()


def test_scheduler_needs_engine_dask(tmp_path: Path, capsys: Any) -> None:
    code = main(["report", "--records", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:1"])  # fmt: skip
    assert code == 2 and "--engine dask" in capsys.readouterr().err


def _kill_a_worker_mid_run(scheduler: str, data: Path, out: Path) -> dict[str, Any]:
    """Run the job in a thread; SIGKILL the worker running its first reduce task."""
    outcome: dict[str, Any] = {}

    def job() -> None:
        opts = JobOptions(out=str(out), records=str(data), engine="dask", scheduler=scheduler)
        try:
            outcome["result"] = run_job(opts)
        except ShadowdiffError as exc:
            outcome["error"] = exc

    with distributed.Client(scheduler, timeout="20s") as watcher:
        pids = watcher.run(os.getpid)
        runner = threading.Thread(target=job)
        runner.start()
        deadline = time.monotonic() + 60
        while "killed" not in outcome and runner.is_alive() and time.monotonic() < deadline:
            for addr, keys in watcher.processing().items():
                if any("reduce_parts" in str(k) for k in keys) and addr in pids:
                    os.kill(pids[addr], signal.SIGKILL)
                    outcome["killed"] = addr
                    break
            time.sleep(0.02)
        runner.join(120)
    assert "killed" in outcome, "the job finished before a worker could be killed"
    assert not runner.is_alive()
    return outcome


def test_worker_killed_mid_run_is_retried_and_the_report_is_complete(
    tmp_path: Path, cluster: Any
) -> None:
    data = write(tmp_path / "data", night(6000, seed=5), 16, files=1)
    outcome = _kill_a_worker_mid_run(cluster.scheduler_address, data, tmp_path / "dask")
    assert "result" in outcome, outcome.get("error")
    run_job(JobOptions(out=str(tmp_path / "local"), records=str(data)))
    assert _report(tmp_path / "dask") == _report(tmp_path / "local")


def test_worker_killed_without_retries_fails_in_one_line_and_writes_nothing(
    tmp_path: Path,
) -> None:
    import dask

    data = write(tmp_path / "data", night(6000, seed=5), 16, files=1)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as strict,
    ):
        outcome = _kill_a_worker_mid_run(strict.scheduler_address, data, tmp_path / "dask")
    err = outcome.get("error")
    assert err is not None and "\n" not in str(err) and "no report written" in str(err)
    assert not (tmp_path / "dask").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
