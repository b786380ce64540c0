"""The root of every error shadowdiff raises on purpose.

Each package keeps its own subtree and maps lower-layer errors (botocore,
aiohttp, OSError, orjson) onto it at the seam with ``raise ... from exc``, so a
caller can catch one type and a user sees one line that names the thing that
was wrong (the stream, bucket, key, record or setting)::

    ShadowdiffError
    ├── InvalidRecord          a line that is not a shadowdiff.capture/1 record
    ├── ConfigError            a setting, flag or config file key with a bad value
    │                          (edge.config.EdgeConfigError is its stdlib twin)
    ├── SourceError            input that cannot be read (path, object, stream)
    ├── SinkError              output that cannot be written (dir, bucket, stream)
    │   └── PartialWrite       collector.sinks: a batch partly delivered; carries the rest
    ├── UpstreamError          collector: an exchange with the app failed; ``kind`` is the
    │                          record's error.kind (becomes an error record, never a message)
    ├── ClusterError           analysis.dask_engine: the Dask cluster could not run the job
    └── DemoError              shadowdiff.demo: a demo step failed (names its log)

The edge package cannot import this module (it is standard library only and
ships alone), so it keeps a parallel, tiny tree of its own.
"""

from __future__ import annotations


class ShadowdiffError(Exception):
    """Base class: anything shadowdiff raises deliberately."""


class InvalidRecord(ShadowdiffError):
    """A line that is not a valid capture record; ``reason`` is one short phrase."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigError(ShadowdiffError):
    """A configuration value that is missing, unknown or malformed; names the key."""


class SourceError(ShadowdiffError):
    """Input that cannot be read; the message names the path, bucket/key or stream."""


class SinkError(ShadowdiffError):
    """Output that cannot be written; the message names the dir, bucket/key or stream."""
