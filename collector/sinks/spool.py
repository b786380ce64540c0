"""The on-disk spool: batches the sink could not take, kept until it can.

One gzip JSON Lines file per batch, written under a temporary dot-name and
renamed, so a crash leaves either a whole batch or nothing. Files replay oldest
first. Several processes must not share one spool directory (each collector
gets its own by default: ``<state>/shadowdiff/spool/<role>-<port>``).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from shadowdiff.errors import SinkError
from shadowdiff.layout import object_name


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"spool directory {directory}: {exc.strerror or exc}") from exc

    def files(self) -> list[Path]:
        return sorted(p for p in self.directory.glob("*.jsonl.gz") if p.is_file())

    def pending(self) -> int:
        return len(self.files())

    def write(self, lines: list[bytes]) -> Path:
        name = object_name()
        final = self.directory / name
        tmp = self.directory / f".{name}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(gzip.compress(b"".join(lines), compresslevel=1, mtime=0))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            raise SinkError(f"spool file {final}: {exc.strerror or exc}") from exc
        return final

    def read(self, path: Path) -> list[bytes]:
        """The lines of one spooled batch; a damaged tail is cut off, not fatal."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SinkError(f"spool file {path}: {exc.strerror or exc}") from exc
        try:
            text = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            text = zlib.decompressobj(31).decompress(data)
        lines = text.splitlines(keepends=True)
        return [ln for ln in lines if ln.endswith(b"\n")]

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
