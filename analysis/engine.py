"""Run the two passes of the nightly job in bounded memory, across processes.

1. **Scan**: read every part (file, object, shard) and append each raw line
   to a spill file chosen by ``crc32(correlation_id) % buckets``, found with a
   regex rather than a full decode (prefixed with its read order, so "first
   seen" survives the shuffle, and with the role its source keeps).
2. **Reduce**: each bucket holds every record of its correlation IDs, small
   enough for memory; :class:`BucketReducer` validates (counting invalid lines
   by reason), dedupes, windows, joins and diffs it into a :class:`Partial`,
   and partials are merged as they arrive. Each line is decoded once.

Both passes run in a fork pool when there is more than one bucket, so the
work spreads over every core while no process ever holds the whole night.

What a bucket reduces to is the report's :class:`Partial` by default; another
job over the same records (the canary, :mod:`analysis.core.canary`) passes a
:class:`Reduction` where the settings go and reuses scan, spill and merge as is.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import multiprocessing
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from analysis.core.aggregate import Partial, merge
from analysis.core.pairing import BucketReducer, Window
from analysis.core.settings import ReportSettings
from analysis.report import cidindex
from analysis.sources import Part, Source, iter_lines
from analysis.spill import ROLE_CODE, SpillWriter, bucket_lines


class Reduction(Protocol):
    """How a bucket of lines becomes a mergeable partial (picklable: it goes to workers).

    ``reducer(window, index, unwindowed)`` returns an object with ``reduce(lines)``
    (and, when ``index``, a ``kept`` list, see :func:`index_lines`); ``unwindowed``
    names roles the window does not apply to (replay); ``empty()`` and
    ``merge(a, b)`` fold the partials associatively.
    """

    def reducer(self, window: Window, index: bool, unwindowed: frozenset[str] = ...) -> Any: ...

    def empty(self) -> Any: ...

    def merge(self, a: Any, b: Any) -> Any: ...


class ReportReduction:
    """The nightly report's reduction: :class:`BucketReducer` into :class:`Partial`."""

    def __init__(self, settings: ReportSettings) -> None:
        self.settings = settings

    def reducer(
        self, window: Window, index: bool, unwindowed: frozenset[str] = frozenset()
    ) -> BucketReducer:
        return BucketReducer(self.settings, window, index=index, unwindowed=unwindowed)

    def empty(self) -> Partial:
        return Partial()

    def merge(self, a: Partial, b: Partial) -> Partial:
        return merge(a, b)


def reduction_of(settings: ReportSettings | Reduction) -> Reduction:
    return ReportReduction(settings) if isinstance(settings, ReportSettings) else settings


BUCKET_BYTES = 24 * 1024 * 1024  # estimated uncompressed input per bucket
MAX_BUCKETS = 512
Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _estimate(part: Part) -> int:
    return part.size * (8 if part.name.endswith(".gz") else 1)


_CID = re.compile(rb'"correlation_id"\s*:\s*"([^"\\]*)"')
_KEY = b'"correlation_id"'


def line_cid(line: bytes) -> bytes | None:
    """A raw line's correlation id (UTF-8), without decoding the whole line.

    A line whose id is escaped, or which mentions the key more than once (a
    header or body could), is decoded to be sure. ``None`` when it has no id:
    the reducer then counts the line as invalid.
    """
    m = _CID.search(line)
    if m is not None and line.count(_KEY) == 1:
        return m.group(1)
    try:
        cid = orjson.loads(line).get("correlation_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return cid.encode() if isinstance(cid, str) else None


def spill_bucket(line: bytes, buckets: int) -> int:
    """The spill bucket of a raw line (bucket 0 for a line without an id).

    It is the correlation index's shard of the line's id
    (:func:`analysis.report.cidindex.shard_of_utf8`), so each pass-2 bucket
    writes exactly its own index shard. Not the ``bucket=NN`` partition level
    (:func:`shadowdiff.model.layout.partition_bucket`), which Firehose computes.
    """
    cid = line_cid(line)
    return 0 if cid is None else cidindex.shard_of_utf8(cid, buckets)


def scan_task(task: int, items: list[tuple[int, Part]], spill: str, buckets: int) -> Partial:
    """Shuffle the raw lines of some parts into bucket spill files (validated later).

    Each line is filed with its read order as fixed-width hex (which sorts
    like the ``(file, line)`` pair, so no parsing on the way back) and a
    one-letter code of the role its source keeps (:mod:`analysis.spill`).
    """
    writer = SpillWriter(spill, task)
    try:
        for file_idx, part in items:
            code = ROLE_CODE.get(part.role)
            if code is None:
                raise ValueError(f"unknown role {part.role!r} for {part.name}")
            head = b"%08x" % file_idx
            for line_no, raw in enumerate(iter_lines(part)):
                line = raw.strip()
                if line:
                    writer.add(
                        spill_bucket(line, buckets), b"%s%08x%s" % (head, line_no, code), line
                    )
    finally:
        writer.close()
    return Partial()


@contextmanager
def _no_gc() -> Iterator[None]:
    """Parsed records hold no cycles; the cyclic GC rescanning a bucket of them costs ~15 %."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def index_lines(kept: list[tuple[str, str, datetime, Any]]) -> list[bytes]:
    """Index entries of a reducer's kept records; the read order names the part."""
    entry = cidindex.entry
    return [
        entry(c, r, m, seq[0] if type(seq) is tuple else int(seq[:8], 16)) for c, r, m, seq in kept
    ]


def reduce_task(
    bucket: int,
    spill: str,
    settings: ReportSettings | Reduction,
    window: Window,
    cids: str | None = None,
    sink: list[bytes] | None = None,
    unwindowed: frozenset[str] = frozenset(),
) -> Any:
    """Reduce one bucket; with ``cids`` also write its shard of the report's correlation index.

    The index hashes ids exactly like :func:`spill_bucket`, so shard ``bucket`` holds
    every entry of this bucket and nothing else: no merge, memory bounded by the bucket.
    """
    with _no_gc():
        reducer = reduction_of(settings).reducer(
            window, cids is not None or sink is not None, unwindowed
        )
        result = reducer.reduce(bucket_lines(spill, bucket))
        if reducer.index:
            lines = index_lines(reducer.kept)
            reducer.kept = []
            if cids is not None:
                cidindex.write_shard(cids, bucket, lines)
            if sink is not None:
                sink.extend(lines)
    return result


def reduce_parts(
    items: list[tuple[int, Part]],
    settings: ReportSettings | Reduction,
    window: Window,
    work_dir: str | None = None,
    index: list[bytes] | None = None,
) -> Any:
    """Both passes over parts that hold every record of their correlation ids, in one process.

    ``items`` are (global read order, part). Used by the Dask engine for one
    ``bucket=NN`` group: small groups are reduced straight from the parts,
    larger ones spilled into sub-buckets first so memory stays bounded.
    """
    total = sum(_estimate(p) for _, p in items)
    buckets = max(1, min(MAX_BUCKETS, math.ceil(total / BUCKET_BYTES)))
    if buckets == 1:

        def lines() -> Iterator[tuple[tuple[int, int], str | None, bytes]]:
            for file_idx, part in items:
                for line_no, raw in enumerate(iter_lines(part)):
                    line = raw.strip()
                    if line:
                        yield (file_idx, line_no), part.role, line

        with _no_gc():
            reducer = reduction_of(settings).reducer(window, index is not None)
            result = reducer.reduce(lines())
            if index is not None:
                index.extend(index_lines(reducer.kept))
            return result
    spill = tempfile.mkdtemp(prefix="shadowdiff-spill-", dir=work_dir)
    red = reduction_of(settings)
    try:
        scan_task(0, items, spill, buckets)
        result = red.empty()
        for b in range(buckets):
            red.merge(result, reduce_task(b, spill, settings, window, None, index))
        return result
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _groups(parts: list[Part], n: int) -> list[list[tuple[int, Part]]]:
    """Spread parts over ``n`` tasks by size, each task keeping read order."""
    loads = [0] * n
    groups: list[list[tuple[int, Part]]] = [[] for _ in range(n)]
    for idx, part in sorted(enumerate(parts), key=lambda ip: -_estimate(ip[1])):
        i = loads.index(min(loads))
        groups[i].append((idx, part))
        loads[i] += _estimate(part) + 1
    return [sorted(g, key=lambda ip: ip[0]) for g in groups if g]


def _star_scan(args: tuple[int, list[tuple[int, Part]], str, int]) -> Partial:
    return scan_task(*args)


def _star_reduce(
    args: tuple[int, str, ReportSettings | Reduction, Window, str | None, None, frozenset[str]],
) -> Any:
    return reduce_task(*args)


def _warm_imports() -> None:
    """Import what only the final (serial) step needs while the workers are busy.

    scipy.stats alone takes most of a second to import; done after the pool
    has forked (a fork during an import could deadlock a child), it overlaps
    pass 2 instead of adding to the serial tail.
    """
    with contextlib.suppress(ImportError):  # scipy is in the analysis extra
        importlib.import_module("scipy.stats")


@dataclass(frozen=True, slots=True)
class Run:
    """How the per-bucket work of one job runs; every engine takes the same.

    ``scheduler`` only means something to the Dask engine and ``unwindowed``
    only to the local one; each refuses what it cannot do in one line.
    """

    workers: int | None = None  # processes (local) or LocalCluster workers (dask)
    work_dir: str | None = None  # where the spill goes (local)
    scheduler: str | None = None  # tcp://HOST:8786 (dask); None: a LocalCluster here
    unwindowed: frozenset[str] = frozenset()  # roles read whatever the window (replay)
    progress: Progress | None = None
    cids: str | None = None  # a local directory: write the report's correlation index there


Engine = Callable[[list[Source], ReportSettings | Reduction, Window, Run], Any]


def engine_for(name: str) -> Engine:
    """The engine called ``name`` (``local`` or ``dask``): one signature, like kedro's runners."""
    if name == "dask":
        from analysis.dask_engine import analyse_dask

        return analyse_dask
    return analyse


def analyse(
    sources: list[Source], settings: ReportSettings | Reduction, window: Window, run: Run = Run()
) -> Any:
    """Read every source and return the merged :class:`Partial` for the window, on this machine.

    ``settings`` may be a :class:`Reduction` instead (another job's partial).
    With ``run.cids`` (an existing local directory) the report's correlation index
    is written there too (:mod:`analysis.report.cidindex`), one shard per bucket.
    Sources of a role in ``run.unwindowed``, and that role's records, are read
    whatever the window (``shadowdiff replay``: answers captured now, to originals
    of the window).
    """
    since, until = window
    workers, work_dir, progress = run.workers, run.work_dir, run.progress
    cids, unwindowed = run.cids, run.unwindowed
    parts: list[Part] = []
    for src in sources:
        free = src.role is not None and src.role in unwindowed
        parts.extend(src.parts(None, None) if free else src.parts(since, until))
    workers = max(1, workers or os.cpu_count() or 1)
    total = sum(_estimate(p) for p in parts)
    buckets = max(1, min(MAX_BUCKETS, math.ceil(total / BUCKET_BYTES)))
    if workers > 1 and buckets > 1:
        buckets = max(buckets, 2 * workers)
    parallel = workers > 1 and buckets > 1
    scan_parallel = parallel and len(parts) > 1 and all(p.parallel_ok for p in parts)
    report = progress or (lambda phase, done, of: None)
    spill = tempfile.mkdtemp(prefix="shadowdiff-spill-", dir=work_dir)
    red = reduction_of(settings)
    result = red.empty()
    pool: Any = None
    try:
        if parallel:
            pool = multiprocessing.get_context("fork").Pool(workers)
            threading.Thread(target=_warm_imports, name="warm-imports", daemon=True).start()
        groups = (
            _groups(parts, min(len(parts), workers * 4) if scan_parallel else 1) if parts else []
        )
        scan_args = [(i, g, spill, buckets) for i, g in enumerate(groups)]
        scanned = (
            pool.imap_unordered(_star_scan, scan_args)
            if scan_parallel
            else map(_star_scan, scan_args)
        )
        for done, _ in enumerate(scanned, 1):  # a scan only spills: its Partial is empty
            report("read", done, len(scan_args))
        reduce_args = [(b, spill, settings, window, cids, None, unwindowed) for b in range(buckets)]
        reduced = (
            pool.imap_unordered(_star_reduce, reduce_args)
            if parallel
            else map(_star_reduce, reduce_args)
        )
        for done, part_result in enumerate(reduced, 1):
            red.merge(result, part_result)
            report("compare", done, len(reduce_args))
        if cids is not None:
            cidindex.write_parts(cids, [p.name for p in parts])
            cidindex.write_manifest(cids, buckets)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        shutil.rmtree(spill, ignore_errors=True)
    return result
