"""CloudFront's header rules and its ``{name: [{key, value}]}`` header shape.

CloudFront rejects a viewer-request result that adds or changes a disallowed
header, or changes a read-only one, and answers the viewer with a 502. The edge
therefore touches exactly one header on the returned request (the correlation
header) and the config validator keeps that name out of these lists.
Source: CloudFront Developer Guide, "Restrictions on all edge functions"
(disallowed headers) and "Restrictions on Lambda@Edge" (read-only headers).
"""

from __future__ import annotations

import re
from typing import Any

# RFC 9110 token: what a header name may be made of.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

FORBIDDEN = frozenset(
    (
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "upgrade",
        "x-amzn-auth",
        "x-amzn-errortype",
        "x-amzn-fle-profile",
        "x-amzn-header-count",
        "x-amzn-header-order",
        "x-amzn-lambda-integration-tag",
        "x-amzn-requestid",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    )
)
FORBIDDEN_PREFIXES = ("x-accel-", "x-amz-cf-", "x-amzn-cf-", "x-edge-")
READ_ONLY_VIEWER_REQUEST = frozenset(("content-length", "host", "transfer-encoding", "via"))

# Hop-by-hop or framing headers: they describe the viewer's connection, not the
# request, so the mirror drops them and writes its own.
NOT_MIRRORED = frozenset(
    (
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
    )
)


def flatten(headers: Any) -> list[tuple[str, str]]:
    """CloudFront's header map as ``(lower-case name, value)`` pairs, in order.

    Repeated headers stay separate lines. Entries that could not be sent safely on
    the wire (not a token, or a value with CR/LF/NUL) are skipped, so a malformed
    event can never inject headers into the mirror.
    """
    pairs: list[tuple[str, str]] = []
    if not isinstance(headers, dict):
        return pairs
    for name, entries in headers.items():
        if not isinstance(name, str) or not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            key = entry.get("key", name)
            value = entry.get("value")
            if not isinstance(key, str) or not isinstance(value, str):
                continue
            if not TOKEN.fullmatch(key) or any(c in value for c in "\r\n\x00"):
                continue
            pairs.append((key.lower(), value))
    return pairs


def first(pairs: list[tuple[str, str]], name: str) -> str | None:
    for key, value in pairs:
        if key == name:
            return value
    return None
