"""Where deepdiff runs in the body diff, what it is handed, and how its report is mapped."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.core import deepdiff_map
from analysis.core.jsondiff import diff_json
from analysis.core.leaves import DiffOptions

WALK = DiffOptions(use_deepdiff=False)


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "generated_at": "2026-11-25T10:00:00.000Z",
        "request_id": "6f1c0d0e-0000-4000-8000-000000000001",
        "user": {"id": 7, "name": "ann", "tier": "gold"},
        "items": [{"sku": "A", "price": 1.5}, {"sku": "B", "price": 2}],
    }
    body.update(changes)
    return body


@pytest.fixture
def deepdiff_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    calls: list[tuple[Any, Any]] = []
    real = deepdiff_map.DeepDiff

    def spy(t1: Any, t2: Any, **kwargs: Any) -> Any:
        calls.append((t1, t2))
        return real(t1, t2, **kwargs)

    monkeypatch.setattr(deepdiff_map, "DeepDiff", spy)
    return calls


def test_noise_and_other_scalar_changes_never_reach_deepdiff(deepdiff_calls):
    p = _body()
    s = _body(generated_at="2026-11-25T10:00:00.007Z", request_id="other")
    s["items"][1]["price"] = "2"
    got = {(path, kind) for path, kind, _, _ in diff_json(p, s)}
    assert got == {
        ("$.generated_at", "changed"),
        ("$.request_id", "changed"),
        ("$.items[*].price", "type_changed"),
    }
    assert deepdiff_calls == []


def test_a_removed_field_hands_deepdiff_only_the_differing_part_of_its_object(deepdiff_calls):
    p = _body()
    s = _body(generated_at="later")
    del s["user"]["tier"]
    s["user"]["name"] = "bob"
    got = diff_json(p, s)
    assert {(path, kind) for path, kind, _, _ in got} == {
        ("$.generated_at", "changed"),
        ("$.user.name", "changed"),
        ("$.user.tier", "removed"),
    }
    # Equal siblings and the scalar change were decided by the walk.
    assert deepdiff_calls == [({"tier": "gold"}, {})]


def test_lists_of_different_length_compare_index_by_index_through_deepdiff(deepdiff_calls):
    p = {"l": [{"a": 1}, {"a": 2}]}
    s = {"l": [{"a": 0}, {"a": 1}, {"a": 2}]}
    assert diff_json(p, s) == [
        ("$.l[*].a", "changed", 1, 0),
        ("$.l[*].a", "added", None, 2),
    ]
    assert len(deepdiff_calls) == 1


def test_booleans_are_not_numbers_inside_deepdiff(deepdiff_calls):
    p = {"flags": [True, False, 1], "old": 1}
    s = {"flags": [1, 0.0, 1.0], "new": 1}
    got = {(path, kind) for path, kind, _, _ in diff_json(p, s)}
    assert got == {("$.flags[*]", "type_changed"), ("$.old", "removed"), ("$.new", "added")}
    assert deepdiff_calls


def test_numeric_tolerance_applies_inside_structural_differences():
    opts = DiffOptions(absolute=0.01)
    p = {"n": {"x": 1.0, "y": 5}, "gone": {"deep": [1, 2]}}
    s = {"n": {"x": 1.005, "y": 6}, "gone": {"deep": [1]}}
    got = {(path, kind) for path, kind, _, _ in diff_json(p, s, opts)}
    assert got == {("$.n.y", "changed"), ("$.gone.deep[*]", "removed")}


def test_keys_with_double_underscores_are_compared():
    got = diff_json({"__v": 1, "a": 1}, {"__v": 2})
    assert {(path, kind) for path, kind, _, _ in got} == {("$.__v", "changed"), ("$.a", "removed")}


def test_emptied_containers_are_leaves_of_their_own():
    got = {(path, kind) for path, kind, _, _ in diff_json({"a": {"b": [1]}}, {"a": {"b": []}})}
    assert got == {("$.a.b[*]", "removed"), ("$.a.b", "added")}


def test_ignore_list_order_keeps_repeats_unlike_deepdiffs_ignore_order():
    opts = DiffOptions(ignore_list_order=True)
    # Sorted: [1, 1, 2] against [1, 2], index by index; deepdiff's ignore_order calls them equal.
    assert diff_json({"l": [1, 2, 1]}, {"l": [2, 1]}, opts) == [
        ("$.l[*]", "changed", 1, 2),
        ("$.l[*]", "removed", 2, None),
    ]


def test_an_unknown_deepdiff_report_falls_back_to_the_walk(monkeypatch):
    class Level:
        t1 = t2 = None

        def path(self, output_format: str) -> list[Any]:
            return ["x"]

    monkeypatch.setattr(deepdiff_map, "DeepDiff", lambda *a, **k: {"attribute_added": [Level()]})
    p, s = {"a": {"x": 1}, "b": [1, 2]}, {"a": {"y": 1}, "b": [1]}
    assert diff_json(p, s) == diff_json(p, s, WALK)
    assert {(path, kind) for path, kind, _, _ in diff_json(p, s)} == {
        ("$.a.x", "removed"),
        ("$.a.y", "added"),
        ("$.b[*]", "removed"),
    }
