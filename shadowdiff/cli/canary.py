"""``shadowdiff canary``: judge a canary from its two arms' records (docs/contract.md §9).

Reads the primary records of both arms (one root split by ``deployment``, or one
source per arm), compares them per endpoint (errors with Fisher's exact test,
latency with Mann-Whitney U, schema drift of 2xx JSON bodies) and writes
canary.json, canary.html and canary.md into ``--out``. Exit 0 pass, 3 fail,
4 inconclusive, 2 bad arguments or unreadable input (one line on stderr).
"""

from __future__ import annotations

import argparse
from typing import Any

from shadowdiff.cli.common import add_engine_flags
from shadowdiff.model.errors import ConfigError

EXIT = {"pass": 0, "fail": 3, "inconclusive": 4}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "canary",
        help="judge a canary: baseline vs canary records, pass/fail/inconclusive with reasons",
        description="Compare the primary records of a canary's two arms per endpoint and write "
        "canary.json, canary.html and canary.md. Exit 0 pass, 3 fail, 4 inconclusive.",
    )
    parser.add_argument("--records", metavar="SRC", help="one root holding both arms' records")
    parser.add_argument("--baseline-records", metavar="SRC", help="the baseline arm's records")
    parser.add_argument("--canary-records", metavar="SRC", help="the canary arm's records")
    parser.add_argument(
        "--baseline", default="baseline", metavar="LABEL", help="baseline deployment label"
    )
    parser.add_argument(
        "--canary", default="canary", metavar="LABEL", help="canary deployment label"
    )
    parser.add_argument("--config", metavar="FILE", help="report configuration (YAML) with canary:")
    parser.add_argument("--since", metavar="T", help="RFC 3339; keep captured_at >= T")
    parser.add_argument("--until", metavar="T", help="RFC 3339; keep captured_at < T")
    parser.add_argument(
        "--out", metavar="DIR", required=True, help="canary folder: a path or s3://bucket/prefix"
    )
    parser.add_argument(
        "--fail-on",
        metavar="EXPR",
        action="append",
        default=[],
        help="fail when e.g. 'canary_error_rate > 0.01' holds (repeatable)",
    )
    add_engine_flags(parser, "requests per endpoint and arm")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.canary.job import CanaryOptions, run_canary
    from analysis.config import load_settings, parse_fail_on, read_config
    from analysis.core.canary.settings import parse_canary
    from analysis.core.canary.verdict import METRICS
    from shadowdiff.cli.common import engine_settings, progress_bar, time_flag

    settings = load_settings(args.config)
    obj = read_config(args.config) if args.config else None
    canary = parse_canary(obj.get("canary") if isinstance(obj, dict) else None)
    fail_on = parse_fail_on(tuple(args.fail_on), "--fail-on", METRICS)
    settings = engine_settings(args, settings)
    for flag, label in (("--baseline", args.baseline), ("--canary", args.canary)):
        if not label:
            raise ConfigError(f"{flag}: the deployment label is empty")
    opts = CanaryOptions(
        out=args.out,
        records=args.records,
        baseline_records=args.baseline_records,
        canary_records=args.canary_records,
        labels=(args.baseline, args.canary),
        since=time_flag(args.since, "--since"),
        until=time_flag(args.until, "--until"),
        settings=settings,
        canary=canary,
        fail_on=fail_on,
        workers=args.workers,
        work_dir=args.work_dir,
        engine=args.engine,
        scheduler=args.scheduler,
    )
    bar, update = progress_bar()
    if bar is not None:
        with bar:
            result = run_canary(opts, update)
    else:
        result = run_canary(opts)
    doc = result.doc
    print(
        f"canary {doc['id']} written to {result.location}: {doc['verdict']} "
        f"({doc['canary']['requests']} canary, {doc['baseline']['requests']} baseline requests)"
    )
    for reason in doc["reasons"]:
        print(f"  {reason}")
    from analysis.canary.writer import failed_sentence, failed_share

    for ep in doc["endpoints"]:
        for entry in failed_share(ep)[:1]:
            print(f"  {ep['endpoint']}: {failed_sentence(entry)}")
    return EXIT[doc["verdict"]]
