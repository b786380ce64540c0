"""Prometheus ``/metrics`` of the live report (``--metrics-port``).

A custom collector reads the newest :class:`LiveGauges` snapshot at scrape time,
so an endpoint that left the window leaves the metrics too (no stale labels)
and a scrape never sees half a tick. The contract's gauges:

- ``shadowdiff_live_pairs``
- ``shadowdiff_live_status_mismatch_rate{endpoint}``
- ``shadowdiff_live_body_mismatch_rate{endpoint}``
- ``shadowdiff_live_fail_on{expression}`` (0 or 1)

and, to run the watch itself: ``shadowdiff_live_endpoint_pairs{endpoint}``,
``shadowdiff_live_records{role}``, ``shadowdiff_live_pending_ids``,
``shadowdiff_live_status_mismatch_rate_all``, ``shadowdiff_live_body_mismatch_rate_all``,
``shadowdiff_live_report_timestamp_seconds``, and the counters
``shadowdiff_live_ticks_total``, ``shadowdiff_live_bytes_read_total``,
``shadowdiff_live_read_errors_total``, ``shadowdiff_live_alerts_total{event}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

P = "shadowdiff_live_"


@dataclass(frozen=True, slots=True)
class LiveGauges:
    pairs: int = 0
    status_rate: dict[str, float] = field(default_factory=dict)
    body_rate: dict[str, float] = field(default_factory=dict)
    endpoint_pairs: dict[str, int] = field(default_factory=dict)
    fail_on: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    status_rate_all: float = 0.0
    body_rate_all: float = 0.0
    pending: int = 0
    report_time: float = 0.0


@dataclass(slots=True)
class LiveCounters:
    ticks: int = 0
    bytes_read: int = 0
    read_errors: int = 0
    alerts: dict[str, int] = field(default_factory=lambda: {"firing": 0, "resolved": 0})


def gauges_of(
    report: dict[str, Any], fail_on: dict[str, int], pending: int, at: float
) -> LiveGauges:
    """The gauges of one live report (rates as ``shadowdiff report``'s --fail-on reads them)."""
    s = report["summary"]
    eps = report["endpoints"]
    compared = sum(e["body"]["compared"] for e in eps)
    return LiveGauges(
        pairs=s["pairs"],
        status_rate={
            e["endpoint"]: e["status"]["mismatches"] / e["pairs"] if e["pairs"] else 0.0
            for e in eps
        },
        body_rate={
            e["endpoint"]: e["body"]["mismatches"] / e["body"]["compared"]
            if e["body"]["compared"]
            else 0.0
            for e in eps
        },
        endpoint_pairs={e["endpoint"]: e["pairs"] for e in eps},
        fail_on=dict(fail_on),
        records={r: s[f"{r}_records"] for r in ("primary", "shadow", "secondary")},
        status_rate_all=s["status_mismatches"] / s["pairs"] if s["pairs"] else 0.0,
        body_rate_all=s["body_mismatches"] / compared if compared else 0.0,
        pending=pending,
        report_time=at,
    )


class _Collector(Collector):
    def __init__(self, board: MetricsBoard) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        g, c = self.board.gauges, self.board.counters

        def labelled(name: str, doc: str, label: str, values: dict[str, Any]) -> Metric:
            fam = GaugeMetricFamily(P + name, doc, labels=[label])
            for key, value in sorted(values.items()):
                fam.add_metric([key], float(value))
            return fam

        yield GaugeMetricFamily(P + "pairs", "Pairs in the live window.", value=g.pairs)
        yield labelled(
            "status_mismatch_rate",
            "Share of an endpoint's pairs whose status codes differ.",
            "endpoint",
            g.status_rate,
        )
        yield labelled(
            "body_mismatch_rate",
            "Share of an endpoint's compared pairs whose bodies differ (noise excluded).",
            "endpoint",
            g.body_rate,
        )
        yield labelled(
            "fail_on", "1 while a --fail-on expression holds, else 0.", "expression", g.fail_on
        )
        yield labelled("endpoint_pairs", "Pairs per endpoint.", "endpoint", g.endpoint_pairs)
        yield labelled("records", "Valid records in the window by role.", "role", g.records)
        yield GaugeMetricFamily(
            P + "status_mismatch_rate_all", "Status mismatches / pairs.", value=g.status_rate_all
        )
        yield GaugeMetricFamily(
            P + "body_mismatch_rate_all", "Body mismatches / compared.", value=g.body_rate_all
        )
        yield GaugeMetricFamily(
            P + "pending_ids",
            "Correlation ids waiting (up to --grace) for their other side.",
            value=g.pending,
        )
        yield GaugeMetricFamily(
            P + "report_timestamp_seconds",
            "When the live report was last replaced (Unix time).",
            value=g.report_time,
        )
        yield CounterMetricFamily(P + "ticks", "Ticks run.", value=c.ticks)
        yield CounterMetricFamily(
            P + "bytes_read", "Bytes read from the sources.", value=c.bytes_read
        )
        yield CounterMetricFamily(
            P + "read_errors", "Failed reads of a file, object or shard.", value=c.read_errors
        )
        alerts = CounterMetricFamily(P + "alerts", "Alerts sent, by event.", labels=["event"])
        for event, n in sorted(c.alerts.items()):
            alerts.add_metric([event], n)
        yield alerts


class MetricsBoard:
    """What ``/metrics`` shows: swapped whole after each tick (an attribute set is atomic)."""

    def __init__(self) -> None:
        self.gauges = LiveGauges()
        self.counters = LiveCounters()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))
        self._server: Any = None

    def serve(self, port: int, host: str) -> int:
        """Start ``/metrics`` on ``host:port`` (0: any free port); returns the port."""
        server, _thread = start_http_server(port, host, self.registry)
        self._server = server
        return int(server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
