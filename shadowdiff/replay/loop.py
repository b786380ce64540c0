"""The send loop: time-ordered entries in, paced and bounded replays out, each answer written.

For each entry (oldest first) the loop decides: a repeat of a record already
seen at the same ``captured_at`` is replayed once (at-least-once delivery); a
record the settings do not replay is counted under its skip reason; any other
waits for its due time (:class:`~shadowdiff.replay.schedule.Pacer`) and a free
slot of ``--concurrency``, then goes to every target at once in its own task.
A task writes its records as they come back, so memory holds the requests in
flight and nothing else. A work file or sink that fails stops the loop (the
error surfaces; records are never dropped quietly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import orjson

from shadowdiff.replay.notes import Tally
from shadowdiff.replay.outputs import Keeper, Rotating
from shadowdiff.replay.prepare import Prepared, prepare
from shadowdiff.replay.schedule import Pacer
from shadowdiff.replay.send import Target
from shadowdiff.replay.settings import ReplaySettings

Progress = Callable[[str, int, int], None]  # (phase, done, total), as the report job's


class Replayer:
    """One replay's send loop; :meth:`run` returns the (first, last) ``captured_at`` µs sent."""

    def __init__(
        self,
        settings: ReplaySettings,
        tally: Tally,
        originals: Rotating,
        outs: dict[str, Rotating],
        keeper: Keeper | None,
        progress: Progress,
        total: int,
    ) -> None:
        self.settings = settings
        self.tally = tally
        self.originals = originals  # the replayed originals' lines, for the report
        self.outs = outs  # role -> replayed records
        self.keeper = keeper
        self.progress = progress
        self.total = total
        self.step = max(1, total // 200)
        self.done = 0
        self.targets: list[Target] = []
        self.pending: set[asyncio.Task[None]] = set()
        self.failed: list[BaseException] = []
        self._seen_at = -1
        self._seen: dict[str, bool] = {}  # correlation ids of the current captured_at -> replayed?

    async def run(self, entries: Iterable[tuple[int, bytes]]) -> tuple[int, int] | None:
        self.targets = [Target(spec, self.settings) for spec in self.settings.targets]
        for target in self.targets:
            await target.start()
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(self.settings.concurrency)
        pacer = Pacer(self.settings.rate)
        first: int | None = None
        last = 0
        try:
            for at_us, line in entries:
                prepared = self._decide(at_us, line)
                if prepared is None:
                    continue
                wait = pacer.wait(at_us, loop.time())
                if wait > 0:
                    await asyncio.sleep(wait)
                await slots.acquire()
                if self.failed:
                    raise self.failed[0]
                self.originals.write(line)
                self.tally.replayed += 1
                first = at_us if first is None else first
                last = at_us
                task = loop.create_task(self._one(prepared, slots))
                self.pending.add(task)
                task.add_done_callback(self._finished)
            while self.pending:
                await asyncio.wait(set(self.pending))
            if self.failed:
                raise self.failed[0]
        finally:
            for task in self.pending:
                task.cancel()
            for target in self.targets:
                await target.close()
        return None if first is None else (first, last)

    def _decide(self, at_us: int, line: bytes) -> Prepared | None:
        """The request to send for this entry, or None (a repeat or a skip, counted)."""
        record = orjson.loads(line)
        cid = record["correlation_id"]
        if at_us != self._seen_at:
            self._seen_at, self._seen = at_us, {}
        seen = self._seen.get(cid)
        if seen is not None:
            self.tally.duplicates += 1
            if seen:
                self.originals.write(line)  # the report counts the repeat, as for the source
            self._advance()
            return None
        prepared = prepare(record, self.settings.methods, self.settings.set_headers)
        self._seen[cid] = not isinstance(prepared, str)
        if isinstance(prepared, str):
            self.tally.skipped[prepared] += 1
            self._advance()
            return None
        return prepared

    async def _one(self, prepared: Prepared, slots: asyncio.Semaphore) -> None:
        targets = self.targets
        try:
            if len(targets) == 1:
                records = [await targets[0].replay(prepared)]
            else:
                records = list(await asyncio.gather(*(t.replay(prepared) for t in targets)))
            for target, record in zip(targets, records, strict=True):
                line = record.to_line()
                self.outs[target.role].write(line[:-1])
                if record.error is not None:
                    self.tally.error(target.role, record.error.kind)
                if self.keeper is not None:
                    await self.keeper.put(line)
        finally:
            slots.release()
            self._advance()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.pending.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            self.failed.append(exc)

    def _advance(self) -> None:
        self.done += 1
        if self.done % self.step == 0 or self.done == self.total:
            self.progress("replay", self.done, self.total)
