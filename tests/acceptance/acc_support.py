"""Black-box helpers: build capture records with known truth, run the CLI as a user would.

Nothing here imports the product: records are plain dicts written as JSON Lines,
and the product is driven only through ``shadowdiff`` sub-processes and HTTP.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXE = str(Path(sys.executable).with_name("shadowdiff"))
BASE = "2026-11-25T10:00:00.000Z"


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PATH"] = str(Path(sys.executable).parent) + os.pathsep + out.get("PATH", "")
    out["PYTHONUNBUFFERED"] = "1"
    out.pop("SHADOWDIFF_TOKEN", None)
    return out


def ts(minute: int = 0, second: int = 0, ms: int = 0, hour: int = 10, day: int = 25) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}Z"


def record(
    cid: str,
    role: str,
    *,
    method: str = "GET",
    path: str = "/things",
    query: str = "",
    status: int | None = 200,
    body: Any = None,
    content_type: str = "application/json",
    latency: float = 10.0,
    captured_at: str = BASE,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One ``shadowdiff.capture/1`` record; a dict/list ``body`` is JSON-encoded."""
    if isinstance(body, (dict, list)):
        text = json.dumps(body)
    elif body is None:
        text = ""
    else:
        text = str(body)
    raw = text.encode()
    response = None
    if status is not None:
        response = {
            "status": status,
            "headers": {"content-type": content_type},
            "body": text,
            "body_encoding": "utf8",
            "body_truncated": False,
            "body_size": len(raw),
            "body_sha256": hashlib.sha256(raw).hexdigest(),
        }
    elif error is None:
        error = {"kind": "timeout", "message": "upstream did not answer"}
    return {
        "schema": "shadowdiff.capture/1",
        "correlation_id": cid,
        "role": role,
        "captured_at": captured_at,
        "deployment": None,
        "request": {
            "method": method,
            "path": path,
            "query": query,
            "headers": {"host": "example.com"},
            "body": None,
            "body_encoding": "utf8",
            "body_truncated": False,
        },
        "response": response,
        "latency_ms": latency,
        "error": error if response is None else None,
    }


def lines_of(records: list[Any]) -> bytes:
    out = []
    for rec in records:
        out.append(rec if isinstance(rec, str) else json.dumps(rec))
    return ("\n".join(out) + "\n").encode()


def write_hive(
    root: Path,
    records: list[Any],
    role: str,
    name: str = "part-0001",
    dt: str = "2026-11-25",
    hour: str = "10",
) -> Path:
    """Write records (dicts or raw strings) gzip-compressed in the contract's layout."""
    part = root / f"role={role}" / f"dt={dt}" / f"hour={hour}"
    part.mkdir(parents=True, exist_ok=True)
    path = part / f"{name}.jsonl.gz"
    path.write_bytes(gzip.compress(lines_of(records)))
    return path


def write_flat(path: Path, records: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lines_of(records))
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None


def report(args: list[str], out: Path, timeout: float = 60) -> Run:
    """``shadowdiff report ... --out OUT``; loads report.json when written."""
    proc = subprocess.run(
        [EXE, "report", *args, "--out", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(),
    )
    data = None
    if (out / "report.json").exists():
        data = json.loads((out / "report.json").read_text())
    return Run(proc.returncode, proc.stdout, proc.stderr, data)


def endpoint(rep: dict[str, Any], name: str) -> dict[str, Any]:
    for ep in rep["endpoints"]:
        if ep["endpoint"] == name:
            return ep
    raise AssertionError(f"{name} not in {[e['endpoint'] for e in rep['endpoints']]}")


def fields(ep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in ep["body"]["fields"]}


def http(url: str, token: str | None = None, timeout: float = 10) -> tuple[int, bytes, str]:
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), resp.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("content-type", "")
