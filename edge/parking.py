"""Exchanges the deadline cut short: parked on their connection, picked up once ready.

Why: a collector farther away than half of ``budget_ms`` could otherwise never
be reached. A cold mirror needs a round trip to connect and another for the
acknowledgement; when the two do not fit in the budget, closing the connection
at the deadline means the next request starts cold again, pays the whole
budget, and nothing ever gets through. So at the deadline a connection that is
still connecting, in its TLS handshake, or has sent its mirror and awaits the
answer is parked in the pool instead of closed. A later invocation finds it
connected, or finds the late answer in the socket buffer and discards it (that
mirror was already reported as not acknowledged), and sends its own mirror on
a warm connection: one round trip.

``settle`` moves a parked exchange on without ever blocking. A connection that
is not ready yet stays parked and the invocation opens a fresh one beside it,
so a slow or hung target never makes a later mirror wait for an earlier one.
"""

from __future__ import annotations

import select
import socket
import ssl
from dataclasses import dataclass

from edge import http1

CONNECT, HANDSHAKE, ANSWER = "connect", "handshake", "answer"
READY, PENDING, DEAD = "ready", "pending", "dead"


@dataclass
class Parked:
    """Where an exchange stopped, and since when (a parked connection ages like an idle one)."""

    stage: str  # CONNECT, HANDSHAKE or ANSWER
    parked_at: float
    head_request: bool = False
    buf: bytes = b""  # what has arrived of the answer


def settle(sock: socket.socket, parked: Parked) -> str:
    """Move ``parked`` on without blocking: ``READY``, ``PENDING`` or ``DEAD``.

    ``READY`` means connected (``CONNECT``: the caller still runs the TLS
    handshake of an https target), handshaken, or the earlier answer read to
    its end on a connection that may carry the next request.
    """
    try:
        if parked.stage == CONNECT:
            _, writable, _ = select.select([], [sock], [], 0)
            if not writable:
                return PENDING
            return DEAD if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) else READY
        if parked.stage == HANDSHAKE:
            assert isinstance(sock, ssl.SSLSocket)
            try:
                sock.do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return PENDING
            return READY
        return _answer(sock, parked)
    except (OSError, ValueError, http1.ProtocolError):  # ssl.SSLError is an OSError
        return DEAD


def _answer(sock: socket.socket, parked: Parked) -> str:
    eof = False
    while True:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, ssl.SSLWantReadError):
            break
        if not data:
            eof = True
            break
        parked.buf += data
    response = http1.parse(parked.buf, head_request=parked.head_request, eof=eof)
    if response is None or not response.complete:
        return DEAD if eof else PENDING
    return READY if response.reusable else DEAD
