"""`shadowdiff collector`: run the capture sidecar (see docs/collector.md).

Flags are parsed here and turned into one typed settings object by
``collector.settings.build_settings`` (which names the flag in every error);
the collector package itself is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "collector",
        help="run the collector sidecar (mirror ingress or primary tap)",
        description="Forward requests to --upstream and capture every exchange to --sink.",
    )
    p.add_argument("--role", required=True, choices=("primary", "shadow", "secondary"))
    p.add_argument("--upstream", required=True, metavar="URL", help="the app: http(s)://host:port")
    p.add_argument(
        "--sink",
        default="./shadowdiff-records",
        metavar="SINK",
        help="dir path, file://DIR, s3://bucket/prefix or kinesis://stream",
    )
    p.add_argument(
        "--buckets",
        type=int,
        default=0,
        metavar="N",
        help="add a bucket=NN partition level (correlation id's code-point sum mod N) "
        "to local/s3 sinks; every writer of one deployment must use the same N (default 0: none)",
    )
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--admin-port", type=int, default=None, help="/healthz and /metrics only")
    p.add_argument("--signing-secret", default=None, help="or SHADOWDIFF_SIGNING_SECRET")
    p.add_argument(
        "--wait", action="store_true", help="mirrors: answer with the upstream's response"
    )
    p.add_argument("--correlation-header", default="x-shadow-correlation-id", metavar="NAME")
    p.add_argument("--deployment", default=None, metavar="LABEL", help="or SHADOWDIFF_DEPLOYMENT")
    p.add_argument("--body-limit", type=int, default=None, metavar="BYTES")
    p.add_argument("--redact-header", action="append", default=[], metavar="NAME")
    p.add_argument("--redact-json-field", action="append", default=[], metavar="PATH")
    p.add_argument("--max-concurrency", type=int, default=None, metavar="N")
    p.add_argument(
        "--max-pending",
        type=int,
        default=None,
        metavar="N",
        help="mirrors accepted but not yet forwarded before 503",
    )
    p.add_argument(
        "--max-request-bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help="mirrors: larger request bodies get 413",
    )
    p.add_argument(
        "--queue-size",
        type=int,
        default=None,
        metavar="N",
        help="records waiting for the sink before they are dropped",
    )
    p.add_argument("--spool-dir", default=None, metavar="DIR")
    p.add_argument("--flush-seconds", type=float, default=None, metavar="S")
    p.add_argument("--batch-bytes", type=int, default=None, metavar="BYTES")
    p.add_argument("--batch-records", type=int, default=None, metavar="N")
    p.add_argument("--grace-seconds", type=float, default=None, metavar="S")
    p.add_argument(
        "--mirror-config",
        default=None,
        metavar="FILE",
        help="primary: send the mirrors from here, as this edge config.json says (targets, "
        "sampling, transforms, signing); or SHADOWDIFF_MIRROR_CONFIG holding its JSON",
    )
    p.add_argument(
        "--mirror-timeout",
        type=float,
        default=None,
        metavar="S",
        help="one mirror delivery attempt, connect included (default 5)",
    )
    p.add_argument(
        "--mirror-queue",
        type=int,
        default=None,
        metavar="N",
        help="mirrors waiting per target before new ones are dropped (default 10000)",
    )
    p.add_argument(
        "--mirror-workers",
        type=int,
        default=None,
        metavar="N",
        help="connections per target; mirrors/s per target is about N / round trip (default 32)",
    )
    p.add_argument("--upstream-timeout", type=float, default=None, metavar="S")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from collector.server import serve
    from collector.settings import build_settings
    from shadowdiff.mirrorplan import load_plan

    settings = build_settings(args)
    plan = None
    if settings.mirror is not None:
        plan = load_plan(settings.mirror)
    return serve(settings, mirror_plan=plan)
