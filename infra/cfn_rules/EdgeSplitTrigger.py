"""E9106: the shadowdiff canary split on the wrong trigger, or with IncludeBody.

The split (handler ``edge.split.handler``) rewrites the request's origin, which
CloudFront allows only in an *origin-request* function: on a viewer trigger the
change is rejected (a 502 for the viewer) or has no effect. And it reads only
headers and the client IP, so ``IncludeBody: true`` would make CloudFront base64
up to 1 MB of every POST body into the event on every cache miss, for nothing
but latency and memory (origin-request events with a body are also capped at
1 MB, beyond which CloudFront truncates what the function sees).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _edge_model as edge


class EdgeSplitTrigger(CloudFormationLintRule):
    id = "E9106"
    shortdesc = "The shadowdiff canary split is an origin-request trigger without IncludeBody"
    description = (
        "A function with handler edge.split.handler must be associated on origin-request "
        "(only there may it change the origin) and with IncludeBody off (it never reads the body)."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "cloudfront", "lambda@edge"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        template = cfn.template
        matches: list[RuleMatch] = []
        for association in edge.associations(template):
            function = edge.resolve(template, association.arn).function
            if edge.handler_of(template, function) != edge.SPLIT_HANDLER:
                continue
            path = [*association.path, "EventType"]
            if association.event_type != "origin-request":
                matches.append(
                    RuleMatch(
                        path,
                        f"the shadowdiff canary split {function} must be an origin-request "
                        f"trigger, not {association.event_type} (only origin-request functions "
                        "may change the origin)",
                    )
                )
            if association.include_body is True or association.include_body == "true":
                matches.append(
                    RuleMatch(
                        [*association.path, "IncludeBody"],
                        f"the shadowdiff canary split {function} never reads the body: "
                        "IncludeBody true only adds up to 1 MB of base64 to every cache miss",
                    )
                )
        return matches
