"""Read one part whole, counting its bytes, before any of its lines is used.

A part is all or nothing: its lines are gathered in a list and handed on only
when the whole part read without error, so a file that fails half way (a
truncated gzip, a dropped connection) is read again from the start next tick
and none of its lines is ever counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from analysis.sources import Part, iter_lines


class _Counting:
    """A byte stream that counts what is read from it (iter_lines reads through ``read``)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Counting:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass(slots=True)
class _CountedPart:
    name: str
    size: int
    role: str | None
    parallel_ok: bool
    part: Part
    stream: _Counting | None = None

    def open(self) -> IO[bytes]:
        self.stream = _Counting(self.part.open())
        return self.stream  # type: ignore[return-value]  # read/close/with is all iter_lines uses


def read_whole(part: Part) -> tuple[list[bytes], int]:
    """(every raw line, bytes read as stored); :class:`SourceError` if any of it fails."""
    counted = _CountedPart(part.name, part.size, part.role, False, part)
    lines = list(iter_lines(counted))
    return lines, counted.stream.count if counted.stream is not None else 0
