"""The primary tap as mirror source: mirrors sent from beside the origin, off the live path.

Why here and not at the edge: a Lambda@Edge function runs next to the viewer
and must wait for each mirror's acknowledgement, one round trip to a collector
that may be 40–200 ms away. The tap runs next to the app; it hands the live
response back first, then queues the request, and background workers deliver
it over keep-alive connections. No viewer ever waits on a mirror (docs/contract.md §8).

What is sent is not decided here. A :class:`MirrorPlan`, built by the entry
point from an edge config file with the edge's own code, chooses the targets
of a request and gives the exact bytes for each (transforms, sampling and
signature as the edge would have sent them); this module only queues and
moves them. Each target has its own bounded queue, workers and connection
pool, so a slow or hung target delays nothing but its own mirrors; beyond the
bound a mirror is dropped and counted, never waited for.

Outcomes are counted in ``shadowdiff_mirrors_total{target_role, outcome}``:
``acknowledged`` (2xx), ``rejected`` (401/403: a signing secret or auth
mismatch), ``failed`` (anything else, each attempt bounded by
``--mirror-timeout``) and ``dropped`` (queue full, or still queued when the
SIGTERM drain ran out of time).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from collector.client import Upstream, UpstreamError
from collector.metrics import Metrics
from collector.settings import MirrorSettings

log = logging.getLogger("shadowdiff.collector")


@dataclass(frozen=True, slots=True)
class TapRequest:
    """One live request as the tap received it, kept for mirroring after the response."""

    correlation_id: str
    method: str
    path: str  # raw, percent-encoded as received
    query: str
    headers: list[tuple[str, str]]  # as received, lower-case names, in order
    body: bytes
    body_truncated: bool = False


class MirrorPlan(Protocol):
    """Which targets get a request, and the exact bytes each one is sent."""

    @property
    def targets(self) -> Sequence[tuple[str, str]]:
        """``(role, origin URL)`` of every target, in config order."""
        ...

    def choose(self, request: TapRequest) -> list[int]:
        """Indexes of the targets this request is mirrored to (filters and sampling)."""
        ...

    def payload(self, target: int, request: TapRequest, timestamp: int) -> bytes:
        """The whole HTTP/1.1 request for ``target``, signed at ``timestamp``."""
        ...


class _Target:
    def __init__(self, index: int, role: str, url: str, settings: MirrorSettings) -> None:
        self.index, self.role, self.url = index, role, url
        self.queue: asyncio.Queue[TapRequest] = asyncio.Queue(settings.queue)
        self.upstream = Upstream(
            url, "", timeout=settings.timeout, max_concurrency=settings.workers
        )
        self.workers: list[asyncio.Task[None]] = []
        self.failing = False


class Mirrors:
    """Queues and delivers the tap's mirrors; one per app, started in its lifespan."""

    def __init__(self, plan: MirrorPlan, settings: MirrorSettings, metrics: Metrics) -> None:
        self.plan = plan
        self.settings = settings
        self.metrics = metrics
        self.targets = [
            _Target(i, role, url, settings) for i, (role, url) in enumerate(plan.targets)
        ]
        for t in self.targets:
            metrics.watch_mirror_queue(t.role, t.queue.qsize)

    async def start(self) -> None:
        for t in self.targets:
            await t.upstream.start()
            t.workers = [
                asyncio.get_running_loop().create_task(self._work(t))
                for _ in range(self.settings.workers)
            ]

    def submit(self, request: TapRequest) -> None:
        """Queue ``request`` for its chosen targets; never waits (a full queue drops)."""
        for index in self.plan.choose(request):
            target = self.targets[index]
            try:
                target.queue.put_nowait(request)
            except asyncio.QueueFull:
                self.metrics.mirror(target.role, "dropped")

    def queued(self) -> int:
        return sum(t.queue.qsize() for t in self.targets)

    async def close(self, budget: float) -> None:
        """SIGTERM: deliver what is queued within ``budget`` seconds, count the rest dropped."""
        if self.queued():
            log.info("delivering %d queued mirrors before exit", self.queued())
        joins = [asyncio.ensure_future(t.queue.join()) for t in self.targets]
        _, late = await asyncio.wait(joins, timeout=budget) if joins else (set(), set())
        for task in late:
            task.cancel()
        for t in self.targets:
            left = t.queue.qsize()
            if left:
                self.metrics.mirror(t.role, "dropped", left)
                log.warning("dropped %d queued mirrors to %s at exit", left, t.url)
            for worker in t.workers:
                worker.cancel()
        workers = [w for t in self.targets for w in t.workers]
        if workers:
            await asyncio.wait(workers, timeout=1.0)
        for t in self.targets:
            await t.upstream.close()

    async def _work(self, target: _Target) -> None:
        while True:
            request = await target.queue.get()
            try:
                outcome = await self._deliver(target, request)
            finally:
                target.queue.task_done()
            self.metrics.mirror(target.role, outcome)
            self._note(target, outcome)

    async def _deliver(self, target: _Target, request: TapRequest) -> str:
        """One attempt, bounded by ``--mirror-timeout`` from connect to the answer's end."""
        try:
            data = self.plan.payload(target.index, request, int(time.time()))
            async with asyncio.timeout(self.settings.timeout):
                resp = await target.upstream.send(request.method, data)
                try:
                    async for _ in resp.iter_chunks():
                        pass  # the collector's 202 has no body; anything else is discarded
                finally:
                    resp.release()
        except (UpstreamError, OSError, TimeoutError) as exc:
            log.debug("mirror to %s failed: %s", target.url, exc)
            return "failed"
        status = resp.status or 0
        if 200 <= status < 300:
            return "acknowledged"
        return "rejected" if status in (401, 403) else "failed"

    @staticmethod
    def _note(target: _Target, outcome: str) -> None:
        """Log when a target starts and stops failing, not once per mirror."""
        failing = outcome != "acknowledged"
        if failing != target.failing:
            target.failing = failing
            if failing:
                log.warning("mirrors to %s are not acknowledged (%s)", target.url, outcome)
            else:
                log.info("mirrors to %s are acknowledged again", target.url)
