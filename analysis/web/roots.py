"""Where report folders live: a local directory or ``s3://bucket/prefix``.

A root answers two questions, and only these: which report folders are there
now (with a fingerprint of each ``report.json`` that changes when the file does),
and what are the bytes of one file in one folder. Listing is the cheap call the
catalog repeats to notice new reports; reading happens only for folders whose
fingerprint it has not seen.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from shadowdiff.aws import aws_errors
from shadowdiff.model.errors import SourceError
from shadowdiff.model.locations import parse_location

REPORT_FILE = "report.json"
CANARY_FILE = "canary.json"  # a `shadowdiff canary --out` folder, listed beside the reports
PAIRS_FILE = "pairs.jsonl.gz"


class ReportRoot(Protocol):
    uri: str

    def listing(self, file: str = REPORT_FILE) -> dict[str, str]:
        """``{folder name: fingerprint of its file}`` for every folder that has one.

        ``file`` is ``report.json`` for reports, ``canary.json`` for canaries.
        """
        ...

    def read(self, folder: str, name: str) -> bytes:
        """The bytes of ``folder/name``; :class:`SourceError` naming it when unreadable."""
        ...


class LocalRoot:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.uri = str(self.path)

    def listing(self, file: str = REPORT_FILE) -> dict[str, str]:
        out: dict[str, str] = {}
        try:
            entries = list(os.scandir(self.path))
        except OSError as exc:
            raise SourceError(f"cannot list reports root {self.path}: {exc.strerror}") from exc
        for entry in entries:
            if not entry.is_dir():
                continue
            try:
                st = os.stat(os.path.join(entry.path, file))
            except OSError:
                continue
            out[entry.name] = f"{st.st_mtime_ns}:{st.st_size}"
        return out

    def read(self, folder: str, name: str) -> bytes:
        path = self.path / folder / name
        try:
            return path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}") from exc


class S3Root:
    """Report folders under ``s3://bucket/prefix/NAME/``; the client is injected or built once."""

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    def _key(self, folder: str, name: str) -> str:
        return f"{self.prefix}/{folder}/{name}" if self.prefix else f"{folder}/{name}"

    def listing(self, file: str = REPORT_FILE) -> dict[str, str]:
        base = f"{self.prefix}/" if self.prefix else ""
        out: dict[str, str] = {}
        with aws_errors(SourceError, f"cannot list reports root {self.uri}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    rest = obj["Key"][len(base) :]
                    folder, _, name = rest.partition("/")
                    if name == file:
                        out[folder] = f"{obj.get('ETag', '')}:{obj.get('Size', 0)}"
        return out

    def read(self, folder: str, name: str) -> bytes:
        key = self._key(folder, name)
        with aws_errors(SourceError, f"cannot read s3://{self.bucket}/{key}"):
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


def open_root(uri: str, s3_client: Any = None) -> ReportRoot:
    """A root for a local path, ``file://`` URL or ``s3://bucket/prefix``."""
    location = parse_location(uri, "--reports", ("local", "s3"))
    if location.kind == "s3":
        return S3Root(location.bucket, location.prefix, s3_client)
    path = location.local_path
    if not path.is_dir():
        raise SourceError(f"--reports {uri}: not a directory")
    return LocalRoot(path)
