"""RFC 3339 timestamps as the contract writes them: UTC, milliseconds, ``Z``.

One module so that every writer produces byte-identical timestamps and every
reader accepts the same spellings (``Z`` or ``+00:00``, with or without
fractions).
"""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> datetime:
    return datetime.now(UTC)


def format_ms(moment: datetime) -> str:
    """``2026-11-25T13:04:05.123Z`` — the contract's ``captured_at`` form."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime.

    Raises ValueError with the offending text when it is not RFC 3339 or has no
    offset (a naive time is ambiguous, so it is refused rather than guessed).
    """
    if not isinstance(text, str) or len(text) < 20 or text[10] not in "Tt ":
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"RFC 3339 timestamp has no UTC offset: {text!r}")
    return moment.astimezone(UTC)
