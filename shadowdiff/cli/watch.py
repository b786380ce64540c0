"""``shadowdiff watch``: the live divergence report, replaced every few seconds (docs/contract.md §10).

Reads only what is new in its sources at each tick and keeps ``ROOT/NAME`` a
full report (the files ``shadowdiff report`` writes) over the last ``--window``
of capture time; ``--fail-on`` transitions go to ``--alert-webhook`` and the
numbers to Prometheus on ``--metrics-port``. Exit 0 after SIGTERM (the tick in
progress is finished first); 2 with one line for a bad flag or a source that
cannot be reached at start.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Any

# The webhook URL is a secret (a Slack webhook URL posts to the channel): a
# container gets it from its secret store in the environment, never in argv.
WEBHOOK_ENV = "SHADOWDIFF_ALERT_WEBHOOK"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="keep a live report over the last --window, replaced every --every seconds",
        description="Read what is new in the sources every --every seconds and replace "
        "ROOT/NAME with a report over the last --window of captured_at; alert on --fail-on "
        "transitions and export Prometheus gauges.",
    )
    parser.add_argument("--records", metavar="SRC", help="one root holding every role")
    parser.add_argument("--primary", metavar="SRC", help="primary records, or CloudFront logs")
    parser.add_argument("--shadow", metavar="SRC", help="shadow records")
    parser.add_argument("--secondary", metavar="SRC", help="secondary records")
    parser.add_argument(
        "--reports",
        metavar="ROOT",
        required=True,
        help="reports root: a path or s3://bucket/prefix",
    )
    parser.add_argument(
        "--name",
        default="live",
        help="the live report's folder under ROOT and its id (default live)",
    )
    parser.add_argument(
        "--every", default="60", metavar="SECONDS", help="seconds between ticks (default 60)"
    )
    parser.add_argument(
        "--window",
        default="1h",
        metavar="DURATION",
        help="how much captured_at the report covers: 90s, 15m, 2h, 1d (default 1h)",
    )
    parser.add_argument(
        "--grace",
        default="2m",
        metavar="DURATION",
        help="how long an id waits for its other side before it counts as primary-only or "
        "shadow-only (default 2m)",
    )
    parser.add_argument("--config", metavar="FILE", help="report configuration (YAML)")
    parser.add_argument(
        "--fail-on",
        metavar="EXPR",
        action="append",
        default=[],
        help="alert when e.g. 'status_mismatch_rate > 0.01' starts or stops holding (repeatable)",
    )
    parser.add_argument(
        "--alert-webhook",
        metavar="URL",
        help=f"POST firing/resolved alerts here: a Slack incoming webhook or an "
        f"Alertmanager-style receiver (default: ${WEBHOOK_ENV})",
    )
    parser.add_argument(
        "--report-url",
        metavar="URL",
        help="where `shadowdiff serve` shows this report, linked from alerts",
    )
    parser.add_argument(
        "--metrics-port", metavar="N", type=int, default=None, help="serve Prometheus /metrics here"
    )
    parser.add_argument(
        "--metrics-host",
        metavar="ADDR",
        default="127.0.0.1",
        help="address /metrics binds to (default 127.0.0.1; 0.0.0.0 in a container)",
    )
    parser.add_argument(
        "--latency-sample",
        metavar="K",
        type=int,
        default=None,
        help="pairs per endpoint kept for exact latency statistics (default 10000)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from analysis.config import load_settings, parse_fail_on
    from analysis.live.settings import DEFAULT_LATENCY_SAMPLE, build_watch_settings
    from analysis.live.watcher import Watcher
    from shadowdiff.model.errors import ConfigError

    settings = load_settings(args.config)
    extra = parse_fail_on(tuple(args.fail_on), "--fail-on")
    sample = DEFAULT_LATENCY_SAMPLE if args.latency_sample is None else args.latency_sample
    if sample < 1:
        raise ConfigError("--latency-sample must be at least 1")
    ws = build_watch_settings(
        reports=args.reports,
        name=args.name,
        records=args.records,
        primary=args.primary,
        shadow=args.shadow,
        secondary=args.secondary,
        every=args.every,
        window=args.window,
        grace=args.grace,
        settings=replace(settings, latency_sample=sample),
        fail_on=settings.fail_on + extra,
        alert_webhook=args.alert_webhook or os.environ.get(WEBHOOK_ENV) or None,
        report_url=args.report_url,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
    )
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("shadowdiff.watch").setLevel(logging.INFO)  # one line per busy tick
    watcher = Watcher(ws)

    def stop(signum: int, frame: Any) -> None:
        watcher.stop.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return watcher.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
