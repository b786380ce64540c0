"""The report's spill: pass 1 files each raw line under its bucket, pass 2 reads a bucket back.

Why compressed: the spill holds every line of the night between the two
passes, uncompressed about five times the gzip input (bodies are JSON strings
inside JSON, every quote escaped), so a night of 100 million pairs needed close
to a terabyte of scratch disk and pass 1 waited on write-back. Lines are
buffered per bucket and written as blocks compressed with ISA-L's deflate at
level 1 (zlib when ``isal`` is missing): about the input's own size on disk,
for ~1 µs of CPU per KiB each way.

A file is a sequence of blocks, each ``<u32 compressed length><raw deflate>``;
a block holds whole lines, each ``PREFIX`` bytes of read order and role code
followed by the raw line. The prefix is fixed-width so the reader slices it:
16 hex digits of read order (file index, line number; they sort like the pair)
and one letter for the role the line's source keeps.
"""

from __future__ import annotations

import contextlib
import glob
import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any

_codec: Any
try:
    from isal import isal_zlib as _codec
except ImportError:  # pragma: no cover - isal is in the analysis extra
    _codec = zlib

BLOCK = 64 * 1024  # per bucket and task in memory before a block is compressed
LEVEL = 1
WBITS = -15  # raw deflate: the length prefix frames it, no header or checksum needed
# "baseline"/"canary": primary records of one canary arm (analysis.core.canary).
ROLE_CODE = {
    None: b"*",
    "primary": b"p",
    "shadow": b"s",
    "secondary": b"x",
    "baseline": b"b",
    "canary": b"c",
}
CODE_ROLE = {code[0]: role for role, code in ROLE_CODE.items()}
PREFIX = 17
_LEN = struct.Struct("<I")


def spill_name(spill: str, bucket: int, task: int) -> str:
    return os.path.join(spill, f"b{bucket:04d}-t{task:04d}.spill")


class SpillWriter:
    """One pass-1 task's open buckets: lines buffered, written a compressed block at a time."""

    def __init__(self, spill: str, task: int) -> None:
        self.spill, self.task = spill, task
        self.buffers: dict[int, bytearray] = {}

    def add(self, bucket: int, prefix: bytes, line: bytes) -> None:
        buf = self.buffers.get(bucket)
        if buf is None:
            buf = self.buffers[bucket] = bytearray()
        buf += prefix
        buf += line
        buf += b"\n"
        if len(buf) >= BLOCK:
            self._flush(bucket, buf)

    def close(self) -> None:
        for bucket, buf in self.buffers.items():
            if buf:
                self._flush(bucket, buf)
        self.buffers.clear()

    def _flush(self, bucket: int, buf: bytearray) -> None:
        packed = _compress(buf)
        with open(spill_name(self.spill, bucket, self.task), "ab") as out:
            out.write(_LEN.pack(len(packed)))
            out.write(packed)
        buf.clear()


def _compress(data: bytearray) -> bytes:
    packed: bytes = _codec.compress(data, LEVEL, WBITS)
    return packed


def bucket_lines(spill: str, bucket: int) -> Iterator[tuple[bytes, str | None, bytes]]:
    """``(read order, role kept, raw line)`` of one bucket; each file is removed once read.

    Removing them here spreads the deletes over the workers (and drops dirty
    pages before the kernel writes them back) instead of one long ``rmtree``
    of the whole night's spill at the end.
    """
    roles = CODE_ROLE
    for name in sorted(glob.glob(os.path.join(spill, f"b{bucket:04d}-t*.spill"))):
        with open(name, "rb") as fh:
            data = fh.read()
        with contextlib.suppress(OSError):
            os.unlink(name)
        pos, end = 0, len(data)
        while pos < end:
            (size,) = _LEN.unpack_from(data, pos)
            pos += 4
            block = _codec.decompress(data[pos : pos + size], WBITS)
            pos += size
            for line in block.split(b"\n"):
                if line:
                    yield line[:16], roles[line[16]], line[PREFIX:]
