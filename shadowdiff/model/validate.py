"""Validate a decoded capture record and build the model, with one reason per failure.

Readers count invalid lines by reason and skip them, so each reason is a short,
stable phrase that names the field (``"response.status is not an integer"``),
never a stack trace. Unknown extra fields are accepted: a newer collector may add
some, and an old reader must not drop its records.

What is required mirrors ``schemas/capture-1.schema.json`` (a test holds the two
together). Fields that have an obvious empty value (``query``, ``headers``,
``body``, ``body_encoding``, ``body_truncated``, ``deployment``, ``error``) may be
absent and take it; the identity, timing and status fields may not.

The rules live in one place, :func:`check_record`. The nightly report calls it
alone (it needs only the decoded dict, and building three dataclasses per line
was a quarter of its CPU); :func:`record_from_obj` calls it and then builds the
model from the checked dict without checking again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from importlib import resources
from typing import Any, cast

import orjson

from shadowdiff.model.errors import InvalidRecord
from shadowdiff.model.record import (
    ERROR_KINDS,
    ROLES,
    SCHEMA,
    CaptureError,
    CaptureRecord,
    CaptureRequest,
    CaptureResponse,
)
from shadowdiff.model.timefmt import parse as parse_rfc3339

_EMPTY_SHA = hashlib.sha256(b"").hexdigest()
_HEX = frozenset("0123456789abcdef")


def _fail(reason: str) -> InvalidRecord:
    return InvalidRecord(reason)


def _check_headers(obj: Any, where: str) -> None:
    if obj is None:
        return
    if not isinstance(obj, dict):
        raise _fail(f"{where}.headers is not an object")
    for key, value in obj.items():
        if not isinstance(value, str):
            raise _fail(f"{where}.headers[{key!r}] is not a string")


def _check_body(obj: dict[str, Any], where: str) -> Any:
    body = obj.get("body")
    if body is not None and not isinstance(body, str):
        raise _fail(f"{where}.body is not a string or null")
    if obj.get("body_encoding", "utf8") not in ("utf8", "base64"):
        raise _fail(f"{where}.body_encoding is not 'utf8' or 'base64'")
    if not isinstance(obj.get("body_truncated", False), bool):
        raise _fail(f"{where}.body_truncated is not a boolean")
    return body


def _check_request(obj: Any) -> None:
    if not isinstance(obj, dict):
        raise _fail("request is missing or not an object")
    method = obj.get("method")
    if not isinstance(method, str) or not method:
        raise _fail("request.method is missing or not a string")
    if not isinstance(obj.get("path"), str):
        raise _fail("request.path is missing or not a string")
    query = obj.get("query", "")
    if query is not None and not isinstance(query, str):
        raise _fail("request.query is not a string")
    _check_body(obj, "request")
    _check_headers(obj.get("headers"), "request")


def _default_size(body: str | None) -> int:
    return 0 if body is None else len(body)


def _default_sha(body: str | None) -> str:
    return _EMPTY_SHA if body is None else ""


def _check_response(obj: Any) -> None:
    if not isinstance(obj, dict):
        raise _fail("response is not an object or null")
    status = obj.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        raise _fail("response.status is missing or not an integer from 100 to 999")
    body = _check_body(obj, "response")
    size = obj.get("body_size")
    if size is None:
        size = _default_size(body)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail("response.body_size is not a non-negative integer")
    sha = obj.get("body_sha256")
    if sha is None:
        sha = _default_sha(body)
    if not isinstance(sha, str) or (sha and (len(sha) != 64 or not _HEX.issuperset(sha))):
        raise _fail("response.body_sha256 is not a 64-character lower-case hex digest")
    _check_headers(obj.get("headers"), "response")


def _check_error(obj: Any) -> None:
    if not isinstance(obj, dict):
        raise _fail("error is not an object or null")
    if obj.get("kind") not in ERROR_KINDS:
        raise _fail("error.kind is not one of " + ", ".join(ERROR_KINDS))
    if not isinstance(obj.get("message", ""), str):
        raise _fail("error.message is not a string")


def parse_captured_at(text: Any) -> datetime:
    try:
        return parse_rfc3339(text)
    except (ValueError, TypeError) as exc:
        raise _fail("captured_at is missing or not an RFC 3339 timestamp") from exc


def check_record(obj: Any) -> datetime:
    """Raise :class:`InvalidRecord` with the first reason ``obj`` is not a record;
    return its ``captured_at``, parsed (readers window on it)."""
    if not isinstance(obj, dict):
        raise _fail("not a JSON object")
    schema = obj.get("schema")
    if schema != SCHEMA:
        if schema is None:
            raise _fail("schema is missing")
        raise _fail(f"unknown schema {str(schema)[:40]!r}")
    cid = obj.get("correlation_id")
    if not isinstance(cid, str) or not cid:
        raise _fail("correlation_id is missing or empty")
    if obj.get("role") not in ROLES:
        raise _fail("role is not primary, shadow or secondary")
    moment = parse_captured_at(obj.get("captured_at"))
    deployment = obj.get("deployment")
    if deployment is not None and not isinstance(deployment, str):
        raise _fail("deployment is not a string or null")
    if "response" not in obj:
        raise _fail("response is missing")
    response = obj["response"]
    if response is not None:
        _check_response(response)
    if obj.get("error") is not None:
        _check_error(obj["error"])
    latency = obj.get("latency_ms")
    if latency is not None and (
        not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0
    ):
        raise _fail("latency_ms is not a non-negative number")
    if latency is None and response is not None:
        raise _fail("latency_ms is missing for a record with a response")
    _check_request(obj.get("request"))
    return moment


def record_from_obj(obj: Any) -> CaptureRecord:
    """Build a :class:`CaptureRecord` from decoded JSON, or raise :class:`InvalidRecord`."""
    check_record(obj)
    req: dict[str, Any] = obj["request"]
    resp: dict[str, Any] | None = obj["response"]
    err: dict[str, Any] | None = obj.get("error")
    latency = obj.get("latency_ms")
    response = None
    if resp is not None:
        body = resp.get("body")
        size = resp.get("body_size")
        sha = resp.get("body_sha256")
        response = CaptureResponse(
            status=resp["status"],
            headers=resp.get("headers") or {},
            body=body,
            body_encoding=resp.get("body_encoding", "utf8"),
            body_truncated=resp.get("body_truncated", False),
            body_size=_default_size(body) if size is None else size,
            body_sha256=_default_sha(body) if sha is None else sha,
        )
    return CaptureRecord(
        schema=SCHEMA,
        correlation_id=obj["correlation_id"],
        role=obj["role"],
        captured_at=obj["captured_at"],
        deployment=obj.get("deployment"),
        request=CaptureRequest(
            method=req["method"],
            path=req["path"],
            query=req.get("query") or "",
            headers=req.get("headers") or {},
            body=req.get("body"),
            body_encoding=req.get("body_encoding", "utf8"),
            body_truncated=req.get("body_truncated", False),
        ),
        response=response,
        latency_ms=None if latency is None else float(latency),
        error=None
        if err is None
        else CaptureError(kind=err["kind"], message=err.get("message", "")),
    )


def validate(obj: Any) -> str | None:
    """``None`` for a valid record, else the one-line reason it is not."""
    try:
        record_from_obj(obj)
    except InvalidRecord as exc:
        return exc.reason
    return None


def json_schema() -> dict[str, Any]:
    """The shipped JSON Schema for ``shadowdiff.capture/1`` (draft 2020-12)."""
    text = resources.files("shadowdiff.model").joinpath("schemas/capture-1.schema.json").read_text()
    return cast(dict[str, Any], json.loads(text))


def parse_line(line: bytes | str) -> CaptureRecord:
    """Parse and validate one line; raises :class:`shadowdiff.model.errors.InvalidRecord`."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecord("not JSON") from exc
    return record_from_obj(obj)
