"""POST alert payloads from a background thread, retried with backoff, never blocking a tick.

:meth:`WebhookSender.send` only puts the body on a bounded queue (a full queue
drops the oldest and says so in the log); one worker thread POSTs them in
order, so a ``resolved`` never overtakes its ``firing``. A connection error, a
timeout, a 429 or a 5xx is retried with full-jitter exponential backoff up to
``attempts`` times; any other status is final (the receiver refused the body).
Delivery is therefore at least once: a POST whose answer was lost is sent again.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import orjson

log = logging.getLogger("shadowdiff.watch")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def backoff(attempt: int, base: float, cap: float) -> float:
    """Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)]."""
    return random.uniform(0, min(cap, base * (2**attempt)))


@dataclass(slots=True)
class SendStats:
    delivered: int = 0
    failed: int = 0
    dropped: int = 0


class WebhookSender:
    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        attempts: int = 8,
        base: float = 0.5,
        cap: float = 60.0,
        queue_size: int = 1000,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.stats = SendStats()
        self._queue: queue.Queue[bytes | None] = queue.Queue(queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()

    def send(self, body: dict[str, Any]) -> None:
        data = orjson.dumps(body)
        while True:
            try:
                self._queue.put_nowait(data)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
                    self.stats.dropped += 1
                    log.warning("alert queue full: dropped the oldest alert")

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=max(0.0, timeout))
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            self._deliver(data)

    def _deliver(self, data: bytes) -> None:
        for attempt in range(self.attempts):
            retry, why = self._post(data)
            if not retry:
                if why:
                    self.stats.failed += 1
                    log.warning("alert webhook %s refused an alert: %s", self.url, why)
                else:
                    self.stats.delivered += 1
                return
            if attempt + 1 < self.attempts:
                log.info("alert webhook %s: %s; retrying", self.url, why)
                if self._stop.wait(backoff(attempt, self.base, self.cap)):
                    break
        self.stats.failed += 1
        log.warning("alert webhook %s: gave up on an alert after %d tries", self.url, self.attempts)

    def _post(self, data: bytes) -> tuple[bool, str]:
        """(retry?, what went wrong or "")."""
        req = urllib.request.Request(
            self.url, data=data, method="POST", headers={"content-type": "application/json"}
        )
        try:
            with _DIRECT.open(req, timeout=self.timeout) as resp:
                resp.read()
            return False, ""
        except urllib.error.HTTPError as exc:
            retry = exc.code == 429 or exc.code >= 500
            return retry, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return True, str(getattr(exc, "reason", exc)) or type(exc).__name__
