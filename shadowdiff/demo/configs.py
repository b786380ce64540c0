"""The two configuration files the demo writes next to its records.

They are written as files, in the documented formats, and handed to the real
commands, so a user can copy them as a starting point for a real deployment.
"""

from __future__ import annotations

import json
from pathlib import Path

CORRELATION_HEADER = "x-shadow-correlation-id"

#: The demo report config (docs/contract.md §5). No ignore rules on purpose: the report
#: must find the noise (request ids, timestamps) by itself, through the secondary.
REPORT_CONFIG = """\
# shadowdiff report configuration written by `shadowdiff demo`.
# Route templates win over the default path templating (digits -> {id}).
routes: ["/users/{id}", "/items/{sku}"]
# Headers that differ on every answer and say nothing about the release.
ignore_headers: ["date", "server"]
# Apps, collectors and front door share this machine's cores, which moves ~10 ms
# medians by a few percent from scheduling alone; the demo calls only a 20 %
# change material (the default, 5 %, suits hosts of their own).
latency: {alpha: 0.01, min_effect: 0.2}
# v2 is expected to cross both: the demo plants a 5xx and body changes.
fail_on: ["status_mismatch_rate > 0.01", "body_mismatch_rate > 0.05"]
"""


def edge_config(
    shadow_url: str, secondary_url: str, signing_secret: str | None
) -> dict[str, object]:
    """The edge config (docs/contract.md §2): mirror everything to the shadow and secondary collectors.

    Equal sample rates, so both mirrors get the same requests and the secondary can
    tell the report which differences are noise.
    """
    return {
        "targets": [
            {"url": shadow_url, "role": "shadow", "sample_rate": 1.0},
            {"url": secondary_url, "role": "secondary", "sample_rate": 1.0},
        ],
        "correlation_header": CORRELATION_HEADER,
        # Generous: the collectors answer 202 at once, but this machine is shared.
        "budget_ms": 1000,
        "methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        "include_paths": [],
        "exclude_paths": [],
        "mirror_headers": {"set": {}, "remove": []},
        "mirror_query": {"set": {}},
        "signing_secret": signing_secret,
    }


def write_configs(
    config_dir: Path, shadow_url: str, secondary_url: str, signing_secret: str | None
) -> tuple[Path, Path]:
    """Write ``edge.json`` and ``report.yaml`` into ``config_dir``; returns their paths."""
    config_dir.mkdir(parents=True, exist_ok=True)
    edge = config_dir / "edge.json"
    edge.write_text(json.dumps(edge_config(shadow_url, secondary_url, signing_secret), indent=2))
    report = config_dir / "report.yaml"
    report.write_text(REPORT_CONFIG)
    return edge, report


#: ``shadowdiff demo --canary``: the report config's routes and latency effect, plus the
#: canary thresholds (docs/contract.md §9; these are the defaults, spelled out to be copied).
CANARY_CONFIG = """\
# shadowdiff canary configuration written by `shadowdiff demo --canary`.
routes: ["/users/{id}", "/items/{sku}"]
# On one shared machine only a 20 % change in median latency is called material.
latency: {alpha: 0.01, min_effect: 0.2}
canary: {alpha: 0.01, min_error_delta: 0.005, min_requests: 200}
"""
USER_HEADER = "x-demo-user"


def split_config(canary_port: int, weight: float) -> dict[str, object]:
    """A split-only edge config: ``weight`` of the users, sticky by user header, to the canary tap."""
    return {
        "correlation_header": CORRELATION_HEADER,
        "split": {
            "weight": weight,
            "canary_origin": {"domain": "127.0.0.1", "protocol": "http", "port": canary_port},
            "key": {"header": USER_HEADER},
        },
    }


def write_canary_configs(config_dir: Path, canary_port: int, weight: float) -> tuple[Path, Path]:
    """Write ``edge-canary.json`` and ``canary.yaml`` into ``config_dir``; returns their paths."""
    config_dir.mkdir(parents=True, exist_ok=True)
    edge = config_dir / "edge-canary.json"
    edge.write_text(json.dumps(split_config(canary_port, weight), indent=2))
    canary = config_dir / "canary.yaml"
    canary.write_text(CANARY_CONFIG)
    return edge, canary
