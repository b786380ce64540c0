"""The capture record, ``shadowdiff.capture/1``: one JSON object per line.

Every collector writes exactly this and every analysis loader reads it, many
millions of times a night, so the model is plain slotted dataclasses and the
JSON goes through orjson. :meth:`CaptureRecord.to_line` writes the canonical
form; reading one back, with its rules and one-line reasons, is
:mod:`shadowdiff.model.validate` (``parse_line``), which builds on this module
and not the other way round.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

SCHEMA = "shadowdiff.capture/1"
DEFAULT_BODY_LIMIT = 256 * 1024
REDACTED = "[REDACTED]"
DEFAULT_REDACT_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
)

Role = Literal["primary", "shadow", "secondary"]
BodyEncoding = Literal["utf8", "base64"]
ErrorKind = Literal["timeout", "connect", "protocol", "upstream_closed", "other"]
ROLES: tuple[Role, ...] = ("primary", "shadow", "secondary")
ERROR_KINDS: tuple[ErrorKind, ...] = ("timeout", "connect", "protocol", "upstream_closed", "other")


@dataclass(slots=True)
class CaptureRequest:
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    body_encoding: BodyEncoding = "utf8"
    body_truncated: bool = False

    def body_bytes(self) -> bytes:
        return decode_body(self.body, self.body_encoding)


@dataclass(slots=True)
class CaptureResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    body_encoding: BodyEncoding = "utf8"
    body_truncated: bool = False
    body_size: int = 0
    body_sha256: str = hashlib.sha256(b"").hexdigest()

    def body_bytes(self) -> bytes:
        """The stored body bytes (a prefix of the real body when truncated)."""
        return decode_body(self.body, self.body_encoding)


@dataclass(slots=True)
class CaptureError:
    kind: ErrorKind
    message: str


@dataclass(slots=True)
class CaptureRecord:
    correlation_id: str
    role: Role
    captured_at: str
    request: CaptureRequest
    response: CaptureResponse | None
    latency_ms: float | None
    error: CaptureError | None = None
    deployment: str | None = None
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "correlation_id": self.correlation_id,
            "role": self.role,
            "captured_at": self.captured_at,
            "deployment": self.deployment,
            "request": _request_dict(self.request),
            "response": None if self.response is None else _response_dict(self.response),
            "latency_ms": self.latency_ms,
            "error": None
            if self.error is None
            else {"kind": self.error.kind, "message": self.error.message},
        }

    def to_line(self) -> bytes:
        """One JSON Lines line, newline included."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_APPEND_NEWLINE)


def _request_dict(req: CaptureRequest) -> dict[str, Any]:
    return {
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "headers": req.headers,
        "body": req.body,
        "body_encoding": req.body_encoding,
        "body_truncated": req.body_truncated,
    }


def _response_dict(resp: CaptureResponse) -> dict[str, Any]:
    return {
        "status": resp.status,
        "headers": resp.headers,
        "body": resp.body,
        "body_encoding": resp.body_encoding,
        "body_truncated": resp.body_truncated,
        "body_size": resp.body_size,
        "body_sha256": resp.body_sha256,
    }


# ------------------------------------------------------------------ bodies


def encode_body(
    raw: bytes | None, limit: int = DEFAULT_BODY_LIMIT
) -> tuple[str | None, BodyEncoding, bool, int, str]:
    """Store ``raw`` the way the contract does: ``(body, encoding, truncated, size, sha256)``.

    UTF-8 text is kept as text; anything else is base64. The stored bytes are
    cut at ``limit``, but size and digest always describe the whole body, so a
    reader can still tell two truncated bodies apart.
    """
    if raw is None:
        return None, "utf8", False, 0, hashlib.sha256(b"").hexdigest()
    size = len(raw)
    digest = hashlib.sha256(raw).hexdigest()
    truncated = size > limit
    kept = raw[:limit] if truncated else raw
    try:
        text = kept.decode("utf-8")
    except UnicodeDecodeError:
        if truncated:
            # The cut may have split a multi-byte character: trim to the last
            # whole one before giving up on text.
            for back in range(1, 4):
                try:
                    text = kept[:-back].decode("utf-8")
                except UnicodeDecodeError:
                    continue
                return text, "utf8", True, size, digest
        return base64.b64encode(kept).decode("ascii"), "base64", truncated, size, digest
    return text, "utf8", truncated, size, digest


def decode_body(body: str | None, encoding: BodyEncoding) -> bytes:
    if body is None:
        return b""
    if encoding == "base64":
        return base64.b64decode(body)
    return body.encode("utf-8")


def redact_headers(
    headers: dict[str, str], extra: frozenset[str] | set[str] = frozenset()
) -> dict[str, str]:
    """Lower-case names, and ``[REDACTED]`` for the default sensitive set plus ``extra``."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = REDACTED if key in DEFAULT_REDACT_HEADERS or key in extra else value
    return out


# ------------------------------------------------------------------ parsing
