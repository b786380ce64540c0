"""``kinesis://stream``: every shard from TRIM_HORIZON, for small recent windows.

Reading stops per shard when it is caught up (``MillisBehindLatest == 0`` and
no records) or after a bounded number of calls, so a live stream never makes
the nightly job hang. :class:`KinesisTail` is the live cursor: it keeps one
iterator per shard and reads on from it each poll, with the same loop.
"""

from __future__ import annotations

import functools
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlparse

from analysis.sources.base import GZIP_MAGIC, Part
from analysis.sources.tail import Horizon
from shadowdiff.aws import aws_errors
from shadowdiff.model.errors import SourceError
from shadowdiff.model.timefmt import now_utc

MAX_CALLS = 10_000


def make_client(client: Any | None) -> Any:
    if client is not None:
        return client
    import boto3

    return boto3.client("kinesis")


@dataclass(slots=True)
class KinesisPart:
    name: str
    size: int
    role: str | None
    stream: str
    shard: str
    client: Any = field(default=None, repr=False)
    parallel_ok: bool = False

    def open(self) -> IO[bytes]:
        client = self.client = make_client(self.client)
        start = _iterator(client, self.stream, self.shard, self.name, "TRIM_HORIZON")
        data, _, _ = drain(client, start, self.name)
        return io.BytesIO(data)


def _iterator(client: Any, stream: str, shard: str, what: str, kind: str, **extra: Any) -> str:
    with aws_errors(SourceError, f"cannot read {what}"):
        it: str = client.get_shard_iterator(
            StreamName=stream, ShardId=shard, ShardIteratorType=kind, **extra
        )["ShardIterator"]
    return it


def drain(client: Any, iterator: str | None, what: str) -> tuple[bytes, str | None, str | None]:
    """Read a shard from ``iterator`` until caught up (or :data:`MAX_CALLS`).

    Returns the lines (each record one or more lines, gunzipped when the bytes
    say so), the iterator to go on from (None once the shard is closed) and the
    sequence number of the last record read (None when there was none).
    """
    chunks: list[bytes] = []
    last: str | None = None
    it = iterator
    try:
        for _ in range(MAX_CALLS):
            if not it:
                break
            with aws_errors(SourceError, f"cannot read {what}"):
                page = client.get_records(ShardIterator=it, Limit=10_000)
            for rec in page.get("Records", []):
                data = bytes(rec["Data"])
                if data.startswith(GZIP_MAGIC):
                    data = gzip.decompress(data)
                chunks.append(data if data.endswith(b"\n") else data + b"\n")
                last = rec.get("SequenceNumber", last)
            it = page.get("NextShardIterator")
            if not page.get("Records") and page.get("MillisBehindLatest", 0) == 0:
                break
    except (OSError, EOFError) as exc:
        raise SourceError(f"cannot read {what}: corrupt gzip record ({exc})") from exc
    return b"".join(chunks), it, last


@dataclass(slots=True)
class KinesisSource:
    url: str
    role: str | None
    client: Any = field(default=None, repr=False)

    @property
    def stream(self) -> str:
        stream = urlparse(self.url).netloc
        if not stream:
            raise SourceError(f"not a kinesis://stream URL: {self.url}")
        return stream

    def shards(self) -> list[str]:
        stream = self.stream
        client = self.client = make_client(self.client)
        shards: list[str] = []
        with aws_errors(SourceError, f"cannot read kinesis://{stream}"):
            kwargs: dict[str, Any] = {"StreamName": stream}
            while True:
                page = client.list_shards(**kwargs)
                shards.extend(s["ShardId"] for s in page.get("Shards", []))
                token = page.get("NextToken")
                if not token:
                    break
                kwargs = {"NextToken": token}
        return shards

    def parts(self, since: datetime | None, until: datetime | None) -> list[Part]:
        stream, shards = self.stream, self.shards()
        return [
            KinesisPart(f"kinesis://{stream}/{s}", 0, self.role, stream, s, self.client)
            for s in shards
        ]

    def tail(self) -> KinesisTail:
        """A live cursor over every shard (:mod:`analysis.sources.tail`)."""
        return KinesisTail(self)


@dataclass(slots=True)
class KinesisTailPart:
    """What one shard holds after the iterator a :class:`KinesisTail` keeps for it."""

    name: str
    size: int
    role: str | None
    shard: str
    start: str
    client: Any = field(default=None, repr=False)
    parallel_ok: bool = False
    renew: Callable[[], str] | None = field(default=None, repr=False)
    next_iterator: str | None = None
    last_sequence: str | None = None

    def open(self) -> IO[bytes]:
        try:
            data, self.next_iterator, self.last_sequence = drain(self.client, self.start, self.name)
        except SourceError as exc:
            if self.renew is None or "ExpiredIteratorException" not in str(exc):
                raise
            self.start = self.renew()  # idle longer than an iterator lives: go on from there
            data, self.next_iterator, self.last_sequence = drain(self.client, self.start, self.name)
        return io.BytesIO(data)


class KinesisTail:
    """Holds one shard iterator per shard; a poll reads each shard on from it.

    The first poll starts each shard at the window's span before now
    (``AT_TIMESTAMP``); a shard that appears later (a reshard) starts at its
    beginning. An iterator only moves on when the part read from it is acked,
    so a failed read is read again. Iterators expire after five minutes idle:
    an expired one is renewed after the last sequence number read.
    """

    def __init__(self, source: KinesisSource) -> None:
        self.source = source
        self.role = source.role
        self._iterators: dict[str, str | None] = {}
        self._sequence: dict[str, str] = {}
        self._started = False

    def _start(self, shard: str, horizon: Horizon) -> str:
        src = self.source
        what = f"kinesis://{src.stream}/{shard}"
        if shard in self._sequence:
            return _iterator(
                src.client, src.stream, shard, what, "AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=self._sequence[shard],
            )  # fmt: skip
        if not self._started:
            since = (horizon.newest or now_utc()) - horizon.span
            return _iterator(src.client, src.stream, shard, what, "AT_TIMESTAMP", Timestamp=since)
        return _iterator(src.client, src.stream, shard, what, "TRIM_HORIZON")

    def poll(self, horizon: Horizon) -> list[Part]:
        src = self.source
        parts: list[Part] = []
        for shard in src.shards():
            it = self._iterators.get(shard, "")
            if it is None:
                continue  # closed and read to its end
            if not it:
                it = self._iterators[shard] = self._start(shard, horizon)
            name = f"kinesis://{src.stream}/{shard}"
            renew = functools.partial(self._start, shard, horizon)
            parts.append(KinesisTailPart(name, 0, self.role, shard, it, src.client, renew=renew))
        self._started = True
        return parts

    def ack(self, part: Part) -> None:
        if not isinstance(part, KinesisTailPart):
            return
        self._iterators[part.shard] = part.next_iterator
        if part.last_sequence is not None:
            self._sequence[part.shard] = part.last_sequence
