"""The sample shop's data: users and items, the same in every process.

Generated from a fixed seed rather than stored, so that the primary, the shadow
and the secondary (three processes) and the traffic driver all agree on which
ids exist without sharing a file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

USER_COUNT = 250
ITEM_COUNT = 120
FIRST_SKU = 1000
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Margaret", "Tim")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman", "Hamilton")
_COUNTRIES = ("DE", "FR", "US", "JP", "BR", "IN", "NL", "SE")
_CATEGORIES = ("kitchen", "garden", "office", "books", "toys")
_NOUNS = ("kettle", "trowel", "stapler", "notebook", "lamp", "mug", "planter", "puzzle", "pen")
_ADJECTIVES = ("blue", "compact", "deluxe", "classic", "eco", "mini", "steel", "oak")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str
    country: str
    member_since: date
    lifetime_spend: float


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    name: str
    category: str
    price: float
    stock: int


def _users() -> dict[int, User]:
    rng = random.Random(42)
    out: dict[int, User] = {}
    for uid in range(1, USER_COUNT + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        out[uid] = User(
            id=uid,
            name=f"{first} {last}",
            email=f"{first}.{last}{uid}@example.com".lower(),
            country=rng.choice(_COUNTRIES),
            member_since=date(2019, 1, 1) + timedelta(days=rng.randrange(2500)),
            lifetime_spend=round(rng.uniform(0, 5000), 2),
        )
    return out


def _items() -> dict[str, Item]:
    rng = random.Random(7)
    out: dict[str, Item] = {}
    for n in range(ITEM_COUNT):
        sku = f"SKU-{FIRST_SKU + n}"
        out[sku] = Item(
            sku=sku,
            name=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
            category=rng.choice(_CATEGORIES),
            price=round(rng.uniform(2, 120), 2),
            stock=rng.randrange(0, 40),
        )
    return out


USERS = _users()
ITEMS = _items()
SEARCH_WORDS = tuple(sorted({w for item in ITEMS.values() for w in item.name.split()}))


def search(query: str, limit: int) -> list[Item]:
    """Items whose name or category contains every word of ``query``, cheapest first."""
    words = query.lower().split()
    hits = [
        item for item in ITEMS.values() if all(w in item.name or w == item.category for w in words)
    ]
    return sorted(hits, key=lambda item: (item.price, item.sku))[:limit]
