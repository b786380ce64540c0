"""Validate a decoded capture record and build the model, with one reason per failure.

Readers count invalid lines by reason and skip them, so each reason is a short,
stable phrase that names the field (``"response.status is not an integer"``),
never a stack trace. Unknown extra fields are accepted: a newer collector may add
some, and an old reader must not drop its records.

What is required mirrors ``schemas/capture-1.schema.json`` (a test holds the two
together). Fields that have an obvious empty value (``query``, ``headers``,
``body``, ``body_encoding``, ``body_truncated``, ``deployment``, ``error``) may be
absent and take it; the identity, timing and status fields may not.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from importlib import resources
from typing import Any, cast

from shadowdiff.errors import InvalidRecord
from shadowdiff.record import (
    ERROR_KINDS,
    ROLES,
    SCHEMA,
    BodyEncoding,
    CaptureError,
    CaptureRecord,
    CaptureRequest,
    CaptureResponse,
    ErrorKind,
    Role,
)
from shadowdiff.timefmt import parse as parse_rfc3339

_EMPTY_SHA = hashlib.sha256(b"").hexdigest()
_HEX = frozenset("0123456789abcdef")


def _fail(reason: str) -> InvalidRecord:
    return InvalidRecord(reason)


def _headers(obj: Any, where: str) -> dict[str, str]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise _fail(f"{where}.headers is not an object")
    for key, value in obj.items():
        if not isinstance(value, str):
            raise _fail(f"{where}.headers[{key!r}] is not a string")
    return cast(dict[str, str], obj)


def _body(obj: dict[str, Any], where: str) -> tuple[str | None, BodyEncoding, bool]:
    body = obj.get("body")
    if body is not None and not isinstance(body, str):
        raise _fail(f"{where}.body is not a string or null")
    encoding = obj.get("body_encoding", "utf8")
    if encoding not in ("utf8", "base64"):
        raise _fail(f"{where}.body_encoding is not 'utf8' or 'base64'")
    truncated = obj.get("body_truncated", False)
    if not isinstance(truncated, bool):
        raise _fail(f"{where}.body_truncated is not a boolean")
    return body, cast(BodyEncoding, encoding), truncated


def _request(obj: Any) -> CaptureRequest:
    if not isinstance(obj, dict):
        raise _fail("request is missing or not an object")
    method = obj.get("method")
    if not isinstance(method, str) or not method:
        raise _fail("request.method is missing or not a string")
    path = obj.get("path")
    if not isinstance(path, str):
        raise _fail("request.path is missing or not a string")
    query = obj.get("query", "")
    if query is None:
        query = ""
    if not isinstance(query, str):
        raise _fail("request.query is not a string")
    body, encoding, truncated = _body(obj, "request")
    return CaptureRequest(
        method=method,
        path=path,
        query=query,
        headers=_headers(obj.get("headers"), "request"),
        body=body,
        body_encoding=encoding,
        body_truncated=truncated,
    )


def _response(obj: Any) -> CaptureResponse | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise _fail("response is not an object or null")
    status = obj.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        raise _fail("response.status is missing or not an integer from 100 to 999")
    body, encoding, truncated = _body(obj, "response")
    size = obj.get("body_size")
    if size is None:
        size = 0 if body is None else len(body)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail("response.body_size is not a non-negative integer")
    sha = obj.get("body_sha256")
    if sha is None:
        sha = _EMPTY_SHA if body is None else ""
    if not isinstance(sha, str) or (sha and (len(sha) != 64 or not _HEX.issuperset(sha))):
        raise _fail("response.body_sha256 is not a 64-character lower-case hex digest")
    return CaptureResponse(
        status=status,
        headers=_headers(obj.get("headers"), "response"),
        body=body,
        body_encoding=encoding,
        body_truncated=truncated,
        body_size=size,
        body_sha256=sha,
    )


def _error(obj: Any) -> CaptureError | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise _fail("error is not an object or null")
    kind = obj.get("kind")
    if kind not in ERROR_KINDS:
        raise _fail("error.kind is not one of " + ", ".join(ERROR_KINDS))
    message = obj.get("message", "")
    if not isinstance(message, str):
        raise _fail("error.message is not a string")
    return CaptureError(kind=cast(ErrorKind, kind), message=message)


def parse_captured_at(text: Any) -> datetime:
    try:
        return parse_rfc3339(text)
    except (ValueError, TypeError) as exc:
        raise _fail("captured_at is missing or not an RFC 3339 timestamp") from exc


def record_from_obj(obj: Any) -> CaptureRecord:
    """Build a :class:`CaptureRecord` from decoded JSON, or raise :class:`InvalidRecord`."""
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
    role = obj.get("role")
    if role not in ROLES:
        raise _fail("role is not primary, shadow or secondary")
    captured_at = obj.get("captured_at")
    parse_captured_at(captured_at)
    deployment = obj.get("deployment")
    if deployment is not None and not isinstance(deployment, str):
        raise _fail("deployment is not a string or null")
    if "response" not in obj:
        raise _fail("response is missing")
    response = _response(obj["response"])
    error = _error(obj.get("error"))
    latency = obj.get("latency_ms")
    if latency is not None and (
        not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0
    ):
        raise _fail("latency_ms is not a non-negative number")
    if latency is None and response is not None:
        raise _fail("latency_ms is missing for a record with a response")
    return CaptureRecord(
        schema=SCHEMA,
        correlation_id=cid,
        role=cast(Role, role),
        captured_at=cast(str, captured_at),
        deployment=deployment,
        request=_request(obj.get("request")),
        response=response,
        latency_ms=None if latency is None else float(latency),
        error=error,
    )


def _check_body(obj: dict[str, Any], where: str) -> Any:
    body = obj.get("body")
    if (
        (body is not None and not isinstance(body, str))
        or obj.get("body_encoding", "utf8") not in ("utf8", "base64")
        or not isinstance(obj.get("body_truncated", False), bool)
    ):
        _body(obj, where)  # raises the same reason, in the same order
    return body


def _check_response(obj: dict[str, Any]) -> None:
    status = obj.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        raise _fail("response.status is missing or not an integer from 100 to 999")
    body = _check_body(obj, "response")
    size = obj.get("body_size")
    if size is None:
        size = 0 if body is None else len(body)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail("response.body_size is not a non-negative integer")
    sha = obj.get("body_sha256")
    if sha is None:
        sha = _EMPTY_SHA if body is None else ""
    if not isinstance(sha, str) or (sha and (len(sha) != 64 or not _HEX.issuperset(sha))):
        raise _fail("response.body_sha256 is not a 64-character lower-case hex digest")
    _headers(obj.get("headers"), "response")


def check_record(obj: Any) -> datetime:
    """What :func:`record_from_obj` checks, in its order and with its reasons, without
    building the model; returns ``captured_at`` parsed.

    The nightly report validates every line it reads but only needs the decoded
    dict, so building three dataclasses per record (and parsing the timestamp a
    second time to window it) was a quarter of its CPU.
    """
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
        if not isinstance(response, dict):
            raise _fail("response is not an object or null")
        _check_response(response)
    error = obj.get("error")
    if error is not None:
        _error(error)
    latency = obj.get("latency_ms")
    if latency is not None and (
        not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0
    ):
        raise _fail("latency_ms is not a non-negative number")
    if latency is None and response is not None:
        raise _fail("latency_ms is missing for a record with a response")
    request = obj.get("request")
    if not isinstance(request, dict):
        _request(request)  # raises the same reason
        return moment
    method = request.get("method")
    if not isinstance(method, str) or not method:
        raise _fail("request.method is missing or not a string")
    if not isinstance(request.get("path"), str):
        raise _fail("request.path is missing or not a string")
    query = request.get("query", "")
    if query is not None and not isinstance(query, str):
        raise _fail("request.query is not a string")
    _check_body(request, "request")
    _headers(request.get("headers"), "request")
    return moment


def validate(obj: Any) -> str | None:
    """``None`` for a valid record, else the one-line reason it is not."""
    try:
        record_from_obj(obj)
    except InvalidRecord as exc:
        return exc.reason
    return None


def json_schema() -> dict[str, Any]:
    """The shipped JSON Schema for ``shadowdiff.capture/1`` (draft 2020-12)."""
    text = resources.files("shadowdiff").joinpath("schemas/capture-1.schema.json").read_text()
    return cast(dict[str, Any], json.loads(text))
