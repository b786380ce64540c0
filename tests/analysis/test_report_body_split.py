"""Comparing two JSON bodies member by member (simdjson split) gives exactly the
whole-body diff: same fields, kinds, example values and order, for any options."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.bodies import compare_bodies, differing_members
from analysis.core.leaves import DiffOptions

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.0, 0.0, 0.1, 0.10000000000000002, 1e20, 10**19, 2**63]),
    st.sampled_from(["", "a", "1", "true", 'é\n"', "2026-11-25T00:00:00Z"]),
)
keys = st.sampled_from(["a", "b", "c", "odd key", "it's", "é"])
values = st.recursive(
    st.one_of(scalars, st.builds(list), st.builds(dict)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3)
    ),
    max_leaves=12,
)
objects = st.dictionaries(keys, values, max_size=5)
OPTIONS = [
    DiffOptions(),
    DiffOptions(absolute=0.5),
    DiffOptions(ignore_list_order=True),
    DiffOptions(use_deepdiff=False),
]


def _resp(body: bytes) -> dict[str, Any]:
    return {"status": 200, "headers": {"content-type": "application/json"}, "body": body.decode()}


def _whole_body(p: bytes, s: bytes, opts: DiffOptions) -> Any:
    import analysis.core.bodies as bodies

    real = bodies.differing_members
    bodies.differing_members = lambda a, b: None  # type: ignore[assignment]
    try:
        return compare_bodies(_resp(p), _resp(s), opts)
    finally:
        bodies.differing_members = real


def _edit(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(0, 3))):
        if out and data.draw(st.booleans()):
            out[data.draw(st.sampled_from(sorted(out)))] = data.draw(values)
        else:
            out[data.draw(keys)] = data.draw(values)
    return out


@settings(max_examples=300, deadline=None)
@given(objects, st.data(), st.sampled_from(OPTIONS), st.booleans())
def test_member_split_gives_the_whole_body_diff(
    doc: dict[str, Any], data: st.DataObject, opts: DiffOptions, indent: bool
) -> None:
    other = _edit(doc, data)
    p = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    s = orjson.dumps(other)
    assert compare_bodies(_resp(p), _resp(s), opts) == _whole_body(p, s, opts)


def test_split_drops_identical_members_and_keeps_the_rest() -> None:
    p = b'{"a": {"x": [1, 2.0]}, "b": 1, "t": "2026-11-25T00:00:00Z"}'
    s = b'{"a":{"x":[1,2.0]},"b":1.0,"t":"2026-11-25T00:00:01Z"}'
    assert differing_members(p, s) == (
        {"b": 1, "t": "2026-11-25T00:00:00Z"},
        {"b": 1.0, "t": "2026-11-25T00:00:01Z"},
    )


def test_split_steps_aside_for_what_it_cannot_decide() -> None:
    assert differing_members(b'{"a": 1, "b": 2}', b'{"b": 2, "a": 1}') is None  # key order
    assert differing_members(b'{"a": 1, "a": 2}', b'{"a": 1, "a": 3}') is None  # duplicate key
    assert differing_members(b"[1]", b"[2]") is None  # not objects
    big = b'{"n": 123456789012345678901234567890}'
    assert differing_members(big, b'{"n": 1}') is None  # beyond 64 bits
    assert differing_members(b'{"a": 1}', b'{"a": ') is None  # not JSON
    # and the parsers stay usable afterwards
    assert differing_members(b'{"a": 1}', b'{"a": 2}') == ({"a": 1}, {"a": 2})


def test_bodies_beyond_the_split_still_compare_as_before() -> None:
    big = b'{"n": 123456789012345678901234567890, "m": 1}'
    diffs = compare_bodies(
        _resp(big), _resp(b'{"n": 123456789012345678901234567890, "m": 2}'), DiffOptions()
    )
    assert [(d[0], d[1]) for d in diffs] == [("$.m", "changed")]
