"""Where records, reports and sinks live: the one parser of ``SRC``/``SINK`` strings.

Every command names places the same way (docs/contract.md §6): a local
directory or file, ``file://DIR``, ``s3://bucket/prefix`` or
``kinesis://stream``. The collector's ``--sink``, the report's sources and
``--out``, the service's ``--reports``, watch's ``--reports`` and replay's
``--keep-records`` all parse them here, so a location means the same thing to
every command and a bad one gets the same one-line error naming the flag.

``file://`` is stripped and percent-decoded (``file:///data/my%20records`` is
``/data/my records``; ``file://records`` is the relative ``records``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from shadowdiff.model.errors import ConfigError

Kind = Literal["local", "s3", "kinesis"]
KINDS: tuple[Kind, ...] = ("local", "s3", "kinesis")
_FORMS = {
    "local": "a directory or file://DIR",
    "s3": "s3://bucket/prefix",
    "kinesis": "kinesis://stream",
}


@dataclass(frozen=True, slots=True)
class Location:
    url: str  # as given
    kind: Kind
    path: Path | None = None  # local
    bucket: str = ""  # s3
    prefix: str = ""  # s3, without leading or trailing "/"
    stream: str = ""  # kinesis

    @property
    def local_path(self) -> Path:
        """The path of a local location (callers check ``kind`` first)."""
        if self.path is None:
            raise ValueError(f"{self.url} is not a local path")
        return self.path


def parse_location(url: str, what: str, kinds: tuple[Kind, ...] = KINDS) -> Location:
    """Parse ``url``; any problem is one ``ConfigError`` that starts with ``what`` (the flag)."""
    if not url:
        raise ConfigError(f"{what}: empty location")
    if url.startswith("s3://"):
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise ConfigError(f"{what}: {url!r} names no bucket (want s3://bucket/prefix)")
        location = Location(url, "s3", bucket=bucket, prefix=prefix.strip("/"))
    elif url.startswith("kinesis://"):
        stream = url[len("kinesis://") :].strip("/")
        if not stream or "/" in stream:
            raise ConfigError(f"{what}: {url!r} is not kinesis://stream-name")
        location = Location(url, "kinesis", stream=stream)
    elif url.startswith("file://"):
        path = unquote(url[len("file://") :])
        if not path:
            raise ConfigError(f"{what}: {url!r} names no directory")
        location = Location(url, "local", path=Path(path))
    elif "://" in url:
        raise ConfigError(f"{what}: unsupported location {url!r} (want {_choices(kinds)})")
    else:
        location = Location(url, "local", path=Path(url))
    if location.kind not in kinds:
        raise ConfigError(f"{what}: {url!r} cannot be used here (want {_choices(kinds)})")
    return location


def _choices(kinds: tuple[Kind, ...]) -> str:
    return (
        ", ".join(_FORMS[k] for k in kinds[:-1])
        + (" or " if len(kinds) > 1 else "")
        + (_FORMS[kinds[-1]])
    )
