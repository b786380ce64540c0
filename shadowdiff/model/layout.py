"""The Hive-style partition layout every object or file sink writes.

``<prefix>/role=<role>/dt=YYYY-MM-DD/hour=HH/<unique-name>.jsonl.gz``, optionally
with a ``bucket=NN`` level after ``hour=HH`` (see :func:`partition_bucket`) so a
distributed reader can pair each bucket's roles without a shuffle.

Writers call :func:`partition_dir`; readers call :func:`parse_partition` and
:func:`hours_between` to list only the partitions a time window needs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

from shadowdiff.model.timefmt import now_utc

_PART = re.compile(r"(?:^|/)(role|dt|hour|bucket)=([^/]+)")


def partition_bucket(correlation_id: str, n: int) -> int:
    """The ``bucket=NN`` partition level of a correlation id: its code points' sum mod ``n``.

    (Not the report's spill buckets or the correlation index's shards, which
    hash with crc32: ``analysis.engine.spill_bucket``.)

    Not a good hash, but the only one Firehose's JQ dynamic partitioning can
    compute (``.correlation_id | explode | add % N``), and every writer of one
    deployment must agree on it (and on ``n``) for the level to be usable.
    """
    if not 1 <= n <= 100:
        raise ValueError(f"bucket count must be 1..100, got {n}")
    return sum(map(ord, correlation_id)) % n


def partition_dir(role: str, moment: datetime, bucket: int | None = None) -> str:
    """``role=shadow/dt=2026-11-25/hour=07`` for a record captured at ``moment`` (UTC).

    With ``bucket`` (from :func:`partition_bucket`), one more level: ``.../hour=07/bucket=03``.
    """
    base = f"role={role}/dt={moment:%Y-%m-%d}/hour={moment:%H}"
    return base if bucket is None else f"{base}/bucket={bucket:02d}"


def object_name(moment: datetime | None = None, suffix: str = ".jsonl.gz") -> str:
    """A unique file name that sorts by time: ``20261125T070102Z-<uuid4 hex>.jsonl.gz``."""
    moment = moment or now_utc()
    return f"{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex}{suffix}"


def parse_partition(path: str) -> dict[str, str]:
    """The ``key=value`` levels found in a path, e.g. ``{"role": "shadow", "dt": ...}``."""
    return {m.group(1): m.group(2) for m in _PART.finditer(path)}


def hours_between(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every UTC hour that overlaps ``[start, end)``, as the start of that hour."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        yield hour
        hour += timedelta(hours=1)
