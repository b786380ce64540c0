"""`shadowdiff serve`: the FastAPI report service over a root of report folders.

Builds the typed settings once (flags, then ``SHADOWDIFF_TOKEN``), refuses an
unprotected non-loopback bind with a one-line error (exit 2), and runs uvicorn.
FastAPI and uvicorn are imported inside :func:`run` so ``shadowdiff --help``
stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve nightly reports and every divergent request over HTTP",
        description="Serve the reports under --reports (one folder per report) as pages "
        "and a JSON API; new reports appear without a restart.",
    )
    parser.add_argument(
        "--reports", required=True, metavar="DIR_OR_S3", help="root: a dir or s3://bucket/prefix"
    )
    parser.add_argument(
        "--records",
        metavar="SRC",
        help="record source for pairs not in any report, looked up by ?dt=YYYY-MM-DD&hour=HH",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="report config (YAML) for diffing pairs read from --records; default: built-in",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument(
        "--token", help="bearer token every route but /healthz needs (else SHADOWDIFF_TOKEN)"
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback --host without a token",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.web.settings import build_settings

    settings = build_settings(
        reports=args.reports,
        records=args.records,
        config=args.config,
        host=args.host,
        port=args.port,
        token=args.token,
        insecure=args.insecure,
    )
    import uvicorn

    from analysis.web.app import create_app

    app = create_app(settings)
    print(f"shadowdiff serve: http://{settings.host}:{settings.port}/ (reports {settings.reports})")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
