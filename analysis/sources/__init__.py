"""Input sources for the report: local dir / ``file://``, ``s3://``, ``kinesis://``."""

from __future__ import annotations

from typing import Any

from analysis.sources.base import Part, Source, iter_lines
from analysis.sources.kinesis import KinesisSource
from analysis.sources.local import LocalSource
from analysis.sources.s3 import S3Source
from analysis.sources.tail import Horizon, Tail
from shadowdiff.model.locations import parse_location


def open_source(url: str, role: str | None, clients: dict[str, Any] | None = None) -> Source:
    """The source for a ``SRC`` argument; ``clients`` may inject ``s3``/``kinesis`` boto3 clients."""
    clients = clients or {}
    kind = parse_location(url, f"--{role}" if role else "--records").kind
    if kind == "s3":
        return S3Source(url, role, clients.get("s3"))
    if kind == "kinesis":
        return KinesisSource(url, role, clients.get("kinesis"))
    return LocalSource(url, role)


__all__ = ["Horizon", "Part", "Source", "Tail", "iter_lines", "open_source"]
