"""The live report's ``cids/`` correlation index, kept per slice so a tick never rebuilds it.

Same format as the nightly report's (:mod:`analysis.report.cidindex`): shards by
``crc32(id) % N``, one ``id TAB role TAB hour TAB part`` line per record. Each
slice keeps, per shard, the gzip members of the lines added so far; a shard
file is the concatenation of its members over the window's slices (a gzip
file may hold several members), so writing the index costs a copy of
compressed bytes, and only the lines new since the last tick are compressed.
The ``part`` column is left empty (the live index never lists its input parts:
the service then reads the record's whole hour).
"""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

from analysis.report import cidindex

SHARDS = 16


class LiveIndex:
    def __init__(self, shards: int = SHARDS) -> None:
        self.shards = shards
        self._members: dict[int, list[list[bytes]]] = {}
        self._fresh: dict[int, list[list[bytes]]] = {}

    def add(self, slice_index: int, cid: str, role: str, moment: datetime) -> None:
        fresh = self._fresh.get(slice_index)
        if fresh is None:
            fresh = self._fresh[slice_index] = [[] for _ in range(self.shards)]
        fresh[cidindex.shard_of(cid, self.shards)].append(cidindex.entry(cid, role, moment))

    def changed(self) -> bool:
        """Lines were added since the last :meth:`write`."""
        return bool(self._fresh)

    def forget_before(self, lo: int) -> None:
        for held in (self._members, self._fresh):
            for s in [s for s in held if s < lo]:
                del held[s]

    def _compress(self) -> None:
        for s, shards in self._fresh.items():
            members = self._members.setdefault(s, [[] for _ in range(self.shards)])
            for shard, lines in enumerate(shards):
                if lines:
                    members[shard].append(
                        gzip.compress(b"".join(lines), compresslevel=cidindex.LEVEL, mtime=0)
                    )
        self._fresh = {}

    def write(self, folder: Path, lo: int, hi: int) -> None:
        """``folder`` gets the index of the slices ``[lo, hi]`` (shards, parts.json, manifest)."""
        self._compress()
        folder.mkdir(parents=True, exist_ok=True)
        empty = gzip.compress(b"", compresslevel=cidindex.LEVEL, mtime=0)
        window = [self._members[s] for s in sorted(self._members) if lo <= s <= hi]
        for shard in range(self.shards):
            with open(folder / cidindex.shard_name(shard), "wb") as fh:
                fh.write(empty)  # a shard with no line is still a gzip file
                fh.writelines(m for members in window for m in members[shard])
        cidindex.write_parts(folder, [])
        cidindex.write_manifest(folder, self.shards)
