"""``--window`` and ``--every`` values: ``90s``, ``15m``, ``2h``, ``1d`` (or a sum, ``1h30m``).

A bare number is seconds. Anything else, zero or negative, is refused with a
message that names the flag, so a typo never starts a watch over the wrong span.
"""

from __future__ import annotations

import re

from shadowdiff.model.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")


def parse_duration(text: str, flag: str) -> float:
    """Seconds in ``text``; :class:`ConfigError` naming ``flag`` when it is not a duration."""
    value = text.strip().lower()
    seconds: float
    try:
        seconds = float(value)
    except ValueError:
        if not _WHOLE.fullmatch(value):
            raise ConfigError(
                f"{flag} {text!r}: expected a duration like 90s, 15m, 2h or 1d"
            ) from None
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(value))
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ConfigError(f"{flag} {text!r}: must be more than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: 3600 → ``1h``, 90 → ``90s``, 5400 → ``90m``."""
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
