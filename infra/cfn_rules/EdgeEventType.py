"""E9104: a Lambda@Edge association with the wrong ``EventType``.

Besides values CloudFront does not know, this catches the mistakes that are valid
CloudFormation but wrong: ``IncludeBody`` on a response trigger, two associations
for one event in one behavior, and the shadowdiff mirror (handler
``edge.handler.handler``) on anything but ``viewer-request`` — on ``origin-request``
it would only see cache misses, so cached requests would never be mirrored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _edge_model as edge


def _handler(template: dict[str, Any], function: str | None) -> Any:
    resource = (template.get("Resources") or {}).get(function) if function else None
    return (resource.get("Properties") or {}).get("Handler") if isinstance(resource, dict) else None


class EdgeEventType(CloudFormationLintRule):
    id = "E9104"
    shortdesc = "Lambda@Edge associations use the right EventType"
    description = (
        "EventType must be viewer-request, viewer-response, origin-request or "
        "origin-response; IncludeBody only applies to request events; the shadowdiff "
        "mirror must run on viewer-request."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-cloudfront-trigger-events.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "cloudfront", "lambda@edge"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        template = cfn.template
        matches: list[RuleMatch] = []
        seen: dict[tuple[Any, ...], set[str]] = {}
        for association in edge.associations(template):
            path = [*association.path, "EventType"]
            event = association.event_type
            if not isinstance(event, str):
                continue
            if event not in edge.LIMITS:
                matches.append(
                    RuleMatch(path, f"EventType {event!r} is not one of {sorted(edge.LIMITS)}")
                )
                continue
            behavior = association.path[:-2]
            if event in seen.setdefault(behavior, set()):
                matches.append(
                    RuleMatch(path, f"a second {event} association in the same cache behavior")
                )
            seen[behavior].add(event)
            body = association.include_body is True or association.include_body == "true"
            if body and event not in edge.REQUEST_EVENTS:
                matches.append(
                    RuleMatch(path, f"IncludeBody is only valid on request events, not {event}")
                )
            function = edge.resolve(template, association.arn).function
            if _handler(template, function) == edge.MIRROR_HANDLER and event != "viewer-request":
                matches.append(
                    RuleMatch(
                        path,
                        f"the shadowdiff mirror {function} must be a viewer-request trigger, "
                        f"not {event} (it has to see every request, cached or not)",
                    )
                )
        return matches
