"""Property tests: the fast diff walk equals the contract's flatten-and-compare definition."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.endpoints import endpoint_name
from analysis.core.jsondiff import DiffOptions, diff_json, flatten, json_type
from analysis.core.paths import key_segment

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.0]),
    st.sampled_from(["", "a", "b", "1", "odd key"]),
)
keys = st.sampled_from(["a", "b", "c", "odd key", "x-y", "_k1", "1st"])
docs = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3)
    ),
    max_leaves=12,
)
_IDX = re.compile(r"\[\d+\]")


def reference(p: Any, s: Any) -> set[tuple[str, str]]:
    """CONTRACT §4 literally: flatten to leaves, compare maps, then [i] → [*]."""
    fp, fs = dict(flatten(p)), dict(flatten(s))
    out = set()
    for path in fp.keys() | fs.keys():
        generic = _IDX.sub("[*]", path)
        if path not in fs:
            out.add((generic, "removed"))
        elif path not in fp:
            out.add((generic, "added"))
        else:
            a, b = fp[path], fs[path]
            if json_type(a) != json_type(b):
                out.add((generic, "type_changed"))
            elif a != b:
                out.add((generic, "changed"))
    return out


@settings(max_examples=400, deadline=None)
@given(docs, docs)
def test_walk_matches_flatten_definition(p, s):
    got = {(path, kind) for path, kind, _, _ in diff_json(p, s)}
    assert got == reference(p, s)


@settings(max_examples=200, deadline=None)
@given(docs)
def test_a_document_never_differs_from_itself_or_its_reordered_copy(doc):
    assert diff_json(doc, doc) == []
    if isinstance(doc, dict):
        assert diff_json(doc, dict(reversed(list(doc.items())))) == []


@settings(max_examples=200, deadline=None)
@given(docs, docs)
def test_diff_is_symmetric_with_added_and_removed_swapped(p, s):
    swap = {"added": "removed", "removed": "added"}
    forward = {(path, swap.get(kind, kind)) for path, kind, _, _ in diff_json(p, s)}
    backward = {(path, kind) for path, kind, _, _ in diff_json(s, p)}
    assert forward == backward


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=5))
def test_ignore_list_order_sees_permutations_as_equal(items):
    opts = DiffOptions(ignore_list_order=True)
    assert diff_json({"l": items}, {"l": list(reversed(items))}, opts) == []


def test_int_and_float_are_the_same_number_but_bool_is_not():
    assert diff_json({"a": 1}, {"a": 1.0}) == []
    assert diff_json([1], [True])[0][:2] == ("$[*]", "type_changed")
    assert diff_json(1, "1")[0][:2] == ("$", "type_changed")


def test_paths_use_the_contract_notation():
    assert key_segment("name") == ".name"
    assert key_segment("odd key") == "['odd key']"
    assert key_segment("it's") == "['it\\'s']"
    assert key_segment("1st") == "['1st']"


@given(st.integers(0, 10**12))
def test_digit_segments_become_id(n):
    assert endpoint_name("get", f"/a/{n}/b") == "GET /a/{id}/b"
