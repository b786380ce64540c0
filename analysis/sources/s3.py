"""``s3://bucket/prefix``: list only the ``role=/dt=/hour=`` partitions a window needs.

The boto3 client is injected (tests, fault injection) or built here; boto3
reads ``AWS_ENDPOINT_URL`` itself. A prefix without ``role=`` folders (for
example CloudFront standard logs) is listed whole and filtered by the
``.YYYY-MM-DD-HH.`` in each object name.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from urllib.parse import urlparse

from analysis.sources.base import Part, hour_in_window
from analysis.sources.local import SUFFIXES, wanted
from analysis.sources.tail import HourTail
from shadowdiff.aws import aws_errors
from shadowdiff.model.errors import SourceError
from shadowdiff.model.layout import hours_between as layout_hours
from shadowdiff.model.record import ROLES

_CF_HOUR = re.compile(r"\.(\d{4}-\d{2}-\d{2})-(\d{2})\.")


def split_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SourceError(f"not an s3://bucket/prefix URL: {url}")
    prefix = parsed.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return parsed.netloc, prefix


_shared: dict[tuple[str | int | None, ...], Any] = {}


def make_client(client: Any | None) -> Any:
    """The injected client, else one per process and environment, reused across objects.

    Building a client costs ~50 ms; a night has thousands of objects.
    """
    if client is not None:
        return client
    import os

    env = os.environ
    key = (
        os.getpid(),
        env.get("AWS_ENDPOINT_URL"),
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_DEFAULT_REGION"),
    )
    if key not in _shared:
        import boto3

        _shared.clear()
        _shared[key] = boto3.client("s3")
    return _shared[key]


class _Raw(io.RawIOBase):
    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._body.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


@dataclass(slots=True)
class S3Part:
    name: str
    size: int
    role: str | None
    bucket: str
    key: str
    client: Any = field(default=None, repr=False)
    parallel_ok: bool = True

    def __getstate__(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "role": self.role,
            "bucket": self.bucket,
            "key": self.key,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)
        self.client = None
        self.parallel_ok = True

    def open(self) -> IO[bytes]:
        self.client = make_client(self.client)
        with aws_errors(SourceError, f"cannot read {self.name}"):
            obj = self.client.get_object(Bucket=self.bucket, Key=self.key)
        return io.BufferedReader(_Raw(obj["Body"]), 1 << 20)


@dataclass(slots=True)
class S3Source:
    url: str
    role: str | None
    client: Any = field(default=None, repr=False)

    def _list(
        self, bucket: str, prefix: str, delimiter: bool = False, start_after: str | None = None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        client = self.client = make_client(self.client)
        objects: list[dict[str, Any]] = []
        prefixes: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = "/"
        if start_after:
            kwargs["StartAfter"] = start_after
        with aws_errors(SourceError, f"cannot list s3://{bucket}/{prefix} (from {self.url})"):
            for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
                objects.extend(page.get("Contents", []))
                prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        return objects, prefixes

    def parts(self, since: datetime | None, until: datetime | None) -> list[Part]:
        bucket, prefix = split_url(self.url)
        top_objects, top_prefixes = self._list(bucket, prefix, delimiter=True)
        partitioned = any(p[len(prefix) :].startswith("role=") for p in top_prefixes)
        keys: list[dict[str, Any]] = []
        if not partitioned:
            keys = top_objects + [o for p in top_prefixes for o in self._list(bucket, p)[0]]
            keys = [o for o in keys if _cf_wanted(o["Key"], since, until)]
        else:
            roles = [self.role] if self.role else list(ROLES)
            for role in roles:
                base = f"{prefix}role={role}/"
                if since is None or until is None:
                    keys.extend(
                        o
                        for o in self._list(bucket, base)[0]
                        if wanted(o["Key"][len(prefix) :], role, since, until)
                    )
                    continue
                for hour in layout_hours(since - timedelta(hours=1), until + timedelta(hours=1)):
                    keys.extend(self._list(bucket, f"{base}dt={hour:%Y-%m-%d}/hour={hour:%H}/")[0])
        return self._parts_of(bucket, keys)

    def _parts_of(self, bucket: str, objects: list[dict[str, Any]]) -> list[Part]:
        keys = sorted((o for o in objects if o["Key"].endswith(SUFFIXES)), key=lambda o: o["Key"])
        return [
            S3Part(
                f"s3://{bucket}/{o['Key']}",
                int(o.get("Size", 0)),
                self.role,
                bucket,
                o["Key"],
                self.client,
            )
            for o in keys
        ]

    def tail(self) -> S3Tail:
        """A live cursor over this prefix (:mod:`analysis.sources.tail`)."""
        return S3Tail(self)


# A collector names each object by the second it began writing it
# (shadowdiff.model.layout.object_name), and the object becomes visible only when the
# PUT completes, so a key may appear after later-named ones. Listing restarts
# this far before the newest name seen (the names already taken are skipped).
REWIND = timedelta(minutes=5)
_OBJECT_NAME = re.compile(r"^(\d{8}T\d{6}Z)-[0-9a-f]+\.jsonl\.gz$")


class S3Tail(HourTail):
    """New objects of an ``s3://`` prefix: per open hour, the keys after the last one listed.

    In an hour whose objects are the collectors' own (named by time, directly
    under ``hour=HH/``) a listing starts :data:`REWIND` before the newest name
    seen; any other hour (``bucket=NN`` levels, Firehose names) is listed whole.
    """

    def __init__(self, source: S3Source) -> None:
        super().__init__(source.role)
        self.source = source
        self.bucket, self.prefix = split_url(source.url)
        self._newest_name: dict[tuple[str, datetime], str | None] = {}

    def _partitioned(self) -> bool | None:
        objects, prefixes = self.source._list(self.bucket, self.prefix, delimiter=True)
        if any(p[len(self.prefix) :].startswith("role=") for p in prefixes):
            return True
        return False if objects or prefixes else None

    def _values(self, prefix: str, key: str) -> list[str]:
        _, prefixes = self.source._list(self.bucket, prefix, delimiter=True)
        start = f"{prefix}{key}="
        return sorted(p[len(start) :].rstrip("/") for p in prefixes if p.startswith(start))

    def _hours(self, role: str, since: datetime | None) -> list[datetime]:
        base = f"{self.prefix}role={role}/"
        out: list[datetime] = []
        for day in self._values(base, "dt"):
            if since is not None and day < f"{since:%Y-%m-%d}":
                continue
            for hh in self._values(f"{base}dt={day}/", "hour"):
                try:
                    hour = datetime.fromisoformat(f"{day}T{hh}:00:00+00:00")
                except ValueError:
                    continue
                if since is None or hour >= since:
                    out.append(hour)
        return out

    def _list_hour(self, role: str, hour: datetime) -> list[Part]:
        where = f"{self.prefix}role={role}/dt={hour:%Y-%m-%d}/hour={hour:%H}/"
        key = (role, hour)
        newest = self._newest_name.get(key, "")  # "": not listed yet; None: list whole
        after = None
        if newest:
            stamp = datetime.strptime(newest[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            after = f"{where}{stamp - REWIND:%Y%m%dT%H%M%SZ}"
        objects, _ = self.source._list(self.bucket, where, start_after=after)
        if newest is not None:
            names = [o["Key"][len(where) :] for o in objects]
            if not all(_OBJECT_NAME.match(n) for n in names):
                self._newest_name[key] = None
            elif names:
                self._newest_name[key] = max(*names, newest)
        return self.source._parts_of(self.bucket, objects)

    def _list_all(self) -> list[Part]:
        top_objects, top_prefixes = self.source._list(self.bucket, self.prefix, delimiter=True)
        objects = top_objects + [
            o for p in top_prefixes for o in self.source._list(self.bucket, p)[0]
        ]
        return self.source._parts_of(self.bucket, objects)


def _cf_wanted(key: str, since: datetime | None, until: datetime | None) -> bool:
    m = _CF_HOUR.search(key.rsplit("/", 1)[-1])
    if m is None:
        return True
    hour = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:00:00+00:00")
    return hour_in_window(hour, since, until)
