"""CloudFront standard logs (gzip, W3C, tab-separated) as a primary source.

Each log line becomes a primary capture record with status and latency only:
``x-edge-request-id`` → ``correlation_id`` (the edge function uses the same
ID), ``sc-status``, ``time-taken`` (seconds) → ``latency_ms``, ``date`` +
``time`` → ``captured_at``, ``cs-method``, ``cs-uri-stem``, ``cs-uri-query``.
Such records carry a marker so the join compares their status and latency
but never their (absent) body.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from analysis.core.pairing import CLOUDFRONT_MARK
from shadowdiff.record import SCHEMA

W3C_PREFIX = b"#Version"
DEFAULT_FIELDS = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
]


def _dash(value: str) -> str:
    return "" if value == "-" else value


def convert(cols: list[str], index: dict[str, int]) -> bytes:
    """One log line's columns → one capture-record line (invalid ones fail validation later)."""

    def col(name: str) -> str:
        i = index.get(name)
        return cols[i] if i is not None and i < len(cols) else "-"

    status_text = col("sc-status")
    status = int(status_text) if status_text.isdigit() else 0
    try:
        latency: float | None = round(float(col("time-taken")) * 1000.0, 3)
    except ValueError:
        latency = None
    time_text = col("time")
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "correlation_id": _dash(col("x-edge-request-id")),
        "role": "primary",
        "captured_at": f"{col('date')}T{time_text}{'' if '.' in time_text else '.000'}Z",
        "deployment": "cloudfront",
        "request": {
            "method": col("cs-method"),
            "path": col("cs-uri-stem"),
            "query": _dash(col("cs-uri-query")),
        },
        "response": None
        if not 100 <= status <= 999
        else {"status": status, "headers": {}, "body": None, "body_size": 0},
        "latency_ms": latency,
        "error": None
        if 100 <= status <= 999
        else {"kind": "other", "message": f"CloudFront sc-status {status_text}"},
        CLOUDFRONT_MARK: True,
    }
    return orjson.dumps(record)


def cloudfront_lines(first: bytes, rest: Iterable[bytes], name: str) -> Iterator[bytes]:
    index = {f: i for i, f in enumerate(DEFAULT_FIELDS)}
    for raw in rest:
        line = raw.rstrip(b"\r\n")
        if not line:
            continue
        if line.startswith(b"#"):
            if line.startswith(b"#Fields:"):
                names = line[len(b"#Fields:") :].decode("utf-8", "replace").split()
                index = {f: i for i, f in enumerate(names)}
            continue
        cols = line.decode("utf-8", "replace").split("\t")
        yield convert(cols, index)
