"""Planted canary data: two arms of primary records, told apart by ``deployment``.

Each arm is a seeded stream of requests over three endpoints; a test changes
one thing in the canary arm (an error rate, a latency factor, a field) and
checks that the verdict names exactly that.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from analysis_helpers import T0, rec

ENDPOINTS = ("items", "users", "orders")
Body = Callable[[str, int], dict[str, Any]]


def body(endpoint: str, i: int) -> dict[str, Any]:
    if endpoint == "items":
        return {"sku": f"SKU-{i}", "name": "lamp", "price": 19.99, "stock": i % 7, "tags": ["a"]}
    if endpoint == "users":
        return {"id": i, "name": "Ada", "tier": "gold", "legacy_id": f"U{i:06d}"}
    return {"order_id": f"o-{i}", "lines": [{"sku": "SKU-1", "quantity": 1}], "total": 3.5}


def arm(
    label: str,
    n: int,
    *,
    seed: int,
    errors: dict[str, float] | None = None,
    slow: dict[str, float] | None = None,
    shape: Body = body,
    no_response: float = 0.0,
) -> list[dict[str, Any]]:
    """``n`` primary records of one arm; ``errors``/``slow`` per endpoint (5xx rate, factor)."""
    rng = random.Random(seed)
    errors, slow = errors or {}, slow or {}
    out = []
    for i in range(n):
        endpoint = ENDPOINTS[i % 3]
        method, path = {
            "items": ("GET", f"/items/{1000 + rng.randrange(100)}"),
            "users": ("GET", f"/users/{rng.randrange(1, 500)}"),
            "orders": ("POST", "/orders"),
        }[endpoint]
        latency = rng.lognormvariate(2.3, 0.3) * slow.get(endpoint, 1.0)
        at = T0 + timedelta(seconds=i * 3600 / max(n, 1))
        cid = f"{label}-{seed}-{i}"
        common = {"method": method, "path": path, "at": at, "deployment": label}
        if rng.random() < no_response:
            out.append(rec(cid, status=None, latency=None, **common))
        elif rng.random() < errors.get(endpoint, 0.002):
            out.append(rec(cid, status=500, body={"error": "boom"}, latency=latency, **common))
        else:
            out.append(rec(cid, status=200, body=shape(endpoint, i), latency=latency, **common))
    return out
