"""``shadowdiff report``: the nightly divergence report (CONTRACT §4–§6).

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

from shadowdiff.errors import ConfigError


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
    parser.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    parser.add_argument(
        "--work-dir",
        metavar="DIR",
        default=None,
        help="where the temporary spill files go (default: the system temp dir); "
        "needs about the uncompressed size of the input",
    )
    parser.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="where the work runs: this machine's processes (default) or a Dask cluster",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDR",
        default=None,
        help="Dask scheduler, e.g. tcp://HOST:8786 (with --engine dask; "
        "default: a local cluster of --workers processes)",
    )
    parser.add_argument(
        "--latency-sample",
        metavar="K",
        type=int,
        default=None,
        help="pairs per endpoint kept for exact latency statistics (default 50000); "
        "above K, percentiles come from a 1 %% DDSketch and Mann-Whitney from a seeded sample",
    )
    parser.set_defaults(func=run)


def _time(text: str | None, flag: str) -> Any:
    if text is None:
        return None
    from shadowdiff.timefmt import parse

    try:
        return parse(text)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from exc


def _progress() -> Any:
    """A rich progress bar on a terminal; nothing when stderr is not a TTY."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import Progress

    bar = Progress(transient=True, auto_refresh=False)
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.update(tasks[phase], completed=done, total=total)
        bar.refresh()

    return bar, update


def _print_why(report: dict[str, Any], limit: int = 5) -> None:
    """The request attributes behind the top differences (CONTRACT §12), one line each."""
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
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.scheduler and args.engine != "dask":
        raise ConfigError("--scheduler needs --engine dask")
    if args.latency_sample is not None:
        if args.latency_sample < 1:
            raise ConfigError("--latency-sample must be at least 1")
        from dataclasses import replace

        settings = replace(settings, latency_sample=args.latency_sample)
    opts = JobOptions(
        out=args.out,
        records=args.records,
        primary=args.primary,
        shadow=args.shadow,
        secondary=args.secondary,
        since=_time(args.since, "--since"),
        until=_time(args.until, "--until"),
        settings=settings,
        fail_on=settings.fail_on + extra,
        workers=args.workers,
        work_dir=args.work_dir,
        engine=args.engine,
        scheduler=args.scheduler,
    )
    bar, update = _progress()
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
