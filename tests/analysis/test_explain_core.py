"""explain's pure core: request attributes, the thresholds, sampling, merging, memory.

The report-level behaviour (planted predictors found through ``shadowdiff
report``) is in test_report_explain.py; here the functions over plain data.
"""

from __future__ import annotations

import base64
import pickle
import random
from collections import Counter

import pytest

from analysis.core.attributes import (
    MAX_KEYS,
    MAX_SEGMENTS,
    MAX_TEXT,
    request_keys,
    split_key,
)
from analysis.core.attrsample import AttrSample, Counts, cap_for, level_of, sample_level
from analysis.core.contrast import contrast, explain_sets, reader
from analysis.core.explain import NO_DIFF, ExplainAgg
from analysis.core.latency import cid_hash

HEADERS = ("accept", "accept-language", "content-type", "user-agent")
PRICE = ("$.price", "changed")
TAX = ("$.tax", "removed")


def attrs(request: dict, headers: tuple[str, ...] = HEADERS) -> dict[str, str]:
    return dict(split_key(k) for k in request_keys(request, headers))


# ---------------------------------------------------------------- attributes
def test_a_request_has_its_method_path_segments_query_headers_and_body_scalars():
    got = attrs(
        {
            "method": "POST",
            "path": "/shops/7/orders",
            "query": "currency=EUR&page=2",
            "headers": {"accept-language": "de-DE", "x-other": "not chosen"},
            "body": '{"plan": "bulk", "qty": 7, "express": true, "note": null, "rate": 1.5,'
            ' "lines": [1], "meta": {"a": 1}}',
            "body_encoding": "utf8",
        }
    )
    assert got == {
        "method": "POST",
        "path[0]": "shops",
        "path[1]": "7",
        "path[2]": "orders",
        "query.currency": "EUR",
        "query.page": "2",
        "header.accept-language": "de-DE",
        "body.plan": '"bulk"',  # JSON scalars as their JSON text
        "body.qty": "7",
        "body.express": "true",
        "body.note": "null",
        "body.rate": "1.5",
    }


def test_a_query_key_gives_its_first_value_decoded_and_a_bare_key_the_empty_string():
    got = attrs({"method": "GET", "path": "/", "query": "tag=a&tag=b&flag&q=red+shoes&x=%3Cb%3E"})
    assert got["query.tag"] == "a"
    assert got["query.flag"] == ""
    assert got["query.q"] == "red shoes"
    assert got["query.x"] == "<b>"


def test_bodies_that_are_not_json_objects_give_no_body_attributes():
    for body in ("[1, 2]", "a=1&b=2", '{"broken": ', '"text"'):
        got = attrs({"method": "POST", "path": "/x", "body": body, "body_encoding": "utf8"})
        assert not [a for a in got if a.startswith("body.")], body


def test_a_base64_json_body_is_read_too():
    body = base64.b64encode(b'{"plan": "bulk"}').decode()
    got = attrs({"method": "POST", "path": "/x", "body": body, "body_encoding": "base64"})
    assert got["body.plan"] == '"bulk"'


def test_what_one_request_contributes_is_bounded():
    request = {
        "method": "GET",
        "path": "/" + "/".join(f"s{i}" for i in range(50)),
        "query": "&".join(f"k{i}=v" for i in range(100)),
        "headers": {"user-agent": "x" * 5000},
        "body": '{"a": "' + "y" * 5000 + '", ' + ", ".join(f'"b{i}": 1' for i in range(100)) + "}",
    }
    got = attrs(request)
    assert len([a for a in got if a.startswith("path[")]) == MAX_SEGMENTS
    assert len([a for a in got if a.startswith("query.")]) == MAX_KEYS
    assert len([a for a in got if a.startswith("body.")]) == MAX_KEYS
    assert all(len(v) <= MAX_TEXT for v in got.values())
    other = dict(request, headers={"user-agent": "x" * 4999 + "z"})
    assert attrs(other)["header.user-agent"] != got["header.user-agent"]  # still distinct


# ---------------------------------------------------------------- thresholds
def _counts(n: int, **keys: int) -> Counts:
    return Counts(n, Counter({f"query.{k}\0v": c for k, c in keys.items()}))


def _contrast(d: Counts, r: Counts, d_total: int | None = None, r_total: int | None = None):
    return contrast(d, r.n, r.keys.__getitem__, d_total or d.n, r_total or r.n)


def test_support_must_reach_80_percent():
    r = _counts(100)
    assert [e["support"] for e in _contrast(_counts(10, a=8), r)] == [0.8]
    assert _contrast(_counts(9, a=7), r) == []  # 0.78


def test_at_least_five_pairs_must_hold_it():
    r = _counts(100)
    assert _contrast(_counts(4, a=4), r) == []
    assert [e["pairs"] for e in _contrast(_counts(5, a=5), r)] == [5]


def test_lift_must_reach_two_and_uses_one_pair_of_r_as_the_floor():
    assert _contrast(_counts(10, a=10), _counts(10, a=6)) == []  # lift 1.67
    (entry,) = _contrast(_counts(10, a=10), _counts(10, a=5))
    assert entry["lift"] == 2.0 and entry["baseline"] == 0.5
    (entry,) = _contrast(_counts(10, a=10), _counts(40))
    assert entry["baseline"] == 0.0 and entry["lift"] == 40.0  # support / (1 / |R|)


def test_at_most_three_entries_by_lift_then_support():
    d = _counts(10, a=10, b=9, c=10, d=10, e=8)
    r = _counts(100, a=10, b=1, c=1, d=30, e=1)
    got = _contrast(d, r)
    assert [e["attribute"] for e in got] == ["query.c", "query.b", "query.e"]
    assert [round(e["lift"], 6) for e in got] == [100.0, 90.0, 80.0]


def test_an_empty_r_explains_nothing():
    assert _contrast(_counts(10, a=10), _counts(0), r_total=0) == []


def test_sampled_pair_counts_are_scaled_to_the_whole_set():
    (entry,) = _contrast(_counts(100, a=90), _counts(100), d_total=1000)
    assert entry["pairs"] == 900 and entry["support"] == 0.9


# ---------------------------------------------------------------- sampling and merging
def _pairs(n: int, seed: int = 7) -> list[tuple[str, str, frozenset | None, dict]]:
    """One endpoint: $.price differs exactly for EUR, 500s exactly for plan=bulk, and
    $.tax mostly (not only) for accept-language de, so its shares are not 0 or 1."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cid = f"cid-{seed}-{i}"
        eur, bulk = rng.random() < 0.2, rng.random() < 0.1
        language = rng.choice(["en", "de", "fr"])
        request = {
            "method": "GET",
            "path": f"/items/{rng.randrange(10**6)}",
            "query": f"currency={'EUR' if eur else rng.choice(['USD', 'GBP'])}&q=t{i}",
            "headers": {"accept-language": language},
            "body": '{"plan": "bulk"}' if bulk else '{"plan": "basic"}',
        }
        if bulk:
            out.append((cid, "200->500", None, request))
            continue
        tax = rng.random() < (0.95 if language == "de" else 0.02)
        sig = frozenset([PRICE] * eur + [TAX] * tax)
        out.append((cid, "200->200", sig, request))
    return out


def _agg(pairs, sample: int) -> ExplainAgg:
    agg = ExplainAgg(sample)
    for cid, cell, sig, request in pairs:
        agg.add(cid_hash(cid), cell, sig, request, HEADERS)
    return agg


def _explain(agg: ExplainAgg, pairs) -> tuple[dict, dict]:
    matrix = Counter(cell for _, cell, _, _ in pairs)
    compared = [sig for _, cell, sig, _ in pairs if sig is not None]
    totals = {fk: sum(1 for sig in compared if fk in sig) for fk in (PRICE, TAX)}
    expand = reader(HEADERS)
    return agg.fields(totals, len(compared), expand), agg.cells(matrix, len(pairs), expand)


def _merged(parts: list[ExplainAgg], rng: random.Random) -> ExplainAgg:
    """Merge in a random tree: any grouping and any order."""
    parts = list(parts)
    while len(parts) > 1:
        a, b = rng.sample(range(len(parts)), 2)
        parts[a].merge(parts[b])
        parts.pop(b)
    return parts[0]


@pytest.mark.parametrize("sample", [10_000, 60])
def test_any_split_and_merge_order_gives_the_same_explain(sample):
    pairs = _pairs(3000)
    expected = _explain(_agg(pairs, sample), pairs)
    (tax,) = expected[0][TAX]
    assert tax["attribute"] == "header.accept-language" and 0.8 <= tax["support"] < 1.0
    assert tax["baseline"] < 0.1
    for seed in range(4):
        rng = random.Random(seed)
        buckets = rng.randint(2, 40)
        split = [[] for _ in range(buckets)]
        for p in pairs:
            split[rng.randrange(buckets)].append(p)
        parts = [pickle.loads(pickle.dumps(_agg(ps, sample))) for ps in split]  # as workers send
        assert _explain(_merged(parts, rng), pairs) == expected


def test_planted_predictors_are_found_with_support_one_on_a_sample():
    pairs = _pairs(6000)
    fields, cells = _explain(_agg(pairs, 100), pairs)
    (price,) = [e for e in fields[PRICE] if e["attribute"] == "query.currency"]
    assert (price["value"], price["support"], price["baseline"]) == ("EUR", 1.0, 0.0)
    true_d = sum(1 for _, _, sig, _ in pairs if sig and PRICE in sig)
    assert price["pairs"] == true_d  # support 1.0 scales to every pair of D
    (bulk,) = cells["200->500"]
    assert (bulk["attribute"], bulk["value"], bulk["support"]) == ("body.plan", '"bulk"', 1.0)
    exact = _explain(_agg(pairs, 10_000), pairs)[0][TAX][0]
    (sampled,) = fields[TAX]
    assert sampled["value"] == exact["value"] == "de"
    assert sampled["support"] != exact["support"]  # shares on a sample: close, not equal
    assert abs(sampled["support"] - exact["support"]) < 0.1


def test_the_sample_level_keeps_at_most_size_requests():
    ns = [{0: 500, 1: 260, 2: 120, 3: 60, 4: 33}, {0: 10, 5: 20}]
    level = sample_level(ns, 100)
    assert sum(k for n in ns for lv, k in n.items() if lv >= level) <= 100
    assert sum(k for n in ns for lv, k in n.items() if lv >= level - 1) > 100
    assert sample_level(ns, 10_000) == 0


def test_levels_halve_like_the_hash_bits():
    levels = Counter(level_of(cid_hash(f"c{i}")) for i in range(40_000))
    assert 0.45 < levels[0] / 40_000 < 0.55 and 0.2 < levels[1] / 40_000 < 0.3


def test_explain_sets_compares_any_two_sets_of_requests():
    """The building block for other verdicts (e.g. a canary's failing requests vs the rest)."""
    failing, passing = AttrSample(), AttrSample()
    for i in range(400):
        request = {"method": "GET", "path": "/x", "headers": {"accept-language": "de"}}
        if i % 4 == 0:
            failing.add(level_of(cid_hash(f"f{i}")), _row(request))
        else:
            request["headers"]["accept-language"] = random.Random(i).choice(["en", "fr"])
            passing.add(level_of(cid_hash(f"p{i}")), _row(request))
    (entry,) = explain_sets([failing], [passing], HEADERS, 10_000, 100, 300)
    assert (entry["attribute"], entry["value"], entry["support"]) == (
        "header.accept-language",
        "de",
        1.0,
    )


def _row(request: dict) -> bytes:
    from analysis.core.attributes import request_row

    return request_row(request, HEADERS)


# ---------------------------------------------------------------- memory
def test_a_million_distinct_query_values_stay_within_the_sample_bound():
    sample = 1000
    total, parts, agg = 1_000_000, 25, None
    merged = ExplainAgg(sample)
    peak = 0
    request = {"method": "GET", "path": "/search", "query": "", "headers": {}}
    for part in range(parts):
        agg = ExplainAgg(sample)
        for i in range(part, total, parts):
            eur = i % 10 == 0
            request["query"] = f"q=term-{i}&currency={'EUR' if eur else 'USD'}"
            agg.add(
                cid_hash(f"c{i}"), "200->200", frozenset({PRICE}) if eur else NO_DIFF, request, ()
            )
            peak = max(peak, agg.size()) if i % 997 == 0 else peak
        merged.merge(agg)
        peak = max(peak, merged.size())
    # Two samples (D of $.price, the compared pairs for R), each within `sample` rows,
    # plus what is held between prunes (at most twice that, or 4 × sample).
    bound = 2 * (4 * sample) + 200
    assert peak <= bound, peak
    assert merged.size() <= bound
    held = {row for g in merged.groups.values() for rows in g.rows.values() for row in rows}
    assert len(held) <= bound  # the distinct query values held, out of a million
    fields = merged.fields({PRICE: total // 10}, total, reader(()))
    (entry,) = [e for e in fields[PRICE] if e["attribute"] == "query.currency"]
    assert (entry["value"], entry["support"], entry["pairs"]) == ("EUR", 1.0, total // 10)


def test_counting_an_attribute_with_too_many_values_stops_at_the_cap():
    from analysis.core.attrsample import counts_at

    sample = AttrSample()
    for i in range(500):
        sample.add(0, _row({"method": "GET", "path": f"/u/{i}", "query": "a=1"}))
    got = counts_at([sample], 0, reader(HEADERS), 500)
    assert "path[1]" in got.capped
    assert not [k for k in got.keys if k.startswith("path[1]")]
    assert got.keys["query.a\x001"] == 500
    assert cap_for(500) == 101
