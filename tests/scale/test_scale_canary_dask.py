"""A canary judged on a two-process Dask cluster equals the local engine's, bucketed or not."""

from __future__ import annotations

import gzip
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
from canary_data import arm, body

from analysis.canary.job import CanaryOptions, run_canary
from shadowdiff.model.layout import partition_bucket, partition_dir

distributed = pytest.importorskip("distributed")


def _shape(endpoint: str, i: int) -> dict[str, Any]:
    b = body(endpoint, i)
    if endpoint == "items":
        b["price"] = str(b["price"])
    return b


def _write(root: Path, records: list[dict[str, Any]], buckets: int | None) -> Path:
    groups: dict[str, list[bytes]] = {}
    for i, r in enumerate(records):
        moment = datetime.fromisoformat(r["captured_at"].replace("Z", "+00:00"))
        b = partition_bucket(r["correlation_id"], buckets) if buckets else None
        name = f"{partition_dir('primary', moment, b)}/f{i % 3}.jsonl.gz"
        groups.setdefault(name, []).append(orjson.dumps(r))
    for name, lines in groups.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(root / name, "wb") as fh:
            fh.write(b"\n".join(lines) + b"\n")
    return root


def _doc(result: Any) -> dict[str, Any]:
    doc = dict(result.doc)
    for key in ("id", "generated_at"):
        doc.pop(key)
    return doc


@pytest.mark.parametrize("buckets", [None, 4], ids=["shuffle", "bucketed"])
def test_local_and_dask_engines_give_the_same_canary(tmp_path, buckets):
    records = arm("baseline", 2400, seed=1) + arm(
        "canary", 900, seed=2, errors={"orders": 0.06}, slow={"users": 1.5}, shape=_shape
    )
    root = _write(tmp_path / "records", records, buckets)
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        dask = run_canary(
            CanaryOptions(
                out=str(tmp_path / "dask"), records=str(root), engine="dask",
                scheduler=cluster.scheduler_address,
            )
        )  # fmt: skip
    local = run_canary(CanaryOptions(out=str(tmp_path / "local"), records=str(root), workers=2))
    assert local.doc["verdict"] == dask.doc["verdict"] == "fail"
    assert len(local.doc["reasons"]) == 3
    assert _doc(local) == _doc(dask)


def test_many_spill_buckets_over_worker_processes_give_the_one_bucket_canary(tmp_path, monkeypatch):
    import analysis.engine

    records = arm("baseline", 2400, seed=1) + arm("canary", 900, seed=2, slow={"users": 1.5})
    root = _write(tmp_path / "records", records, None)
    one = run_canary(CanaryOptions(out=str(tmp_path / "one"), records=str(root), workers=1))
    monkeypatch.setattr(analysis.engine, "BUCKET_BYTES", 4096)  # ~ a hundred buckets
    many = run_canary(CanaryOptions(out=str(tmp_path / "many"), records=str(root), workers=2))
    assert _doc(one) == _doc(many)
    assert one.doc["verdict"] == "fail"
