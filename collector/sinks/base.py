"""The one sink base class: queue, batcher, spool, retries and drain.

Modelled on aws-lambda-powertools' ``BasePersistenceLayer``: the base holds all
of the delivery logic and a backend implements one method, :meth:`BaseSink._write`
(deliver a batch, or raise), plus optionally :meth:`_close`. The request path
only calls :meth:`submit`, a non-blocking put on a bounded queue, so a slow or
dead sink can never slow or fail a request; a full queue drops and counts.

A worker thread (boto3 and file writes block) takes records off the queue and
cuts a batch when it reaches ``batch_records``/``batch_bytes`` or has waited
``flush_seconds``. A batch that fails after a few retries with exponential
backoff and jitter goes to the on-disk spool; while the spool is not empty new
batches go straight there, and the spool is replayed on a backoff schedule
until the sink takes it again, and at every start. :meth:`close` flushes the
queue within a deadline and spools whatever the sink will not take in time.
Delivery is at least once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections import deque
from pathlib import Path

from collector.metrics import Metrics
from collector.sinks.items import Item, PartialWrite, item_from_line
from collector.sinks.spool import Spool
from shadowdiff.model.errors import SinkError

log = logging.getLogger("shadowdiff.collector.sink")


def backoff(attempt: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff (AWS architecture blog), never below base/2."""
    return max(base / 2, random.uniform(0, min(cap, base * (2**attempt))))


class BaseSink:
    """Subclasses implement :meth:`_write` and set :attr:`name` (the sink URL)."""

    name = "sink"
    retry_attempts = 3
    retry_base = 0.2
    replay_base = 0.5
    replay_cap = 30.0

    def __init__(
        self,
        *,
        spool_dir: Path,
        metrics: Metrics,
        queue_size: int = 100_000,
        flush_seconds: float = 1.0,
        batch_bytes: int = 8 * 1024 * 1024,
        batch_records: int = 20_000,
    ) -> None:
        self.metrics = metrics
        self.spool = Spool(spool_dir)
        self.flush_seconds = flush_seconds
        self.batch_bytes = batch_bytes
        self.batch_records = batch_records
        # A deque, not queue.Queue: append/popleft are atomic under the GIL and
        # cost no lock or thread wake-up per record; the worker polls it.
        self._queue: deque[Item] = deque()
        self.queue_size = queue_size
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._deadline: float | None = None  # set by close(): stop retrying after it
        self._replay_attempt = 0
        self._next_replay = 0.0
        self._spooled = self.spool.pending()
        metrics.watch_queue(self.depth)
        metrics.spool_files.set(self._spooled)

    # ------------------------------------------------------------ backend API
    def _write(self, items: list[Item]) -> None:
        """Deliver ``items``; raise SinkError, or PartialWrite with what is left."""
        raise NotImplementedError

    def _close(self) -> None:
        """Release backend resources (after the last write)."""

    # ------------------------------------------------------------ public API
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"sink {self.name}", daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> bool:
        queue = self._queue
        if len(queue) >= self.queue_size:
            self.metrics.dropped("queue_full")
            return False
        queue.append(item)
        if len(queue) == self.batch_records:
            self._wake.set()
        return True

    def depth(self) -> int:
        return len(self._queue)

    def spooled_batches(self) -> int:
        return self._spooled

    def close(self, timeout: float) -> None:
        """Flush within ``timeout`` seconds; spool whatever is not delivered by then."""
        self._deadline = time.monotonic() + max(0.0, timeout - 0.5)
        if self._thread is None:
            self._spool_rest()
            return
        self._stopping = True
        self._wake.set()
        self._thread.join(max(0.1, timeout))
        if self._thread.is_alive():
            log.warning("sink %s did not drain within %.1fs", self.name, timeout)
        self._spool_rest()
        try:
            self._close()
        except Exception:
            log.exception("closing sink %s", self.name)

    # ------------------------------------------------------------ worker
    def _run(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            # Background work: let the event loop thread win the CPU when both want it.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        batch: list[Item] = []
        size = 0
        started = 0.0
        queue = self._queue
        spool = self.spool
        tick = min(0.05, self.flush_seconds)
        while True:
            self._wake.wait(tick)
            self._wake.clear()
            stopping = self._stopping
            while queue:
                item = queue.popleft()
                if not batch:
                    started = time.monotonic()
                batch.append(item)
                spool.journal(item.line)
                if len(batch) % 128 == 0:
                    time.sleep(0)  # let the event loop thread have the GIL
                size += len(item.line)
                if len(batch) >= self.batch_records or size >= self.batch_bytes:
                    self._flush(batch)
                    batch, size = [], 0
            spool.sync_journal()
            now = time.monotonic()
            if batch and (stopping or now - started >= self.flush_seconds):
                self._flush(batch)
                batch, size = [], 0
            if stopping:
                return
            if self._spooled and now >= self._next_replay:
                self._replay()

    def _out_of_time(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _flush(self, batch: list[Item]) -> None:
        try:
            self._deliver_or_spool(batch)
        finally:
            self.spool.end_journal()  # the batch is delivered or spooled: no longer at risk

    def _deliver_or_spool(self, batch: list[Item]) -> None:
        if self._spooled or self._out_of_time():
            # The sink is known to be down (or time is up): do not wait on it.
            self._to_spool(batch)
            return
        remaining = batch
        for attempt in range(self.retry_attempts):
            remaining = self._attempt(remaining)
            if not remaining:
                return
            if attempt + 1 < self.retry_attempts and not self._out_of_time():
                time.sleep(backoff(attempt, self.retry_base, 2.0))
            else:
                break
        self._to_spool(remaining)
        self._next_replay = time.monotonic() + backoff(0, self.replay_base, self.replay_cap)

    def _attempt(self, items: list[Item]) -> list[Item]:
        """One delivery try; returns the items still undelivered."""
        started = time.perf_counter()
        try:
            self._write(items)
        except PartialWrite as exc:
            done = len(items) - len(exc.remaining)
            self.metrics.records_written.inc(done)
            log.warning("sink %s took %d of %d records: %s", self.name, done, len(items), exc)
            return exc.remaining
        except SinkError as exc:
            log.warning("sink %s failed a batch of %d records: %s", self.name, len(items), exc)
            return items
        except Exception as exc:
            log.exception("sink %s failed unexpectedly: %s", self.name, exc)
            return items
        self.metrics.sink_latency.observe(time.perf_counter() - started)
        self.metrics.records_written.inc(len(items))
        return []

    def _to_spool(self, items: list[Item]) -> None:
        try:
            self.spool.write([i.line for i in items])
        except SinkError as exc:
            log.error("dropping %d records: %s", len(items), exc)
            self.metrics.dropped("spool_failed", len(items))
            return
        self._spooled += 1
        self.metrics.records_spooled.inc(len(items))
        self.metrics.spool_files.set(self._spooled)

    def _replay(self) -> None:
        for path in self.spool.files():
            try:
                items = [item_from_line(ln) for ln in self.spool.read(path)]
            except (SinkError, ValueError, KeyError) as exc:
                log.error("spool file %s is unreadable, dropping it: %s", path, exc)
                self.metrics.dropped("spool_unreadable")
                self.spool.remove(path)
                continue
            remaining = self._attempt(items) if items else []
            if remaining:
                if len(remaining) < len(items):
                    self.spool.write([i.line for i in remaining])
                    self.spool.remove(path)
                self._replay_attempt += 1
                self._next_replay = time.monotonic() + backoff(
                    self._replay_attempt, self.replay_base, self.replay_cap
                )
                self._spooled = self.spool.pending()
                self.metrics.spool_files.set(self._spooled)
                return
            self.spool.remove(path)
            self.metrics.records_replayed.inc(len(items))
            log.info("replayed %d spooled records to %s", len(items), self.name)
        self._replay_attempt = 0
        self._spooled = self.spool.pending()
        self.metrics.spool_files.set(self._spooled)

    def _spool_rest(self) -> None:
        """After the worker stopped (or gave up): anything still queued goes to the spool."""
        rest: list[Item] = []
        while self._queue:
            rest.append(self._queue.popleft())
        if rest:
            self._to_spool(rest)
