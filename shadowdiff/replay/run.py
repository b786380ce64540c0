"""A whole replay: check the targets, order the primaries, send them, write the report.

1. Every target is connected to once; an unreachable one stops the replay
   before anything is read (one line naming the flag, exit 2).
2. The primary records of the window are read once into sorted runs
   (:mod:`shadowdiff.replay.order`); a source without any says so.
3. They are sent in ``captured_at`` order, paced by ``--rate``, at most
   ``--concurrency`` at a time, each to every target at once
   (:mod:`shadowdiff.replay.loop`); every answer is written as a record (and
   queued for ``--keep-records``) as it arrives, so memory holds the requests in
   flight and one line per sorted run, never the night.
4. The ordinary report job compares the replayed originals with their replays.
   The window selects the originals; the replays, captured now, are read whatever
   their time (the engine's ``unwindowed`` roles), and the report's window is the
   one given, or else the span of the originals replayed.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from shadowdiff.model.errors import ConfigError, SinkError, SourceError
from shadowdiff.model.timefmt import format_ms
from shadowdiff.replay.loop import Progress, Replayer
from shadowdiff.replay.notes import Tally, replay_notes
from shadowdiff.replay.order import TimeOrder
from shadowdiff.replay.outputs import Keeper, Rotating
from shadowdiff.replay.send import Target
from shadowdiff.replay.settings import ReplaySettings

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REPLAYED_ROLES = frozenset({"shadow", "secondary"})


@dataclass(slots=True)
class ReplayResult:
    tally: Tally
    report: dict[str, Any]
    location: str
    crossed: list[str]
    unkept_batches: int  # --keep-records batches left in the spool


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (as the collector does), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def check_targets(settings: ReplaySettings) -> None:
    """ConfigError naming the flag when a target cannot be connected to."""
    from collector.client import UpstreamError

    async def probe_all() -> None:
        for spec in settings.targets:
            target = Target(spec, settings)
            await target.start()
            try:
                await target.probe()
            except UpstreamError as exc:
                raise ConfigError(f"{spec.flag} {spec.url}: unreachable ({exc})") from exc
            finally:
                await target.close()

    run_async(probe_all())


def _window_text(settings: ReplaySettings) -> str:
    if settings.since is None and settings.until is None:
        return ""
    start = format_ms(settings.since) if settings.since else "the start"
    end = format_ms(settings.until) if settings.until else "the end"
    return f" from {start} until {end}"


def run_replay(
    settings: ReplaySettings,
    progress: Progress | None = None,
    clients: dict[str, Any] | None = None,
) -> ReplayResult:
    from analysis.sources import open_source

    check_targets(settings)
    report = progress or (lambda phase, done, total: None)
    try:
        work = Path(tempfile.mkdtemp(prefix="shadowdiff-replay-", dir=settings.work_dir))
    except OSError as exc:
        raise ConfigError(f"--work-dir {settings.work_dir}: {exc.strerror or exc}") from exc
    try:
        source = open_source(settings.source, "primary", clients)
        parts = source.parts(settings.since, settings.until)
        originals = Rotating(work / "primary")
        tally = Tally()

        def invalid(line: bytes) -> None:
            tally.invalid += 1
            originals.write(line)  # the report counts it, as it would in the source

        order = TimeOrder(work)
        order.feed(
            parts,
            settings.since,
            settings.until,
            invalid,
            lambda done, total: report("read captures", done, total),
        )
        if order.count == 0:
            junk = ""
            if tally.invalid:
                what = (
                    "line that is not a record"
                    if tally.invalid == 1
                    else "lines that are not records"
                )
                junk = f" ({tally.invalid} {what})"
            raise SourceError(
                f"{settings.source_flag} {settings.source}: no primary records"
                f"{_window_text(settings)}{junk}; nothing to replay"
            )
        tally.primaries = order.count
        outs = {spec.role: Rotating(work / spec.role) for spec in settings.targets}
        keeper = Keeper(settings.keep_records, clients) if settings.keep_records else None
        try:
            replayer = Replayer(settings, tally, originals, outs, keeper, report, order.count)
            span = run_async(replayer.run(order))
        except OSError as exc:
            raise SinkError(f"cannot write the replay's work files in {work}: {exc}") from exc
        finally:
            originals.close()
            for out in outs.values():
                out.close()
            unkept = keeper.close() if keeper is not None else 0
        return _report(settings, work, tally, span, unkept, progress, clients)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _moment(at_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=at_us)


def _report(
    settings: ReplaySettings,
    work: Path,
    tally: Tally,
    span: tuple[int, int] | None,
    unkept: int,
    progress: Progress | None,
    clients: dict[str, Any] | None,
) -> ReplayResult:
    from analysis.job import JobOptions, run_job

    since, until = settings.since, settings.until
    if span is not None:
        since = since or _moment(span[0])
        until = until or _moment(span[1] + 1)
    roles = {spec.role: str(work / spec.role) for spec in settings.targets}
    named = {"primary": settings.source}
    if settings.keep_records:
        named.update(dict.fromkeys(roles, settings.keep_records))
    opts = JobOptions(
        out=settings.out,
        primary=str(work / "primary"),
        shadow=roles.get("shadow"),
        secondary=roles.get("secondary"),
        since=since,
        until=until,
        settings=settings.report_settings,
        fail_on=settings.fail_on,
        work_dir=settings.work_dir,
        clients=dict(clients or {}),
        unwindowed=REPLAYED_ROLES,
        notes=tuple(replay_notes(tally, settings)),
        named_sources=named,
    )
    job = run_job(opts, progress)
    return ReplayResult(tally, job.report, job.location, job.crossed, unkept)
