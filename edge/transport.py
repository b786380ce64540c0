"""Send every mirror at once and wait for the acknowledgements until one absolute deadline.

One non-blocking socket per target, driven by one ``selectors`` loop: connect,
TLS handshake, send, read the answer. Nothing blocks past the deadline (DNS
runs in a thread, see ``edge.pool.Resolver``), so a hung, slow, refusing,
resetting or bad-TLS target costs at most the budget. The collector answers
202 as soon as it has read a mirror, so a healthy target costs one round trip
on a warm connection. Nothing is waited for past the deadline: the handler
returns, and an exchange still connecting, in its TLS handshake or awaiting
its answer is parked on its connection for a later invocation to pick up
(``edge.parking``); anything else unfinished is closed.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import selectors
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from edge import http1, parking
from edge.mirror import Mirror
from edge.parking import Parked
from edge.pool import Key, Pool, Resolver

_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
_IN_PROGRESS = frozenset((0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY))
CONNECTING, HANDSHAKE, SENDING, RECEIVING, DONE = range(5)
# The states an exchange cut short by the deadline is parked in, by its parking stage.
_STAGE = {CONNECTING: parking.CONNECT, HANDSHAKE: parking.HANDSHAKE, RECEIVING: parking.ANSWER}


@dataclass
class Outcome:
    """How one target fared: a status, or an error kind (timeout, dns, connect, tls,
    reset, closed, protocol) with a detail."""

    url: str
    role: str
    status: int | None = None
    error: str | None = None
    detail: str = ""
    reused: bool = False


def _new_selector() -> selectors.BaseSelector:
    """poll(2) where there is one: precise whole-millisecond timeouts, no FD_SETSIZE cap."""
    if hasattr(selectors, "PollSelector"):
        return selectors.PollSelector()
    return selectors.DefaultSelector()  # pragma: no cover - platforms without poll


def _poll_timeout(deadline: float) -> float:
    """The longest wait that cannot end after ``deadline``; 0 when under a millisecond is left.

    poll(2) counts whole milliseconds and ``selectors`` rounds up, so this waits
    the whole milliseconds left (half a millisecond under, so float error cannot
    round up to the next one) and gives away the fraction rather than sleeping it
    off: one wake-up per wait, because each wake-up can be late on a busy machine.
    """
    whole = math.floor((deadline - time.monotonic()) * 1000.0)
    return (whole - 0.5) / 1000.0 if whole > 0 else 0.0


_RESETS = frozenset((errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED))


def _kind(err: int | None, state: int) -> str:
    """``reset`` when the peer tore down a connection, whenever it happened; else by stage."""
    if err in _RESETS:
        return "reset"
    return "connect" if state == CONNECTING else "reset"


class _Failed(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail


class _Job:
    def __init__(self, mirror: Mirror, head_request: bool, deadline: float) -> None:
        t = mirror.target
        self.target = t
        self.key: Key = (t.scheme, t.host, t.port)
        self.payload = memoryview(mirror.payload)
        self.head_request = head_request
        self.deadline = deadline
        self.outcome = Outcome(t.url, t.role)
        self.sock: socket.socket | None = None
        self.state = CONNECTING
        self.sent = 0
        self.buf = bytearray()
        self.retried = False
        self.addresses: list[tuple[int, tuple[str, int]]] = []


class Sender:
    """Moves mirrors over a shared pool; one ``send_all`` per invocation."""

    def __init__(self, pool: Pool, resolver: Resolver, ssl_context: ssl.SSLContext) -> None:
        self.pool, self.resolver, self.ssl_context = pool, resolver, ssl_context

    def send_all(self, mirrors: list[Mirror], deadline: float, method: str) -> list[Outcome]:
        jobs = [_Job(m, method == "HEAD", deadline) for m in mirrors]
        sel = _new_selector()
        try:
            fresh = []
            for job in jobs:
                taken = self._take(job.key)
                if taken is None:
                    fresh.append((job, self.resolver.start(job.target.host, job.target.port)))
                else:
                    sock, parked = taken
                    job.outcome.reused = True
                    connecting = parked is not None and parked.stage == parking.CONNECT
                    self._attach(job, sock, CONNECTING if connecting else SENDING, sel)
            for job, lookup in fresh:
                addresses = self.resolver.wait(lookup, deadline)
                self._guard(job, sel, functools.partial(self._connect, job, addresses, sel))
            while sel.get_map():
                timeout = _poll_timeout(deadline)
                for key, _ in sel.select(timeout):
                    job = key.data
                    self._guard(job, sel, functools.partial(self._step, job, sel))
                if timeout <= 0.0:
                    break  # that was the last look
        finally:
            for job in jobs:
                if job.state != DONE:
                    self._park(job, sel)
                    job.outcome.error = job.outcome.error or "timeout"
                    job.outcome.detail = (
                        job.outcome.detail or "no acknowledgement inside the budget"
                    )
            sel.close()
        return [job.outcome for job in jobs]

    def _take(self, key: Key) -> tuple[socket.socket, Parked | None] | None:
        """A pooled connection ready for a mirror now; parked ones not ready stay parked."""
        waiting: list[tuple[socket.socket, Parked]] = []
        try:
            while (taken := self.pool.take(key)) is not None:
                sock, parked = taken
                if parked is None:
                    return taken
                verdict = parking.settle(sock, parked)
                if verdict == parking.READY:
                    return taken
                if verdict == parking.PENDING:
                    waiting.append((sock, parked))
                else:
                    sock.close()
            return None
        finally:
            for sock, parked in reversed(waiting):
                self.pool.give(key, sock, parked)

    def _park(self, job: _Job, sel: selectors.BaseSelector) -> None:
        """At the deadline: park an exchange that can be picked up later, close the rest."""
        stage = _STAGE.get(job.state)
        sock = job.sock
        if stage is None or sock is None:
            self._finish(job, sel, None)
            return
        job.state, job.sock = DONE, None
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(sock)
        parked = Parked(stage, time.monotonic(), job.head_request, bytes(job.buf))
        self.pool.give(job.key, sock, parked)

    # -- steps -----------------------------------------------------------------

    def _guard(self, job: _Job, sel: selectors.BaseSelector, step: Callable[[], None]) -> None:
        try:
            step()
        except _Failed as exc:
            self._fail(job, sel, exc.kind, exc.detail)
        except http1.ProtocolError as exc:
            self._fail(job, sel, "protocol", str(exc))
        except OSError as exc:  # ssl.SSLError included
            if job.outcome.reused and not job.retried and not job.buf and job.state != CONNECTING:
                # a pooled connection the target had already given up on: one fresh try
                self._guard(job, sel, lambda: self._retry(job, sel))
                return
            if isinstance(exc, ssl.SSLError):
                kind = "tls" if job.state in (CONNECTING, HANDSHAKE) else "protocol"
                self._fail(job, sel, kind, f"{exc.__class__.__name__}: {exc.reason or exc}")
                return
            kind = _kind(exc.errno, job.state)
            self._fail(job, sel, kind, f"{exc.__class__.__name__}: {exc.strerror or exc}")

    def _connect(
        self,
        job: _Job,
        addresses: list[tuple[int, tuple[str, int]]] | None,
        sel: selectors.BaseSelector,
    ) -> None:
        if addresses is None:
            raise _Failed("timeout", f"DNS lookup of {job.target.host} did not finish in time")
        if not addresses:
            raise _Failed("dns", f"{job.target.host} does not resolve")
        job.addresses = list(addresses)
        self._next_address(job, sel)

    def _next_address(self, job: _Job, sel: selectors.BaseSelector) -> None:
        family, address = job.addresses.pop(0)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex(address)
        if err not in _IN_PROGRESS:
            sock.close()
            if job.addresses:
                self._next_address(job, sel)
                return
            raise _Failed(
                _kind(err, CONNECTING), f"{errno.errorcode.get(err, err)} connecting to {address}"
            )
        self._attach(job, sock, CONNECTING, sel)

    def _attach(
        self, job: _Job, sock: socket.socket, state: int, sel: selectors.BaseSelector
    ) -> None:
        job.sock, job.state = sock, state
        sel.register(sock, _READ if state == RECEIVING else _WRITE, job)

    def _step(self, job: _Job, sel: selectors.BaseSelector) -> None:
        sock = job.sock
        assert sock is not None
        if job.state == CONNECTING:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                sel.unregister(sock)
                sock.close()
                job.sock = None
                if job.addresses:
                    self._next_address(job, sel)
                    return
                raise _Failed(
                    _kind(err, CONNECTING), f"{errno.errorcode.get(err, err)} from {job.target.url}"
                )
            if job.target.scheme == "https":
                sel.unregister(sock)
                sock = self.ssl_context.wrap_socket(
                    sock, server_hostname=job.target.host, do_handshake_on_connect=False
                )
                self._attach(job, sock, HANDSHAKE, sel)
            else:
                job.state = SENDING
        if job.state == HANDSHAKE:
            assert isinstance(sock, ssl.SSLSocket)
            if self._io(job, sel, sock.do_handshake, _WRITE) is None:
                return
            job.state = SENDING
        if job.state == SENDING:
            while job.sent < len(job.payload):
                n = self._io(job, sel, lambda: sock.send(job.payload[job.sent :]), _WRITE)
                if n is None:
                    return
                job.sent += int(n)  # type: ignore[call-overload]
            job.state = RECEIVING
            sel.modify(sock, _READ, job)
            return
        if job.state == RECEIVING:
            self._receive(job, sock, sel)

    def _receive(self, job: _Job, sock: socket.socket, sel: selectors.BaseSelector) -> None:
        while True:
            data = self._io(job, sel, lambda: sock.recv(65536), _READ)
            if data is None:
                return
            assert isinstance(data, bytes)
            eof = not data
            if eof and not job.buf and job.outcome.reused and not job.retried:
                self._retry(job, sel)  # the pooled connection had been closed by the server
                return
            job.buf += data
            response = http1.parse(bytes(job.buf), head_request=job.head_request, eof=eof)
            if eof and response is None:
                raise _Failed("closed", "target closed the connection without answering")
            if response is not None and response.complete:
                job.outcome.status = response.status
                self._finish(job, sel, job.key if response.reusable else None)
                return

    def _io(
        self, job: _Job, sel: selectors.BaseSelector, call: Callable[[], object], blocked: int
    ) -> object:
        """Run one non-blocking call; ``None`` (after re-arming the selector) if it must wait.

        ``blocked`` is what a plain ``BlockingIOError`` waits for; TLS says which itself.
        """
        assert job.sock is not None
        try:
            result = call()
        except ssl.SSLWantReadError:
            sel.modify(job.sock, _READ, job)
            return None
        except ssl.SSLWantWriteError:
            sel.modify(job.sock, _WRITE, job)
            return None
        except BlockingIOError:
            sel.modify(job.sock, blocked, job)
            return None
        return True if result is None else result

    def _retry(self, job: _Job, sel: selectors.BaseSelector) -> None:
        self._finish(job, sel, None)
        job.state, job.sent, job.buf, job.retried = CONNECTING, 0, bytearray(), True
        lookup = self.resolver.start(job.target.host, job.target.port)
        addresses = self.resolver.wait(lookup, job.deadline)
        self._connect(job, addresses, sel)

    def _fail(self, job: _Job, sel: selectors.BaseSelector, kind: str, detail: str) -> None:
        self._finish(job, sel, None)
        job.outcome.error, job.outcome.detail = kind, detail

    def _finish(self, job: _Job, sel: selectors.BaseSelector, pool_key: Key | None) -> None:
        job.state = DONE
        sock, job.sock = job.sock, None
        if sock is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(sock)
        if pool_key is not None:
            self.pool.give(pool_key, sock)
        else:
            sock.close()
