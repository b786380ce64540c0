"""The one small interface every input sits behind.

A :class:`Source` names where records live and lists the :class:`Part` s
(files, objects, shards) a time window needs; a part yields its raw lines
and names itself in every error. For live reading a source also hands out a
:class:`~analysis.sources.tail.Tail`, which returns only the parts that are new. Lines are decoded from gzip when the bytes
say so (magic number, not file name), and a CloudFront standard log (W3C
``#Version`` header) is turned into primary records on the fly.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from shadowdiff.model.errors import SourceError

if TYPE_CHECKING:
    from analysis.sources.tail import Tail

GZIP_MAGIC = b"\x1f\x8b"
_IsalError: type[Exception] = zlib.error
try:
    from isal import igzip as _igzip
    from isal import isal_zlib

    _IsalError = cast(type[Exception], isal_zlib.error)
except ImportError:  # pragma: no cover - isal is in the analysis extra
    _igzip = None  # type: ignore[assignment]
SLACK = timedelta(hours=1)  # a collector may file a record under the next hour


class Part(Protocol):
    name: str  # the file, s3://bucket/key or kinesis://stream/shard, for errors
    size: int  # bytes as stored (an estimate is fine)
    role: str | None  # keep only records of this role (None: every role)
    parallel_ok: bool  # can be read in another process

    def open(self) -> IO[bytes]: ...


class Source(Protocol):
    url: str
    role: str | None

    def parts(self, since: datetime | None, until: datetime | None) -> list[Part]: ...

    def tail(self) -> Tail:
        """A cursor that returns only what is new at each poll (live reading)."""
        ...


def hour_in_window(moment: datetime, since: datetime | None, until: datetime | None) -> bool:
    """Does the hour starting at ``moment`` overlap the window, with an hour of slack?"""
    if since is not None and moment + timedelta(hours=1) + SLACK <= since:
        return False
    return not (until is not None and moment - SLACK >= until)


def iter_lines(part: Part) -> Iterator[bytes]:
    """Raw lines of one part (CloudFront logs converted); unreadable bytes → SourceError."""
    from analysis.sources.cloudfront import W3C_PREFIX, cloudfront_lines

    try:
        with part.open() as raw:
            head = raw.read(2)
            rest = io.BufferedReader(_Prefixed(head, raw), 1 << 20)
            stream: Any = _gunzip(rest) if head == GZIP_MAGIC else rest
            first = stream.readline()
            if first.startswith(W3C_PREFIX):
                yield from cloudfront_lines(first, stream, part.name)
                return
            if first:
                yield first
            yield from _split_lines(stream)
    except (OSError, EOFError, zlib.error, _IsalError) as exc:
        raise SourceError(f"cannot read {part.name}: {_why(exc)}") from exc


def _split_lines(stream: Any, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The stream's lines, read a MiB at a time and split in C.

    Iterating a gzip reader calls its Python-level ``readline`` once per line,
    a few microseconds each; the report reads every line of the night. Lines
    come without their ``\n`` (readers strip or decode them either way); the
    count, blank lines included, is what ``readline`` gives, so read order and
    line numbers do not change.
    """
    rest = b""
    while data := stream.read(chunk):
        lines = (rest + data).split(b"\n") if rest else data.split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def _gunzip(raw: IO[bytes]) -> Any:
    """ISA-L's gzip reader when installed (about 3x faster than zlib's), else the stdlib's."""
    if _igzip is not None:
        return _igzip.IGzipFile(fileobj=raw)  # type: ignore[no-untyped-call]
    return gzip.GzipFile(fileobj=raw)


def _why(exc: BaseException) -> str:
    if isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error | _IsalError):
        return f"corrupt or truncated gzip ({exc})"
    return str(exc) or type(exc).__name__


class _Prefixed(io.RawIOBase):
    """A raw stream with already-read bytes put back in front (to sniff the magic)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buf), len(self._head))
            buf[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buf))
        n = len(data)
        buf[:n] = data
        return n
