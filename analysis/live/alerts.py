"""``--fail-on`` as alerts: one ``firing`` when an expression starts to hold, one ``resolved`` when it stops.

:class:`Transitions` is pure: fed each new report's evaluations, it returns the
events to send. :func:`payload` turns an event into one JSON body that three
kinds of receivers read as they are:

- the contract's fields (``event``, ``expression``, ``value``, ``report_id``,
  ``at``) for scripts;
- ``text`` for a Slack incoming webhook (Slack posts it and ignores the rest);
- the Alertmanager webhook fields (``version`` "4", ``status``, ``alerts[]`` with
  labels, annotations, ``startsAt``/``endsAt`` and a stable ``fingerprint``), so
  any receiver written for Alertmanager's ``webhook_config`` takes it.

Delivery (:class:`analysis.live.webhook.WebhookSender`) is the adapter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

ALERTNAME = "ShadowdiffFailOn"
NEVER = "0001-01-01T00:00:00Z"  # Alertmanager's "not ended yet"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    event: str  # firing | resolved
    expression: str
    value: float
    report_id: str
    at: str  # RFC 3339
    started: str  # when it began firing


@dataclass(slots=True)
class Transitions:
    """Which expressions fire now, and since when."""

    firing: dict[str, str] = field(default_factory=dict)  # expression -> firing since

    def update(
        self, results: list[tuple[str, float, bool]], report_id: str, at: str
    ) -> list[AlertEvent]:
        events = []
        for expr, value, holds in results:
            since = self.firing.get(expr)
            if holds and since is None:
                self.firing[expr] = at
                events.append(AlertEvent("firing", expr, value, report_id, at, at))
            elif not holds and since is not None:
                del self.firing[expr]
                events.append(AlertEvent("resolved", expr, value, report_id, at, since))
        return events

    def holds(self, expr: str) -> bool:
        return expr in self.firing


def fingerprint(name: str, expr: str) -> str:
    return hashlib.sha256(f"{name}\n{expr}".encode()).hexdigest()[:16]


def payload(ev: AlertEvent, name: str, report_url: str | None = None) -> dict[str, Any]:
    """The JSON body of one POST (see the module docstring for who reads which fields)."""
    word = "FIRING" if ev.event == "firing" else "RESOLVED"
    summary = (
        f"shadowdiff watch {name}: {word} {ev.expression} (value {ev.value:.6g}, "
        f"report {ev.report_id})"
    )
    text = f"{summary} {report_url}" if report_url else summary
    labels = {
        "alertname": ALERTNAME,
        "report": name,
        "expression": ev.expression,
        "severity": "warning",
    }
    annotations = {"summary": summary, "value": f"{ev.value:.6g}"}
    alert = {
        "status": ev.event,
        "labels": labels,
        "annotations": annotations,
        "startsAt": ev.started,
        "endsAt": ev.at if ev.event == "resolved" else NEVER,
        "generatorURL": report_url or "",
        "fingerprint": fingerprint(name, ev.expression),
    }
    return {
        "event": ev.event,
        "expression": ev.expression,
        "value": ev.value,
        "report_id": ev.report_id,
        "at": ev.at,
        "text": text,
        "version": "4",
        "status": ev.event,
        "receiver": "shadowdiff",
        "groupKey": f'{{}}:{{alertname="{ALERTNAME}", report="{name}"}}',
        "truncatedAlerts": 0,
        "groupLabels": {"alertname": ALERTNAME},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": report_url or "",
        "alerts": [alert],
    }
