"""Two versions of a small shop API; v2 carries the regressions the demo report must find.

v1 is the primary (and, as a second process, the secondary); v2 is the shadow.
What changed from v1 to v2, one planted difference each:

========================  ==========================================================
``GET /users/{id}``       ``tier`` uses new thresholds (changed value for some users),
                          ``avatar_url`` is new, ``legacy_id`` is gone
``GET /items/{sku}``      ``price`` is a string (``"19.99"``, was ``19.99``) and
                          ``cache-control`` is ``no-store`` (was ``public, max-age=60``);
                          with ``?currency=EUR`` the price is still converted, but
                          ``currency`` says ``USD`` (the one request attribute that
                          decides a difference, which the report's ``explain`` names)
``GET /search``           40 ms slower (a new ranking step)
``POST /orders``          500 when any line has a quantity of 5 or more
========================  ==========================================================

Each request also waits 4–12 ms for a pretend database, the same for the same
request in both versions (a hash of the path), so latencies look like an API's
and a few tenths of a millisecond of scheduling noise cannot pass for a change.

Every answer of both versions also carries ``meta.request_id``,
``meta.generated_at`` and an ``x-request-id`` header, which differ on every
response: the noise a report has to recognise rather than flag.

Run one with ``python -m shadowdiff.demo.apps --version v2 --port 8002``.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shadowdiff.demo.catalog import ITEMS, USERS, Item, User, search

VERSIONS = ("v1", "v2")
BULK_QUANTITY = 5  # v2 fails on order lines with at least this many units
EUR_PER_USD = 0.92  # what ?currency=EUR converts prices with
SEARCH_DELAY_S = 0.04  # what v2's new ranking step costs


async def database(key: str) -> None:
    """The pretend query: 4–12 ms, fixed per key, so both versions spend the same."""
    await asyncio.sleep((4 + zlib.crc32(key.encode()) % 81 / 10) / 1000)


def _meta() -> dict[str, str]:
    return {"request_id": str(uuid.uuid4()), "generated_at": datetime.now(UTC).isoformat()}


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    out = {"x-request-id": uuid.uuid4().hex, **(headers or {})}
    return JSONResponse({**body, "meta": _meta()}, status_code=status, headers=out)


def tier(spend: float, version: str) -> str:
    gold, silver = (3000, 1000) if version == "v1" else (2500, 800)
    return "gold" if spend >= gold else "silver" if spend >= silver else "bronze"


def user_view(user: User, version: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "country": user.country,
        "member_since": user.member_since.isoformat(),
        "tier": tier(user.lifetime_spend, version),
    }
    if version == "v1":
        view["legacy_id"] = f"U{user.id:06d}"
    else:
        view["avatar_url"] = f"https://cdn.example.com/avatars/{user.id}.png"
    return view


def item_view(item: Item, version: str, currency: str = "USD") -> dict[str, Any]:
    """``currency`` is ``USD`` or ``EUR`` (the ``?currency=`` of the request)."""
    price = round(item.price * EUR_PER_USD, 2) if currency == "EUR" else item.price
    return {
        "sku": item.sku,
        "name": item.name,
        "category": item.category,
        "price": price if version == "v1" else f"{price:.2f}",
        "currency": currency if version == "v1" else "USD",
        "in_stock": item.stock > 0,
    }


def make_app(version: str) -> Starlette:
    """The shop API as ``version`` (``v1`` or ``v2``) answers it."""
    if version not in VERSIONS:
        raise ValueError(f"unknown demo app version {version!r}; expected one of {VERSIONS}")
    cache_control = "public, max-age=60" if version == "v1" else "no-store"

    async def get_user(request: Request) -> Response:
        await database(request.url.path)
        user = USERS.get(int(request.path_params["id"]))
        if user is None:
            return _json({"error": "user not found"}, 404)
        return _json(user_view(user, version))

    async def get_item(request: Request) -> Response:
        await database(request.url.path)
        item = ITEMS.get(request.path_params["sku"])
        if item is None:
            return _json({"error": "item not found"}, 404)
        currency = "EUR" if request.query_params.get("currency") == "EUR" else "USD"
        view = item_view(item, version, currency)
        return _json(view, headers={"cache-control": cache_control})

    async def get_search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        await database(f"search {query}")
        limit = int(request.query_params.get("limit", "10"))
        if version == "v2":
            await asyncio.sleep(SEARCH_DELAY_S)
        hits = [
            {"sku": i.sku, "name": i.name, "category": i.category} for i in search(query, limit)
        ]
        return _json({"query": query, "count": len(hits), "results": hits})

    async def post_order(request: Request) -> Response:
        try:
            order = await request.json()
            user = USERS[int(order["user_id"])]
            lines = [(ITEMS[line["sku"]], int(line["quantity"])) for line in order["lines"]]
        except (ValueError, KeyError, TypeError):
            return _json({"error": "invalid order"}, 422)
        await database(f"order {user.id}")
        if version == "v2" and any(qty >= BULK_QUANTITY for _, qty in lines):
            return _json({"error": "internal server error"}, 500)
        out: list[dict[str, Any]] = [
            {
                "sku": i.sku,
                "quantity": q,
                "unit_price": i.price,
                "line_total": round(i.price * q, 2),
            }
            for i, q in lines
        ]
        total = round(sum(line["line_total"] for line in out), 2)
        body = {"order_id": str(uuid.uuid4()), "user_id": user.id, "lines": out, "total": total}
        return _json({**body, "currency": "USD", "status": "placed"}, 201)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": version})

    return Starlette(
        routes=[
            Route("/users/{id:int}", get_user),
            Route("/items/{sku}", get_item),
            Route("/search", get_search),
            Route("/orders", post_order, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Run one version of the demo shop API.")
    parser.add_argument("--version", choices=VERSIONS, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(
        make_app(args.version),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
