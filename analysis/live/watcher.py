"""``shadowdiff watch``: every ``--every`` seconds, read what is new and replace the live report.

One tick: poll each source's :class:`~analysis.sources.tail.Tail`; read each new
part whole (:func:`~analysis.live.reading.read_whole`) and hand its lines to the
:class:`~analysis.live.state.LiveState`; settle what is due; and when anything
changed, build the report with the nightly job's own code
(:func:`analysis.job.build_documents`) and publish it
(:mod:`analysis.live.publish`), then evaluate ``--fail-on`` for alerts and
metrics. A tick that finds nothing new costs the listings and nothing else.

Faults never end a run: a source that cannot be listed, or a part that cannot be
read, is logged, named in the report's notes and tried again next tick (an
unread part is not acked, so it comes back; a part is used whole or not at
all). Only at start is an unreachable source an error (exit 2). SIGTERM sets
:attr:`Watcher.stop`: the tick in progress reads no further part, publishes
what it has, and the loop ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from analysis.core.aggregate import Partial
from analysis.failon import evaluate
from analysis.job import build_documents, open_sources
from analysis.live.alerts import Transitions, payload
from analysis.live.duration import format_duration
from analysis.live.metrics import MetricsBoard, gauges_of
from analysis.live.publish import INDEX_SECONDS, open_publisher
from analysis.live.reading import read_whole
from analysis.live.settings import WatchSettings
from analysis.live.slices import SliceClock, from_ms
from analysis.live.state import LiveState
from analysis.live.webhook import WebhookSender
from analysis.sources import Horizon, Part, Tail
from shadowdiff.model.errors import SinkError, SourceError
from shadowdiff.model.layout import parse_partition
from shadowdiff.model.timefmt import format_ms, now_utc

log = logging.getLogger("shadowdiff.watch")
MAX_NAMED = 5  # unreadable parts named one by one in the notes


def read_order(part: Part) -> tuple[str, str, str, str]:
    """Hour partition, then file name, then role: a pair's two sides are read close together."""
    where = parse_partition(part.name)
    base = part.name.rsplit("/", 1)[-1]
    return where.get("dt", ""), where.get("hour", ""), base, part.name


class Watcher:
    def __init__(
        self,
        ws: WatchSettings,
        clients: dict[str, Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = ws
        self.monotonic = monotonic
        self.clock = SliceClock.for_window(ws.window)
        clients = clients or {}
        self.sources, self.named = open_sources(ws.named_sources, clients)
        self.tails = [src.tail() for src in self.sources]
        self.state = LiveState(ws.settings, self.clock, ws.grace, bool(ws.secondary))
        self.publisher = open_publisher(ws.reports, ws.name, clients.get("s3"))
        self.transitions = Transitions()
        self.sender: WebhookSender | None = None
        self.board = MetricsBoard()
        self.metrics_port: int | None = None
        self.stop = threading.Event()
        self.ticks = 0
        self.failures: dict[str, str] = {}  # part name -> why its read failed
        self.outages: dict[str, tuple[str, str]] = {}  # source url -> (since, why)
        self.started_at = format_ms(now_utc())
        self.location: str | None = None
        self.report: dict[str, Any] | None = None
        self._published: Any = None
        self._indexed_at: float | None = None

    # ---------------------------------------------------------------- life
    def start(self) -> None:
        """Check the output and start the metrics endpoint and the alert sender."""
        self.publisher.prepare()
        if self.ws.metrics_port is not None:
            self.metrics_port = self.board.serve(self.ws.metrics_port, self.ws.metrics_host)
        if self.ws.alert_webhook:
            self.sender = WebhookSender(self.ws.alert_webhook)

    def run(self) -> int:
        """Tick until :attr:`stop` is set; the first tick's errors (bad sources) propagate."""
        self.start()
        try:
            due = self.monotonic()
            while True:
                self.tick()
                if self.stop.is_set():
                    break
                due = max(due + self.ws.every, self.monotonic())
                if self.stop.wait(max(0.0, due - self.monotonic())):
                    break
        finally:
            self.close()
        return 0

    def close(self) -> None:
        if self.sender is not None:
            self.sender.close()
        self.board.close()

    # ---------------------------------------------------------------- tick
    def tick(self) -> bool:
        """One tick; True when the live report was replaced."""
        now = self.monotonic()
        first = self.ticks == 0
        self.ticks += 1
        self.board.counters.ticks += 1
        newest = self.state.newest_ms
        horizon = Horizon(
            timedelta(seconds=self.ws.window + self.ws.grace),
            None if newest is None else from_ms(newest),
        )
        read = 0
        for src, tail in zip(self.sources, self.tails, strict=True):
            try:
                parts = tail.poll(horizon)
            except SourceError as exc:
                if first:
                    raise
                self._outage(src.url, str(exc))
                continue
            if self.outages.pop(src.url, None) is not None:
                log.info("source %s is back", src.url)
            for part in sorted(parts, key=read_order):
                if self.stop.is_set():
                    break
                read += self._take(part, tail)
        self.state.settle(now)
        published = self._publish()
        log.log(
            logging.INFO if read or published else logging.DEBUG,
            "tick %d: %d new parts, %d pairs in the window%s",
            self.ticks,
            read,
            self.report["summary"]["pairs"] if self.report else 0,
            f", report replaced at {self.location}" if published else "",
        )
        return published

    def _take(self, part: Part, tail: Tail) -> int:
        try:
            lines, size = read_whole(part)
        except SourceError as exc:
            self.board.counters.read_errors += 1
            if self.failures.get(part.name) != str(exc):
                log.warning("%s (retried next tick)", exc)
            self.failures[part.name] = str(exc)
            return 0
        self.failures.pop(part.name, None)
        now = self.monotonic()
        self.state.ingest([(part.role, line) for line in lines], now)
        tail.ack(part)
        self.state.settle(now)
        self.board.counters.bytes_read += size
        return 1

    def _outage(self, url: str, why: str) -> None:
        if url not in self.outages:
            log.warning("source %s unreachable: %s (retried every tick)", url, why)
            self.outages[url] = (format_ms(now_utc()), why)
        else:
            self.outages[url] = (self.outages[url][0], why)

    # ---------------------------------------------------------------- report
    def notes(self) -> list[str]:
        out = []
        grace = format_duration(self.ws.grace)
        pending = len(self.state.pending)
        if pending:
            out.append(
                f"{pending} correlation ids are waiting up to {grace} for their other side "
                "and are not counted yet"
            )
        if self.state.counters.late:
            out.append(
                f"{self.state.counters.late} records arrived more than {grace} after the rest "
                "of their correlation id and were counted on their own"
            )
        for url, (since, why) in sorted(self.outages.items()):
            out.append(f"source {url} unreachable since {since}: {why} (retried every tick)")
        names = sorted(self.failures)
        for name in names[:MAX_NAMED]:
            out.append(f"{self.failures[name]} (retried every tick)")
        if len(names) > MAX_NAMED:
            out.append(
                f"{len(names) - MAX_NAMED} more parts could not be read (retried every tick)"
            )
        return out

    def _publish(self) -> bool:
        bounds = self.state.bounds()
        notes = self.notes()
        mark = (self.state.store.version, bounds, tuple(notes))
        now = self.monotonic()
        with_index = self._indexed_at is None or now - self._indexed_at >= INDEX_SECONDS
        if mark == self._published and not (with_index and self.state.index.changed()):
            return False
        if bounds is None:
            end = now_utc()
            start, partial, lo, hi = end - timedelta(seconds=self.ws.window), Partial(), 0, -1
        else:
            lo, hi = bounds
            start, end = self.clock.start(lo), self.clock.start(hi + 1)
            partial = self.state.window() or Partial()
        report, pairs = build_documents(
            partial,
            self.ws.settings,
            report_id=self.ws.name,
            start=start,
            end=end,
            sources=self.named,
            fail_on=self.ws.fail_on,
            notes=tuple(notes),
        )
        report["live"] = self._marker()
        try:
            self.location = self.publisher.publish(
                report, pairs, self.state.index, lo, hi, with_index
            )
        except SinkError as exc:
            log.warning("%s (retried next tick)", exc)
            return False
        if with_index:
            self._indexed_at = now
        self._published = mark
        self.report = report
        self._alert(report)
        return True

    def _marker(self) -> dict[str, Any]:
        """report.json's ``live`` object: what makes serve treat the folder as live."""
        return {
            "name": self.ws.name,
            "every_seconds": self.ws.every,
            "window_seconds": self.ws.window,
            "slice_seconds": self.clock.width_ms / 1000,
            "grace_seconds": self.ws.grace,
            "started_at": self.started_at,
            "tick": self.ticks,
            "pending": len(self.state.pending),
        }

    def _alert(self, report: dict[str, Any]) -> None:
        results = evaluate(report, self.ws.fail_on)
        events = self.transitions.update(results, report["id"], report["generated_at"])
        for ev in events:
            log.warning("alert %s: %s (value %.6g)", ev.event, ev.expression, ev.value)
            self.board.counters.alerts[ev.event] += 1
            if self.sender is not None:
                self.sender.send(payload(ev, self.ws.name, self.ws.report_url))
        fail_on = {expr: int(self.transitions.holds(expr)) for expr, _, _ in results}
        self.board.gauges = gauges_of(report, fail_on, len(self.state.pending), time.time())
