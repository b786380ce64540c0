"""The nightly report job end to end: sources → merged partial → report folder.

The CLI builds :class:`JobOptions` from flags once and calls :func:`run_job`;
the demo and tests call it directly. ``engine`` picks where the per-partition
work runs: this machine's fork pool (``local``) or a Dask cluster (``dask``);
both merge the same partials, so both write the same report. A local report
folder is written beside its target and renamed into place at the end, so a
job that dies never leaves a folder that looks complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from analysis.core.aggregate import Partial
from analysis.core.examples import example_pairs
from analysis.core.finalize import build_report
from analysis.core.settings import ReportSettings
from analysis.engine import Progress, Run, engine_for
from analysis.failon import crossed
from analysis.report.writer import write_report
from analysis.sources import Source, open_source
from shadowdiff.model.errors import ConfigError, SinkError
from shadowdiff.model.locations import parse_location
from shadowdiff.model.timefmt import format_ms, now_utc


@dataclass(slots=True)
class JobOptions:
    out: str
    records: str | None = None
    primary: str | None = None
    shadow: str | None = None
    secondary: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    settings: ReportSettings = field(default_factory=ReportSettings)
    fail_on: tuple[str, ...] = ()
    workers: int | None = None
    work_dir: str | None = None
    clients: dict[str, Any] = field(default_factory=dict)
    engine: str = "local"  # local | dask
    scheduler: str | None = None  # tcp://HOST:8786; None with dask: a LocalCluster here
    # Roles the window does not select (local engine), e.g. a replay's answers.
    unwindowed: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()  # added to the report's own notes
    named_sources: dict[str, str] | None = None  # report.json `sources`; None: the flags given


@dataclass(slots=True)
class JobResult:
    report: dict[str, Any]
    location: str
    crossed: list[str]


def sources_of(opts: JobOptions) -> tuple[list[Source], dict[str, str]]:
    return open_sources(
        {
            "records": opts.records,
            "primary": opts.primary,
            "shadow": opts.shadow,
            "secondary": opts.secondary,
        },
        opts.clients,
    )


def open_sources(
    named: dict[str, str | None], clients: dict[str, Any]
) -> tuple[list[Source], dict[str, str]]:
    """``--records`` / ``--primary`` / ``--shadow`` / ``--secondary`` → sources (each keeps its role)."""
    given = {k: v for k, v in named.items() if v}
    if not given:
        raise ConfigError("no input: give --records SRC or --primary/--shadow SRC")
    srcs = [
        open_source(url, None if key == "records" else key, clients) for key, url in given.items()
    ]
    return srcs, given


def report_id(start: datetime | None) -> str:
    moment = start or now_utc()
    return f"{moment:%Y-%m-%dT%H-%MZ}_{secrets.token_hex(3)}"


def check_run(
    since: datetime | None, until: datetime | None, engine: str, scheduler: str | None
) -> None:
    """The window and engine choices every job over records shares (report, canary)."""
    if since is not None and until is not None and since >= until:
        raise ConfigError("--since must be earlier than --until")
    if engine not in ("local", "dask"):
        raise ConfigError(f"--engine must be local or dask, not {engine!r}")
    if scheduler and engine != "dask":
        raise ConfigError("--scheduler needs --engine dask")


def run_job(opts: JobOptions, progress: Progress | None = None) -> JobResult:
    check_run(opts.since, opts.until, opts.engine, opts.scheduler)
    sources, named = sources_of(opts)
    cids = tempfile.mkdtemp("-cids", "shadowdiff-", opts.work_dir)
    try:
        return _run(opts, sources, named, cids, progress)
    finally:
        shutil.rmtree(cids, ignore_errors=True)


def _run(
    opts: JobOptions,
    sources: list[Source],
    named: dict[str, str],
    cids: str,
    progress: Progress | None,
) -> JobResult:
    run = Run(
        workers=opts.workers,
        work_dir=opts.work_dir,
        scheduler=opts.scheduler,
        unwindowed=opts.unwindowed,
        progress=progress,
        cids=cids,
    )
    partial = engine_for(opts.engine)(sources, opts.settings, (opts.since, opts.until), run)
    start = opts.since or partial.first_seen
    end = opts.until or partial.last_seen
    report, pairs = build_documents(
        partial,
        opts.settings,
        report_id=report_id(start),
        start=start,
        end=end,
        sources=named if opts.named_sources is None else opts.named_sources,
        fail_on=opts.fail_on,
        notes=opts.notes,
    )
    location = publish(opts.out, report, pairs, opts.clients.get("s3"), Path(cids))
    return JobResult(report, location, crossed(report, opts.fail_on))


def window_notes(partial: Partial) -> list[str]:
    """What a reader must know to read the counts: nothing in the window, or no pairs."""
    valid = sum(
        partial.counts[k] for k in ("primary_records", "shadow_records", "secondary_records")
    )
    if valid == 0:
        return ["no records in the window: every count is zero"]
    if partial.counts["pairs"] == 0:
        return ["no pairs: no correlation id has both a primary and a shadow record in the window"]
    return []


def build_documents(
    partial: Partial,
    settings: ReportSettings,
    *,
    report_id: str,
    start: datetime | None,
    end: datetime | None,
    sources: dict[str, str],
    fail_on: tuple[str, ...],
    notes: tuple[str, ...] = (),
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report document and its example pairs, from a merged partial (``watch`` too)."""
    generated = now_utc()
    meta = {
        "id": report_id,
        "generated_at": format_ms(generated),
        "window": {
            "start": format_ms(start) if start else format_ms(generated),
            "end": format_ms(end) if end else format_ms(generated),
        },
        "sources": sources,
        "notes": [*window_notes(partial), *notes],
        "config": {"fail_on": list(fail_on)},
    }
    report = build_report(partial, settings, meta)
    return report, example_pairs(report, partial, settings)


def publish(
    out: str,
    report: dict[str, Any],
    pairs: list[dict[str, Any]],
    s3: Any,
    cids: Path | None = None,
) -> str:
    """Write the report folder so that it appears whole or not at all.

    S3 (and an existing, non-empty local folder) get the writer's own order —
    ``report.json`` last, which is what readers list by. A new local folder is
    written under a hidden sibling name and renamed into place.
    """
    return publish_with(out, lambda where: write_report(where, report, pairs, s3, cids))


def publish_with(out: str, write: Callable[[str], str]) -> str:
    """Run ``write(where)`` so a local folder appears whole or not at all (see :func:`publish`)."""
    location = parse_location(out, "--out", ("local", "s3"))
    if location.kind == "s3":
        return write(out)
    target = location.local_path
    if target.is_dir() and any(target.iterdir()):
        return write(str(target))
    tmp = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    try:
        write(str(tmp))
        if target.is_dir():
            target.rmdir()
        os.replace(tmp, target)
    except OSError as exc:
        raise SinkError(f"cannot write report to {target}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)
