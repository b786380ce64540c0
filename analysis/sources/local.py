"""A local directory (or ``file://`` URL, or one file) of capture files or CloudFront logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlparse

from analysis.sources.base import Part, hour_in_window
from shadowdiff.errors import SourceError
from shadowdiff.layout import parse_partition

SUFFIXES = (".jsonl", ".jsonl.gz", ".gz", ".json", ".log")


@dataclass(slots=True)
class LocalPart:
    name: str
    size: int
    role: str | None
    parallel_ok: bool = True

    def open(self) -> IO[bytes]:
        return open(self.name, "rb")


def partition_hour(path: str) -> datetime | None:
    found = parse_partition(path)
    if "dt" not in found:
        return None
    try:
        return datetime.fromisoformat(f"{found['dt']}T{found.get('hour', '00')}:00:00+00:00")
    except ValueError:
        return None


def wanted(path: str, role: str | None, since: datetime | None, until: datetime | None) -> bool:
    """Skip partitions of another role or far outside the window (names only, no reads)."""
    found = parse_partition(path)
    if role is not None and found.get("role", role) != role:
        return False
    hour = partition_hour(path)
    if hour is not None and "hour" in found:
        return hour_in_window(hour, since, until)
    return True


@dataclass(slots=True)
class LocalSource:
    url: str
    role: str | None

    @property
    def root(self) -> Path:
        if self.url.startswith("file://"):
            return Path(unquote(urlparse(self.url).path))
        return Path(self.url)

    def parts(self, since: datetime | None, until: datetime | None) -> list[Part]:
        root = self.root
        if root.is_file():
            return [LocalPart(str(root), root.stat().st_size, self.role)]
        if not root.is_dir():
            raise SourceError(f"no such file or directory: {root}")
        found: list[Part] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for fname in sorted(filenames):
                if fname.startswith((".", "_")) or not fname.endswith(SUFFIXES):
                    continue
                full = os.path.join(dirpath, fname)
                rel = os.path.relpath(full, root)
                if wanted(rel, self.role, since, until):
                    found.append(LocalPart(full, os.path.getsize(full), self.role))
        return found
