"""Hand-made report folders that follow docs/contract.md §4 and the agreed pairs.jsonl.gz layout.

Built without the analysis package on purpose: the service must read what the
contract says a report folder holds, whatever wrote it.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from shadowdiff.model.layout import object_name, partition_dir
from shadowdiff.model.record import CaptureRecord, CaptureRequest, CaptureResponse, encode_body

SCRIPT = "<script>document.title='pwned';window.__pwned=1</script>"
BINARY = bytes(range(256)) * 4


def record(
    cid: str,
    role: str,
    status: int,
    body: bytes | str,
    ctype: str = "application/json",
    path: str = "/users/42",
    latency: float = 10.0,
) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    text, enc, trunc, size, sha = encode_body(raw)
    return CaptureRecord(
        correlation_id=cid,
        role=role,  # type: ignore[arg-type]
        captured_at="2026-11-25T07:00:00.123Z",
        deployment=f"{role}-v1",
        request=CaptureRequest(method="GET", path=path, query="a=1", headers={"accept": "*/*"}),
        response=CaptureResponse(
            status=status,
            headers={"content-type": ctype, "x-served-by": role},
            body=text,
            body_encoding=enc,
            body_truncated=trunc,
            body_size=size,
            body_sha256=sha,
        ),
        latency_ms=latency,
    ).to_dict()


def pairs_for(night: int) -> list[dict[str, Any]]:
    """Three example pairs per night: a JSON body diff, an XSS body and a binary body."""
    p = {"id": 42, "name": "Ada", "price": 10, "generated_at": "2026-11-25T07:00:00Z"}
    s = {"id": 42, "name": "Ada", "price": 12, "generated_at": "2026-11-25T07:00:01Z"}
    json_cid, xss_cid, bin_cid = f"cid-json-{night}", f"cid-xss-{night}", f"cid-bin-{night}"
    return [
        {
            "correlation_id": json_cid,
            "endpoint": "GET /users/{id}",
            "reasons": ["body"],
            "records": {
                "primary": record(json_cid, "primary", 200, json.dumps(p)),
                "shadow": record(json_cid, "shadow", 200, json.dumps(s), latency=14.0),
                "secondary": record(json_cid, "secondary", 200, json.dumps(p)),
            },
            "diff": [
                {
                    "path": "$.price",
                    "kind": "changed",
                    "primary": 10,
                    "shadow": 12,
                    "noise": False,
                    "noise_reason": None,
                },
                {
                    "path": "$.generated_at",
                    "kind": "changed",
                    "primary": p["generated_at"],
                    "shadow": s["generated_at"],
                    "noise": True,
                    "noise_reason": "auto",
                },
            ],
        },
        {
            "correlation_id": xss_cid,
            "endpoint": "GET /users/{id}",
            "reasons": ["status"],
            "records": {
                "primary": record(xss_cid, "primary", 200, SCRIPT, "text/html"),
                "shadow": record(xss_cid, "shadow", 500, SCRIPT + "<b>boom</b>", "text/html"),
                "secondary": None,
            },
            "diff": [],
        },
        {
            "correlation_id": bin_cid,
            "endpoint": "GET /img/{id}",
            "reasons": ["body"],
            "records": {
                "primary": record(bin_cid, "primary", 200, BINARY, "image/png", "/img/7"),
                "shadow": record(bin_cid, "shadow", 200, BINARY[::-1], "image/png", "/img/7"),
                "secondary": None,
            },
            "diff": [
                {
                    "path": "$",
                    "kind": "changed",
                    "primary": "…",
                    "shadow": "…",
                    "noise": False,
                    "noise_reason": None,
                }
            ],
        },
    ]


def report_json(night: int, report_id: str | None = None) -> dict[str, Any]:
    day = f"2026-11-{night:02d}"
    pairs = 100 + night
    return {
        "schema": "shadowdiff.report/1",
        "id": report_id or f"{day}T00-00Z_r{night}",
        "generated_at": f"{day}T01:00:00.000Z",
        "window": {"start": f"{day}T00:00:00.000Z", "end": f"{day}T23:59:59.999Z"},
        "sources": {"records": "/data/records"},
        "summary": {
            "primary_records": pairs,
            "shadow_records": pairs,
            "secondary_records": pairs,
            "pairs": pairs,
            "primary_only": 1,
            "shadow_only": 0,
            "duplicates": 2,
            "invalid_records": 0,
            "status_mismatches": night % 5,
            "body_mismatches": night % 7,
            "shadow_errors": 0,
        },
        "endpoints": [
            {
                "endpoint": "GET /users/{id}",
                "pairs": pairs - 10,
                "status": {
                    "mismatches": night % 5,
                    "matrix": {"200->200": pairs - 10 - night % 5, "200->500": night % 5},
                    "explain": {
                        "200->500": [
                            {
                                "attribute": "header.user-agent",
                                "value": SCRIPT,
                                "support": 1.0,
                                "baseline": 0.0,
                                "lift": 90.0,
                                "pairs": 5,
                            }
                        ]
                    },
                },
                "latency_ms": {
                    "primary": {"p50": 10.0, "p90": 20.0, "p99": 40.0},
                    "shadow": {"p50": 14.0, "p90": 26.0, "p99": 55.0},
                    "p_value": 0.0001,
                    "verdict": "slower" if night % 2 else "same",
                },
                "body": {
                    "compared": pairs - 10 - night % 5,
                    "mismatches": night % 7,
                    "fields": [
                        {
                            "path": "$.price",
                            "kind": "changed",
                            "count": night % 7,
                            "rate": 0.01,
                            "noise": False,
                            "noise_reason": None,
                            "explain": [
                                {
                                    "attribute": "query.currency",
                                    "value": "EUR",
                                    "support": 0.97,
                                    "baseline": 0.03,
                                    "lift": 32.3,
                                    "pairs": 58,
                                }
                            ],
                        },
                        {
                            "path": "$.generated_at",
                            "kind": "changed",
                            "count": pairs - 10,
                            "rate": 1.0,
                            "noise": True,
                            "noise_reason": "auto",
                        },
                    ],
                },
                "examples": [
                    {"correlation_id": f"cid-json-{night}", "reason": "body"},
                    {"correlation_id": f"cid-xss-{night}", "reason": "status"},
                ],
            },
            {
                "endpoint": "GET /img/{id}",
                "pairs": 10,
                "status": {"mismatches": 0, "matrix": {"200->200": 10}},
                "latency_ms": {
                    "primary": {"p50": 5.0, "p90": 6.0, "p99": 9.0},
                    "shadow": {"p50": 5.0, "p90": 6.0, "p99": 9.0},
                    "p_value": 1.0,
                    "verdict": "insufficient_data",
                },
                "body": {
                    "compared": 10,
                    "mismatches": 1,
                    "fields": [
                        {
                            "path": "$",
                            "kind": "changed",
                            "count": 1,
                            "rate": 0.1,
                            "noise": False,
                            "noise_reason": None,
                        }
                    ],
                },
                "examples": [{"correlation_id": f"cid-bin-{night}", "reason": "body"}],
            },
        ],
    }


def write_report(root: Path, night: int, folder: str | None = None, **kw: Any) -> Path:
    """A full report folder: report.json, report.html, report.md and pairs.jsonl.gz."""
    data = report_json(night, **kw)
    out = root / (folder or f"night-{night:03d}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(data))
    (out / "report.html").write_text(f"<html><body><h1>{data['id']}</h1></body></html>")
    (out / "report.md").write_text(f"# {data['id']}\n")
    lines = "".join(json.dumps(p) + "\n" for p in pairs_for(night))
    (out / "pairs.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    return out


def write_records(root: Path, moment: datetime, records: list[dict[str, Any]]) -> None:
    """Capture records in the contract's partition layout, one gzip file per role."""
    by_role: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_role.setdefault(rec["role"], []).append(rec)
    for role, recs in by_role.items():
        d = root / partition_dir(role, moment)
        d.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(r) + "\n" for r in recs)
        (d / object_name(moment)).write_bytes(gzip.compress(lines.encode()))
