"""A local directory (or ``file://`` URL, or one file) of capture files or CloudFront logs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from analysis.sources.base import Part, hour_in_window
from analysis.sources.tail import HourTail
from shadowdiff.model.errors import SourceError
from shadowdiff.model.layout import parse_partition
from shadowdiff.model.locations import parse_location

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
        return parse_location(self.url, "source", ("local",)).local_path

    def parts(self, since: datetime | None, until: datetime | None) -> list[Part]:
        root = self.root
        if root.is_file():
            return [LocalPart(str(root), root.stat().st_size, self.role)]
        if not root.is_dir():
            raise SourceError(f"no such file or directory: {root}")
        return self._walk(root, lambda rel: wanted(rel, self.role, since, until))

    def _walk(self, top: Path, keep: Callable[[str], bool]) -> list[Part]:
        """Finished capture files under ``top``, in name order.

        Dot- and underscore-names are skipped: the local sink writes each file as
        ``.<name>.tmp`` and renames it into place once whole, so a file that is
        still being written is never listed.
        """
        root = self.root
        found: list[Part] = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for fname in sorted(filenames):
                if fname.startswith((".", "_")) or not fname.endswith(SUFFIXES):
                    continue
                full = os.path.join(dirpath, fname)
                if keep(os.path.relpath(full, root)):
                    try:
                        size = os.path.getsize(full)
                    except OSError:
                        continue  # removed since it was listed
                    found.append(LocalPart(full, size, self.role))
        return found

    def tail(self) -> LocalTail:
        """A live cursor over this directory (:mod:`analysis.sources.tail`)."""
        return LocalTail(self)


def _dirs(path: Path, key: str) -> list[str]:
    """The values of ``key=VALUE`` sub-directories of ``path`` (empty when it is missing)."""
    try:
        names = [e.name for e in os.scandir(path) if e.is_dir()]
    except OSError:
        return []
    return sorted(n[len(key) + 1 :] for n in names if n.startswith(f"{key}="))


class LocalTail(HourTail):
    """New finished files of a local root: scandir of the open hour partitions."""

    def __init__(self, source: LocalSource) -> None:
        super().__init__(source.role)
        self.source = source

    def _root(self) -> Path:
        root = self.source.root
        if not root.exists():
            raise SourceError(f"no such file or directory: {root}")
        return root

    def _partitioned(self) -> bool | None:
        root = self._root()
        if root.is_file():
            return False
        if _dirs(root, "role"):
            return True
        return False if self.source._walk(root, lambda rel: True) else None

    def _hours(self, role: str, since: datetime | None) -> list[datetime]:
        base = self._root() / f"role={role}"
        out: list[datetime] = []
        for day in _dirs(base, "dt"):
            if since is not None and day < f"{since:%Y-%m-%d}":
                continue
            for hh in _dirs(base / f"dt={day}", "hour"):
                hour = partition_hour(f"dt={day}/hour={hh}")
                if hour is not None and (since is None or hour >= since):
                    out.append(hour)
        return out

    def _list_hour(self, role: str, hour: datetime) -> list[Part]:
        top = self._root() / f"role={role}" / f"dt={hour:%Y-%m-%d}" / f"hour={hour:%H}"
        return self.source._walk(top, lambda rel: True) if top.is_dir() else []

    def _list_all(self) -> list[Part]:
        root = self._root()
        if root.is_file():
            return [LocalPart(str(root), root.stat().st_size, self.role)]
        return self.source._walk(root, lambda rel: wanted(rel, self.role, None, None))
