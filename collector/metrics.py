"""Prometheus metrics of one collector process (``/metrics``).

Each app gets its own registry so several collectors (or tests) can live in one
process. Names start with ``shadowdiff_collector_``; see docs/collector.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class FastCounter:
    """A counter for the event-loop thread only: ``inc`` is one integer add."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


class _FastCollector(Collector):
    def __init__(self, role: str, counters: list[tuple[str, str, FastCounter]]) -> None:
        self.role = role
        self.counters = counters

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, doc, counter in self.counters:
            family = CounterMetricFamily(name, doc, labels=["role"])
            family.add_metric([self.role], counter.value)
            yield family


class Metrics:
    def __init__(self, role: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ns = "shadowdiff_collector"
        reg = self.registry
        labels = ["role"]
        # Counted on every request: plain ints read at scrape time (a
        # prometheus Counter takes a lock per inc, measurable on the hot path).
        self.received = FastCounter()
        self.forwarded = FastCounter()
        self.uncaptured = FastCounter()
        self.records_captured = FastCounter()
        reg.register(
            _FastCollector(
                role,
                [
                    (
                        f"{ns}_requests_received",
                        "Requests received on the main port",
                        self.received,
                    ),
                    (f"{ns}_requests_forwarded", "Requests sent to the upstream", self.forwarded),
                    (
                        f"{ns}_requests_uncaptured",
                        "Tapped requests without a correlation header: forwarded, not captured",
                        self.uncaptured,
                    ),
                    (
                        f"{ns}_records_captured",
                        "Records handed to the sink queue",
                        self.records_captured,
                    ),
                ],
            )
        )
        self._rejected = Counter(
            f"{ns}_requests_rejected",
            "Requests refused, by reason",
            ["role", "reason"],
            registry=reg,
        )
        self._upstream_errors = Counter(
            f"{ns}_upstream_errors", "Upstream failures, by kind", ["role", "kind"], registry=reg
        )
        self.records_written = Counter(
            f"{ns}_records_written", "Records delivered to the sink", labels, registry=reg
        ).labels(role)
        self.records_spooled = Counter(
            f"{ns}_records_spooled", "Records written to the on-disk spool", labels, registry=reg
        ).labels(role)
        self.records_replayed = Counter(
            f"{ns}_records_replayed", "Spooled records delivered later", labels, registry=reg
        ).labels(role)
        self._dropped = Counter(
            f"{ns}_records_dropped", "Records lost, by reason", ["role", "reason"], registry=reg
        )
        self.queue_depth = Gauge(
            f"{ns}_queue_depth", "Records waiting in the sink queue", labels, registry=reg
        ).labels(role)
        self.spool_files = Gauge(
            f"{ns}_spool_files", "Batches waiting in the on-disk spool", labels, registry=reg
        ).labels(role)
        self.sink_latency = Histogram(
            f"{ns}_sink_write_seconds",
            "Time to deliver one batch to the sink",
            labels,
            registry=reg,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        ).labels(role)
        # The tap as mirror source (docs/contract.md §8): named without the collector prefix,
        # as the contract spells it, and labelled by the target's role.
        self._mirrors = Counter(
            "shadowdiff_mirrors",
            "Mirrors sent by the primary tap, by target role and outcome",
            ["target_role", "outcome"],
            registry=reg,
        )
        self._mirror_queue = Gauge(
            f"{ns}_mirror_queue_depth",
            "Mirrors waiting to be sent, by target role",
            ["target_role"],
            registry=reg,
        )
        self.role = role

    def mirror(self, target_role: str, outcome: str, n: int = 1) -> None:
        self._mirrors.labels(target_role, outcome).inc(n)

    def watch_mirror_queue(self, target_role: str, depth: Callable[[], int]) -> None:
        self._mirror_queue.labels(target_role).set_function(depth)

    def rejected(self, reason: str) -> None:
        self._rejected.labels(self.role, reason).inc()

    def upstream_error(self, kind: str) -> None:
        self._upstream_errors.labels(self.role, kind).inc()

    def dropped(self, reason: str, n: int = 1) -> None:
        self._dropped.labels(self.role, reason).inc(n)

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)
