"""Kinesis Data Streams sink: one stream record per capture line.

Each record's data is one JSON Lines line, newline included, so Firehose's
concatenation into S3 objects stays valid JSON Lines; the partition key is the
correlation ID. PutRecords calls stay within the service limits (500 records,
5 MiB per call, 1 MiB per record including its key): a record that is too large
has its bodies cut and marked ``body_truncated`` rather than being rejected.
Entries that fail (``FailedRecordCount``, per-entry ``ErrorCode``) are retried
with exponential backoff and jitter; what still fails is handed back to the
base class, which spools it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson

from collector.sinks.base import BaseSink, backoff
from collector.sinks.items import Item, PartialWrite
from collector.sinks.s3 import default_client
from shadowdiff.aws import aws_errors
from shadowdiff.model.errors import SinkError
from shadowdiff.model.record import decode_body, encode_body

MAX_RECORDS = 500
MAX_CALL_BYTES = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024
MAX_KEY_CHARS = 256


def partition_key(correlation_id: str) -> str:
    if 0 < len(correlation_id) <= MAX_KEY_CHARS:
        return correlation_id
    return hashlib.sha256(correlation_id.encode("utf-8")).hexdigest()


def fit_line(line: bytes, limit: int) -> bytes:
    """``line`` cut to at most ``limit`` bytes by shortening its bodies (then headers)."""
    if len(line) <= limit:
        return line
    obj = orjson.loads(line)
    for _ in range(8):
        over = len(line) - limit
        if over <= 0:
            return line
        parts = [p for p in (obj.get("response"), obj.get("request")) if p and p.get("body")]
        if not parts:
            break
        part = max(parts, key=lambda p: len(p["body"]))
        raw = decode_body(part["body"], part.get("body_encoding", "utf8"))
        cut = over if part.get("body_encoding") != "base64" else over * 3 // 4 + 4
        keep = max(0, len(raw) - cut - 1024)
        body, encoding, _, _, _ = encode_body(raw + b"\0", keep)
        part.update(body=body if keep else None, body_encoding=encoding, body_truncated=True)
        line = orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    for part in (obj.get("response"), obj.get("request")):
        if part:
            part.update(body=None, body_truncated=True, headers={})
    return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)


def chunk_entries(
    entries: list[tuple[Item, dict[str, Any]]],
) -> list[list[tuple[Item, dict[str, Any]]]]:
    """Split into PutRecords calls of at most 500 entries and 5 MiB."""
    calls: list[list[tuple[Item, dict[str, Any]]]] = []
    current: list[tuple[Item, dict[str, Any]]] = []
    size = 0
    for item, entry in entries:
        n = len(entry["Data"]) + len(entry["PartitionKey"].encode("utf-8"))
        if current and (len(current) >= MAX_RECORDS or size + n > MAX_CALL_BYTES):
            calls.append(current)
            current, size = [], 0
        current.append((item, entry))
        size += n
    if current:
        calls.append(current)
    return calls


class KinesisSink(BaseSink):
    entry_attempts = 5
    entry_backoff = 0.1

    def __init__(self, stream: str, client: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream = stream
        self.name = f"kinesis://{stream}"
        self.client = client if client is not None else default_client("kinesis")

    def entry(self, item: Item) -> dict[str, Any]:
        key = partition_key(item.key)
        data = fit_line(item.line, MAX_RECORD_BYTES - len(key.encode("utf-8")))
        return {"Data": data, "PartitionKey": key}

    def _write(self, items: list[Item]) -> None:
        calls = chunk_entries([(item, self.entry(item)) for item in items])
        for index, call in enumerate(calls):
            try:
                failed = self._put(call)
            except SinkError as exc:
                if index == 0:
                    raise
                raise PartialWrite([i for c in calls[index:] for i, _ in c], exc) from exc
            if failed:
                rest = [i for i, _ in failed] + [i for c in calls[index + 1 :] for i, _ in c]
                if len(rest) == len(items):
                    raise SinkError(f"kinesis stream {self.stream}: no record accepted")
                raise PartialWrite(
                    rest, f"kinesis stream {self.stream}: {len(failed)} entries failed"
                )

    def _put(self, call: list[tuple[Item, dict[str, Any]]]) -> list[tuple[Item, dict[str, Any]]]:
        """Put one call's entries, retrying failed ones; returns those that never went."""
        pending = call
        for attempt in range(self.entry_attempts):
            try:
                with aws_errors(SinkError, f"cannot write to kinesis stream {self.stream}"):
                    resp = self.client.put_records(
                        StreamName=self.stream, Records=[e for _, e in pending]
                    )
            except SinkError:
                if attempt == 0:
                    raise
                return pending
            if not resp.get("FailedRecordCount"):
                return []
            results = resp.get("Records", [])
            pending = [p for p, r in zip(pending, results, strict=False) if r.get("ErrorCode")]
            if not pending:
                return []
            if attempt + 1 < self.entry_attempts and not self._out_of_time():
                time.sleep(backoff(attempt, self.entry_backoff, 2.0))
        return pending
