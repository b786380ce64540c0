"""The report's own correlation index: which hour each kept record of a night was captured in.

A report folder holds ``cids/manifest.json`` (``{"schema": "shadowdiff.cids/1",
"hash": "crc32", "shards": N}``) and ``cids/NNNN.tsv.gz`` for every shard. A
shard holds one line per record kept after dedupe and window,
``correlation_id TAB role TAB YYYY-MM-DDTHH TAB part``, for the ids whose
``crc32(utf-8 id) % N`` is that shard. ``part`` indexes ``cids/parts.json``, the
list of the night's input parts by their last four path segments
(``role=/dt=/hour=/file`` in the contract layout, whatever the root), so the
service can open the one file that holds the record instead of a whole hour;
it is empty when not known. The hash is the engine's bucket hash, so
each pass-2 bucket writes exactly its own shard (in parallel, bounded by the
bucket) and a lookup reads ONE small file. ``crc32`` is stable across processes
and machines, unlike Python's salted ``hash()``.

The service uses the hours (and parts) to read just those partitions of the
record source instead of a whole night. Ids holding a tab, newline or backslash are written
with backslash escapes so a line always splits in three.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from shadowdiff.model.errors import SourceError

SCHEMA = "shadowdiff.cids/1"
HASH = "crc32"
DIR = "cids"
MANIFEST = "manifest.json"
PARTS = "parts.json"
LEVEL = 3  # gzip level: most of level 9's size at a fraction of its CPU

_ESC = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESC = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_hours: dict[int, bytes] = {}


def shard_of(cid: str, shards: int) -> int:
    """The index shard of a correlation id: ``crc32(utf-8 id) % shards``."""
    return shard_of_utf8(cid.encode(), shards)


def shard_of_utf8(cid: bytes, shards: int) -> int:
    """:func:`shard_of` of an id already in UTF-8 (the report's spill buckets are these shards)."""
    return zlib.crc32(cid) % shards


def shard_name(shard: int) -> str:
    return f"{shard:04d}.tsv.gz"


def escape(cid: str) -> str:
    if "\\" in cid or "\t" in cid or "\n" in cid or "\r" in cid:
        return "".join(_ESC.get(c, c) for c in cid)
    return cid


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(_UNESC.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def hour_of(moment: datetime) -> bytes:
    """``YYYY-MM-DDTHH`` of an aware UTC moment, cached per hour (it is asked per record)."""
    key = int(moment.timestamp()) // 3600
    text = _hours.get(key)
    if text is None:
        text = _hours[key] = f"{moment:%Y-%m-%dT%H}".encode()
    return text


def part_tail(name: str) -> str:
    """The last four path segments of a part's name: the same under any root or bucket."""
    return "/".join(name.replace("\\", "/").split("/")[-4:])


def entry(cid: str, role: str, moment: datetime, part: int | None = None) -> bytes:
    return b"%s\t%s\t%s\t%s\n" % (
        escape(cid).encode(),
        role.encode(),
        hour_of(moment),
        b"" if part is None else b"%d" % part,
    )


def write_shard(folder: str | Path, shard: int, lines: Iterable[bytes]) -> Path:
    """Write one shard (lines from :func:`entry`) into ``folder``; an empty shard is written too."""
    path = Path(folder) / shard_name(shard)
    path.write_bytes(gzip.compress(b"".join(lines), compresslevel=LEVEL, mtime=0))
    return path


def manifest(shards: int) -> dict[str, Any]:
    return {"schema": SCHEMA, "hash": HASH, "shards": shards}


def write_manifest(folder: str | Path, shards: int) -> Path:
    path = Path(folder) / MANIFEST
    path.write_bytes(orjson.dumps(manifest(shards)))
    return path


def write_parts(folder: str | Path, names: list[str]) -> Path:
    """``parts.json``: the tails of the input parts, in the read order the entries index."""
    path = Path(folder) / PARTS
    path.write_bytes(orjson.dumps([part_tail(n) for n in names]))
    return path


def parse_parts(raw: bytes, where: str) -> list[str]:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(obj, list) or not all(isinstance(n, str) for n in obj):
        raise SourceError(f"{where}: not a list of part names")
    return obj


def write_index(
    folder: str | Path,
    entries: Iterable[tuple[str, str, datetime, int | None]],
    shards: int,
    parts: list[str] | None = None,
) -> None:
    """The whole index from ``(cid, role, captured_at, part)`` in one process (tests, small jobs)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    by_shard: list[list[bytes]] = [[] for _ in range(shards)]
    for cid, role, moment, part in entries:
        by_shard[shard_of(cid, shards)].append(entry(cid, role, moment, part))
    for shard, lines in enumerate(by_shard):
        write_shard(folder, shard, lines)
    write_parts(folder, parts or [])
    write_manifest(folder, shards)


def parse_manifest(raw: bytes, where: str) -> int:
    """The shard count of a manifest; :class:`SourceError` naming ``where`` when it is not one."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
        raise SourceError(f"{where}: not a {SCHEMA} manifest")
    if obj.get("hash") != HASH:
        raise SourceError(f"{where}: unknown hash {obj.get('hash')!r}")
    shards = obj.get("shards")
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise SourceError(f"{where}: shards must be a positive integer")
    return shards


def find_in_shard(raw_gz: bytes, cid: str, where: str) -> list[tuple[str, str, int | None]]:
    """``(role, hour, part)`` of every entry of ``cid`` in one shard's bytes (may be empty)."""
    try:
        text = gzip.decompress(raw_gz)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{where}: not a gzip file ({exc})") from exc
    needle = escape(cid).encode() + b"\t"
    found: list[tuple[str, str, int | None]] = []
    start = 0
    while True:
        at = text.find(needle, start)
        if at < 0:
            return found
        start = at + len(needle)
        if at and text[at - 1] != 0x0A:  # the id is a suffix of another one
            continue
        end = text.find(b"\n", at)
        fields = text[at : end if end >= 0 else len(text)].decode("utf-8", "replace").split("\t")
        if len(fields) == 4:
            part = int(fields[3]) if fields[3].isdigit() else None
            found.append((fields[1], fields[2], part))


class Resharder:
    """Index lines that arrive grouped some other way (Dask tasks) → shards by ``crc32 % N``.

    Lines are split by shard and appended to one plain spool file per shard
    (buffered, so memory stays bounded by ``flush_bytes``); :meth:`close`
    compresses each spool into its shard and writes ``parts.json`` and the manifest.
    """

    def __init__(self, folder: str | Path, shards: int, flush_bytes: int = 1 << 20) -> None:
        self.folder = Path(folder)
        self.shards = max(1, shards)
        self.flush_bytes = flush_bytes
        self._buf: list[list[bytes]] = [[] for _ in range(self.shards)]
        self._held = 0
        self.folder.mkdir(parents=True, exist_ok=True)

    def _spool(self, shard: int) -> Path:
        return self.folder / f".{shard:04d}.spool"

    def add(self, text: bytes) -> None:
        """Some entry lines (each ending in a newline), in any order and any shard."""
        for line in text.splitlines(keepends=True):
            cid = line[: line.find(b"\t")].decode("utf-8", "replace")
            if b"\\" in line:
                cid = unescape(cid)
            self._buf[shard_of(cid, self.shards)].append(line)
        self._held += len(text)
        if self._held >= self.flush_bytes:
            self._flush()

    def _flush(self) -> None:
        for shard, lines in enumerate(self._buf):
            if lines:
                with self._spool(shard).open("ab") as fh:
                    fh.write(b"".join(lines))
                lines.clear()
        self._held = 0

    def close(self, parts: list[str]) -> None:
        self._flush()
        for shard in range(self.shards):
            spool = self._spool(shard)
            data = spool.read_bytes() if spool.exists() else b""
            write_shard(self.folder, shard, [data])
            spool.unlink(missing_ok=True)
        write_parts(self.folder, parts)
        write_manifest(self.folder, self.shards)
