"""Sinks: where capture records go. ``make_sink`` picks one from the settings."""

from __future__ import annotations

from typing import Any

from collector.metrics import Metrics
from collector.settings import SinkSettings
from collector.sinks.base import BaseSink
from collector.sinks.items import Item

__all__ = ["BaseSink", "Item", "make_sink"]


def make_sink(settings: SinkSettings, metrics: Metrics, client: Any = None) -> BaseSink:
    common: dict[str, Any] = {
        "spool_dir": settings.spool_dir,
        "metrics": metrics,
        "queue_size": settings.queue_size,
        "flush_seconds": settings.flush_seconds,
        "batch_bytes": settings.batch_bytes,
        "batch_records": settings.batch_records,
    }
    if settings.kind == "s3":
        from collector.sinks.s3 import S3Sink

        return S3Sink(
            settings.bucket, settings.prefix, client=client, buckets=settings.buckets, **common
        )
    if settings.kind == "kinesis":
        from collector.sinks.kinesis import KinesisSink

        return KinesisSink(settings.stream, client=client, **common)
    from collector.sinks.local import LocalDirSink

    assert settings.root is not None
    return LocalDirSink(settings.root, buckets=settings.buckets, **common)
