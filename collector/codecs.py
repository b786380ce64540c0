"""Content codings the collector can undo and redo (only to redact JSON fields).

Bodies are otherwise stored exactly as received; analysis decodes them.
"""

from __future__ import annotations

import gzip
import zlib


def decode(coding: str, data: bytes) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if coding == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -zlib.MAX_WBITS)
    if coding == "br":
        import brotli

        return bytes(brotli.decompress(data))
    raise ValueError(f"unsupported content-encoding {coding!r}")


def encode(coding: str, data: bytes) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(data, mtime=0)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "br":
        import brotli

        return bytes(brotli.compress(data))
    raise ValueError(f"unsupported content-encoding {coding!r}")
