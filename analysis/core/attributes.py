"""The attributes of one request that ``explain`` can name (CONTRACT §12).

A request becomes a tuple of keys ``"<attribute>\\0<value>"``: ``method``,
``path[N]`` (the N-th segment of the raw path, 0-based), ``query.<key>`` (its
first value, percent-decoded; ``""`` for a bare key), ``header.<name>`` for the
configured headers, and ``body.<key>`` for the top-level scalar members of a
JSON object body, each as its JSON text (``7``, ``true``, ``null``, ``"EUR"``).
One flat string per attribute-value pair, so counting a request is one
``Counter.update`` in C, and the NUL cannot occur in an attribute name
(names holding one are skipped).

What one request can contribute is bounded, whatever the client sends: at most
:data:`MAX_SEGMENTS` path segments, :data:`MAX_KEYS` query keys and
:data:`MAX_KEYS` body members, and names and values longer than
:data:`MAX_TEXT` characters are shortened (prefix, ``…``, CRC-32 of the whole),
so a long value still counts as itself.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

import orjson

SEP = "\0"
MAX_SEGMENTS = 16
MAX_KEYS = 32
MAX_TEXT = 200
_KEEP = MAX_TEXT - 12
_PATHS = tuple(f"path[{i}]{SEP}" for i in range(MAX_SEGMENTS))


def shorten(text: str) -> str:
    """``text`` itself up to :data:`MAX_TEXT` characters, else a prefix and a checksum."""
    if len(text) <= MAX_TEXT:
        return text
    crc = zlib.crc32(text.encode("utf-8", "surrogatepass"))
    return f"{text[:_KEEP]}…{crc:08x}"


def json_text(value: Any) -> str:
    """A JSON scalar as its JSON text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    return orjson.dumps(value).decode()


def split_key(key: str) -> tuple[str, str]:
    """``"query.currency\\0EUR"`` → ``("query.currency", "EUR")``."""
    attr, _, value = key.partition(SEP)
    return attr, value


def _query(query: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name in seen or SEP in name:
            continue
        seen.add(name)
        if len(seen) > MAX_KEYS:
            return
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        keys.append(f"query.{shorten(name)}{SEP}{shorten(value)}")


def _body(request: Mapping[str, Any], keys: list[str]) -> None:
    raw = request.get("body")
    if not raw or not isinstance(raw, str):
        return
    data: str | bytes = raw
    if request.get("body_encoding") == "base64":
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return
        if data.lstrip()[:1] != b"{":
            return
    elif raw.lstrip()[:1] != "{":
        return
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    if not isinstance(doc, dict):
        return
    n = 0
    for name, value in doc.items():
        if isinstance(value, dict | list) or SEP in name:
            continue
        keys.append(f"body.{shorten(name)}{SEP}{shorten(json_text(value))}")
        n += 1
        if n >= MAX_KEYS:
            return


def request_keys(request: Mapping[str, Any], headers: tuple[str, ...] = ()) -> list[str]:
    """Every attribute key of one request (a capture record's ``request`` object).

    ``headers`` are lower-case names (``explain.headers``); the record's header
    names are lower-case already (CONTRACT §3).
    """
    keys = [f"method{SEP}{request.get('method', '')}"]
    path = str(request.get("path") or "/").split("?", 1)[0]
    segments = (path[1:] if path.startswith("/") else path).split("/", MAX_SEGMENTS)
    for i, segment in enumerate(segments[:MAX_SEGMENTS]):
        keys.append(_PATHS[i] + shorten(segment))
    query = request.get("query")
    if query and isinstance(query, str):
        _query(query, keys)
    if headers:
        have = request.get("headers")
        if isinstance(have, dict):
            for name in headers:
                value = have.get(name)
                if isinstance(value, str):
                    keys.append(f"header.{name}{SEP}{shorten(value)}")
    if request.get("body"):
        _body(request, keys)
    return keys
