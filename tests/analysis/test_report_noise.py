"""Noise: rule → secondary → auto, and what auto must never flag."""

from __future__ import annotations

import uuid

from analysis_helpers import endpoint, fields, later, pair, rec, report_for

from analysis.core.noise import volatile_shape


def _ts(i: int, ms: int = 0) -> str:
    return f"2026-11-25T10:{i // 60 % 60:02d}:{i % 60:02d}.{ms:03d}Z"


def test_volatile_values_that_differ_in_most_pairs_are_auto_noise(tmp_path):
    records = []
    for i in range(30):
        base = {"id": i, "status": "ok"}
        p = dict(base, generated_at=_ts(i), request_id=str(uuid.uuid4()), epoch=1764064800 + i)
        s = dict(base, generated_at=_ts(i, 7), request_id=str(uuid.uuid4()), epoch=1764064900 + i)
        records += pair(f"c{i:03d}", p, s, at=later(i))
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    f = fields(ep)
    for path in ("$.generated_at", "$.request_id", "$.epoch"):
        assert f[(path, "changed")]["noise_reason"] == "auto", path
    assert ep["body"]["mismatches"] == 0


def test_systematic_changes_are_never_auto_noise(tmp_path):
    records = []
    for i in range(30):
        p = {
            "token": uuid.uuid4().hex,
            "version": "2026-01-01T00:00:00Z",
            "gone": "a1b2c3d4e5",
            "typed": "12345678",
        }
        s = {"token": uuid.uuid4().hex, "version": "2026-02-02T00:00:00Z", "typed": 12345678}
        records += pair(f"c{i:03d}", p, s, at=later(i))
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    f = fields(ep)
    assert f[("$.token", "changed")]["noise_reason"] == "auto"
    assert f[("$.version", "changed")]["noise"] is False  # a constant new value
    assert f[("$.gone", "removed")]["noise"] is False
    assert f[("$.typed", "type_changed")]["noise"] is False
    assert ep["body"]["mismatches"] == 30


def test_random_integer_ids_and_urlsafe_tokens_are_auto_noise(tmp_path):
    import random
    import secrets

    rng = random.Random(3)
    records = []
    for i in range(40):
        p = {"n": rng.randrange(10**9), "tok": secrets.token_urlsafe(8), "price": 10 + i}
        s = {"n": rng.randrange(10**9), "tok": secrets.token_urlsafe(8), "price": 11 + i}
        records += pair(f"c{i:03d}", p, s, at=later(i))
    f = fields(endpoint(report_for(tmp_path, records), "GET /users/{id}"))
    assert f[("$.n", "changed")]["noise_reason"] == "auto"
    assert f[("$.tok", "changed")]["noise_reason"] == "auto"
    assert f[("$.price", "changed")]["noise"] is False  # small numbers: a real change


def test_a_field_changing_in_few_pairs_is_not_auto_noise(tmp_path):
    records = []
    for i in range(40):
        rid = str(uuid.uuid4())
        s_rid = str(uuid.uuid4()) if i < 8 else rid
        records += pair(f"c{i:03d}", {"rid": rid}, {"rid": s_rid}, at=later(i))
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    assert fields(ep)[("$.rid", "changed")]["noise"] is False
    assert ep["body"]["mismatches"] == 8


def test_auto_noise_can_be_switched_off(tmp_path):
    records = []
    for i in range(30):
        records += pair(
            f"c{i:03d}", {"rid": str(uuid.uuid4())}, {"rid": str(uuid.uuid4())}, at=later(i)
        )
    ep = endpoint(report_for(tmp_path, records, "auto_noise: false\n"), "GET /users/{id}")
    assert fields(ep)[("$.rid", "changed")]["noise"] is False


def test_fields_that_differ_between_primary_and_secondary_are_secondary_noise(tmp_path):
    records = []
    for i in range(30):
        p = {"lucky": i % 3, "price": 10, "color": "red"}
        s = {"lucky": (i + 1) % 3, "price": 12, "color": "red" if i % 10 else "blue"}
        x = {"lucky": (i + 2) % 3, "price": 10, "color": "red" if i % 10 else "green"}
        records += [
            rec(f"c{i:03d}", "primary", body=p, at=later(i)),
            rec(f"c{i:03d}", "shadow", body=s, at=later(i)),
            rec(f"c{i:03d}", "secondary", body=x, at=later(i)),
        ]
    report = report_for(tmp_path, records)
    f = fields(endpoint(report, "GET /users/{id}"))
    assert f[("$.lucky", "changed")]["noise_reason"] == "secondary"
    assert f[("$.color", "changed")]["noise_reason"] == "secondary"  # same rate in both: noise
    assert f[("$.price", "changed")]["noise"] is False
    assert report["summary"]["secondary_records"] == 30


def test_a_field_far_above_its_secondary_noise_rate_is_reported(tmp_path):
    records = []
    for i in range(50):
        p = {"v": 1}
        s = {"v": 2 if i < 40 else 1}  # 80 % raw
        x = {"v": 3 if i < 5 else 1}  # 10 % noise
        records += [
            rec(f"c{i:03d}", "primary", body=p, at=later(i)),
            rec(f"c{i:03d}", "shadow", body=s, at=later(i)),
            rec(f"c{i:03d}", "secondary", body=x, at=later(i)),
        ]
    f = fields(endpoint(report_for(tmp_path, records), "GET /users/{id}"))
    assert f[("$.v", "changed")]["noise"] is False


def test_rule_wins_over_secondary_and_auto(tmp_path):
    records = []
    for i in range(30):
        rid = [str(uuid.uuid4()) for _ in range(3)]
        records += [
            rec(f"c{i:03d}", "primary", body={"rid": rid[0]}, at=later(i)),
            rec(f"c{i:03d}", "shadow", body={"rid": rid[1]}, at=later(i)),
            rec(f"c{i:03d}", "secondary", body={"rid": rid[2]}, at=later(i)),
        ]
    both = report_for(tmp_path, records, 'ignore: [{endpoint: "GET /users/*", paths: ["rid"]}]\n')
    assert fields(endpoint(both, "GET /users/{id}"))[("$.rid", "changed")]["noise_reason"] == "rule"
    no_rule = report_for(tmp_path, records)
    assert (
        fields(endpoint(no_rule, "GET /users/{id}"))[("$.rid", "changed")]["noise_reason"]
        == "secondary"
    )


def test_volatile_shapes():
    assert volatile_shape("2026-11-25T10:00:00.123Z") == volatile_shape("2027-01-01T23:59:59.999Z")
    assert volatile_shape(str(uuid.uuid4())) == volatile_shape(str(uuid.uuid4()))
    assert volatile_shape("hello") is None and volatile_shape("abcdefghij") is None
    assert volatile_shape(True) is None and volatile_shape(42) is None
    assert volatile_shape(1764064800123) == volatile_shape(123456) == "big-number"
    assert volatile_shape(1764064800.5) == "big-number" and volatile_shape(99.5) is None
    assert volatile_shape("aB-cD_eFgH") == volatile_shape("Zz_9y-xWvU")  # base64url tokens
    assert volatile_shape("lowercaseword") is None
