"""Fixtures for the demo tests: real uvicorn servers on free loopback ports, in threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from support import free_port


class ThreadServer:
    """A uvicorn server for one ASGI app, running in a daemon thread until ``stop``."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"test server on {self.url} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], ThreadServer]]:
    """Start any number of ASGI apps; every one is stopped at teardown."""
    started: list[ThreadServer] = []

    def start(app: Any) -> ThreadServer:
        server = ThreadServer(app).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()
