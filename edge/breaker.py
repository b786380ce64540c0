"""A per-target circuit breaker, so a dead or distant collector stops costing users time.

Without it, a target that never acknowledges makes every viewer request wait
the whole ``budget_ms``. With it (docs/contract.md §2, ``breaker``), ``failures``
unacknowledged mirrors in a row open the target's breaker: it is skipped, at
no cost, for ``cooldown_ms``. The first request after the cool-down probes it
once; an acknowledgement closes the breaker, anything else opens it for
another cool-down. So an unreachable collector costs ``budget_ms`` on at most
``failures`` requests, then on one probe per cool-down.

"Acknowledged" means the collector answered 2xx (its 202): a refusal (401) or
an error page is as useless to the shadow as silence. State lives per sandbox
(Lambda runs one invocation at a time in it); the lock is for the threaded
local server, where at most one request at a time may be the probe.
Opening and closing are logged once each; skipped requests are not logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.config import BreakerSettings

Log = Callable[..., None]


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None  # None: closed
    probing: bool = False


class Breaker:
    """The breakers of every target of one handler, keyed by the target's URL."""

    def __init__(
        self,
        settings: BreakerSettings,
        log: Log,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.log = log
        self.clock = clock
        self.cooldown = settings.cooldown_ms / 1000.0
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def allow(self, url: str) -> bool:
        """Whether to send this request's mirror to ``url`` (closed, or this is the probe)."""
        with self._lock:
            state = self._states.get(url)
            if state is None or state.opened_at is None:
                return True
            if state.probing or self.clock() - state.opened_at < self.cooldown:
                return False
            state.probing = True
            return True

    def record(self, url: str, acknowledged: bool, **detail: Any) -> None:
        """The outcome of a mirror that ``allow`` let through."""
        with self._lock:
            state = self._states.setdefault(url, _State())
            was_open = state.opened_at is not None
            state.probing = False
            opened = closed = False
            if acknowledged:
                closed = was_open
                state.failures, state.opened_at = 0, None
            else:
                state.failures += 1
                opened = not was_open and state.failures >= self.settings.failures
                if opened or was_open:
                    state.opened_at = self.clock()  # a failed probe: another cool-down
        if opened:
            self.log(
                "warning",
                "breaker open: skipping target",
                target=url,
                failures=self.settings.failures,
                cooldown_ms=self.settings.cooldown_ms,
                **detail,
            )
        elif closed:
            self.log("info", "breaker closed: target acknowledged again", target=url)

    def is_open(self, url: str) -> bool:
        with self._lock:
            state = self._states.get(url)
            return state is not None and state.opened_at is not None
