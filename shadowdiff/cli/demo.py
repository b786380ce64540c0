"""`shadowdiff demo`: the whole pipeline on this machine, then the report in the browser.

Starts a sample shop API (v1 primary, v2 shadow, v1 secondary), the real
collectors with a local dir sink, and the local CloudFront stand-in running the
real edge handler; drives a few thousand requests; runs the report and serves
it. Everything lands under ``--out`` (records, configs, logs, reports).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole pipeline on this machine and serve its report",
        description="Run the whole pipeline on this machine: a sample shop API (v1 primary, "
        "v2 shadow, v1 secondary), the real collectors with a local dir sink, and a local "
        "CloudFront stand-in running the real edge handler; drive traffic through it, write "
        "the report and serve it. Everything goes under --out.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        metavar="DIR",
        help="where records, configs, logs and reports go (default ./demo-out); "
        "the previous run's files there are replaced",
    )
    parser.add_argument(
        "--port",
        type=_positive,
        default=None,
        metavar="N",
        help="report service port (default: a free one)",
    )
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="exit after writing the report instead of serving it",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="also run `shadowdiff watch` beside the traffic: reports/live fills in while "
        "the requests flow (served from the start)",
    )
    parser.add_argument(
        "--requests",
        type=_positive,
        default=3000,
        metavar="N",
        help="requests to drive (default 3000)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive,
        default=8,
        metavar="N",
        help="requests in flight (default 8)",
    )
    parser.add_argument(
        "--mirror-from",
        choices=("edge", "tap"),
        default="edge",
        help="who sends the mirrors: the edge handler in the local front door (default), "
        "or the primary tap itself (collector --mirror-config), with no front door",
    )
    parser.add_argument(
        "--replay",
        action="store_true",
        help="then replay the captured v1 traffic against v2 (shadowdiff replay) "
        "and write its report too",
    )
    parser.add_argument(
        "--canary",
        action="store_true",
        help="instead of mirroring: split 20%% of users (sticky) to v2 through the canary "
        "split, judge the canary and serve its verdict",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shadowdiff.demo.orchestrator import DemoSettings, run_demo

    settings = DemoSettings(
        out=args.out,
        port=args.port,
        serve=not args.no_serve,
        requests=args.requests,
        concurrency=args.concurrency,
        mirror_from=args.mirror_from,
        replay=args.replay,
        canary=args.canary,
        live=args.live,
    )
    return run_demo(settings)
