"""HMAC signing of mirrored requests, shared by the edge (signs) and the collector (verifies).

The signature covers what an attacker would want to change or replay: when it
was sent, which viewer request it mirrors, and the method, URI, query string and
body exactly as the mirror is sent. The message is those fields joined by
``\\n``, with the body as the hex SHA-256 of its bytes (empty body: SHA-256 of
nothing), and the signature is HMAC-SHA256 over it, in hex.

Standard library only: this module ships inside the Lambda@Edge zip.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "x-shadow-timestamp"
SIGNATURE_HEADER = "x-shadow-signature"
MAX_SKEW_SECONDS = 300


def message(
    timestamp: str, correlation_id: str, method: str, uri: str, query: str, body: bytes
) -> bytes:
    """The exact bytes that are signed."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((timestamp, correlation_id, method, uri, query, body_hash)).encode("utf-8")


def sign(
    secret: str,
    timestamp: str,
    correlation_id: str,
    method: str,
    uri: str,
    query: str,
    body: bytes,
) -> str:
    msg = message(timestamp, correlation_id, method, uri, query, body)
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    *,
    timestamp: str | None,
    signature: str | None,
    correlation_id: str,
    method: str,
    uri: str,
    query: str,
    body: bytes,
    now: float,
    max_skew: float = MAX_SKEW_SECONDS,
) -> str | None:
    """``None`` when the signature is good, else why not: ``missing``, ``expired`` or ``bad``."""
    if not timestamp or not signature:
        return "missing"
    try:
        sent = int(timestamp)
    except ValueError:
        return "bad"
    if abs(now - sent) > max_skew:
        return "expired"
    expected = sign(secret, timestamp, correlation_id, method, uri, query, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return "bad"
    return None
