"""Replace ``ROOT/NAME`` whole at every tick, the way a reader can never catch it half done.

Local root: each tick writes a complete report folder under
``ROOT/.NAME.live/<n>/`` and then swaps the symbolic link ``ROOT/NAME`` to it
with one ``rename(2)`` (atomic on POSIX). A reader that resolved the old link
keeps reading the old folder, which stays until the tick after. The dot
folder holds no ``report.json`` of its own, so ``shadowdiff serve`` never lists
it. An existing ``ROOT/NAME`` that is a real folder is taken over only when it
is empty or a live report itself; any other report there is refused, never
overwritten.

S3 has no atomic rename of a prefix: the files are overwritten in place by the
report writer, which puts ``report.json`` last (what readers list by), and the
index shards keep their names, so a reader sees the old report or the new one
with every file it names.

The ``cids/`` index is by far the largest part of the folder (one line per
record of the window: tens of megabytes for a million pairs), and it only serves
``/pairs/{id}`` lookups of pairs that are not examples, so it is rewritten at
most every :data:`INDEX_SECONDS`; a version in between links to (S3: keeps) the
last one written. Example pairs are always current (``pairs.jsonl.gz``).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import orjson

from analysis.live.index import LiveIndex
from analysis.report import cidindex
from analysis.report.writer import write_folder, write_report
from shadowdiff.aws import aws_errors
from shadowdiff.model.errors import ConfigError, SinkError
from shadowdiff.model.locations import parse_location

INDEX_SECONDS = 300.0


class LocalPublisher:
    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.link = root / name
        self.versions = root / f".{name}.live"
        self._n = 0
        self._previous = ""
        self._indexed = ""  # the version whose cids/ the newer ones link to

    @property
    def location(self) -> str:
        return str(self.link)

    def prepare(self) -> None:
        """Check at start that the folder can be taken over (ConfigError if not)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.versions.mkdir(exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--reports {self.root}: {exc.strerror or exc}") from exc
        if self.link.is_symlink() or not self.link.exists():
            return
        if not self.link.is_dir():
            raise ConfigError(f"--name {self.name}: {self.link} exists and is not a folder")
        if any(self.link.iterdir()) and not _is_live(self.link):
            raise ConfigError(
                f"--name {self.name}: {self.link} holds a report not written by shadowdiff "
                "watch; choose another --name"
            )
        os.replace(self.link, self.versions / f"taken-over-{secrets.token_hex(4)}")

    def publish(
        self,
        report: dict[str, Any],
        pairs: list[dict[str, Any]],
        index: LiveIndex,
        lo: int,
        hi: int,
        with_index: bool = True,
    ) -> str:
        """Write a new version and swap the link to it; without ``with_index`` the new
        version's ``cids/`` links to the last one written (see :data:`INDEX_SECONDS`)."""
        self._n += 1
        version = f"{self._n:08d}-{secrets.token_hex(3)}"
        folder = self.versions / version
        try:
            if with_index or not self._indexed:
                index.write(folder / cidindex.DIR, lo, hi)
                self._indexed = version
            else:
                folder.mkdir(parents=True)
                os.symlink(f"../{self._indexed}/{cidindex.DIR}", folder / cidindex.DIR)
            write_folder(folder, report, pairs)
            tmp = self.root / f".{self.name}.link-{secrets.token_hex(4)}"
            os.symlink(f"{self.versions.name}/{version}", tmp)
            os.replace(tmp, self.link)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise SinkError(f"cannot write report to {folder}: {exc.strerror or exc}") from exc
        self._prune(keep={version, self._previous, self._indexed})
        self._previous = version
        return str(self.link)

    def _prune(self, keep: set[str]) -> None:
        """Remove every older version but the one just replaced (a reader may be in it)."""
        try:
            names = os.listdir(self.versions)
        except OSError:
            return
        for name in names:
            if name not in keep:
                shutil.rmtree(self.versions / name, ignore_errors=True)


class S3Publisher:
    def __init__(self, url: str, client: Any = None) -> None:
        self.url = url.rstrip("/")
        self.client = client
        self._indexed = False

    @property
    def location(self) -> str:
        return self.url

    def prepare(self) -> None:
        """Check at start that the bucket is there and reachable (ConfigError if not)."""
        from analysis.sources.s3 import make_client

        self.client = make_client(self.client)
        bucket = self.url[len("s3://") :].split("/", 1)[0]
        with aws_errors(ConfigError, f"--reports s3://{bucket}: cannot write there"):
            self.client.head_bucket(Bucket=bucket)

    def publish(
        self,
        report: dict[str, Any],
        pairs: list[dict[str, Any]],
        index: LiveIndex,
        lo: int,
        hi: int,
        with_index: bool = True,
    ) -> str:
        """Overwrite the report's objects; ``cids/`` only ``with_index`` (else it stays)."""
        import tempfile

        if not with_index and self._indexed:
            return write_report(self.url, report, pairs, self.client)
        tmp = Path(tempfile.mkdtemp(prefix="shadowdiff-live-"))
        try:
            index.write(tmp, lo, hi)
            out = write_report(self.url, report, pairs, self.client, tmp)
            self._indexed = True
            return out
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _is_live(folder: Path) -> bool:
    try:
        data = orjson.loads((folder / "report.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and isinstance(data.get("live"), dict)


def open_publisher(root: str, name: str, s3_client: Any = None) -> LocalPublisher | S3Publisher:
    if not name or "/" in name or name.startswith("."):
        raise ConfigError(f"--name {name!r}: one folder name, not starting with '.'")
    location = parse_location(root, "--reports", ("local", "s3"))
    if location.kind == "s3":
        return S3Publisher(f"{root.rstrip('/')}/{name}", s3_client)
    return LocalPublisher(location.local_path, name)
