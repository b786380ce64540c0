"""The demo's traffic: a fixed, seeded request mix and the driver that sends it.

The plan is a pure function of its seed, so a test can tell in advance which
requests hit a planted regression (the bulk orders v2 answers with 500). The
driver records the CloudFront request id of each request (``x-amz-cf-id``,
which is the correlation id), so the planted ones can be found again in the
records and the report: the front door returns it; with no front door (the tap
as mirror source) the driver plays CloudFront-without-a-function and sends one.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shadowdiff.demo.apps import BULK_QUANTITY
from shadowdiff.demo.catalog import FIRST_SKU, ITEM_COUNT, SEARCH_WORDS, USER_COUNT
from shadowdiff.frontdoor import new_request_id

#: Share of each endpoint in the mix (weights).
MIX = (("users", 35), ("items", 30), ("search", 20), ("orders", 15))
#: The query strings of item requests: a quarter ask for euros.
CURRENCY_QUERIES = ("", "", "currency=USD", "currency=EUR")


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    endpoint: str
    method: str
    path: str
    query: str = ""
    body: dict[str, Any] | None = None
    planted_5xx: bool = False


@dataclass(slots=True)
class DriveResult:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    planted_5xx_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": dict(self.failures),
            "planted_5xx": len(self.planted_5xx_ids),
            "planted_5xx_correlation_ids": self.planted_5xx_ids,
            "seconds": round(self.seconds, 3),
        }


def plan(count: int, seed: int = 2026) -> list[PlannedRequest]:
    """``count`` requests in the :data:`MIX` proportions; a few ids do not exist (404s)."""
    rng = random.Random(seed)
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    out: list[PlannedRequest] = []
    for endpoint in rng.choices(names, weights, k=count):
        if endpoint == "users":
            out.append(PlannedRequest("users", "GET", f"/users/{rng.randint(1, USER_COUNT + 10)}"))
        elif endpoint == "items":
            sku = f"SKU-{FIRST_SKU + rng.randrange(ITEM_COUNT + 5)}"
            query = rng.choice(CURRENCY_QUERIES)  # v2 mislabels only the EUR ones
            out.append(PlannedRequest("items", "GET", f"/items/{sku}", query))
        elif endpoint == "search":
            words = " ".join(rng.sample(SEARCH_WORDS, rng.choice((1, 1, 2))))
            query = f"q={words.replace(' ', '+')}&limit={rng.choice((5, 10, 20))}"
            out.append(PlannedRequest("search", "GET", "/search", query))
        else:
            quantities = [rng.choice((1, 1, 1, 2, 2, 3, 4, 6, 8)) for _ in range(rng.randint(1, 3))]
            lines = [
                {"sku": f"SKU-{FIRST_SKU + rng.randrange(ITEM_COUNT)}", "quantity": qty}
                for qty in quantities
            ]
            body = {"user_id": rng.randint(1, USER_COUNT), "lines": lines}
            bulk = any(qty >= BULK_QUANTITY for qty in quantities)
            out.append(PlannedRequest("orders", "POST", "/orders", body=body, planted_5xx=bulk))
    return out


async def drive(
    base_url: str,
    requests: list[PlannedRequest],
    *,
    concurrency: int = 16,
    on_done: Callable[[], None] = lambda: None,
    send_cloudfront_id: bool = False,
    user_header: str | None = None,
    users: int = 400,
) -> DriveResult:
    """Send every planned request through ``base_url``; never raises for a failed request.

    ``send_cloudfront_id``: set ``x-amz-cf-id`` on each request, as CloudFront
    does towards its origins (for a tap with no front door in front of it).
    With ``user_header`` each request carries one of ``users`` user ids in that
    header (request ``i`` is user ``i % users``), which the canary split keeps sticky.
    """
    import aiohttp

    result = DriveResult()
    queue: asyncio.Queue[tuple[int, PlannedRequest]] = asyncio.Queue()
    for item in enumerate(requests):
        queue.put_nowait(item)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i, req = queue.get_nowait()
            url = base_url + req.path + ("?" + req.query if req.query else "")
            sent_id = new_request_id() if send_cloudfront_id else None
            headers = {"x-amz-cf-id": sent_id} if sent_id else {}
            if user_header:
                headers[user_header] = f"user-{i % users}"
            try:
                async with session.request(req.method, url, json=req.body, headers=headers) as resp:
                    await resp.read()
                    result.statuses[resp.status] += 1
                    cf_id = sent_id or resp.headers.get("x-amz-cf-id")
                    if req.planted_5xx and cf_id:
                        result.planted_5xx_ids.append(cf_id)
            except (aiohttp.ClientError, TimeoutError) as exc:
                result.failures[type(exc).__name__] += 1
            result.sent += 1
            on_done()

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    result.seconds = loop.time() - started
    return result
