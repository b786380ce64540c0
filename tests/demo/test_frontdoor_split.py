"""`shadowdiff edge serve` runs the canary split: the origin-request event, then the arm's origin."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx

from edge.handler import make_handler
from edge.split import make_handler as make_split
from shadowdiff.frontdoor import FrontDoor, origin_request_event, origin_url

DOCUMENTED = Path(__file__).resolve().parent.parent / "events" / "origin-request"


def _named_app(name: str) -> Any:
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        body = json.dumps({"origin": name, "path": scope["path"], "headers": headers}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


def rule(key: str, weight: float) -> str:
    fraction = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
    return "canary" if fraction < weight else "baseline"


def test_the_origin_request_event_has_the_documented_shape():
    documented = json.loads((DOCUMENTED / "get-custom-origin.json").read_text())
    theirs = documented["Records"][0]["cf"]
    request = copy.deepcopy(theirs["request"])
    del request["origin"]
    ours = origin_request_event(request, "http://127.0.0.1:8001/base", "rid")["Records"][0]["cf"]
    assert set(ours["config"]) == set(theirs["config"])
    assert ours["config"]["eventType"] == "origin-request"
    assert set(ours["request"]["origin"]["custom"]) == set(theirs["request"]["origin"]["custom"])
    custom = ours["request"]["origin"]["custom"]
    assert (custom["domainName"], custom["port"], custom["path"]) == ("127.0.0.1", 8001, "/base")
    assert origin_url(ours["request"], "x") == "http://127.0.0.1:8001/base"


def test_each_user_reaches_the_origin_of_its_sticky_arm_with_the_arm_header(serve_app):
    baseline = serve_app(_named_app("baseline"))
    canary = serve_app(_named_app("canary"))
    port = int(canary.url.rsplit(":", 1)[1])
    config = {
        "split": {
            "weight": 0.5,
            "canary_origin": {"domain": "127.0.0.1", "protocol": "http", "port": port},
            "key": {"cookie": "sid"},
        }
    }
    door = serve_app(FrontDoor(make_handler(config), baseline.url, split=make_split(config)))
    with httpx.Client() as client:
        for i in range(40):
            for _ in range(2):  # the same user twice: the same arm
                resp = client.get(door.url + f"/items/{i}", headers={"cookie": f"sid=user-{i}"})
                body = resp.json()
                arm = rule(f"user-{i}", 0.5)
                assert body["origin"] == arm
                assert body["headers"]["x-shadowdiff-arm"] == arm
                assert body["path"] == f"/items/{i}"
