"""Primary records in ``captured_at`` order, with bounded memory: sorted runs and a heap merge.

A night of captures does not fit in memory and arrives in no useful order (one
file per collector batch, shards, hours), so pass 1 reads every part once:
each line is decoded and checked (:func:`shadowdiff.model.validate.check_record`,
the report's own rules); primary records inside the window become sort
entries, and lines that are not records are handed to ``on_invalid`` (the
report counts them). An entry is the original line behind a fixed-width key,
``captured_at`` in microseconds and the read order, both hex, so that plain
byte order is time order and equal times keep the order they were read in.
Entries gather up to ``run_bytes``, are sorted and written as one run file;
pass 2 merges the runs with :func:`heapq.merge`, which holds one line per run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from shadowdiff.model.errors import InvalidRecord
from shadowdiff.model.validate import check_record

RUN_BYTES = 32 * 1024 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_KEY = 28  # 16 hex digits of microseconds, 12 of read order
ScanProgress = Callable[[int, int], None]  # (parts done, parts)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding); 0 for earlier times."""
    return max(0, (moment - _EPOCH) // _US)


def _run_lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb", buffering=1 << 16) as fh:
        yield from fh


class TimeOrder:
    """Feed it parts, then iterate ``(captured_at µs, original line)`` in time order."""

    def __init__(self, work: Path, run_bytes: int = RUN_BYTES) -> None:
        self.work = work
        self.run_bytes = run_bytes
        self.runs: list[Path] = []
        self.count = 0  # primary records in the window
        self._buffer: list[bytes] = []
        self._size = 0
        self._seq = 0

    def feed(
        self,
        parts: list[Any],
        since: datetime | None,
        until: datetime | None,
        on_invalid: Callable[[bytes], None],
        progress: ScanProgress | None = None,
    ) -> None:
        """Pass 1 over ``parts`` (analysis source parts); unreadable parts raise SourceError."""
        from analysis.sources import iter_lines

        for done, part in enumerate(parts, 1):
            self._feed_lines(iter_lines(part), since, until, on_invalid)
            if progress is not None:
                progress(done, len(parts))

    def _feed_lines(
        self,
        lines: Iterable[bytes],
        since: datetime | None,
        until: datetime | None,
        on_invalid: Callable[[bytes], None],
    ) -> None:
        loads = orjson.loads
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            try:
                obj = loads(line)
                moment = check_record(obj)
            except (orjson.JSONDecodeError, InvalidRecord):
                on_invalid(line)
                continue
            if obj["role"] != "primary":
                continue
            if (since is not None and moment < since) or (until is not None and moment >= until):
                continue
            self.add(micros(moment), line)

    def add(self, at_us: int, line: bytes) -> None:
        entry = b"%016x%012x%s\n" % (at_us, self._seq, line)
        self._seq += 1
        self.count += 1
        self._buffer.append(entry)
        self._size += len(entry)
        if self._size >= self.run_bytes:
            self._spill()

    def _spill(self) -> None:
        self._buffer.sort()
        path = self.work / f"run-{len(self.runs):05d}.sorted"
        with open(path, "wb", buffering=1 << 20) as fh:
            fh.writelines(self._buffer)
        self.runs.append(path)
        self._buffer, self._size = [], 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """Pass 2: every entry once, oldest first; each run file is removed once read."""
        self._buffer.sort()
        tail, self._buffer, self._size = self._buffer, [], 0
        sources: list[Iterable[bytes]] = [_run_lines(p) for p in self.runs]
        sources.append(tail)
        for entry in heapq.merge(*sources):
            yield int(entry[:16], 16), entry[_KEY:-1]
        for path in self.runs:
            path.unlink(missing_ok=True)
        self.runs = []
