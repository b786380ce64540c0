"""The Hive-style partition layout every object or file sink writes.

``<prefix>/role=<role>/dt=YYYY-MM-DD/hour=HH/<unique-name>.jsonl.gz``

Writers call :func:`partition_dir`; readers call :func:`parse_partition` and
:func:`hours_between` to list only the partitions a time window needs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

from shadowdiff.timefmt import now_utc

ROLES = ("primary", "shadow", "secondary")
_PART = re.compile(r"(?:^|/)(role|dt|hour|bucket)=([^/]+)")


def partition_dir(role: str, moment: datetime) -> str:
    """``role=shadow/dt=2026-11-25/hour=07`` for a record captured at ``moment`` (UTC)."""
    return f"role={role}/dt={moment:%Y-%m-%d}/hour={moment:%H}"


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
