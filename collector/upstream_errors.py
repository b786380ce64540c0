"""How an exchange with the upstream failed, in the contract's ``error.kind`` terms.

Kept apart from the pool and the parser so that the app can map any failure
(ours or the OS's) to a record's ``error`` without knowing how the client works.
"""

from __future__ import annotations

from shadowdiff.model.errors import ShadowdiffError
from shadowdiff.model.record import ErrorKind


class UpstreamError(ShadowdiffError):
    """A failed exchange with the upstream; ``kind`` is the record's ``error.kind``.

    It never reaches a user as an error: the collector turns it into an error
    record (and a 502/504 on the tap), and the replay into the same record.
    """

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind


def classify(exc: BaseException) -> tuple[ErrorKind, str]:
    """Any upstream failure as the contract's ``error.kind`` and a short message."""
    if isinstance(exc, UpstreamError):
        return exc.kind, str(exc)
    message = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "timeout", message
    if isinstance(exc, ConnectionRefusedError):
        return "connect", message
    if isinstance(exc, ConnectionError):
        return "upstream_closed", message
    return "other", message
