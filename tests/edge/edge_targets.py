"""Real HTTP targets on 127.0.0.1 for the edge tests and benchmark.

fast      answers 202 at once, keep-alive, and records what it received
slow      answers 202 after ``delay`` seconds (1 s by default)
hanging   accepts and reads, never answers
refusing  a port nobody listens on
resetting accepts, then closes with SO_LINGER 0 (a TCP RST)
tls       the fast target behind TLS (self-signed certificate made with openssl)

Each runs in daemon threads of the current process and is closed by ``close()``.
"""

from __future__ import annotations

import socket
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass
class Target:
    kind: str
    delay: float = 1.0
    tls: ssl.SSLContext | None = None
    # keep-alive edge cases: close a connection after this many answers (as an idle
    # timeout would), or read the next request on it and close without answering
    close_after: int | None = None
    drop_after: int | None = None
    status: int = 202
    requests: list[Received] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        if self.kind == "refusing":
            self._sock.close()  # nothing listens: connects are refused
            return
        self._sock.listen(512)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        if self.kind != "refusing":
            self._sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.kind == "resetting":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            buf = b""
            answered = 0
            while not self._closed.is_set():
                request, buf = _read_request(conn, buf)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                if answered == self.drop_after:
                    return
                if self.kind == "hanging":
                    while conn.recv(65536):
                        pass
                    return
                if self.kind == "slow":
                    time.sleep(self.delay)
                conn.sendall(b"HTTP/1.1 %d X\r\ncontent-length: 0\r\n\r\n" % self.status)
                answered += 1
                if answered == self.close_after:
                    return
        except OSError:
            pass
        finally:
            conn.close()


def _read_request(conn: socket.socket, buf: bytes) -> tuple[Received | None, bytes]:
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, b""
        buf += data
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("utf-8", "surrogateescape").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    length = int(dict(headers).get("content-length", "0"))
    while len(buf) < length:
        data = conn.recv(65536)
        if not data:
            return None, b""
        buf += data
    return Received(method, target, headers, buf[:length]), buf[length:]


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for 127.0.0.1, via the openssl CLI."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client
