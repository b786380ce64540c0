"""The nightly job on a Dask cluster: the same per-partition functions, run by workers.

The client lists the parts (names and sizes only) and ships *descriptions* of
them to the workers, which read their records straight from S3 or a shared
directory; what comes back is one :class:`Partial` per task (aggregates plus
the raw lines of at most a few example pairs), merged here as tasks finish.

* **Bucketed layout** (every part sits under a ``bucket=NN`` level, written by
  collectors or Firehose with :func:`shadowdiff.model.layout.partition_bucket`): all records
  of one correlation id share a bucket, so each bucket's parts — every role,
  every hour — are one task (:func:`analysis.engine.reduce_parts`). No shuffle.
* **Otherwise**: each group of parts becomes a pandas DataFrame of raw lines
  keyed by ``correlation_id``, ``dask.dataframe`` shuffles it on that key
  between the workers, and each shuffled partition is reduced.

Dask retries a task whose worker dies (``distributed.scheduler.allowed-failures``);
when it gives up, or the scheduler is unreachable, the job fails with one line
and writes nothing.
"""

from __future__ import annotations

import gzip
import math
import os
from collections import defaultdict
from typing import Any

from analysis.core.aggregate import Partial
from analysis.core.pairing import Window
from analysis.core.settings import ReportSettings
from analysis.engine import (
    BUCKET_BYTES,
    MAX_BUCKETS,
    Reduction,
    Run,
    _estimate,
    _groups,
    index_lines,
    line_cid,
    reduce_parts,
    reduction_of,
)
from analysis.report import cidindex
from analysis.sources import Part, Source, iter_lines
from shadowdiff.model.errors import ConfigError, ShadowdiffError
from shadowdiff.model.layout import parse_partition

COLUMNS = ("cid", "f", "n", "role", "line")
CONNECT_TIMEOUT = "20s"  # how long the client waits for the scheduler


class ClusterError(ShadowdiffError):
    """The Dask cluster could not run the job (unreachable, or workers kept dying)."""


def bucket_level(part: Part) -> str | None:
    """The ``bucket=NN`` value of a part's path, or None when the layout has no such level."""
    return parse_partition(part.name).get("bucket")


def shuffle_key(line: bytes) -> str:
    """The shuffle's key of a raw line: its correlation id (:func:`analysis.engine.line_cid`)
    as text, "" when it has none (the reducer then counts the line invalid)."""
    cid = line_cid(line)
    return "" if cid is None else cid.decode("utf-8", "replace")


def part_frame(items: list[tuple[int, Part]]) -> Any:
    """Raw lines of some parts as a DataFrame (read on the worker), keyed for the shuffle."""
    import pandas as pd

    rows: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for file_idx, part in items:
        for line_no, raw in enumerate(iter_lines(part)):
            line = raw.strip()
            if not line:
                continue
            rows["cid"].append(shuffle_key(line))
            rows["f"].append(file_idx)
            rows["n"].append(line_no)
            rows["role"].append(part.role or "*")
            rows["line"].append(line)
    return _frame(pd, rows)


def _frame(pd: Any, rows: dict[str, list[Any]]) -> Any:
    return pd.DataFrame(
        {
            "cid": pd.Series(rows["cid"], dtype=object),
            "f": pd.Series(rows["f"], dtype="int64"),
            "n": pd.Series(rows["n"], dtype="int64"),
            "role": pd.Series(rows["role"], dtype=object),
            "line": pd.Series(rows["line"], dtype=object),
        }
    )


Indexed = tuple[Partial, bytes]  # a task's partial and its cids/ entry lines, gzipped


def reduce_parts_indexed(
    items: list[tuple[int, Part]], settings: ReportSettings | Reduction, window: Window
) -> Indexed:
    sink: list[bytes] = []
    partial = reduce_parts(items, settings, window, None, sink)
    return partial, gzip.compress(b"".join(sink), compresslevel=1)


def reduce_frame_indexed(
    frame: Any, settings: ReportSettings | Reduction, window: Window
) -> Indexed:
    """One shuffled partition (every record of its correlation ids) → a partial and its index."""
    lines = (
        ((int(f), int(n)), None if role == "*" else role, line)
        for f, n, role, line in zip(
            frame["f"], frame["n"], frame["role"], frame["line"], strict=True
        )
    )
    reducer = reduction_of(settings).reducer(window, True)
    partial = reducer.reduce(lines)
    return partial, gzip.compress(b"".join(index_lines(reducer.kept)), compresslevel=1)


def connect(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """A Client for ``scheduler``, or for a LocalCluster of worker processes on this machine."""
    from distributed import Client, LocalCluster

    try:
        if scheduler:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None  # type: ignore[no-untyped-call]
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=max(1, workers or os.cpu_count() or 1),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        return Client(cluster), cluster  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the dask scheduler {scheduler}: {exc}") from exc


def _bucketed_tasks(client: Any, indexed: list[tuple[int, Part]], args: tuple[Any, ...]) -> Any:
    groups: dict[str, list[tuple[int, Part]]] = defaultdict(list)
    for item in indexed:
        groups[str(bucket_level(item[1]))].append(item)
    ordered = [groups[k] for k in sorted(groups)]
    return client.map(
        reduce_parts_indexed, ordered, *[[a] * len(ordered) for a in args], pure=False
    )


def _shuffle_tasks(
    client: Any,
    parts: list[Part],
    settings: ReportSettings | Reduction,
    window: Window,
    workers: int,
) -> Any:
    import dask
    import dask.dataframe as dd
    import pandas as pd
    from dask.delayed import delayed

    total = sum(_estimate(p) for p in parts)
    nparts = max(2 * workers, min(MAX_BUCKETS, math.ceil(total / BUCKET_BYTES)))
    groups = _groups(parts, min(len(parts), 4 * workers))
    meta = _frame(pd, {c: [] for c in COLUMNS})
    with dask.config.set({"dataframe.convert-string": False}):
        frames = [delayed(part_frame, pure=False)(g) for g in groups]
        ddf = dd.from_delayed(frames, meta=meta, verify_meta=False)
        shuffled = ddf.shuffle(on="cid", npartitions=nparts, shuffle_method="tasks")
        reduced = [
            delayed(reduce_frame_indexed, pure=False)(d, settings, window)
            for d in shuffled.to_delayed()
        ]
        return client.compute(reduced)


def analyse_dask(
    sources: list[Source], settings: ReportSettings | Reduction, window: Window, run: Run = Run()
) -> Any:
    """Every part → the merged :class:`Partial` (or a :class:`Reduction`'s), on the cluster.

    The same signature as :func:`analysis.engine.analyse`. With ``run.cids`` (a
    local directory) the report's correlation index is written there: each task
    returns its entry lines and this client reshards them by ``crc32 % shards``
    as they arrive (spooled to disk, memory bounded).
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    if run.unwindowed:
        raise ConfigError("roles outside the window need --engine local")
    scheduler, workers, progress, cids = run.scheduler, run.workers, run.progress, run.cids
    parts = [p for src in sources for p in src.parts(*window)]

    bad = [p.name for p in parts if not p.parallel_ok]
    if bad:
        raise ConfigError(
            f"--engine dask reads local or s3:// sources only; use --engine local for {bad[0]}"
        )
    red = reduction_of(settings)
    result = red.empty()
    total = sum(_estimate(p) for p in parts)
    sharder = (
        cidindex.Resharder(cids, max(1, min(MAX_BUCKETS, math.ceil(total / BUCKET_BYTES))))
        if cids is not None
        else None
    )
    if not parts:
        if sharder is not None:
            sharder.close([])
        return result
    report = progress or (lambda phase, done, of: None)
    client, cluster = connect(scheduler, workers)
    futures: Any = []
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})) or workers or 1)
        indexed = list(enumerate(parts))
        if all(bucket_level(p) is not None for p in parts):
            futures = _bucketed_tasks(client, indexed, (settings, window))
        else:
            futures = _shuffle_tasks(client, parts, settings, window, nworkers)
        finished = as_completed(futures)  # type: ignore[no-untyped-call]
        for done, fut in enumerate(finished, 1):
            partial, lines = fut.result()
            red.merge(result, partial)
            if sharder is not None and lines:
                sharder.add(gzip.decompress(lines))
            report("compare", done, len(futures))
        if sharder is not None:
            sharder.close([p.name for p in parts])
    except KilledWorker as exc:
        raise ClusterError(
            f"dask workers kept dying while running {exc.args[0] if exc.args else 'a task'}; "
            "no report written"
        ) from exc
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"lost the dask scheduler {scheduler or '(local)'}: {exc}") from exc
    finally:
        if futures:
            client.cancel(futures)
        client.close()
        if cluster is not None:
            cluster.close()
    return result
