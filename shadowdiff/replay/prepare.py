"""Which primary records are replayed, and the request each one becomes (pure functions).

A replayed request is the captured one (method, raw path, raw query, headers,
body) with three changes: hop-by-hop, framing and ``x-shadow-*`` control headers
are dropped (the client frames the request itself, and ``host`` becomes the
target's), every ``[REDACTED]`` value is dropped (a placeholder is not a
credential), and ``--set-header`` values are set. Anything the settings do not
allow is skipped with a short reason the report's notes count:

- ``method X``: X is not in ``--methods`` (only safe methods by default, since
  write requests have side effects on whatever the target talks to);
- ``truncated``: the body was cut at capture, so the request is not the real one;
- ``unsendable``: a line break, NUL or non-Latin-1 text in the path, query or a
  header (sending it would be a different request, or request smuggling), or a
  body that does not decode.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from typing import Any

from collector.headers import HOP_BY_HOP
from shadowdiff.model.record import REDACTED, decode_body

TRUNCATED = "truncated"
UNSENDABLE = "unsendable"
# Hop-by-hop (RFC 9110 §7.6.1), framing the client recomputes, and the origin's own host.
DROPPED = frozenset(h.decode() for h in HOP_BY_HOP) | {"content-length", "host", "expect"}
CONTROL_PREFIX = "x-shadow-"
_NAMES = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+(?:\n[!#$%&'*+\-.^_`|~0-9a-z]+)*")
_BAD_VALUE = re.compile(r"[\r\n\0]")
_BAD_TARGET = re.compile(r"[\s\0#]")


@dataclass(frozen=True, slots=True)
class Prepared:
    """The request to send again, identical for every target (``host`` is added per target)."""

    correlation_id: str
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def replay_headers(
    recorded: dict[str, str], set_headers: tuple[tuple[str, str], ...]
) -> list[tuple[str, str]] | None:
    """The headers to send, in recorded order, then the ``--set-header`` ones; None if unsendable.

    Checked all at once (one pattern over the names, one over the values): this runs
    for every replayed request.
    """
    connection = recorded.get("connection")
    named = {t.strip().lower() for t in connection.split(",")} if connection else ()
    replaced = {name for name, _ in set_headers} if set_headers else ()
    out = [
        (name, value)
        for name, value in ((n.lower(), v) for n, v in recorded.items())
        if name not in DROPPED
        and value != REDACTED
        and not name.startswith(CONTROL_PREFIX)
        and name not in named
        and name not in replaced
    ]
    if out:
        values = "".join([v for _, v in out])
        if not _NAMES.fullmatch("\n".join([n for n, _ in out])):
            return None
        if _BAD_VALUE.search(values) or not _latin1(values):
            return None
    out.extend(set_headers)
    return out


def skip_reason(request: dict[str, Any], methods: frozenset[str]) -> str | None:
    """Why the settings do not replay this request (``method X``, ``truncated``), or None."""
    method = str(request.get("method", "")).upper()
    if method not in methods:
        return f"method {method}"
    if request.get("body_truncated"):
        return TRUNCATED
    return None


def prepare(
    record: dict[str, Any], methods: frozenset[str], set_headers: tuple[tuple[str, str], ...]
) -> Prepared | str:
    """The request a valid primary record (decoded JSON) replays as, or the skip reason."""
    request: dict[str, Any] = record["request"]
    why = skip_reason(request, methods)
    if why is not None:
        return why
    path = str(request.get("path") or "/")
    query = str(request.get("query") or "")
    target = path + query
    if not path.startswith("/") or _BAD_TARGET.search(target) or not _latin1(target):
        return UNSENDABLE
    headers = replay_headers(request.get("headers") or {}, set_headers)
    if headers is None:
        return UNSENDABLE
    try:
        body = decode_body(request.get("body"), request.get("body_encoding", "utf8"))
    except (binascii.Error, ValueError):
        return UNSENDABLE
    return Prepared(
        correlation_id=record["correlation_id"],
        method=str(request["method"]).upper(),
        path=path,
        query=query,
        headers=tuple(headers),
        body=body,
    )
