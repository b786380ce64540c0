"""Shared fixtures. Component fixtures live in tests/<component>/conftest.py.

``moto_endpoint`` starts moto's standalone server (``moto_server``) on a free
loopback port once per test session (per xdist worker) and stops it at the end;
real boto3 clients reach it over HTTP through ``AWS_ENDPOINT_URL``, exactly as
they would reach any other emulator or AWS itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import free_port, stop_proc, wait_http  # free_port/wait_http re-exported

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto standalone server for this session; stopped at the end."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/moto-api/")
        yield url
    finally:
        stop_proc(proc)


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every boto3 client (and child process) at moto, with dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_endpoint


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """Environment for a child ``shadowdiff`` process: this venv first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
