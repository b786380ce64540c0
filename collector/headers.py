"""Which headers go upstream, which come back, and how a record spells them.

Pure functions over ASGI header lists (``[(b"name", b"value"), ...]``, names
already lower-case) so the hot path does one pass over the request headers.
"""

from __future__ import annotations

from dataclasses import dataclass

# RFC 9110 §7.6.1 connection-specific headers, plus the de-facto ones proxies drop.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authenticate",
    }
)
# Recomputed for the forwarded body by the client.
_REQUEST_DROP = HOP_BY_HOP | {b"content-length", b"host", b"expect"}
_RESPONSE_DROP_STR = frozenset(h.decode() for h in HOP_BY_HOP)
CONTROL_PREFIX = b"x-shadow-"
BODY_TRUNCATED = b"x-shadow-body-truncated"


@dataclass(slots=True)
class IncomingHeaders:
    """What one pass over the request headers finds."""

    forward: list[tuple[str, str]]
    correlation_id: str | None = None
    timestamp: str | None = None
    signature: str | None = None
    host: str | None = None
    edge_truncated: bool = False
    has_forwarded_host: bool = False


def split_request_headers(
    raw: list[tuple[bytes, bytes]], correlation_header: bytes
) -> IncomingHeaders:
    """Pick out the control values and build the list of headers to forward.

    Hop-by-hop headers, the ones named in ``Connection``, and every
    ``x-shadow-*`` control header are dropped; ``Host`` is kept aside so the
    caller can send the upstream's own and put the original in
    ``x-forwarded-host``.
    """
    out = IncomingHeaders(forward=[])
    forward = out.forward
    named: set[bytes] | None = None
    for name, value in raw:
        if name == correlation_header:
            out.correlation_id = value.decode("latin-1").strip() or None
        if name.startswith(CONTROL_PREFIX):
            if name == b"x-shadow-timestamp":
                out.timestamp = value.decode("latin-1")
            elif name == b"x-shadow-signature":
                out.signature = value.decode("latin-1")
            elif name == BODY_TRUNCATED:
                out.edge_truncated = value.strip() not in (b"", b"0", b"false")
            continue
        if name in _REQUEST_DROP:
            if name == b"host":
                out.host = value.decode("latin-1")
            elif name == b"connection":
                tokens = {t.strip().lower() for t in value.split(b",")}
                named = (named or set()) | (tokens - {b"close", b"keep-alive", b""})
            continue
        if name == b"x-forwarded-host":
            out.has_forwarded_host = True
        forward.append((name.decode("latin-1"), value.decode("latin-1")))
    if named:
        out.forward = [(n, v) for n, v in forward if n.encode("latin-1") not in named]
    return out


def response_headers_out(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Upstream response headers to send back: everything but hop-by-hop."""
    return [(n, v) for n, v in raw if n.lower() not in HOP_BY_HOP]


def to_record(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names, repeated headers joined with ``", "`` (docs/contract.md §3)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in out:
            out[key] += ", " + value
        else:
            out[key] = value
    return out


def response_record_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The upstream's response headers as a record holds them (hop-by-hop left out)."""
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key in _RESPONSE_DROP_STR:
            continue
        val = value.decode("latin-1")
        if key in out:
            out[key] += ", " + val
        else:
            out[key] = val
    return out
