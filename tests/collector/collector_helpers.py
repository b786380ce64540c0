"""Helpers for the collector tests: real upstream and collector processes on 127.0.0.1.

``upstream`` runs ``upstream_app.py`` under uvicorn; ``collector`` starts
``shadowdiff collector`` as a child process on free ports with its sink and spool
in the test's tmp dir and stops it (SIGTERM, then SIGKILL) at teardown.
Records are read back with :func:`read_local` / :func:`read_s3`, and every one
is checked with ``shadowdiff.model.validate.validate`` and the shipped JSON schema.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import orjson
from support import (  # the tests import them from here too
    free_port,
    stop_proc,
    wait_for,  # noqa: F401 (re-exported: the collector tests import it from here)
    wait_http,
)

from shadowdiff.model.validate import json_schema, validate

HERE = Path(__file__).resolve().parent


SCHEMA = json_schema()


def check_record(obj: dict[str, Any]) -> dict[str, Any]:
    assert validate(obj) is None, validate(obj)
    jsonschema.validate(obj, SCHEMA)
    return obj


def parse_lines(data: bytes) -> list[dict[str, Any]]:
    return [check_record(orjson.loads(line)) for line in data.splitlines() if line.strip()]


def read_local(root: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(root.glob("role=*/dt=*/hour=*/*.jsonl.gz")):
        out.extend(parse_lines(gzip.decompress(path.read_bytes())))
    return out


def read_s3(client: Any, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for obj in page.get("Contents", []):
            key = obj["Key"]
            assert re.search(r"role=\w+/dt=\d{4}-\d\d-\d\d/hour=\d\d/[^/]+\.jsonl\.gz$", key), key
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            out.extend(parse_lines(gzip.decompress(body)))
    return out


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def metric(admin_url: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    _, text = get(admin_url + "/metrics")
    total = 0.0
    for line in text.decode().splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@dataclass
class Collector:
    proc: subprocess.Popen[bytes]
    url: str
    admin_url: str
    sink: str
    spool: Path
    log: Path
    args: list[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        stop_proc(self.proc, sig, grace=timeout)
        return self.proc.returncode

    def metric(self, name: str, **labels: str) -> float:
        return metric(self.admin_url, name, **labels)


def start_collector(
    tmp: Path,
    upstream: str,
    role: str = "shadow",
    *extra: str,
    sink: str | None = None,
    spool: Path | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Collector:
    port = port or free_port()
    admin = free_port()
    sink = sink or str(tmp / "records")
    spool = spool or tmp / "spool"
    log = tmp / f"collector-{port}.log"
    args = [
        sys.executable, "-m", "shadowdiff", "collector",
        "--role", role, "--upstream", upstream, "--sink", sink,
        "--host", "127.0.0.1", "--port", str(port), "--admin-port", str(admin),
        "--spool-dir", str(spool), "--flush-seconds", "0.2", "--grace-seconds", "10",
        *extra,
    ]  # fmt: skip
    child_env = dict(os.environ if env is None else env)
    child_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + child_env.get("PATH", "")
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            args, stdout=fh, stderr=fh, env=child_env, cwd=str(HERE.parent.parent)
        )
    collector = Collector(
        proc, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", sink, spool, log, args
    )
    try:
        wait_http(collector.admin_url + "/healthz", timeout=30)
    except RuntimeError:
        collector.stop(signal.SIGKILL)
        raise RuntimeError(f"collector did not start: {log.read_text()[-2000:]}") from None
    return collector


def start_upstream(port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "upstream_app.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/_hits")
    return proc, url


def hits(upstream: str) -> int:
    return int(orjson.loads(get(upstream + "/_hits")[1])["n"])
