"""A whole replay: check the targets, order the primaries, send them, write the report.

1. Every target is connected to once; an unreachable one stops the replay
   before anything is read (one line naming the flag, exit 2).
2. The primary records of the window are read once into sorted runs
   (:mod:`shadowdiff.replay.order`); a source without any says so.
3. They are sent in ``captured_at`` order, paced by ``--rate``, at most
   ``--concurrency`` at a time, each to every target at once; every answer is
   written as a record (and queued for ``--keep-records``) as it arrives, so
   memory holds the requests in flight and one line per sorted run, never the night.
4. The ordinary report job compares the replayed originals with their replays.
   The window selects the originals; the replays, captured now, are read whatever
   their time (the engine's ``unwindowed`` roles), and the report's window is the
   one given, or else the span of the originals replayed.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson

from shadowdiff.errors import ConfigError, SourceError
from shadowdiff.replay.notes import Tally, replay_notes
from shadowdiff.replay.order import TimeOrder
from shadowdiff.replay.outputs import Keeper, Rotating
from shadowdiff.replay.prepare import prepare
from shadowdiff.replay.schedule import Pacer
from shadowdiff.replay.send import Target
from shadowdiff.replay.settings import ReplaySettings
from shadowdiff.timefmt import format_ms

Progress = Callable[[str, int, int], None]  # (phase, done, total), as the report job's
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
    work = Path(tempfile.mkdtemp(prefix="shadowdiff-replay-", dir=settings.work_dir))
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
            span = run_async(_replay(order, settings, tally, originals, outs, keeper, report))
        finally:
            originals.close()
            for out in outs.values():
                out.close()
            unkept = keeper.close() if keeper is not None else 0
        return _report(settings, work, tally, span, unkept, progress, clients)
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _replay(
    order: TimeOrder,
    settings: ReplaySettings,
    tally: Tally,
    originals: Rotating,
    outs: dict[str, Rotating],
    keeper: Keeper | None,
    report: Progress,
) -> tuple[int, int] | None:
    """Send every entry of ``order``; returns the (first, last) captured_at µs replayed."""
    targets = [Target(spec, settings) for spec in settings.targets]
    for target in targets:
        await target.start()
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(settings.concurrency)
    pacer = Pacer(settings.rate)
    pending: set[asyncio.Task[None]] = set()
    total, step = order.count, max(1, order.count // 200)
    state = {"done": 0}

    def advance() -> None:
        state["done"] += 1
        if state["done"] % step == 0 or state["done"] == total:
            report("replay", state["done"], total)

    async def one(prepared: Any) -> None:
        try:
            records = await asyncio.gather(*(t.replay(prepared) for t in targets))
            for target, record in zip(targets, records, strict=True):
                line = record.to_line()
                outs[target.role].write(line[:-1])
                if record.error is not None:
                    tally.error(target.role, record.error.kind)
                if keeper is not None:
                    await keeper.put(line)
        finally:
            slots.release()
            advance()

    first: int | None = None
    last = 0
    seen_at = -1
    seen: dict[str, bool] = {}  # correlation ids of the current captured_at -> replayed?
    try:
        for at_us, line in order:
            record = orjson.loads(line)
            cid = record["correlation_id"]
            if at_us != seen_at:
                seen_at, seen = at_us, {}
            if cid in seen:
                tally.duplicates += 1
                if seen[cid]:
                    originals.write(line)  # the report counts the repeat, as for the source
                advance()
                continue
            prepared = prepare(record, settings.methods, settings.set_headers)
            seen[cid] = not isinstance(prepared, str)
            if isinstance(prepared, str):
                tally.skipped[prepared] += 1
                advance()
                continue
            wait = pacer.wait(at_us, loop.time())
            if wait > 0:
                await asyncio.sleep(wait)
            await slots.acquire()
            originals.write(line)
            tally.replayed += 1
            first = at_us if first is None else first
            last = at_us
            task = loop.create_task(one(prepared))
            pending.add(task)
            task.add_done_callback(pending.discard)
        while pending:
            await asyncio.wait(set(pending))
    finally:
        for task in pending:
            task.cancel()
        for target in targets:
            await target.close()
    return None if first is None else (first, last)


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
