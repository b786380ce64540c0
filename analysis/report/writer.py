"""Write the report folder to a local directory or ``s3://bucket/prefix``.

Files: ``report.json``, ``report.html``, ``report.md``, ``pairs.jsonl.gz`` and,
when the engine built one, the correlation index ``cids/`` (see
:mod:`analysis.report.cidindex`).
For S3 the folder is built in a temporary directory and each file uploaded
with its content type; ``report.json`` goes last so a reader that lists
reports never sees one whose pages are missing.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from analysis.report import cidindex
from analysis.report.html import render_html
from analysis.report.markdown import render_markdown
from shadowdiff.aws import aws_errors
from shadowdiff.model.errors import SinkError
from shadowdiff.model.locations import parse_location

FILES = {
    "pairs.jsonl.gz": "application/gzip",
    "report.html": "text/html; charset=utf-8",
    "report.md": "text/markdown; charset=utf-8",
    "report.json": "application/json",
}
GZ = "application/gzip"
FILE_TYPES = {".json": "application/json", ".gz": GZ}


def write_folder(
    folder: Path, report: dict[str, Any], pairs: list[dict[str, Any]], cids: Path | None = None
) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if cids is not None:
            shutil.copytree(cids, folder / cidindex.DIR, dirs_exist_ok=True)
        with gzip.open(folder / "pairs.jsonl.gz", "wb") as fh:
            for pair in pairs:
                fh.write(orjson.dumps(pair, option=orjson.OPT_APPEND_NEWLINE))
        (folder / "report.html").write_text(render_html(report), encoding="utf-8")
        (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")
        tmp = folder / ".report.json.tmp"
        tmp.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        tmp.replace(folder / "report.json")
    except OSError as exc:
        raise SinkError(f"cannot write report to {folder}: {exc.strerror or exc}") from exc


def write_report(
    out: str,
    report: dict[str, Any],
    pairs: list[dict[str, Any]],
    s3_client: Any = None,
    cids: Path | None = None,
) -> str:
    """Write the folder (with the index built in ``cids`` when given); returns where it went."""
    location = parse_location(out, "--out", ("local", "s3"))
    if location.kind == "local":
        write_folder(location.local_path, report, pairs, cids)
        return str(location.local_path)
    bucket, prefix = location.bucket, location.prefix
    tmp = Path(tempfile.mkdtemp(prefix="shadowdiff-report-"))
    try:
        write_folder(tmp, report, pairs, cids)
        index = sorted((tmp / cidindex.DIR).glob("*")) if cids is not None else []
        first = {f"{cidindex.DIR}/{p.name}": FILE_TYPES.get(p.suffix, GZ) for p in index}
        upload_folder(bucket, prefix, tmp, first, FILES, s3_client)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def upload_folder(
    bucket: str,
    prefix: str,
    folder: Path,
    first: dict[str, str],
    files: dict[str, str],
    s3_client: Any = None,
) -> None:
    """Upload ``first`` (in parallel), then ``files`` in their order (the listed file last)."""
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")

    def put(name: str, ctype: str) -> None:
        key = f"{prefix}/{name}" if prefix else name
        with aws_errors(SinkError, f"cannot write s3://{bucket}/{key}"):
            s3_client.put_object(
                Bucket=bucket, Key=key, Body=(folder / name).read_bytes(), ContentType=ctype
            )

    with ThreadPoolExecutor(8) as pool:
        for done in [pool.submit(put, name, ctype) for name, ctype in first.items()]:
            done.result()
    for name, ctype in files.items():
        put(name, ctype)
