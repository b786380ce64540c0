"""The attributes of one request that ``explain`` can name (docs/contract.md §12).

A request becomes a tuple of keys ``"<attribute>\\0<value>"``: ``method``,
``path[N]`` (the N-th segment of the raw path, 0-based), ``query.<key>`` (its
first value, percent-decoded; ``""`` for a bare key), ``header.<name>`` for the
configured headers, and ``body.<key>`` for the top-level scalar members of a
JSON object body, each as its JSON text (``7``, ``true``, ``null``, ``"EUR"``).
One flat string per attribute-value pair (the NUL cannot occur in an
attribute name: names holding one are skipped).

Reading a request into keys costs several µs, and most requests of a big night
fall outside every sample, so the reducer keeps a compact *row* per request
instead (:func:`request_row`, one ``orjson.dumps``); only the rows of sampled
requests are read into keys, when the report is finalised (:func:`row_keys`).

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
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import orjson

SEP = "\0"
MAX_SEGMENTS = 16
MAX_KEYS = 32
MAX_TEXT = 200
RAW_LIMIT = 2048
PARTS = frozenset({"method", "path", "query", "header", "extra"})  # of a row
_KEEP = MAX_TEXT - 12
_PATHS = tuple(f"path[{i}]{SEP}" for i in range(MAX_SEGMENTS))
_dumps = orjson.dumps


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


def _decode(text: str) -> str:
    """Form decoding (``+`` is a space), the slow way only when there is a ``%``."""
    if "%" in text:
        return unquote_plus(text)
    return text.replace("+", " ") if "+" in text else text


def _query(query: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = _decode(name), _decode(value)
        if name in seen or SEP in name:
            continue
        seen.add(name)
        if len(seen) > MAX_KEYS:
            return
        if len(name) > MAX_TEXT:
            name = shorten(name)
        keys.append(f"query.{name}{SEP}{value if len(value) <= MAX_TEXT else shorten(value)}")


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


def _path(path: str, keys: list[str]) -> None:
    if path[:1] == "/":
        path = path[1:]
    for i, segment in enumerate(path.split("/", MAX_SEGMENTS)[:MAX_SEGMENTS]):
        keys.append(_PATHS[i] + (segment if len(segment) <= MAX_TEXT else shorten(segment)))


def request_row(request: Mapping[str, Any], headers: tuple[str, ...] = ()) -> bytes:
    """One request, compact, for counting now and reading as attributes later.

    The raw method, path and query, the values of ``headers`` (``explain.headers``,
    lower-case, as record header names are), and the body's attribute keys
    (parsed now: bodies are too big to keep). A path or query longer than
    :data:`RAW_LIMIT` is read into keys now too. :func:`row_keys` expands it.
    """
    get = request.get
    path = get("path") or "/"  # validated records: a string, as query, method, headers
    if "?" in path:
        path = path.split("?", 1)[0]
    query = get("query") or ""
    extra: list[str] | None = None
    if len(path) > RAW_LIMIT or len(query) > RAW_LIMIT:
        extra = []
        _path(path, extra)
        _query(query, extra)
        path, query = None, ""
    have = get("headers") if headers else None
    values = list(map(have.get, headers)) if have else None
    if get("body"):
        if extra is None:
            extra = []
        _body(request, extra)
    return _dumps((get("method", ""), path, query, values, extra))


def parts_of(keys: Iterable[str]) -> frozenset[str]:
    """The parts of a row (:data:`PARTS`) that attribute keys like ``keys`` come from."""
    out: set[str] = set()
    for key in keys:
        attr = key.partition(SEP)[0]
        if attr == "method":
            out.add("method")
        elif attr.startswith("path["):
            out.update(("path", "extra"))  # a long path is read into keys when stored
        elif attr.startswith("query."):
            out.update(("query", "extra"))
        elif attr.startswith("header."):
            out.add("header")
        else:
            out.add("extra")
    return frozenset(out)


def row_keys(row: bytes, headers: tuple[str, ...] = (), parts: frozenset[str] = PARTS) -> list[str]:
    """The attribute keys of a :func:`request_row` built with the same ``headers``.

    Only those from ``parts`` of it (:func:`parts_of`): counting a few keys over
    many rows need not read every query string.
    """
    method, path, query, values, extra = orjson.loads(row)
    keys = [f"method{SEP}{method}"] if "method" in parts else []
    if path is not None and "path" in parts:
        _path(path, keys)
    if query and "query" in parts:
        _query(query, keys)
    if values and "header" in parts:
        for (_, prefix), value in zip(_header_prefixes(headers), values, strict=False):
            if isinstance(value, str):
                keys.append(prefix + (value if len(value) <= MAX_TEXT else shorten(value)))
    if extra and "extra" in parts:
        keys += extra
    return keys


def request_keys(request: Mapping[str, Any], headers: tuple[str, ...] = ()) -> list[str]:
    """Every attribute key of one request (a capture record's ``request`` object)."""
    return row_keys(request_row(request, headers), headers)


@lru_cache(maxsize=64)
def _header_prefixes(headers: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((name, f"header.{name}{SEP}") for name in headers)
