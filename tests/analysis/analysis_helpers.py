"""Hand-made capture records and a one-call report runner for the analysis tests."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from shadowdiff.cli import main
from shadowdiff.model.layout import partition_dir
from shadowdiff.model.timefmt import format_ms

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def rec(
    cid: str,
    role: str = "primary",
    *,
    status: int | None = 200,
    body: Any = None,
    raw_body: str | None = None,
    ctype: str = "application/json",
    method: str = "GET",
    path: str = "/users/1",
    latency: float | None = 10.0,
    at: datetime | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One record dict; ``status=None`` makes a shadow error (no response)."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    response = None
    if status is not None:
        h = {"content-type": ctype} if ctype else {}
        h.update(headers or {})
        response = {
            "status": status,
            "headers": h,
            "body": text,
            "body_encoding": "utf8",
            "body_truncated": False,
            "body_size": len(text or ""),
        }
        response.update(extra.pop("response_extra", {}))
    out = {
        "schema": "shadowdiff.capture/1",
        "correlation_id": cid,
        "role": role,
        "captured_at": format_ms(at or T0),
        "deployment": None,
        "request": {"method": method, "path": path, "query": "", "headers": {}, "body": None},
        "response": response,
        "latency_ms": latency,
        "error": None
        if response is not None
        else {"kind": "timeout", "message": "upstream timed out"},
    }
    out.update(extra)
    return out


def pair(cid: str, pbody: Any, sbody: Any, **kw: Any) -> list[dict[str, Any]]:
    sk = {k[2:]: v for k, v in kw.items() if k.startswith("s_")}
    common = {k: v for k, v in kw.items() if not k.startswith("s_")}
    return [
        rec(cid, "primary", body=pbody, **common),
        rec(cid, "shadow", body=sbody, **{**common, **sk}),
    ]


def write_records(
    root: Path, records: list[dict[str, Any]] | list[bytes], name: str = "part.jsonl.gz"
) -> Path:
    """Write records in the contract layout (one gzip file per role/hour)."""
    root.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[bytes]] = {}
    for r in records:
        if isinstance(r, bytes):
            groups.setdefault(partition_dir("primary", T0), []).append(r)
            continue
        moment = datetime.fromisoformat(r["captured_at"].replace("Z", "+00:00"))
        groups.setdefault(partition_dir(str(r.get("role")), moment), []).append(orjson.dumps(r))
    for d, lines in groups.items():
        (root / d).mkdir(parents=True, exist_ok=True)
        with gzip.open(root / d / name, "wb") as fh:
            fh.write(b"\n".join(lines) + b"\n")
    return root


def run(
    root: Path, out: Path, *args: str, config: str | None = None
) -> tuple[int, dict[str, Any] | None]:
    argv = ["report", "--records", str(root), "--out", str(out), "--workers", "1", *args]
    if config is not None:
        cfg = out.parent / f"{out.name}-config.yaml"
        cfg.write_text(config)
        argv += ["--config", str(cfg)]
    code = main(argv)
    path = out / "report.json"
    return code, json.loads(path.read_text()) if path.exists() else None


def report_for(
    tmp: Path, records: list[dict[str, Any]], config: str | None = None, *args: str
) -> dict[str, Any]:
    root = write_records(tmp / f"data{len(os.listdir(tmp))}", records)
    code, report = run(root, tmp / f"out{len(os.listdir(tmp))}", *args, config=config)
    assert code == 0 and report is not None
    return report


def endpoint(report: dict[str, Any], name: str) -> dict[str, Any]:
    for ep in report["endpoints"]:
        if ep["endpoint"] == name:
            return ep
    raise AssertionError(f"no endpoint {name!r} in {[e['endpoint'] for e in report['endpoints']]}")


def fields(ep: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["path"], f["kind"]): f for f in ep["body"]["fields"]}


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
