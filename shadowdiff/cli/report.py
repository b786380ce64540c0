"""``shadowdiff report``: the nightly divergence report (docs/contract.md §4–§6).

Reads capture records (and optionally CloudFront standard logs as the
primary), joins them by correlation id over a window, and writes
report.json, report.html, report.md and pairs.jsonl.gz into ``--out``.
Exit 0, 3 when a ``--fail-on`` threshold is crossed, 2 for bad arguments or
unreadable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shadowdiff.cli.common import add_engine_flags, engine_settings, progress_bar, time_flag


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="join captured records and write the divergence report",
        description="Join primary/shadow records by correlation id and write the divergence report.",
    )
    parser.add_argument("--records", metavar="SRC", help="one root holding every role")
    parser.add_argument(
        "--primary", metavar="SRC", help="primary records, or CloudFront standard logs"
    )
    parser.add_argument("--shadow", metavar="SRC", help="shadow records")
    parser.add_argument(
        "--secondary", metavar="SRC", help="records of a second copy of the primary version"
    )
    parser.add_argument("--config", metavar="FILE", help="report configuration (YAML)")
    parser.add_argument("--since", metavar="T", help="RFC 3339; keep captured_at >= T")
    parser.add_argument("--until", metavar="T", help="RFC 3339; keep captured_at < T")
    parser.add_argument(
        "--out", metavar="DIR", required=True, help="report folder: a path or s3://bucket/prefix"
    )
    parser.add_argument(
        "--fail-on",
        metavar="EXPR",
        action="append",
        default=[],
        help="exit 3 when e.g. 'status_mismatch_rate > 0.01' holds (repeatable)",
    )
    add_engine_flags(parser, "pairs per endpoint")
    parser.set_defaults(func=run)


def _print_why(report: dict[str, Any], limit: int = 5) -> None:
    """The request attributes behind the top differences (docs/contract.md §12), one line each."""
    from analysis.core.explain_words import explained, sentence

    found = explained(report)
    for name, what, entry in found[:limit]:
        print(f"  {name} {what}: {sentence(entry)}")
    if len(found) > limit:
        print(f"  …and {len(found) - limit} more explained in report.html")


def run(args: argparse.Namespace) -> int:
    from analysis.config import load_settings, parse_fail_on
    from analysis.job import JobOptions, run_job

    settings = load_settings(args.config)
    extra = parse_fail_on(tuple(args.fail_on), "--fail-on")
    settings = engine_settings(args, settings)
    opts = JobOptions(
        out=args.out,
        records=args.records,
        primary=args.primary,
        shadow=args.shadow,
        secondary=args.secondary,
        since=time_flag(args.since, "--since"),
        until=time_flag(args.until, "--until"),
        settings=settings,
        fail_on=settings.fail_on + extra,
        workers=args.workers,
        work_dir=args.work_dir,
        engine=args.engine,
        scheduler=args.scheduler,
    )
    bar, update = progress_bar()
    if bar is not None:
        with bar:
            result = run_job(opts, update)
    else:
        result = run_job(opts)
    s = result.report["summary"]
    print(
        f"report {result.report['id']} written to {result.location}: {s['pairs']} pairs, "
        f"{s['status_mismatches']} status mismatches, {s['body_mismatches']} body mismatches"
    )
    _print_why(result.report)
    if result.crossed:
        print("shadowdiff report: threshold crossed: " + "; ".join(result.crossed), file=sys.stderr)
        return 3
    return 0
