"""Test plumbing shared by every test directory: free ports, readiness polls, child processes.

One copy instead of one per directory, so a fix (a longer grace, a poll that
treats any HTTP status as "up") reaches every test at once. ``tests/`` is on
``sys.path`` under pytest because ``tests/conftest.py`` sits there, so test
modules ``import support`` directly. Nothing here imports the product: the
acceptance tests use it too and must stay independent of ``shadowdiff``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import IO, Any


def free_port() -> int:
    """A loopback port nobody is bound to right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    """Poll ``url`` until it answers at all (any status counts) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # any status: it is up
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout}s: {exc}") from exc
            time.sleep(0.05)


def wait_for(
    predicate: Callable[[], Any], timeout: float = 15.0, every: float = 0.05, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not met within {timeout}s")
        time.sleep(every)


def _signal(proc: subprocess.Popen[Any], sig: int) -> None:
    """Signal the child's whole process group when it leads one, else just the child."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


def stop_proc(
    proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = 10.0
) -> int | None:
    """Stop a child: ``sig`` (SIGTERM), then SIGKILL once ``grace`` seconds pass.

    Returns its exit code (None only if even SIGKILL did not reap it in 5 s).
    """
    if proc.poll() is None:
        _signal(proc, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
    return proc.returncode


@contextmanager
def running(
    args: Sequence[str],
    ready_url: str,
    *,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[Any] | None = subprocess.DEVNULL,
    stderr: int | IO[Any] | None = subprocess.DEVNULL,
    timeout: float = 30.0,
    grace: float = 10.0,
    cwd: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` in its own process group until the block ends; ready once ``ready_url`` answers.

    The group is stopped with SIGTERM, then SIGKILL after ``grace`` seconds, so
    anything the child forked goes too.
    """
    proc = subprocess.Popen(
        list(args),
        env=None if env is None else dict(env),
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        wait_http(ready_url, timeout=timeout)
        yield proc
    finally:
        stop_proc(proc, grace=grace)
