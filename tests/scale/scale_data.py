"""A generated night for the scale-out tests, written with or without the ``bucket=NN`` level.

Every feature the merge must get right appears: status mismatches, body
diffs (one real, one volatile timestamp), shadow errors, duplicates across
files, invalid lines, primary-only / shadow-only ids, a secondary copy,
several endpoints and two hours.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from shadowdiff.model.layout import partition_bucket, partition_dir
from shadowdiff.model.timefmt import format_ms

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ENDPOINTS = ("/users/{}", "/items/{}", "/search")


def record(
    cid: str,
    role: str,
    at: datetime,
    path: str,
    status: int | None,
    body: Any,
    lat: float,
    request: dict[str, Any] | None = None,
):
    response = None
    if status is not None:
        text = json.dumps(body)
        response = {
            "status": status,
            "headers": {"content-type": "application/json"},
            "body": text,
            "body_encoding": "utf8",
            "body_truncated": False,
            "body_size": len(text),
        }
    return {
        "schema": "shadowdiff.capture/1",
        "correlation_id": cid,
        "role": role,
        "captured_at": format_ms(at),
        "deployment": None,
        "request": request
        or {"method": "GET", "path": path, "query": "", "headers": {}, "body": None},
        "response": response,
        "latency_ms": lat,
        "error": None if response else {"kind": "timeout", "message": "upstream timed out"},
    }


def night(n: int, seed: int = 3, slow_shadow: float = 1.0) -> list[dict[str, Any]]:
    """About ``2 n`` records (plus secondaries and strays) over two hours."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        cid = f"req-{rng.getrandbits(48):012x}-{i}"
        at = T0 + timedelta(seconds=i * 7200 / n)
        path = ENDPOINTS[i % 3].format(rng.randint(1, 999))
        body = {"id": i, "price": 10, "at": format_ms(at), "tags": ["a", "b"]}
        sbody = dict(body, at=format_ms(at + timedelta(milliseconds=rng.randint(1, 900))))
        if i % 9 == 0:
            sbody["price"] = 11
        sstatus: int | None = 200
        if i % 41 == 0:
            sstatus = 500
        elif i % 53 == 0:
            sstatus = None
        plat = rng.lognormvariate(3.0, 0.5)
        slat = rng.lognormvariate(3.0, 0.5) * slow_shadow
        if i % 67 != 0:
            out.append(record(cid, "primary", at, path, 200, body, plat))
        if i % 71 != 0:
            out.append(record(cid, "shadow", at, path, sstatus, sbody, slat))
        if i % 5 == 0:
            out.append(record(cid, "secondary", at, path, 200, dict(body, at="x"), plat))
        if i % 97 == 0:
            out.append(record(cid, "shadow", at, path, 200, sbody, slat))  # a redelivery
    return out


def write(root: Path, records: list[dict[str, Any]], buckets: int | None, files: int = 2) -> Path:
    """Gzip files in the contract layout (``bucket=NN`` level when ``buckets``), plus junk."""
    groups: dict[str, list[bytes]] = {}
    for i, r in enumerate(records):
        moment = datetime.fromisoformat(r["captured_at"].replace("Z", "+00:00"))
        b = partition_bucket(r["correlation_id"], buckets) if buckets else None
        d = f"{partition_dir(r['role'], moment, b)}/f{i % files}.jsonl.gz"
        groups.setdefault(d, []).append(orjson.dumps(r))
    first = sorted(groups)[0]
    groups[first] += [b"{not json", b'{"schema": "shadowdiff.capture/1", "role": "primary"}']
    for name, lines in groups.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(root / name, "wb") as fh:
            fh.write(b"\n".join(lines) + b"\n")
    return root
