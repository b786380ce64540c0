"""The schema-drift leaves equal the report's flatten definition, and the path bound is exact."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.canary.shapes import MAX_PATHS, Shapes, drift, leaves
from analysis.core.jsondiff import flatten
from analysis.core.leaves import json_type

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_leaves_are_the_flattened_paths_with_their_types(value):
    expected = {(re.sub(r"\[\d+\]", "[*]", p), json_type(v)) for p, v in flatten(value)}
    assert leaves(value) == expected


def _shapes(bodies: list[dict]) -> Shapes:
    shapes = Shapes()
    for body in bodies:
        shapes.add(leaves(body))
    return shapes


def test_too_many_paths_keep_the_same_exact_subset_whatever_the_merge_order():
    bodies = [{f"k{i}-{j}": j for j in range(30)} for i in range(200)]  # 6000 distinct paths
    whole = _shapes(bodies)
    parts = [_shapes(bodies[i::7]) for i in range(7)]
    merged = Shapes()
    for part in reversed(parts):
        merged.merge(part)
    assert len(whole.paths) <= MAX_PATHS and whole.cut is not None
    assert merged.paths == whole.paths and merged.types == whole.types
    assert merged.bodies == whole.bodies == 200


def test_drift_compares_only_paths_both_arms_kept():
    base = _shapes([{f"k{i}": 1 for i in range(MAX_PATHS + 500)}] * 30)
    canary = _shapes([{"k1": 1}] * 30)
    assert {e["path"] for e in drift(base, canary) if e["kind"] == "removed"} <= set(base.paths)
