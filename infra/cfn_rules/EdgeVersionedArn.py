"""E9103: an unversioned function ARN in ``LambdaFunctionAssociations``.

CloudFront needs a published, numbered version: ``$LATEST``, an alias or the bare
function ARN is refused at deployment. ``!Ref`` of an ``AWS::Lambda::Version`` is
the versioned ARN; ``!GetAtt Function.Arn`` or ``!Ref Function`` are not.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _edge_model as edge

# ...:function:NAME:QUALIFIER where the qualifier is a version number or a Sub variable.
_VERSIONED = re.compile(r":function:[^:]+:(\d+|\$\{[^}]+\})$")


def _problem(template: dict[str, Any], arn: Any) -> str | None:
    """Why ``arn`` is not a published version, or None when it is (or cannot be known)."""
    target = edge.resolve(template, arn)
    if target.kind in ("function", "alias"):
        return f"refers to the {target.kind} {target.detail}, not a published AWS::Lambda::Version"
    if target.kind == "literal":
        return (
            None if _VERSIONED.search(target.detail) else f"{target.detail!r} has no version number"
        )
    if target.kind == "unknown" and isinstance(arn, dict) and "Fn::Sub" in arn:
        text = arn["Fn::Sub"][0] if isinstance(arn["Fn::Sub"], list) else arn["Fn::Sub"]
        if isinstance(text, str) and not _VERSIONED.search(text):
            return f"{text!r} has no version number"
    if target.kind == "parameter":
        parameter = template["Parameters"][target.detail]
        pattern = parameter.get("AllowedPattern") if isinstance(parameter, dict) else None
        if not (isinstance(pattern, str) and (r":\d+" in pattern or ":[0-9]+" in pattern)):
            return (
                f"comes from parameter {target.detail}, which has no AllowedPattern "
                "requiring a version number"
            )
    return None


class EdgeVersionedArn(CloudFormationLintRule):
    id = "E9103"
    shortdesc = "Lambda@Edge associations use a published function version"
    description = (
        "LambdaFunctionARN in LambdaFunctionAssociations must be a numbered version ARN "
        "(e.g. !Ref of an AWS::Lambda::Version), not a function, alias or $LATEST."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-add-triggers.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "cloudfront", "lambda@edge"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        template = cfn.template
        matches: list[RuleMatch] = []
        for association in edge.associations(template):
            for arn in edge.branches(association.arn):
                problem = _problem(template, arn)
                if problem:
                    matches.append(
                        RuleMatch(
                            [*association.path, "LambdaFunctionARN"],
                            f"LambdaFunctionARN {problem}",
                        )
                    )
        return matches
