"""``check_record`` (the report's fast path): each mutation of a good record, the exact reason.

A table, not a comparison with ``validate`` (which calls ``check_record``
itself, so agreeing with it would prove nothing). Each row breaks one field of
a valid record and names the reason readers count the line under; rows marked
``None`` are the changes a valid record may have. ``validate`` and
``record_from_obj`` must give the same verdict, because they are what the
collector tests and the service use.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from shadowdiff.model.errors import InvalidRecord
from shadowdiff.model.timefmt import parse
from shadowdiff.model.validate import check_record, record_from_obj, validate

DROP = object()
BODY = b'{"id": 42}'
KINDS = "timeout, connect, protocol, upstream_closed, other"


def good_record() -> dict[str, Any]:
    return {
        "schema": "shadowdiff.capture/1",
        "correlation_id": "c-1",
        "role": "shadow",
        "captured_at": "2026-11-25T07:01:02.123Z",
        "deployment": "v2",
        "request": {"method": "GET", "path": "/users/42", "query": "a=1", "headers": {}},
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": BODY.decode(),
            "body_encoding": "utf8",
            "body_truncated": False,
            "body_size": len(BODY),
            "body_sha256": hashlib.sha256(BODY).hexdigest(),
        },
        "latency_ms": 12.5,
        "error": None,
    }


def mutated(path: str, value: Any) -> dict[str, Any]:
    obj = good_record()
    *parents, last = path.split(".")
    node = obj
    for key in parents:
        node = node[key]
    if value is DROP:
        del node[last]
    else:
        node[last] = value
    return obj


MUTATIONS: list[tuple[str, Any, str | None]] = [
    ("schema", DROP, "schema is missing"),
    ("schema", None, "schema is missing"),
    ("schema", "shadowdiff.capture/2", "unknown schema 'shadowdiff.capture/2'"),
    ("schema", 1, "unknown schema '1'"),
    ("correlation_id", DROP, "correlation_id is missing or empty"),
    ("correlation_id", "", "correlation_id is missing or empty"),
    ("correlation_id", 42, "correlation_id is missing or empty"),
    ("role", "canary", "role is not primary, shadow or secondary"),
    ("role", DROP, "role is not primary, shadow or secondary"),
    ("role", "primary", None),
    ("captured_at", DROP, "captured_at is missing or not an RFC 3339 timestamp"),
    ("captured_at", "yesterday", "captured_at is missing or not an RFC 3339 timestamp"),
    ("captured_at", "2026-11-25T07:01:02", "captured_at is missing or not an RFC 3339 timestamp"),
    ("captured_at", 1764054062, "captured_at is missing or not an RFC 3339 timestamp"),
    ("captured_at", "2026-11-25T08:01:02+01:00", None),
    ("deployment", 3, "deployment is not a string or null"),
    ("deployment", None, None),
    ("deployment", DROP, None),
    ("response", DROP, "response is missing"),
    ("response", "200", "response is not an object or null"),
    ("response.status", DROP, "response.status is missing or not an integer from 100 to 999"),
    ("response.status", "200", "response.status is missing or not an integer from 100 to 999"),
    ("response.status", True, "response.status is missing or not an integer from 100 to 999"),
    ("response.status", 99, "response.status is missing or not an integer from 100 to 999"),
    ("response.status", 1000, "response.status is missing or not an integer from 100 to 999"),
    ("response.status", 999, None),
    ("response.body", 7, "response.body is not a string or null"),
    ("response.body_encoding", "gzip", "response.body_encoding is not 'utf8' or 'base64'"),
    ("response.body_truncated", "no", "response.body_truncated is not a boolean"),
    ("response.body_size", -1, "response.body_size is not a non-negative integer"),
    ("response.body_size", 1.5, "response.body_size is not a non-negative integer"),
    ("response.body_size", True, "response.body_size is not a non-negative integer"),
    ("response.body_size", DROP, None),
    ("response.body_sha256", "abc", "response.body_sha256 is not a 64-character lower-case hex digest"),
    ("response.body_sha256", "AB" * 32, "response.body_sha256 is not a 64-character lower-case hex digest"),
    ("response.body_sha256", DROP, None),
    ("response.headers", {"a": 1}, "response.headers['a'] is not a string"),
    ("response.headers", ["a"], "response.headers is not an object"),
    ("response.headers", None, None),
    ("error", {"kind": "weird", "message": "x"}, f"error.kind is not one of {KINDS}"),
    ("error", {"kind": "timeout", "message": 3}, "error.message is not a string"),
    ("error", "timeout", "error is not an object or null"),
    ("error", {"kind": "timeout"}, None),
    ("latency_ms", "fast", "latency_ms is not a non-negative number"),
    ("latency_ms", -3, "latency_ms is not a non-negative number"),
    ("latency_ms", True, "latency_ms is not a non-negative number"),
    ("latency_ms", DROP, "latency_ms is missing for a record with a response"),
    ("latency_ms", 0, None),
    ("request", DROP, "request is missing or not an object"),
    ("request", [], "request is missing or not an object"),
    ("request.method", DROP, "request.method is missing or not a string"),
    ("request.method", "", "request.method is missing or not a string"),
    ("request.path", 7, "request.path is missing or not a string"),
    ("request.query", 1, "request.query is not a string"),
    ("request.query", DROP, None),
    ("request.headers", {"x": None}, "request.headers['x'] is not a string"),
    ("request.body", {}, "request.body is not a string or null"),
    ("request.body_encoding", "hex", "request.body_encoding is not 'utf8' or 'base64'"),
    ("request.body_truncated", 1, "request.body_truncated is not a boolean"),
    ("unknown_extra_field", {"anything": 1}, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    MUTATIONS,
    ids=[f"{p}={'<dropped>' if v is DROP else repr(v)[:24]}" for p, v, _ in MUTATIONS],
)
def test_each_mutation_gets_its_exact_reason(path: str, value: Any, reason: str | None) -> None:
    obj = mutated(path, value)
    if reason is None:
        assert check_record(copy.deepcopy(obj)) == parse(obj["captured_at"])
        assert record_from_obj(obj).correlation_id == "c-1"
    else:
        with pytest.raises(InvalidRecord) as info:
            check_record(obj)
        assert info.value.reason == reason
    assert validate(obj) == reason


def test_the_first_fault_in_field_order_is_the_one_reported() -> None:
    obj = mutated("role", "canary")
    obj["response"]["status"] = "x"
    obj["request"] = None
    assert validate(obj) == "role is not primary, shadow or secondary"


def test_an_error_record_may_have_no_response_and_no_latency() -> None:
    obj = good_record()
    obj.update(response=None, latency_ms=None, error={"kind": "connect", "message": "refused"})
    assert validate(obj) is None


@pytest.mark.parametrize("obj", [None, [], "x", 1])
def test_what_is_not_an_object_is_refused(obj: Any) -> None:
    assert validate(obj) == "not a JSON object"
