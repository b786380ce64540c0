"""Fixtures for the collector tests: real upstream and collector processes on 127.0.0.1.

The helpers live in ``collector_helpers.py`` (a unique module name: this test
directory is not a package, so it cannot shadow the ``collector`` package).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import Collector, start_collector, start_upstream, stop_proc


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    proc, url = start_upstream()
    try:
        yield url
    finally:
        stop_proc(proc)


@pytest.fixture
def collectors(tmp_path: Path) -> Iterator[Callable[..., Collector]]:
    """Factory: ``collectors(upstream, role, *flags, sink=..., env=...)``; all stopped at teardown."""
    started: list[Collector] = []

    def factory(upstream: str, role: str = "shadow", *extra: str, **kwargs: Any) -> Collector:
        c = start_collector(tmp_path, upstream, role, *extra, **kwargs)
        started.append(c)
        return c

    yield factory
    for c in started:
        c.stop(signal.SIGKILL if c.proc.poll() is None else signal.SIGTERM, timeout=5)
