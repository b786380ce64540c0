"""Turning one exchange into a ``shadowdiff.capture/1`` record (docs/contract.md §3).

Bodies are stored as received: a gzip/br/deflate response is kept compressed,
with its ``content-encoding`` header (base64, since it is not UTF-8), and
``body_size``/``body_sha256`` describe the bytes as received. Analysis decodes
before it compares. Redaction (headers, JSON fields) happens here, before the
record is queued.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime

from collector import codecs
from collector.redact import JsonRedactor, is_json
from shadowdiff.model.record import (
    CaptureError,
    CaptureRecord,
    CaptureRequest,
    CaptureResponse,
    ErrorKind,
    Role,
    encode_body,
    redact_headers,
)
from shadowdiff.model.timefmt import format_ms


class BodyTap:
    """Sees a body chunk by chunk: keeps a prefix, hashes and counts the whole."""

    __slots__ = ("_hash", "_keep", "limit", "prefix", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._keep = limit + 4  # a few extra bytes so encode_body can trim a split character
        self._hash = hashlib.sha256()
        self.prefix = bytearray()
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        room = self._keep - len(self.prefix)
        if room > 0:
            self.prefix += chunk[:room]

    @property
    def complete(self) -> bool:
        return self.size <= self.limit

    def sha256(self) -> str:
        return self._hash.hexdigest()


@dataclass(slots=True)
class Exchange:
    """Everything the hot path learned about one request and its upstream answer."""

    role: Role
    correlation_id: str
    received_at: datetime
    method: str
    path: str
    query: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    edge_truncated: bool = False
    status: int | None = None
    response_headers: dict[str, str] | None = None
    response_body: BodyTap | None = None
    latency_ms: float | None = None
    error_kind: ErrorKind | None = None
    error_message: str = ""


class RecordBuilder:
    """Built once from the settings; :meth:`line` encodes one exchange."""

    def __init__(
        self,
        *,
        body_limit: int,
        deployment: str | None,
        redact_headers: frozenset[str],
        redact_json_fields: tuple[str, ...],
    ) -> None:
        self.body_limit = body_limit
        self.deployment = deployment
        self.redact = redact_headers
        self.json = JsonRedactor(redact_json_fields)
        self._second = -1
        self._prefix = ""

    def _json_body(self, raw: bytes, headers: dict[str, str], complete: bool) -> bytes | None:
        """Apply JSON field redaction; None withholds a body that cannot be redacted.

        A compressed body is decoded, redacted and, only when a field matched,
        encoded again with the same coding, so the record still holds what an
        upstream would have sent.
        """
        if not self.json or not is_json(headers.get("content-type")):
            return raw
        if not complete:
            return None
        coding = headers.get("content-encoding", "identity").strip().lower()
        if coding in ("", "identity"):
            return self.json.redact(raw) if raw else raw
        try:
            plain = codecs.decode(coding, raw)
        except (ValueError, OSError, EOFError, zlib.error, ImportError):
            return None
        redacted = self.json.redact(plain)
        if redacted is None:
            return None
        return raw if redacted is plain else codecs.encode(coding, redacted)

    def _captured_at(self, at: datetime) -> str:
        """``format_ms``, with the part up to the second cached (it is strftime-heavy)."""
        second = int(at.timestamp())
        if second != self._second:
            self._second, self._prefix = second, format_ms(at)[:20]
        return f"{self._prefix}{at.microsecond // 1000:03d}Z"

    def record(self, ex: Exchange) -> CaptureRecord:
        from collector.headers import to_record

        req_headers = to_record(ex.request_headers)
        raw_req: bytes | None = ex.request_body
        if raw_req and self.json:
            raw_req = self._json_body(raw_req, req_headers, True)
        body, enc, truncated, _, _ = encode_body(raw_req or None, self.body_limit)
        request = CaptureRequest(
            method=ex.method,
            path=ex.path,
            query=ex.query,
            headers=redact_headers(req_headers, self.redact),
            body=body,
            body_encoding=enc,
            body_truncated=truncated or ex.edge_truncated or raw_req is None,
        )
        response = None
        if ex.status is not None and ex.error_kind is None:
            headers = ex.response_headers or {}
            tap = ex.response_body
            raw = bytes(tap.prefix) if tap else b""
            size = tap.size if tap else 0
            sha = tap.sha256() if tap else hashlib.sha256(b"").hexdigest()
            withheld = False
            if self.json and raw:
                redacted = self._json_body(raw, headers, tap is None or tap.complete)
                if redacted is None:
                    withheld = True
                elif redacted is not raw:
                    raw, size, sha = redacted, len(redacted), hashlib.sha256(redacted).hexdigest()
            rbody, renc, rtrunc, _, _ = encode_body(raw or None, self.body_limit)
            response = CaptureResponse(
                status=ex.status,
                headers=redact_headers(headers, self.redact),
                body=None if withheld else rbody,
                body_encoding=renc,
                body_truncated=withheld or rtrunc or size > self.body_limit,
                body_size=size,
                body_sha256=sha,
            )
        error = None
        if ex.error_kind is not None:
            error = CaptureError(kind=ex.error_kind, message=ex.error_message[:500])
        return CaptureRecord(
            correlation_id=ex.correlation_id,
            role=ex.role,
            captured_at=self._captured_at(ex.received_at),
            deployment=self.deployment,
            request=request,
            response=response,
            latency_ms=None if ex.latency_ms is None else round(ex.latency_ms, 3),
            error=error,
        )
