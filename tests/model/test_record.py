"""The capture-record model: round trips, the shipped JSON Schema, and one reason per bad line."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowdiff.model.errors import InvalidRecord
from shadowdiff.model.record import (
    CaptureError,
    CaptureRecord,
    CaptureRequest,
    CaptureResponse,
    decode_body,
    encode_body,
    redact_headers,
)
from shadowdiff.model.timefmt import format_ms, parse
from shadowdiff.model.validate import json_schema, parse_line, validate

SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(
    json_schema(), format_checker=jsonschema.FormatChecker()
)


def good_record() -> dict[str, Any]:
    body = b'{"id": 42}'
    return {
        "schema": "shadowdiff.capture/1",
        "correlation_id": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
        "role": "shadow",
        "captured_at": "2026-11-25T07:01:02.123Z",
        "deployment": "v2-abc123",
        "request": {
            "method": "GET",
            "path": "/users/42",
            "query": "a=1&b=2",
            "headers": {"accept": "application/json"},
            "body": None,
            "body_encoding": "utf8",
            "body_truncated": False,
        },
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": body.decode(),
            "body_encoding": "utf8",
            "body_truncated": False,
            "body_size": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        },
        "latency_ms": 12.5,
        "error": None,
    }


def schema_accepts(obj: Any) -> bool:
    return not list(SCHEMA_VALIDATOR.iter_errors(obj))


# ---------------------------------------------------------------- strategies

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
headers = st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True), text, max_size=4)
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    format_ms
)


@st.composite
def records(draw: st.DrawFn) -> CaptureRecord:
    raw_body = draw(st.one_of(st.none(), st.binary(max_size=64), text.map(str.encode)))
    limit = draw(st.integers(min_value=1, max_value=80))
    body, encoding, truncated, size, sha = encode_body(raw_body, limit)
    has_response = draw(st.booleans())
    response = (
        CaptureResponse(
            status=draw(st.integers(100, 599)),
            headers=draw(headers),
            body=body,
            body_encoding=encoding,
            body_truncated=truncated,
            body_size=size,
            body_sha256=sha,
        )
        if has_response
        else None
    )
    error = (
        None
        if has_response
        else CaptureError(
            kind=draw(
                st.sampled_from(["timeout", "connect", "protocol", "upstream_closed", "other"])
            ),
            message=draw(text),
        )
    )
    return CaptureRecord(
        correlation_id=draw(text.filter(bool)),
        role=draw(st.sampled_from(["primary", "shadow", "secondary"])),
        captured_at=draw(timestamps),
        deployment=draw(st.one_of(st.none(), text)),
        request=CaptureRequest(
            method=draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])),
            path="/" + draw(text),
            query=draw(text),
            headers=draw(headers),
        ),
        response=response,
        latency_ms=draw(st.floats(0, 1e6, allow_nan=False)) if has_response else None,
        error=error,
    )


# ---------------------------------------------------------------- round trips


@given(records())
@settings(max_examples=200, deadline=None)
def test_any_record_survives_a_round_trip_through_one_json_line(record: CaptureRecord) -> None:
    line = record.to_line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert parse_line(line) == record


@given(records())
@settings(max_examples=200, deadline=None)
def test_the_json_schema_accepts_every_record_the_model_writes(record: CaptureRecord) -> None:
    obj = orjson.loads(record.to_line())
    assert validate(obj) is None
    assert schema_accepts(obj)


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=400))
def test_stored_body_is_a_prefix_and_size_and_digest_describe_the_whole(
    raw: bytes, limit: int
) -> None:
    body, encoding, truncated, size, sha = encode_body(raw, limit)
    kept = decode_body(body, encoding)
    assert raw.startswith(kept)
    assert len(kept) <= limit
    assert truncated == (len(raw) > limit)
    assert size == len(raw)
    assert sha == hashlib.sha256(raw).hexdigest()


def test_non_utf8_bodies_are_stored_as_base64() -> None:
    body, encoding, *_ = encode_body(b"\xff\xfe\x00binary")
    assert encoding == "base64"
    assert decode_body(body, encoding) == b"\xff\xfe\x00binary"


def test_a_cut_inside_a_multibyte_character_keeps_text() -> None:
    body, encoding, truncated, size, _ = encode_body("héllo".encode(), limit=2)
    assert (body, encoding, truncated, size) == ("h", "utf8", True, 6)


def test_sensitive_headers_are_redacted_and_names_lower_cased() -> None:
    out = redact_headers(
        {"Authorization": "Bearer x", "Cookie": "a=b", "X-Team-Secret": "s", "Accept": "*/*"},
        extra={"x-team-secret"},
    )
    assert out == {
        "authorization": "[REDACTED]",
        "cookie": "[REDACTED]",
        "x-team-secret": "[REDACTED]",
        "accept": "*/*",
    }


def test_unknown_extra_fields_are_accepted() -> None:
    obj = good_record()
    obj["collector_version"] = "9.9"
    obj["response"]["x-new"] = 1
    assert validate(obj) is None
    assert schema_accepts(obj)


def test_captured_at_accepts_offsets_and_normalises_to_utc() -> None:
    assert format_ms(parse("2026-11-25T08:01:02.5+01:00")) == "2026-11-25T07:01:02.500Z"


# ---------------------------------------------------------------- invalid lines


def _mutate(path: str, value: Any) -> dict[str, Any]:
    obj = copy.deepcopy(good_record())
    *parents, last = path.split(".")
    target = obj
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return obj


_DELETE = object()

INVALID = [
    ("schema", "shadowdiff.capture/2", "unknown schema"),
    ("schema", _DELETE, "schema is missing"),
    ("correlation_id", "", "correlation_id"),
    ("correlation_id", _DELETE, "correlation_id"),
    ("role", "canary", "role"),
    ("captured_at", "yesterday", "captured_at"),
    ("captured_at", "2026-11-25T07:01:02", "captured_at"),
    ("request", _DELETE, "request"),
    ("request.method", 7, "request.method"),
    ("request.path", _DELETE, "request.path"),
    ("request.headers", ["a"], "request.headers"),
    ("response", _DELETE, "response is missing"),
    ("response", "200", "response"),
    ("response.status", "200", "response.status"),
    ("response.status", True, "response.status"),
    ("response.body_encoding", "gzip", "response.body_encoding"),
    ("response.body_size", -1, "response.body_size"),
    ("response.body_sha256", "abc", "response.body_sha256"),
    ("response.headers", {"a": 1}, "response.headers"),
    ("latency_ms", "fast", "latency_ms"),
    ("latency_ms", -3, "latency_ms"),
    ("latency_ms", _DELETE, "latency_ms"),
    ("error", {"kind": "weird", "message": "x"}, "error.kind"),
]


@pytest.mark.parametrize(("path", "value", "reason"), INVALID)
def test_each_invalid_record_gets_one_reason_naming_the_field(
    path: str, value: Any, reason: str
) -> None:
    obj = _mutate(path, value)
    got = validate(obj)
    assert got is not None and reason in got
    assert "\n" not in got
    assert not schema_accepts(obj), f"schema accepted what the model rejects: {path}={value!r}"


@pytest.mark.parametrize("line", [b"", b"not json", b"[1,2]", b"42", b'"x"', b"{"])
def test_lines_that_are_not_json_objects_raise_invalid_record(line: bytes) -> None:
    with pytest.raises(InvalidRecord) as info:
        parse_line(line)
    assert info.value.reason in ("not JSON", "not a JSON object")


def test_error_record_with_null_response_is_valid() -> None:
    obj = good_record()
    obj["response"] = None
    obj["latency_ms"] = 5000.0
    obj["error"] = {"kind": "timeout", "message": "upstream did not answer in 5s"}
    assert validate(obj) is None
    assert schema_accepts(obj)
