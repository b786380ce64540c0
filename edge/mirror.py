"""Pure decisions and bytes: which targets get a mirror, and what exactly is sent.

No I/O here, so every rule of docs/contract.md §2 (sampling, filters, transforms, the
signed fields) is tested on plain data. ``build`` returns ready-to-send HTTP/1.1
request bytes per target; ``edge.transport`` only moves them.
"""

from __future__ import annotations

import hashlib
import string
import urllib.parse
from dataclasses import dataclass

from edge import signing
from edge.config import EdgeConfig, Target
from edge.event import ViewerRequest
from edge.headers import NOT_MIRRORED, first

# Printable ASCII minus space and '#': what may appear raw in a request-target.
_WIRE_SAFE = "".join(c for c in string.printable if c not in string.whitespace and c != "#")
_WIRE_SAFE_SET = frozenset(_WIRE_SAFE)
# Methods whose requests carry a body by definition: always send Content-Length.
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))
OWN_HEADERS = frozenset(
    (
        "x-forwarded-host",
        "x-shadow-role",
        "x-shadow-body-truncated",
        signing.TIMESTAMP_HEADER,
        signing.SIGNATURE_HEADER,
    )
)


@dataclass(frozen=True)
class Mirror:
    target: Target
    payload: bytes


def sample_point(correlation_id: str) -> float:
    """The ID's fixed place in [0, 1): first 8 bytes of its SHA-256 as a fraction.

    Every target compares the same point with its rate, so targets with equal
    rates get the same requests and a higher rate gets a superset.
    """
    digest = hashlib.sha256(correlation_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def sampled(correlation_id: str, rate: float) -> bool:
    return sample_point(correlation_id) < rate


def selected(config: EdgeConfig, method: str, uri: str) -> bool:
    """The method allowlist, then include (any must match) and exclude (none may) regexes."""
    if method not in config.methods:
        return False
    if config.include_paths and not any(p.search(uri) for p in config.include_paths):
        return False
    return not any(p.search(uri) for p in config.exclude_paths)


def wire_safe(text: str) -> str:
    """Percent-encode what cannot go raw on a request line; CloudFront's values pass as is."""
    if all(c in _WIRE_SAFE_SET for c in text):
        return text
    return urllib.parse.quote(text, safe=_WIRE_SAFE, errors="surrogatepass")


def transform_query(query: str, to_set: tuple[tuple[str, str], ...]) -> str:
    """The viewer's query string byte for byte, with each ``set`` key replaced or appended.

    A replaced key keeps the position of its first occurrence; its repeats are
    dropped so the mirror carries exactly the configured value.
    """
    if not to_set:
        return query
    parts = query.split("&") if query else []
    for name, value in to_set:
        encoded = f"{urllib.parse.quote(name, safe='')}={urllib.parse.quote(value, safe='')}"
        hits = [i for i, part in enumerate(parts) if _query_key(part) == name]
        if not hits:
            parts.append(encoded)
            continue
        parts[hits[0]] = encoded
        for i in reversed(hits[1:]):
            del parts[i]
    return "&".join(parts)


def _query_key(part: str) -> str:
    return urllib.parse.unquote_plus(part.split("=", 1)[0])


def chosen(config: EdgeConfig, request_id: str, method: str, uri: str) -> list[Target]:
    """The targets that get a mirror of this request: filters first, then each target's rate."""
    if not selected(config, method, uri):
        return []
    return [t for t in config.targets if sampled(request_id, t.sample_rate)]


def build(
    config: EdgeConfig,
    request: ViewerRequest,
    timestamp: int,
    targets: list[Target] | None = None,
) -> list[Mirror]:
    """One mirror per chosen target; empty when the request is filtered out.

    ``targets`` skips the choice when the caller made it already (the primary
    tap chooses when it queues a request and builds when it sends it, so the
    signature's timestamp is the sending time).
    """
    cid = request.request_id
    if targets is None:
        targets = chosen(config, cid, request.method, request.uri)
    if not targets:
        return []
    uri = wire_safe(request.uri)
    query = wire_safe(transform_query(request.querystring, config.set_query))
    common = _common_headers(config, request)
    if config.signing_secret is not None:
        ts = str(timestamp)
        sig = signing.sign(config.signing_secret, ts, cid, request.method, uri, query, request.body)
        common += [(signing.TIMESTAMP_HEADER, ts), (signing.SIGNATURE_HEADER, sig)]
    if request.body or request.method in _BODY_METHODS:
        common.append(("content-length", str(len(request.body))))
    line = f"{request.method} {uri}{'?' + query if query else ''} HTTP/1.1\r\n"
    mirrors = []
    for target in targets:
        netloc = target.url.split("://", 1)[1]
        head = [("host", netloc), ("x-shadow-role", target.role), *common]
        text = line + "".join(f"{k}: {v}\r\n" for k, v in head) + "\r\n"
        mirrors.append(Mirror(target, text.encode("utf-8", "surrogatepass") + request.body))
    return mirrors


def _common_headers(config: EdgeConfig, request: ViewerRequest) -> list[tuple[str, str]]:
    """Viewer headers minus framing and spoofable ones, transforms applied, then ours."""
    dropped = NOT_MIRRORED | OWN_HEADERS | config.remove_headers | {config.correlation_header}
    dropped |= {name for name, _ in config.set_headers}
    headers = [(k, v) for k, v in request.headers if k not in dropped]
    headers += config.set_headers
    host = first(request.headers, "host")
    if host is not None:
        headers.append(("x-forwarded-host", host))
    headers.append((config.correlation_header, request.request_id))
    if request.body_truncated:
        headers.append(("x-shadow-body-truncated", "1"))
    return headers
