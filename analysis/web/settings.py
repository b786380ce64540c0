"""The typed settings of ``shadowdiff serve``, built once at the entry point.

The one rule that is checked here rather than in the app: a service bound to a
non-loopback address shows captured production traffic to anyone who can reach
it, so it refuses to start without a token unless the operator says
``--insecure`` out loud.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from shadowdiff.model.errors import ConfigError

TOKEN_ENV = "SHADOWDIFF_TOKEN"
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


@dataclass(frozen=True, slots=True)
class ServeSettings:
    reports: str
    records: str | None = None
    # The report config (docs/contract.md §5) used to diff pairs read from --records:
    # ignore rules, tolerances and routes, as the nightly report used them.
    config: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    insecure: bool = False
    # How old the cached listing of the reports root may get before it is
    # listed again: new reports show up within this many seconds.
    rescan_seconds: float = 1.0
    # How many parsed pairs.jsonl.gz files stay in memory at once.
    pair_files_cached: int = 16


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_settings(
    reports: str,
    records: str | None = None,
    config: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    token: str | None = None,
    insecure: bool = False,
    environ: dict[str, str] | None = None,
) -> ServeSettings:
    """Settings from flags, with ``SHADOWDIFF_TOKEN`` as the token's fallback.

    Raises :class:`ConfigError` (one line, names the flag) for a bad value or an
    unprotected non-loopback bind.
    """
    env = os.environ if environ is None else environ
    if not reports:
        raise ConfigError("--reports is empty: give a directory or s3://bucket/prefix")
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a TCP port (0-65535)")
    token = token if token is not None else env.get(TOKEN_ENV) or None
    if token is not None and not token.strip():
        raise ConfigError(f"--token / {TOKEN_ENV} is blank")
    if token is None and not insecure and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on non-loopback --host {host} without a token: "
            f"set --token or {TOKEN_ENV}, or pass --insecure"
        )
    return ServeSettings(
        reports=reports,
        records=records,
        config=config,
        host=host,
        port=port,
        token=token,
        insecure=insecure,
    )
