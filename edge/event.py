"""Reading a CloudFront viewer-request event into plain data.

The event shape is AWS's (``Records[0].cf.config`` and ``Records[0].cf.request``,
headers as ``{name: [{key, value}]}``, an optional ``body`` with ``data``,
``encoding`` ``base64``/``text`` and ``inputTruncated``). Anything else is a
``BadEvent`` naming the field, which the handler logs and passes through.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from edge.headers import TOKEN, flatten


class BadEvent(ValueError):
    """The event is not a viewer-request event we can mirror; names the field."""


@dataclass(frozen=True)
class ViewerRequest:
    request_id: str
    method: str
    uri: str
    querystring: str
    headers: list[tuple[str, str]]
    body: bytes
    body_truncated: bool


def request_of(event: Any) -> dict[str, Any] | None:
    """The mutable request dict inside the event, or ``None`` when there is none."""
    try:
        request = event["Records"][0]["cf"]["request"]
    except (KeyError, IndexError, TypeError):
        return None
    return request if isinstance(request, dict) else None


def request_id_of(event: Any) -> str:
    try:
        value = event["Records"][0]["cf"]["config"]["requestId"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BadEvent("Records[0].cf.config.requestId: missing") from exc
    if not isinstance(value, str) or not value or any(c in value for c in "\r\n\x00"):
        raise BadEvent("Records[0].cf.config.requestId: not a non-empty single-line string")
    return value


def parse(event: Any) -> ViewerRequest:
    request = request_of(event)
    if request is None:
        raise BadEvent("Records[0].cf.request: missing")
    method = request.get("method")
    if not isinstance(method, str) or not TOKEN.fullmatch(method):
        raise BadEvent("request.method: missing or not an HTTP method")
    uri = request.get("uri")
    if not isinstance(uri, str) or not uri.startswith("/"):
        raise BadEvent("request.uri: missing or not starting with '/'")
    query = request.get("querystring", "")
    if not isinstance(query, str):
        raise BadEvent("request.querystring: not a string")
    body, truncated = _body(request)
    return ViewerRequest(
        request_id=request_id_of(event),
        method=method,
        uri=uri,
        querystring=query,
        headers=flatten(request.get("headers")),
        body=body,
        body_truncated=truncated,
    )


def _body(request: dict[str, Any]) -> tuple[bytes, bool]:
    """No ``body`` key means IncludeBody is off: mirror an empty body, not truncated."""
    body = request.get("body")
    if body is None:
        return b"", False
    if not isinstance(body, dict):
        raise BadEvent("request.body: not an object")
    data = body.get("data", "")
    if not isinstance(data, str):
        raise BadEvent("request.body.data: not a string")
    encoding = body.get("encoding", "base64")
    if encoding == "base64":
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadEvent("request.body.data: not valid base64") from exc
    elif encoding == "text":
        raw = data.encode("utf-8", "surrogatepass")
    else:
        raise BadEvent(f"request.body.encoding: {encoding!r} is neither base64 nor text")
    return raw, body.get("inputTruncated") is True
