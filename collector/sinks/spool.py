"""The on-disk spool: batches the sink could not take, kept until it can.

One gzip JSON Lines file per batch, written under a temporary dot-name and
renamed, so a crash leaves either a whole batch or nothing. Files replay oldest
first. The batch being gathered is also appended to a journal file and flushed
to the kernel every poll (~50 ms), so a SIGKILL loses at most the records of
the last poll interval: the next start turns a leftover journal into a spool
file. Several processes must not share one spool directory (each collector
gets its own by default: ``<state>/shadowdiff/spool/<role>-<port>``).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import uuid
import zlib
from pathlib import Path
from typing import BinaryIO

from shadowdiff.model.errors import SinkError
from shadowdiff.model.layout import object_name


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._journal: BinaryIO | None = None
        self._journal_path: Path | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"spool directory {directory}: {exc.strerror or exc}") from exc
        self.recover_journals()

    # ---- the journal: the batch being gathered, so a SIGKILL does not lose it
    def journal(self, line: bytes) -> None:
        """Append a line of the batch being gathered (plain text, buffered)."""
        if self._journal is None:
            self._journal_path = self.directory / f".journal-{uuid.uuid4().hex}.jsonl"
            try:
                # A large buffer: one write(2) per poll, not one per few records.
                self._journal = open(self._journal_path, "ab", buffering=4 << 20)  # noqa: SIM115
            except OSError:
                return  # best effort: the batch is still delivered or spooled normally
        self._journal.write(line)

    def sync_journal(self) -> None:
        """Hand the buffered journal lines to the kernel (survives a killed process)."""
        if self._journal is not None:
            with contextlib.suppress(OSError):
                self._journal.flush()

    def end_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._journal_path is not None:
            self._journal_path.unlink(missing_ok=True)
            self._journal_path = None

    def recover_journals(self) -> None:
        """Turn journals a killed process left behind into spool files (whole lines only)."""
        for path in sorted(self.directory.glob(".journal-*.jsonl")):
            try:
                lines = [
                    ln for ln in path.read_bytes().splitlines(keepends=True) if ln.endswith(b"\n")
                ]
                if lines:
                    self.write(lines)
                path.unlink()
            except OSError:
                continue

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
