"""The command lines the demo runs: the same ones a user types (docs/contract.md §6).

Kept apart from the orchestration so the list of what runs, with which flags,
reads in one place and can be checked without starting anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

SHADOWDIFF = [sys.executable, "-m", "shadowdiff"]
#: The sample apps: name → (app version, role the collector in front of it plays).
APPS = {"v1": ("v1", "primary"), "v2": ("v2", "shadow"), "v1-secondary": ("v1", "secondary")}


def app_argv(version: str, port: int) -> list[str]:
    return [sys.executable, "-m", "shadowdiff.demo.apps", "--version", version, "--port", str(port)]


def collector_argv(
    role: str,
    upstream: str,
    records: Path,
    port: int,
    spool: Path,
    deployment: str,
    signing_secret: str | None,
    mirror_config: Path | None = None,
) -> list[str]:
    argv = [
        *SHADOWDIFF,
        "collector",
        "--role",
        role,
        "--upstream",
        upstream,
        "--sink",
        str(records),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--spool-dir",
        str(spool),
        "--deployment",
        deployment,
        "--log-level",
        "warning",
    ]
    # The primary tap sits in the live path behind the front door: nothing signs there.
    if signing_secret and role != "primary":
        argv += ["--signing-secret", signing_secret]
    # The tap as mirror source: it signs with the secret inside the edge config.
    if mirror_config is not None:
        argv += ["--mirror-config", str(mirror_config)]
    return argv


def frontdoor_argv(config: Path, primary: str, port: int) -> list[str]:
    return [*SHADOWDIFF, "edge", "serve", "--config", str(config), "--primary", primary,
            "--port", str(port)]  # fmt: skip


def report_argv(records: Path, config: Path, out: Path) -> list[str]:
    return [*SHADOWDIFF, "report", "--records", str(records), "--config", str(config),
            "--out", str(out)]  # fmt: skip


def serve_argv(reports: Path, records: Path, port: int) -> list[str]:
    return [*SHADOWDIFF, "serve", "--reports", str(reports), "--records", str(records),
            "--port", str(port)]  # fmt: skip


def replay_argv(records: Path, target: str, secondary: str, config: Path, out: Path) -> list[str]:
    # The demo shop keeps no state, so its orders are safe to send again.
    return [*SHADOWDIFF, "replay", "--records", str(records), "--target", target,
            "--secondary-target", secondary, "--methods", "GET,HEAD,OPTIONS,POST",
            "--deployment", "shop v2 (replay)", "--config", str(config),
            "--out", str(out)]  # fmt: skip


def canary_argv(records: Path, config: Path, out: Path) -> list[str]:
    return [*SHADOWDIFF, "canary", "--records", str(records), "--config", str(config),
            "--out", str(out)]  # fmt: skip


def watch_argv(records: Path, config: Path, reports: Path, metrics_port: int) -> list[str]:
    """The live report beside the traffic: short ticks, a short grace (demo records flush fast)."""
    return [*SHADOWDIFF, "watch", "--records", str(records), "--config", str(config),
            "--reports", str(reports), "--every", "1", "--grace", "10s",
            "--metrics-port", str(metrics_port)]  # fmt: skip
