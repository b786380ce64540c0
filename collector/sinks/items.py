"""The unit a sink moves: one capture line plus what it needs to route it.

The hot path builds an :class:`Item` from the record it just encoded; the
spool only keeps lines, so :func:`item_from_line` rebuilds the routing fields
when a spooled batch is replayed.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from shadowdiff.model.errors import SinkError
from shadowdiff.model.layout import partition_bucket, partition_dir
from shadowdiff.model.timefmt import parse


@dataclass(slots=True)
class Item:
    line: bytes  # one JSON Lines line, newline included
    key: str  # correlation id (Kinesis partition key)
    partition: str  # role=<role>/dt=YYYY-MM-DD/hour=HH, from captured_at


def item_from_line(line: bytes) -> Item:
    obj = orjson.loads(line)
    return Item(
        line=line,
        key=str(obj.get("correlation_id") or "-"),
        partition=partition_dir(str(obj["role"]), parse(obj["captured_at"])),
    )


def group_by_partition(items: list[Item], buckets: int = 0) -> dict[str, list[Item]]:
    """Items by partition directory; with ``buckets`` N, one more ``bucket=NN`` level.

    The bucket comes from the correlation id (:func:`shadowdiff.model.layout.partition_bucket`),
    so a distributed report can pair each bucket of every role without a shuffle.
    """
    groups: dict[str, list[Item]] = {}
    if buckets:
        for item in items:
            part = f"{item.partition}/bucket={partition_bucket(item.key, buckets):02d}"
            groups.setdefault(part, []).append(item)
        return groups
    for item in items:
        groups.setdefault(item.partition, []).append(item)
    return groups


def gzip_pieces(items: list[Item], chunk: int = 256) -> Iterator[bytes]:
    """One gzip member holding the lines, compressed a few hundred lines at a time.

    zlib releases the GIL while it works but joining megabytes of lines does not:
    small pieces keep the event loop thread from waiting on the sink thread.
    """
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    for start in range(0, len(items), chunk):
        piece = comp.compress(b"".join([i.line for i in items[start : start + chunk]]))
        if piece:
            yield piece
        time.sleep(0)  # let the event loop thread have the GIL
    yield comp.flush()


def gzip_lines(items: list[Item]) -> bytes:
    """One gzip member holding the lines: a valid ``.jsonl.gz`` file or object."""
    return b"".join(gzip_pieces(items))


class PartialWrite(SinkError):
    """A write that delivered some items; ``remaining`` must be retried or spooled.

    A ``SinkError`` (the sink did fail) that also says how far it got, so a
    caller that only knows ``SinkError`` still treats it as a failure.
    """

    def __init__(self, remaining: list[Item], cause: BaseException | str) -> None:
        super().__init__(str(cause))
        self.remaining = remaining
