"""What a replay counted, and the lines the report's ``notes`` say about it (pure).

Every record that was read but not replayed is counted under its reason and
named in a note, so a CI log shows why a report has fewer pairs than the night
had requests; so are the replays that got no answer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from shadowdiff.replay.prepare import TRUNCATED, UNSENDABLE
from shadowdiff.replay.settings import ReplaySettings


@dataclass(slots=True)
class Tally:
    primaries: int = 0  # primary records in the window, as read
    replayed: int = 0
    duplicates: int = 0  # repeats of a record already replayed (at-least-once delivery)
    invalid: int = 0  # lines of the source that are not records
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> records
    errors: dict[str, Counter[str]] = field(default_factory=dict)  # role -> error.kind -> n

    def error(self, role: str, kind: str) -> None:
        self.errors.setdefault(role, Counter())[kind] += 1


def _records(n: int) -> str:
    return f"{n} primary record" + ("" if n == 1 else "s")


def skip_note(reason: str, n: int, methods: frozenset[str]) -> str:
    if reason.startswith("method "):
        allowed = ",".join(sorted(methods))
        return f"skipped {_records(n)} with {reason} (not in --methods {allowed})"
    if reason == TRUNCATED:
        return f"skipped {_records(n)} whose request body was truncated at capture"
    if reason == UNSENDABLE:
        return (
            f"skipped {_records(n)} whose request cannot be sent again (a line break, NUL or "
            "non-Latin-1 text in its path, query or headers, or a body that does not decode)"
        )
    return f"skipped {_records(n)}: {reason}"


def replay_notes(tally: Tally, settings: ReplaySettings) -> list[str]:
    """The report notes of one replay, most important first."""
    targets = " and ".join(f"{t.url} (role {t.role})" for t in settings.targets)
    rate = "max" if settings.rate is None else f"{settings.rate:g}x"
    notes = [
        f"replayed {tally.replayed} of {_records(tally.primaries)} in captured_at order "
        f"to {targets}, rate {rate}, concurrency {settings.concurrency}"
    ]
    for reason, n in sorted(tally.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
        notes.append(skip_note(reason, n, settings.methods))
    if tally.duplicates:
        notes.append(
            f"{_records(tally.duplicates)} repeated (same correlation id and captured_at) "
            "and replayed once"
        )
    for spec in settings.targets:
        kinds = tally.errors.get(spec.role)
        if kinds:
            detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
            notes.append(f"{sum(kinds.values())} replays to {spec.url} got no answer: {detail}")
    if settings.keep_records:
        notes.append(f"replayed records kept in {settings.keep_records}")
    else:
        notes.append("replayed records not kept (--keep-records SINK keeps them)")
    return notes
