"""Compare two captured responses: body (JSON field by field, or whole) and headers.

Works on record dicts as they come off a line (``orjson.loads``), validated
upstream, so missing optional fields take the contract's empty values.

Two JSON object bodies that differ (most pairs do, if only in a timestamp)
are first split into their top-level members with simdjson, which parses
without building Python objects; members whose minified text is identical on
both sides are equal and skipped, and only the others are decoded (with
orjson, as whole bodies are) and walked. Decoding every value of a 2 KB body
was ~40 % of the report's CPU. Anything the split does not cover (no
simdjson, not two objects with the same keys in the same order, a duplicate
key, a value simdjson refuses) takes the whole-body path, with the same
result.
"""

from __future__ import annotations

import base64
import json
import threading
import zlib
from typing import Any

import orjson

from analysis.core.jsondiff import diff_json
from analysis.core.leaves import DiffOptions, RawDiff
from analysis.core.paths import ROOT

try:
    import simdjson as _simdjson
except ImportError:  # pragma: no cover - pysimdjson is in the analysis extra
    _simdjson = None  # type: ignore[assignment]

_NOT_JSON = object()
NOT_JSON = _NOT_JSON  # what parse_json returns for bytes that are not JSON
_PREVIEW = 2000
_local = threading.local()  # a simdjson parser serves one document at a time


def content_type(headers: dict[str, str] | None) -> str:
    if not headers:
        return ""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json_type(ctype: str) -> bool:
    return ctype == "application/json" or ctype.endswith("+json")


def _decompress(raw: bytes, encoding: str) -> bytes:
    """Undo ``content-encoding`` (gzip, br, deflate); the stored bytes if that fails."""
    enc = encoding.strip().lower()
    try:
        if enc in ("gzip", "x-gzip"):
            return zlib.decompress(raw, 47)
        if enc == "deflate":
            try:
                return zlib.decompress(raw)
            except zlib.error:
                return zlib.decompress(raw, -15)
        if enc == "br":
            import brotli  # type: ignore[import-not-found,unused-ignore]

            out: bytes = brotli.decompress(raw)
            return out
    except Exception:
        return raw
    return raw


def body_bytes(resp: dict[str, Any]) -> bytes:
    body = resp.get("body")
    if body is None:
        return b""
    if resp.get("body_encoding", "utf8") == "base64":
        try:
            raw = base64.b64decode(body)
        except ValueError:
            raw = body.encode("utf-8")
    else:
        raw = body.encode("utf-8")
    enc = (resp.get("headers") or {}).get("content-encoding")
    return _decompress(raw, enc) if enc else raw


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:  # integers beyond 64 bits, which orjson refuses
            return json.loads(raw)
        except (ValueError, RecursionError):
            return _NOT_JSON


def _parsers() -> tuple[Any, Any]:
    found: tuple[Any, Any] | None = getattr(_local, "parsers", None)
    if found is None:
        found = _local.parsers = (_simdjson.Parser(), _simdjson.Parser())
    return found


def _members(praw: bytes, sraw: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    pp, sp = _parsers()
    pdoc: Any = pp.parse(praw)
    sdoc: Any = sp.parse(sraw)
    try:
        if not (isinstance(pdoc, _simdjson.Object) and isinstance(sdoc, _simdjson.Object)):
            return None
        keys = list(pdoc.keys())
        if keys != list(sdoc.keys()) or len(set(keys)) != len(keys):
            return None
        pout: dict[str, Any] = {}
        sout: dict[str, Any] = {}
        containers = (_simdjson.Object, _simdjson.Array)
        for key in keys:
            pv: Any = pdoc[key]
            sv: Any = sdoc[key]
            pc, sc = isinstance(pv, containers), isinstance(sv, containers)
            if pc and sc:
                pm, sm = pv.mini, sv.mini
                if type(pv) is type(sv) and pm == sm:
                    continue
                pv, sv = orjson.loads(pm), orjson.loads(sm)
            elif pc or sc:
                pv = orjson.loads(pv.mini) if pc else pv
                sv = orjson.loads(sv.mini) if sc else sv
            elif type(pv) is type(sv) and pv == sv:
                continue  # what ``same`` says of two scalars
            pout[key], sout[key] = pv, sv
        return pout, sout
    finally:
        del pdoc, sdoc  # a parser is reusable only once its proxies are gone


def differing_members(praw: bytes, sraw: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The top-level members of two JSON objects that are not identical, decoded.

    Dropping equal members changes no diff: the walk skips every member that
    is ``same`` on both sides, and identical minified text means identical
    values (simdjson writes numbers in their shortest round-trip form). None
    when the shortcut does not apply; the caller then decodes both bodies.
    """
    if _simdjson is None or praw[:1] != b"{" or sraw[:1] != b"{":
        return None
    try:
        return _members(praw, sraw)
    except Exception:  # simdjson or orjson refused something: the whole-body path decides
        _local.parsers = None
        return None


def _preview(raw: bytes) -> str:
    text = raw[:_PREVIEW].decode("utf-8", errors="replace")
    return text + ("…" if len(raw) > _PREVIEW else "")


def _has_boolean(raw: bytes) -> bool:
    return b"true" in raw or b"false" in raw


def compare_bodies(p: dict[str, Any], s: dict[str, Any], opts: DiffOptions) -> list[RawDiff]:
    """Body differences of two responses (caller checked both exist)."""
    pb, sb = p.get("body"), s.get("body")
    if p.get("body_truncated") or s.get("body_truncated"):
        # Only the digests describe whole bodies once one side was cut.
        ps, ss = p.get("body_sha256", ""), s.get("body_sha256", "")
        if ps and ps == ss and p.get("body_size") == s.get("body_size"):
            return []
        return [(ROOT, "changed", f"sha256:{ps}", f"sha256:{ss}")]
    ph, sh = p.get("headers") or {}, s.get("headers") or {}
    if (
        pb == sb
        and p.get("body_encoding", "utf8") == s.get("body_encoding", "utf8")
        and ph.get("content-encoding") == sh.get("content-encoding")
    ):
        return []
    praw, sraw = body_bytes(p), body_bytes(s)
    if is_json_type(content_type(ph)) and is_json_type(content_type(sh)):
        members = differing_members(praw, sraw)
        if members is not None:
            pdoc, sdoc = members
        else:
            pdoc, sdoc = parse_json(praw), parse_json(sraw)
        if pdoc is not _NOT_JSON and sdoc is not _NOT_JSON:
            guard = _has_boolean(praw) or _has_boolean(sraw)
            if guard != opts.guard_booleans:
                opts = DiffOptions(opts.absolute, opts.relative, opts.ignore_list_order, guard)
            return diff_json(pdoc, sdoc, opts)
    if praw == sraw:
        return []
    return [(ROOT, "changed", _preview(praw), _preview(sraw))]


def compare_headers(p: dict[str, Any], s: dict[str, Any], names: tuple[str, ...]) -> list[RawDiff]:
    """``headers.<name>`` differences; reported, but never body mismatches."""
    ph, sh = p.get("headers") or {}, s.get("headers") or {}
    out: list[RawDiff] = []
    for name in names:
        pv, sv = ph.get(name), sh.get(name)
        if pv == sv:
            continue
        kind = "added" if pv is None else "removed" if sv is None else "changed"
        out.append((f"headers.{name}", kind, pv, sv))
    return out


def is_header_path(path: str) -> bool:
    return path.startswith("headers.")
