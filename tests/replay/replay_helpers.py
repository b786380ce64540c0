"""Helpers for the replay tests: the app process, a real primary tap, hand-made records.

Apps run ``replay_app.py`` under uvicorn as child processes; captures come from
a real ``shadowdiff collector --role primary`` in front of v1, stopped with
SIGTERM so it flushes. Hand-made records (:func:`primary`) cover what a tap
never writes (hop-by-hop headers, truncated bodies, junk lines).
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from support import free_port, running

from shadowdiff.cli import main
from shadowdiff.model.timefmt import format_ms

HERE = Path(__file__).resolve().parent
CID = "x-shadow-correlation-id"
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
Request = tuple[str, str, dict[str, str], bytes | None]  # method, path?query, headers, body


@contextmanager
def app_process(version: str) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, str(HERE / "replay_app.py"), "--version", version, "--port", str(port)]
    with running(argv, url + "/_stats"):
        yield url


def tap_capture(tmp: Path, upstream: str, traffic: list[Request]) -> Path:
    """Send ``traffic`` through a real primary tap in front of ``upstream``; its records' root."""
    records = tmp / "records"
    port, admin = free_port(), free_port()
    argv = [
        sys.executable, "-m", "shadowdiff", "collector", "--role", "primary",
        "--upstream", upstream, "--sink", str(records), "--host", "127.0.0.1",
        "--port", str(port), "--admin-port", str(admin), "--spool-dir", str(tmp / "spool"),
        "--flush-seconds", "0.2", "--deployment", "v1", "--log-level", "warning",
    ]  # fmt: skip
    with running(argv, f"http://127.0.0.1:{admin}/healthz", grace=20), httpx.Client() as client:
        for i, (method, target, headers, body) in enumerate(traffic):
            resp = client.request(
                method,
                f"http://127.0.0.1:{port}{target}",
                headers={CID: f"cid-{i:03d}", **headers},
                content=body,
            )
            assert resp.status_code < 500, resp.text
    assert list(records.rglob("*.jsonl.gz")), "the tap wrote no records"
    return records


def primary(
    cid: str,
    target: str,
    at: datetime,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    truncated: bool = False,
) -> dict[str, Any]:
    """A primary record as a tap (or another mirroring source) would write it."""
    path, _, query = target.partition("?")
    text = None if body is None else base64.b64encode(body).decode()
    return {
        "schema": "shadowdiff.capture/1",
        "correlation_id": cid,
        "role": "primary",
        "captured_at": format_ms(at),
        "deployment": "v1",
        "request": {
            "method": method,
            "path": path,
            "query": query,
            "headers": headers or {},
            "body": text,
            "body_encoding": "base64",
            "body_truncated": truncated,
        },
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"path": path, "version": "v1"}),
            "body_size": 0,
        },
        "latency_ms": 5.0,
        "error": None,
    }


def write_source(root: Path, lines: list[dict[str, Any] | bytes], name: str = "part.jsonl") -> Path:
    """Records (or raw lines) in one plain JSON Lines file under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    data = b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines)
    (root / name).write_bytes(data)
    return root


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def replay(tmp: Path, *args: str) -> tuple[int, dict[str, Any] | None]:
    """Run ``shadowdiff replay ARGS --out TMP/out-N`` in this process; (exit code, report.json)."""
    out = tmp / f"out-{len(list(tmp.glob('out-*')))}"
    try:
        code = main(["replay", *args, "--out", str(out)])
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    path = out / "report.json"
    return code, json.loads(path.read_text()) if path.exists() else None


def kept(root: Path, role: str = "shadow") -> list[dict[str, Any]]:
    """The records a ``--keep-records`` dir holds for ``role``."""
    out: list[dict[str, Any]] = []
    for path in sorted(root.glob(f"role={role}/dt=*/hour=*/*.jsonl.gz")):
        out.extend(json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines())
    return out


def stats(url: str) -> dict[str, Any]:
    return httpx.get(url + "/_stats").json()
