"""Just enough HTTP/1.1 response parsing to know the status and when the answer ends.

The edge reads the collector's acknowledgement to the end only so the
connection can go back to the pool; a response it cannot frame is not reused.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HEAD = 64 * 1024


class ProtocolError(ValueError):
    """The target's bytes are not an HTTP/1.x response."""


@dataclass(frozen=True)
class Response:
    status: int
    complete: bool
    reusable: bool


def parse(buf: bytes, *, head_request: bool, eof: bool) -> Response | None:
    """``None`` while the status line and headers are still incomplete.

    Once they are in, ``complete`` says whether the whole body has arrived and
    ``reusable`` whether the connection may carry the next request.
    """
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise ProtocolError("response head over 64 KiB")
            if eof and buf:
                raise ProtocolError("connection closed inside the response head")
            return None
        status, keep_alive, length, chunked = _head(buf[:end])
        body = buf[end + 4 :]
        if 100 <= status < 200 and status != 101:
            buf = body  # an interim answer (100 Continue): the real one follows
            continue
        break
    if head_request or status in (204, 304) or status < 200:
        return Response(status, True, keep_alive and not body)
    if chunked:
        done, rest = _chunked_end(body)
        return Response(status, done or eof, done and keep_alive and not rest)
    if length is not None:
        done = len(body) >= length
        return Response(status, done or eof, done and keep_alive and len(body) == length)
    return Response(status, eof, False)  # delimited by close: never reusable


def _head(head: bytes) -> tuple[int, bool, int | None, bool]:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {lines[0][:80]!r}")
    version, status = parts[0], int(parts[1])
    fields: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"bad header line {line[:80]!r}")
        fields[name.strip().lower()] = value.strip().lower()
    connection = fields.get(b"connection", b"")
    keep_alive = b"close" not in connection and (
        version == b"HTTP/1.1" or b"keep-alive" in connection
    )
    chunked = b"chunked" in fields.get(b"transfer-encoding", b"")
    length = None
    if not chunked and b"content-length" in fields:
        raw = fields[b"content-length"]
        if not raw.isdigit():
            raise ProtocolError(f"bad content-length {raw[:40]!r}")
        length = int(raw)
    return status, keep_alive, length, chunked


def _chunked_end(body: bytes) -> tuple[bool, bytes]:
    """Whether a chunked body is complete, and the bytes after it."""
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            return False, b""
        size_text = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from exc
        if size == 0:
            trailer_end = body.find(b"\r\n\r\n", eol) if body[eol + 2 : eol + 4] != b"\r\n" else eol
            if trailer_end < 0:
                return False, b""
            return True, body[trailer_end + 4 :]
        pos = eol + 2 + size + 2
        if pos > len(body):
            return False, b""
