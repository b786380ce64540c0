"""Local directory sink: gzip JSON Lines files in the Hive layout.

Each batch becomes one file per partition
(``<root>/role=<role>/dt=YYYY-MM-DD/hour=HH/<time>-<uuid>.jsonl.gz``, with a
``bucket=NN`` level after ``hour=HH`` when ``buckets`` is set), so files
rotate by size and age exactly as batches do (``--batch-bytes``,
``--flush-seconds``). A file is written under a dot-name ending in ``.tmp`` and
renamed into place, so a reader globbing ``*.jsonl.gz`` never sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from collector.sinks.base import BaseSink
from collector.sinks.items import Item, PartialWrite, group_by_partition, gzip_pieces
from shadowdiff.model.errors import SinkError
from shadowdiff.model.layout import object_name


class LocalDirSink(BaseSink):
    def __init__(self, root: Path, buckets: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.buckets = buckets
        self.name = str(root)

    def _write(self, items: list[Item]) -> None:
        groups = list(group_by_partition(items, self.buckets).items())
        for index, (partition, group) in enumerate(groups):
            try:
                self._write_file(self.root / partition, group)
            except OSError as exc:
                err = SinkError(f"local sink {self.root / partition}: {exc.strerror or exc}")
                rest = [i for _, g in groups[index:] for i in g]
                if index == 0:
                    raise err from exc
                raise PartialWrite(rest, err) from exc

    @staticmethod
    def _write_file(directory: Path, group: list[Item]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = object_name()
        tmp = directory / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            for piece in gzip_pieces(group):
                fh.write(piece)
        os.replace(tmp, directory / name)
