"""Property tests: the diff (walk + deepdiff on structural differences) equals the
contract's flatten-and-compare definition, for the pure walk too, example values included."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.endpoints import endpoint_name
from analysis.core.jsondiff import diff_json, flatten, sort_lists
from analysis.core.leaves import DiffOptions, json_type
from analysis.core.paths import key_segment

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.0, 0.0, 3.0, 10**20, 1e20]),
    st.sampled_from(["", "a", "b", "1", "true", "odd key"]),
)
leaves = st.one_of(scalars, st.builds(list), st.builds(dict))  # fresh empties: edits mutate
keys = st.sampled_from(["a", "b", "c", "odd key", "x-y", "_k1", "1st", "__p", "it's"])
docs = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=16,
)
_IDX = re.compile(r"\[\d+\]")
WALK = DiffOptions(use_deepdiff=False)


def _numbers_equal(a: Any, b: Any, opts: DiffOptions) -> bool:
    gap = abs(a - b)
    return a == b or gap <= opts.absolute or gap <= opts.relative * max(abs(a), abs(b))


def reference(p: Any, s: Any, opts: DiffOptions = DiffOptions()) -> set[tuple[str, str]]:
    """docs/contract.md §4 literally: flatten to leaves, compare maps, then [i] → [*]."""
    if opts.ignore_list_order:  # docs/analysis.md: lists sorted by canonical JSON first
        p, s = sort_lists(p), sort_lists(s)
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
            elif json_type(a) == "number":
                if not _numbers_equal(a, b, opts):
                    out.add((generic, "changed"))
            elif a != b:
                out.add((generic, "changed"))
    return out


def kinds(diffs: list[tuple[str, str, Any, Any]]) -> set[tuple[str, str]]:
    return {(path, kind) for path, kind, _, _ in diffs}


def examples(diffs: list[tuple[str, str, Any, Any]]) -> dict[tuple[str, str], Any]:
    return {(path, kind): repr((pv, sv)) for path, kind, pv, sv in diffs}


@st.composite
def near_pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """A document and an edited copy: differences deep inside, as real pairs have them."""
    p = draw(docs)
    s = copy.deepcopy(p)
    for _ in range(draw(st.integers(1, 4))):
        if not isinstance(s, dict | list):
            s = draw(docs)
            continue
        nodes = [s]
        stack = [s]
        while stack:
            node = stack.pop()
            children = list(node.values()) if isinstance(node, dict) else node
            for child in children:
                if isinstance(child, dict | list):
                    nodes.append(child)
                    stack.append(child)
        node = draw(st.sampled_from(nodes))
        op = draw(st.sampled_from(["set", "drop", "add"]))
        if isinstance(node, dict):
            if op == "drop" and node:
                del node[draw(st.sampled_from(sorted(node)))]
            elif op == "set" and node:
                node[draw(st.sampled_from(sorted(node)))] = draw(docs)
            else:
                node[draw(keys)] = draw(docs)
        elif isinstance(node, list):
            if op == "drop" and node:
                node.pop(draw(st.integers(0, len(node) - 1)))
            elif op == "set" and node:
                node[draw(st.integers(0, len(node) - 1))] = draw(docs)
            else:
                node.insert(draw(st.integers(0, len(node))), draw(docs))
    return p, s


options = st.builds(
    DiffOptions,
    absolute=st.sampled_from([0.0, 0.0, 0.5]),
    relative=st.sampled_from([0.0, 0.0, 0.1]),
    ignore_list_order=st.booleans(),
    guard_booleans=st.booleans(),
)


@settings(max_examples=600, deadline=None)
@given(docs, docs)
def test_walk_matches_flatten_definition(p, s):
    assert kinds(diff_json(p, s)) == reference(p, s)
    assert kinds(diff_json(p, s, WALK)) == reference(p, s)


@settings(max_examples=600, deadline=None)
@given(near_pairs(), options)
def test_deepdiff_on_structural_differences_matches_flatten_definition(pair, opts):
    p, s = pair
    if not opts.guard_booleans and (
        "true" in repr((p, s)).lower() or "false" in repr((p, s)).lower()
    ):
        opts = DiffOptions(opts.absolute, opts.relative, opts.ignore_list_order, True)
    got = diff_json(p, s, opts)
    assert kinds(got) == reference(p, s, opts)
    # The same example values as the pure walk (first in document order per path and kind).
    walk_opts = DiffOptions(opts.absolute, opts.relative, opts.ignore_list_order, True, False)
    assert examples(got) == examples(diff_json(p, s, walk_opts))


@settings(max_examples=300, deadline=None)
@given(docs)
def test_a_document_never_differs_from_itself_or_its_reordered_copy(doc):
    assert diff_json(doc, doc) == []
    if isinstance(doc, dict):
        assert diff_json(doc, dict(reversed(list(doc.items())))) == []


@settings(max_examples=300, deadline=None)
@given(near_pairs())
def test_diff_is_symmetric_with_added_and_removed_swapped(pair):
    p, s = pair
    swap = {"added": "removed", "removed": "added"}
    forward = {(path, swap.get(kind, kind)) for path, kind, _, _ in diff_json(p, s)}
    backward = {(path, kind) for path, kind, _, _ in diff_json(s, p)}
    assert forward == backward


@settings(max_examples=200, deadline=None)
@given(st.lists(docs, max_size=5), st.randoms(use_true_random=False))
def test_ignore_list_order_sees_permutations_as_equal(items, rnd):
    opts = DiffOptions(ignore_list_order=True)
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert diff_json({"l": items}, {"l": shuffled}, opts) == []


@settings(max_examples=300, deadline=None)
@given(near_pairs())
def test_ignore_list_order_is_the_flatten_definition_on_sorted_lists(pair):
    p, s = pair
    opts = DiffOptions(ignore_list_order=True)
    assert kinds(diff_json(p, s, opts)) == reference(p, s, opts)


def test_int_and_float_are_the_same_number_but_bool_is_not():
    assert diff_json({"a": 1}, {"a": 1.0}) == []
    assert diff_json([1], [True])[0][:2] == ("$[*]", "type_changed")
    assert diff_json(1, "1")[0][:2] == ("$", "type_changed")


def test_int_float_and_bool_inside_a_structural_difference():
    """These reach deepdiff (the key sets differ), whose numeric grouping says True == 1."""
    p = {"gone": 1, "n": [1, 2.5, {"k": 0}], "b": [True, False, 1]}
    s = {"new": 1, "n": [1.0, 2.5, {"k": 0.0}], "b": [1, 0.0, True]}
    assert kinds(diff_json(p, s)) == {
        ("$.gone", "removed"),
        ("$.new", "added"),
        ("$.b[*]", "type_changed"),
    }
    assert kinds(diff_json([[1, True]], [[1.0, 1], 3])) == {
        ("$[*][*]", "type_changed"),
        ("$[*]", "added"),
    }


def test_paths_use_the_contract_notation():
    assert key_segment("name") == ".name"
    assert key_segment("odd key") == "['odd key']"
    assert key_segment("it's") == "['it\\'s']"
    assert key_segment("1st") == "['1st']"


@given(st.integers(0, 10**12))
def test_digit_segments_become_id(n):
    assert endpoint_name("get", f"/a/{n}/b") == "GET /a/{id}/b"
