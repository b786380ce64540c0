"""``explain`` is identical whichever engine and partitioning built the night.

A generated night with attribute-driven divergences (a query value, a header
value with some spill-over, a JSON body key behind a 500) and a small
``explain.sample``, so that sampling and pruning happen while partials merge:
the local engine over many spill buckets and two processes, and a real
two-worker Dask LocalCluster (shuffle join and ``bucket=NN`` layout) must write
the same report, ``explain`` included.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from scale_data import T0, record, write

from analysis import engine
from analysis.config import settings_from_obj
from analysis.job import JobOptions, run_job

pytest.importorskip("distributed")
SETTINGS = settings_from_obj({"routes": ["/items/{sku}"], "explain": {"sample": 50}})


def explain_night(n: int, seed: int = 21) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cid = f"x-{rng.getrandbits(40):010x}-{i}"
        language = rng.choice(["de", "en", "fr"])
        headers = {"accept-language": language, "user-agent": f"app/{rng.randrange(50)}"}
        if i % 4 == 0:
            plan = rng.choice(["bulk", "basic", "basic", "pro"])
            body = {"plan": plan, "user_id": rng.randrange(10**6)}
            request = {"method": "POST", "path": "/orders", "query": "", "headers": headers,
                       "body": json.dumps(body), "body_encoding": "utf8"}  # fmt: skip
            pairs = [(201, {"ok": True}), (500 if plan == "bulk" else 201, {"ok": True})]
        else:
            currency = rng.choice(["EUR", "USD", "GBP"])
            query = f"currency={currency}&q=term-{rng.randrange(10**6)}"
            request = {"method": "GET", "path": f"/items/SKU-{rng.randrange(300)}",
                       "query": query, "headers": headers, "body": None}  # fmt: skip
            p = {"price": 10, "greeting": "hello", "n": i}
            s = dict(p, price=12 if currency == "EUR" else 10)
            if rng.random() < (0.9 if language == "de" else 0.03):
                s["greeting"] = "hallo"
            if rng.random() < 0.2:
                s["n"] = -1  # random: nothing explains it
            pairs = [(200, p), (200, s)]
        at = T0 + timedelta(seconds=i * 2)
        for role, (status, body) in zip(("primary", "shadow"), pairs, strict=True):
            out.append(record(cid, role, at, "", status, body, 10.0 + i % 7, request))
        if i % 37 == 0:
            out.append(record(cid, "shadow", at, "", *pairs[1], 10.0, request))  # a redelivery
    return out


def _report(out: Path) -> dict[str, Any]:
    doc = json.loads((out / "report.json").read_text())
    doc.pop("id")
    doc.pop("generated_at")
    return doc


def _why(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in doc["endpoints"]:
        found[ep["endpoint"]] = {
            "status": ep["status"]["explain"],
            **{f"{f['path']} {f['kind']}": f.get("explain") for f in ep["body"]["fields"]},
        }
    return found


@pytest.mark.parametrize("buckets", [None, 8], ids=["shuffle-join", "bucket-level"])
def test_local_and_dask_give_identical_explain(
    tmp_path: Path, cluster: Any, buckets: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write(tmp_path / "data", explain_night(4000), buckets, files=3)
    monkeypatch.setattr(engine, "BUCKET_BYTES", 64 * 1024)  # many spill buckets to merge
    run_job(JobOptions(out=str(tmp_path / "local"), records=str(data), settings=SETTINGS,
                       workers=2))  # fmt: skip
    run_job(JobOptions(out=str(tmp_path / "one"), records=str(data), settings=SETTINGS,
                       workers=1))  # fmt: skip
    run_job(JobOptions(out=str(tmp_path / "dask"), records=str(data), settings=SETTINGS,
                       engine="dask", scheduler=cluster.scheduler_address))  # fmt: skip
    local = _report(tmp_path / "local")
    assert _why(_report(tmp_path / "dask")) == _why(local)
    assert _report(tmp_path / "dask") == local
    assert _report(tmp_path / "one") == local
    why = _why(local)
    (bulk,) = why["POST /orders"]["status"]["201->500"]
    assert (bulk["attribute"], bulk["value"], bulk["support"]) == ("body.plan", '"bulk"', 1.0)
    items = why["GET /items/{sku}"]
    (eur,) = items["$.price changed"]
    assert (eur["attribute"], eur["value"], eur["support"]) == ("query.currency", "EUR", 1.0)
    (de,) = items["$.greeting changed"]
    assert (de["attribute"], de["value"]) == ("header.accept-language", "de")
    assert de["support"] < 1.0 and de["pairs"] > 50  # sampled: 50 of ~900 pairs counted
    assert items["$.n changed"] == []
