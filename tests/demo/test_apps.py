"""The sample shop: v2 differs from v1 exactly where the demo says, and both carry noise."""

from __future__ import annotations

import time

import httpx
import pytest

from shadowdiff.demo.apps import BULK_QUANTITY, EUR_PER_USD, SEARCH_DELAY_S, make_app, tier
from shadowdiff.demo.catalog import ITEMS, USERS
from shadowdiff.demo.traffic import MIX, plan

from .conftest import ThreadServer


def _client(version):
    server = ThreadServer(make_app(version)).start()
    with httpx.Client(base_url=server.url) as client:
        yield client
    server.stop()


@pytest.fixture(scope="module")
def v1():
    yield from _client("v1")


@pytest.fixture(scope="module")
def v2():
    yield from _client("v2")


def _strip_meta(body):
    return {k: v for k, v in body.items() if k != "meta"}


def test_users_gain_a_field_lose_one_and_change_tier_for_some(v1, v2):
    changed = 0
    for uid in USERS:
        a, b = v1.get(f"/users/{uid}").json(), v2.get(f"/users/{uid}").json()
        assert "legacy_id" in a and "legacy_id" not in b
        assert "avatar_url" in b and "avatar_url" not in a
        changed += a["tier"] != b["tier"]
    assert 0 < changed < len(USERS) / 2


def test_tier_thresholds_moved_down_in_v2():
    assert (tier(2700, "v1"), tier(2700, "v2")) == ("silver", "gold")
    assert tier(5000, "v1") == tier(5000, "v2") == "gold"


def test_item_price_became_a_string_and_caching_was_turned_off(v1, v2):
    sku = next(iter(ITEMS))
    a, b = v1.get(f"/items/{sku}"), v2.get(f"/items/{sku}")
    assert isinstance(a.json()["price"], float) and isinstance(b.json()["price"], str)
    assert float(b.json()["price"]) == a.json()["price"]
    assert a.headers["cache-control"] == "public, max-age=60"
    assert b.headers["cache-control"] == "no-store"


def test_asking_for_euros_converts_the_price_but_v2_still_says_usd(v1, v2):
    sku, item = next(iter(ITEMS.items()))
    a = v1.get(f"/items/{sku}", params={"currency": "EUR"}).json()
    b = v2.get(f"/items/{sku}", params={"currency": "EUR"}).json()
    assert a["price"] == round(item.price * EUR_PER_USD, 2) == float(b["price"])
    assert (a["currency"], b["currency"]) == ("EUR", "USD")
    for query in ({}, {"currency": "USD"}):
        a, b = v1.get(f"/items/{sku}", params=query).json(), v2.get(f"/items/{sku}", params=query)
        assert a["currency"] == b.json()["currency"] == "USD" and a["price"] == item.price


def test_a_quarter_of_the_planned_item_requests_ask_for_euros():
    items = [r for r in plan(2000) if r.endpoint == "items"]
    eur = [r for r in items if r.query == "currency=EUR"]
    assert 0.15 < len(eur) / len(items) < 0.35


def test_bulk_orders_fail_only_in_v2(v1, v2):
    sku = next(iter(ITEMS))
    bulk = {"user_id": 1, "lines": [{"sku": sku, "quantity": BULK_QUANTITY}]}
    small = {"user_id": 1, "lines": [{"sku": sku, "quantity": 1}]}
    assert v1.post("/orders", json=bulk).status_code == 201
    assert v2.post("/orders", json=bulk).status_code == 500
    a, b = v1.post("/orders", json=small).json(), v2.post("/orders", json=small).json()
    assert {k: v for k, v in a.items() if k not in ("meta", "order_id")} == {
        k: v for k, v in b.items() if k not in ("meta", "order_id")
    }


def test_search_answers_the_same_but_v2_waits_for_its_ranking_step(v1, v2):
    a = v1.get("/search", params={"q": "mug"}).json()
    started = time.monotonic()
    b = v2.get("/search", params={"q": "mug"}).json()
    assert time.monotonic() - started >= SEARCH_DELAY_S
    assert _strip_meta(a) == _strip_meta(b)


def test_request_ids_and_timestamps_differ_on_every_answer(v1):
    first, second = v1.get("/users/1"), v1.get("/users/1")
    assert first.json()["meta"]["request_id"] != second.json()["meta"]["request_id"]
    assert first.json()["meta"]["generated_at"] != second.json()["meta"]["generated_at"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert _strip_meta(first.json()) == _strip_meta(second.json())


def test_unknown_ids_are_404_in_both_versions(v1, v2):
    for client in (v1, v2):
        assert client.get("/users/99999").status_code == 404
        assert client.get("/items/SKU-0").status_code == 404
        assert client.post("/orders", json={"user_id": 1}).status_code == 422


def test_every_planned_request_gets_an_answer_from_v1(v1):
    for req in plan(200):
        url = req.path + ("?" + req.query if req.query else "")
        resp = v1.request(req.method, url, json=req.body)
        assert resp.status_code in (200, 201, 404), (req, resp.text)


def test_the_plan_is_reproducible_and_plants_some_5xx():
    first, second = plan(500), plan(500)
    assert first == second
    assert {r.endpoint for r in first} == {name for name, _ in MIX}
    planted = [r for r in first if r.planted_5xx]
    assert planted and all(r.endpoint == "orders" for r in planted)
