"""What several sub-commands share: time flags, the progress bar, the engine flags.

``report``, ``canary``, ``replay`` and ``watch`` read the same records with the
same engine, so they take the same flags the same way and fail with the same
one-line messages.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shadowdiff.model.errors import ConfigError


def add_engine_flags(parser: Any, sampled: str) -> None:
    """--workers, --work-dir, --engine, --scheduler, --latency-sample (report and canary)."""
    parser.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    parser.add_argument(
        "--work-dir",
        metavar="DIR",
        default=None,
        help="where the temporary spill files go (default: the system temp dir); "
        "needs about the size of the (gzip) input",
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
        help=f"{sampled} kept for exact latency statistics (default 50000); "
        "above K, percentiles come from a 1 %% DDSketch and Mann-Whitney from a seeded sample",
    )


def time_flag(text: str | None, flag: str) -> Any:
    if text is None:
        return None
    from shadowdiff.model.timefmt import parse

    try:
        return parse(text)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from exc


def progress_bar() -> Any:
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


def engine_settings(args: argparse.Namespace, settings: Any) -> Any:
    """Check the engine flags; ``settings`` with ``--latency-sample`` applied."""
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.scheduler and args.engine != "dask":
        raise ConfigError("--scheduler needs --engine dask")
    if args.latency_sample is not None:
        if args.latency_sample < 1:
            raise ConfigError("--latency-sample must be at least 1")
        from dataclasses import replace

        settings = replace(settings, latency_sample=args.latency_sample)
    return settings
