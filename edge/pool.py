"""What survives between warm invocations: connections and resolved addresses.

A Lambda sandbox serves one invocation at a time and is frozen in between, so
nothing here runs in the background on its own; it is state the next
invocation picks up. Both structures are locked because the same handler may
also run inside a threaded local server (``shadowdiff edge serve``).
"""

from __future__ import annotations

import ipaddress
import select
import socket
import threading
import time
from dataclasses import dataclass, field

from edge.parking import Parked

MAX_IDLE_PER_TARGET = 8
# Servers drop idle keep-alive connections (uvicorn after 5 s); older ones are not tried.
MAX_IDLE_SECONDS = 4.0
DNS_TTL_SECONDS = 60.0
DNS_NEGATIVE_TTL_SECONDS = 5.0

Key = tuple[str, str, int]  # scheme, host, port
Address = tuple[int, tuple[str, int]]  # family, (ip, port)


class Pool:
    """Connections per target, newest first: idle ones, and ones with a parked exchange."""

    def __init__(self) -> None:
        self._idle: dict[Key, list[tuple[float, socket.socket, Parked | None]]] = {}
        self._lock = threading.Lock()

    def take(self, key: Key) -> tuple[socket.socket, Parked | None] | None:
        """The newest connection that is not stale, with its parked exchange if any.

        Idle ones must have nothing to read (else the server closed them); a
        parked one is expected to be readable, its answer having arrived, so
        ``edge.parking.settle`` judges it instead.
        """
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                since, sock, parked = idle.pop()
            if now - since < MAX_IDLE_SECONDS and (parked is not None or _looks_alive(sock)):
                return sock, parked
            sock.close()

    def give(self, key: Key, sock: socket.socket, parked: Parked | None = None) -> None:
        """Keep a connection; a parked one ages from when it was parked."""
        since = parked.parked_at if parked is not None else time.monotonic()
        with self._lock:
            idle = self._idle.setdefault(key, [])
            idle.append((since, sock, parked))
            extra = idle[:-MAX_IDLE_PER_TARGET]
            del idle[:-MAX_IDLE_PER_TARGET]
        for _, old, _ in extra:
            old.close()


def _looks_alive(sock: socket.socket) -> bool:
    """An idle connection with anything to read has been closed (or spoke out of turn)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


@dataclass
class _Lookup:
    done: threading.Event = field(default_factory=threading.Event)
    addresses: list[Address] = field(default_factory=list)
    error: str | None = None
    expires: float = 0.0


class Resolver:
    """``getaddrinfo`` with a cache, run in a thread so a slow DNS costs at most the budget.

    A stale entry is still used while a fresh lookup runs; an unanswered lookup
    keeps running after the invocation returns and its answer serves the next one.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], _Lookup] = {}
        self._lock = threading.Lock()

    def start(self, host: str, port: int) -> _Lookup:
        literal = _ip_literal(host, port)
        if literal is not None:
            lookup = _Lookup(addresses=[literal])
            lookup.done.set()
            return lookup
        key = (host, port)
        with self._lock:
            current = self._cache.get(key)
            if current is not None and (
                not current.done.is_set() or time.monotonic() < current.expires
            ):
                return current
            fresh = _Lookup()
            self._cache[key] = fresh
        threading.Thread(target=self._run, args=(fresh, host, port), daemon=True).start()
        if current is not None and current.addresses:
            return current  # stale but usable while the refresh runs
        return fresh

    def wait(self, lookup: _Lookup, deadline: float) -> list[Address] | None:
        """The addresses, ``[]`` when the name does not resolve, ``None`` on timeout."""
        if not lookup.done.wait(max(0.0, deadline - time.monotonic())):
            return None
        return lookup.addresses

    @staticmethod
    def _run(lookup: _Lookup, host: str, port: int) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            lookup.addresses = [(int(fam), (str(sa[0]), int(sa[1]))) for fam, _, _, _, sa in infos]
        except (OSError, UnicodeError) as exc:
            lookup.error = str(exc)
        ttl = DNS_TTL_SECONDS if lookup.addresses else DNS_NEGATIVE_TTL_SECONDS
        lookup.expires = time.monotonic() + ttl
        lookup.done.set()


def _ip_literal(host: str, port: int) -> Address | None:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return int(family), (str(ip), port)
