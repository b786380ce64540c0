"""``shadowdiff replay``: send captured primary requests to a candidate build and report (docs/contract.md §11).

Reads the primary records of ``--records``/``--primary`` in ``captured_at``
order, sends each request to ``--target`` (and ``--secondary-target``), captures
the answers and writes the report of the originals against the replays into
``--out`` (the files ``shadowdiff report`` writes). Exit 0, 3 when a
``--fail-on`` threshold is crossed, 2 for bad arguments, an unreachable target
or unreadable input (one line on stderr). See docs/replay.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replay",
        help="replay captured primary requests against a candidate build and report",
        description="Send captured primary requests, in captured_at order, to --target "
        "(and --secondary-target for noise), and write the report of the originals against "
        "the replays.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--records", metavar="SRC", help="a root holding the primary records")
    src.add_argument("--primary", metavar="SRC", help="primary records (or CloudFront logs)")
    p.add_argument("--target", required=True, metavar="URL", help="the build under test")
    p.add_argument(
        "--secondary-target",
        metavar="URL",
        help="a copy of the current version; its answers tell noise from change",
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="report folder: a path or s3://bucket/prefix"
    )
    p.add_argument("--since", metavar="T", help="RFC 3339; replay primaries with captured_at >= T")
    p.add_argument("--until", metavar="T", help="RFC 3339; replay primaries with captured_at < T")
    p.add_argument(
        "--rate",
        default="max",
        metavar="FACTOR|max",
        help="2 keeps the original spacing at twice the speed; max (default) goes as fast "
        "as --concurrency allows",
    )
    p.add_argument(
        "--concurrency", type=int, default=16, metavar="N", help="requests in flight (default 16)"
    )
    p.add_argument(
        "--methods",
        default="GET,HEAD,OPTIONS",
        metavar="LIST",
        help="methods replayed (default GET,HEAD,OPTIONS); others are skipped and counted",
    )
    p.add_argument(
        "--set-header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set or replace a header on every replayed request, e.g. a test token (repeatable)",
    )
    p.add_argument("--deployment", metavar="LABEL", help="the replayed records' deployment")
    p.add_argument("--config", metavar="FILE", help="report configuration (YAML)")
    p.add_argument(
        "--fail-on",
        metavar="EXPR",
        action="append",
        default=[],
        help="exit 3 when e.g. 'status_mismatch_rate > 0.01' holds (repeatable)",
    )
    p.add_argument(
        "--keep-records", metavar="SINK", help="also write the replayed records to this sink"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="per request and target; beyond it an error record (default 10)",
    )
    p.add_argument(
        "--work-dir",
        metavar="DIR",
        default=None,
        help="where the sorted runs, replayed records and report spill go "
        "(default: the system temp dir)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.config import load_settings, parse_fail_on
    from shadowdiff.cli.common import progress_bar, time_flag
    from shadowdiff.replay.run import run_replay
    from shadowdiff.replay.settings import build_settings

    report_settings = load_settings(args.config)
    extra = parse_fail_on(tuple(args.fail_on), "--fail-on")
    args.since = time_flag(args.since, "--since")
    args.until = time_flag(args.until, "--until")
    settings = build_settings(args, report_settings, report_settings.fail_on + extra)
    bar, update = progress_bar()
    if bar is not None:
        with bar:
            result = run_replay(settings, update)
    else:
        result = run_replay(settings)
    t, s = result.tally, result.report["summary"]
    errors = sum(sum(kinds.values()) for kinds in t.errors.values())
    print(
        f"replayed {t.replayed} of {t.primaries} primary requests to {settings.targets[0].url} "
        f"({sum(t.skipped.values())} skipped, {errors} without an answer); "
        f"report {result.report['id']} written to {result.location}: {s['pairs']} pairs, "
        f"{s['status_mismatches']} status mismatches, {s['body_mismatches']} body mismatches"
    )
    if result.unkept_batches:
        print(
            f"shadowdiff replay: warning: {result.unkept_batches} batches of replayed records "
            f"could not be written to {settings.keep_records}; they wait in the spool",
            file=sys.stderr,
        )
    if result.crossed:
        print("shadowdiff replay: threshold crossed: " + "; ".join(result.crossed), file=sys.stderr)
        return 3
    return 0
