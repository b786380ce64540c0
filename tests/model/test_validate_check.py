"""``check_record`` (the report's fast path) gives exactly ``record_from_obj``'s verdicts."""

from __future__ import annotations

import copy
import hashlib
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowdiff.errors import InvalidRecord
from shadowdiff.timefmt import parse
from shadowdiff.validate import check_record, validate

MISSING = object()
BODY = b'{"id": 42}'


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


ODD_VALUES: list[Any] = [
    MISSING,
    None,
    True,
    False,
    0,
    -1,
    1.5,
    200,
    1000,
    "",
    "x",
    "utf8",
    "base64",
    "2026-11-25T07:01:02Z",
    [],
    {},
    {"a": 1},
    {"a": "b"},
    "a" * 64,
    "ab" * 32,
]
PATHS: list[tuple[str, ...]] = [
    ("schema",), ("correlation_id",), ("role",), ("captured_at",), ("deployment",),
    ("request",), ("request", "method"), ("request", "path"), ("request", "query"),
    ("request", "headers"), ("request", "body"), ("request", "body_encoding"),
    ("request", "body_truncated"), ("response",), ("response", "status"),
    ("response", "headers"), ("response", "body"), ("response", "body_encoding"),
    ("response", "body_truncated"), ("response", "body_size"), ("response", "body_sha256"),
    ("latency_ms",), ("error",), ("error", "kind"), ("error", "message"),
]  # fmt: skip


def _set(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    if path[0] == "error" and len(path) > 1:
        out["error"] = {"kind": "timeout", "message": "m"}
    node = out
    for key in path[:-1]:
        node = node.get(key)
        if not isinstance(node, dict):
            return out
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


def _check_reason(obj: Any) -> str | None:
    try:
        moment = check_record(obj)
    except InvalidRecord as exc:
        return exc.reason
    assert moment == parse(obj["captured_at"])
    return None


@pytest.mark.parametrize("path", PATHS, ids=".".join)
def test_check_record_gives_the_reason_record_from_obj_gives(path: tuple[str, ...]) -> None:
    for value in ODD_VALUES:
        obj = _set(good_record(), path, value)
        assert _check_reason(obj) == validate(obj), (path, value)


def test_check_record_reports_the_first_of_two_faults_like_record_from_obj() -> None:
    for (p1, v1), (p2, v2) in itertools.combinations(
        [(p, v) for p in PATHS for v in (MISSING, None, 1.5, "x", {})], 2
    ):
        obj = _set(_set(good_record(), p1, v1), p2, v2)
        assert _check_reason(obj) == validate(obj), (p1, v1, p2, v2)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([p[-1] for p in PATHS]),
        st.sampled_from(ODD_VALUES[1:]),
        max_size=4,
    )
)
def test_check_record_agrees_on_arbitrary_top_level_overrides(over: dict[str, Any]) -> None:
    obj = good_record()
    obj.update(over)
    assert _check_reason(obj) == validate(obj)


def test_check_record_refuses_what_is_not_an_object() -> None:
    for obj in (None, [], "x", 1):
        assert _check_reason(obj) == validate(obj) == "not a JSON object"
