"""Child processes that always go away: own process group, SIGTERM, then SIGKILL.

Each child starts in a new session, so a Ctrl-C in the terminal reaches only the
demo, which then stops the children itself and in its own order (the collectors
must get their SIGTERM to drain and flush, after the front door and before the
apps). :meth:`Children.stop_all` runs from ``finally`` and, as a backstop, from
``atexit``; a signal to the whole group also reaches anything a child forked.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from shadowdiff.model.errors import ShadowdiffError


class DemoError(ShadowdiffError):
    """A demo step failed; the message names the step and, for a child, its log file."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def last_line(self) -> str:
        """The last non-empty line of the child's log: usually the error that stopped it."""
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line]
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""


class Children:
    """The demo's running children, stopped in reverse start order unless told otherwise."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.env = env
        self.running: list[Child] = []
        self.started: list[dict[str, object]] = []
        atexit.register(self.stop_all)

    def start(self, name: str, argv: list[str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        child = Child(name, proc, log)
        self.running.append(child)
        self.started.append({"name": name, "pid": proc.pid, "argv": argv, "log": str(log)})
        # What runs where, for a user (or a test) checking that nothing was left behind.
        (self.log_dir / "processes.json").write_text(json.dumps(self.started, indent=2))
        return child

    def stop(self, child: Child, grace: float = 15.0) -> int:
        """SIGTERM the child's group, wait up to ``grace`` seconds, then SIGKILL it."""
        if child in self.running:
            self.running.remove(child)
        _signal_group(child.proc, signal.SIGTERM)
        try:
            code = child.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(child.proc, signal.SIGKILL)
            code = child.proc.wait()
        _signal_group(child.proc, signal.SIGKILL)  # anything it left behind in its group
        return code

    def stop_all(self, grace: float = 10.0) -> None:
        for child in reversed(list(self.running)):
            self.stop(child, grace)

    def wait_ready(
        self, child: Child, url: str, health: str | None = None, timeout: float = 60.0
    ) -> None:
        """Wait until ``url`` accepts connections (or ``url + health`` answers 2xx).

        Fails early, naming the child and its log, when the child exits first.
        """
        host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.proc.poll() is not None:
                raise DemoError(
                    f"{child.name} exited with status {child.proc.returncode} before it was "
                    f"ready (log {child.log}): {child.last_line()}"
                )
            if health is None and _connects(host, int(port)):
                return
            if health is not None and _answers_2xx(url + health):
                return
            time.sleep(0.1)
        raise DemoError(
            f"{child.name} was not ready at {url} within {timeout:.0f}s (log {child.log})"
        )


def _connects(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def _answers_2xx(url: str) -> bool:
    try:
        with _DIRECT.open(url, timeout=2) as resp:
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
