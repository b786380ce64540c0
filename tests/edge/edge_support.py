"""Helpers shared by the edge tests: the documented events and a config factory."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


def event_names() -> list[str]:
    return sorted(p.name for p in EVENTS.glob("*.json"))


def config_for(*urls: str, **extra: Any) -> dict[str, Any]:
    targets = [{"url": u, "role": "shadow", "sample_rate": 1.0} for u in urls]
    return {"targets": targets, "budget_ms": 100, **extra}


def request_of(event: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    return request


def eventually(check: Any, timeout: float = 5.0) -> bool:
    """Poll ``check()`` until true: a target's threads may lag the handler on a busy machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return bool(check())
