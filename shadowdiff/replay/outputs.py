"""Where a replay's lines go: work files the report reads, and ``--keep-records``.

The report reads three local sources a replay writes as it goes: ``primary/``,
the original lines of the primaries it replayed (plus the lines of the source
that are not records, and repeats, so the report counts them as it would for
the source itself), and ``shadow/`` and ``secondary/``, the replayed records.
Files are plain JSON Lines cut every ``FILE_BYTES`` so the report reads them in
parallel. Reading the primaries back from the work files rather than from the
source means the report compares exactly what was replayed, even when a
Kinesis stream has moved on in the meantime.

``--keep-records SINK`` hands every replayed record to one of the collector's
sinks (local dir, S3, Kinesis: the same layout, batching, retries and spool).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import IO, Any

FILE_BYTES = 64 * 1024 * 1024


class Rotating:
    """Append lines to ``<dir>/part-NNNNN.jsonl``, starting a new file every ``limit`` bytes."""

    def __init__(self, directory: Path, limit: int = FILE_BYTES) -> None:
        self.directory = directory
        self.limit = limit
        self.lines = 0
        self._fh: IO[bytes] | None = None
        self._size = 0
        self._files = 0
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, line: bytes) -> None:
        """``line`` without its newline; the newline is added."""
        if self._fh is None or self._size >= self.limit:
            self._next()
        assert self._fh is not None
        self._fh.write(line)
        self._fh.write(b"\n")
        self._size += len(line) + 1
        self.lines += 1

    def _next(self) -> None:
        self.close()
        self._files += 1
        self._fh = open(self.directory / f"part-{self._files:05d}.jsonl", "wb", buffering=1 << 20)  # noqa: SIM115
        self._size = 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class Keeper:
    """``--keep-records``: a collector sink, fed with backpressure instead of drops."""

    def __init__(self, url: str, clients: dict[str, Any] | None = None) -> None:
        from collector.metrics import Metrics
        from collector.settings import SinkSettings, default_spool, parse_sink
        from collector.sinks import make_sink

        kind, fields = parse_sink(url, "--keep-records")
        self.url = url
        self.spool = default_spool("replay", os.getpid())
        settings = SinkSettings(url=url, kind=kind, spool_dir=self.spool, **fields)
        client = (clients or {}).get(kind)  # an injected boto3 client for s3 / kinesis
        self.sink = make_sink(settings, Metrics("replay"), client=client)
        self.high_water = max(1, settings.queue_size // 2)
        self.sink.start()

    async def put(self, line: bytes) -> None:
        """Queue one record line (newline included); waits while the sink is behind."""
        from collector.sinks.items import item_from_line

        while self.sink.depth() >= self.high_water:
            await asyncio.sleep(0.01)
        self.sink.submit(item_from_line(line))

    def close(self, timeout: float = 60.0) -> int:
        """Flush; returns how many batches could not be delivered (left in ``self.spool``)."""
        self.sink.close(timeout)
        left = self.sink.spooled_batches()
        if not left:
            with contextlib.suppress(OSError):
                self.spool.rmdir()
        return left
