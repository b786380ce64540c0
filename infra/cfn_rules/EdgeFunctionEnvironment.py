"""E9102: environment variables on a Lambda@Edge function.

CloudFront refuses to replicate a function version that has environment
variables, so settings must be baked into the code (the edge zip's config.json).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _edge_model as edge


class EdgeFunctionEnvironment(CloudFormationLintRule):
    id = "E9102"
    shortdesc = "No environment variables on a Lambda@Edge function"
    description = (
        "Lambda@Edge does not support environment variables; bake configuration into the "
        "deployment package (shadowdiff edge build puts it in config.json)."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "cloudfront", "lambda@edge"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        template = cfn.template
        matches: list[RuleMatch] = []
        for name in sorted(edge.edge_functions(template)):
            properties = template["Resources"][name].get("Properties") or {}
            if "Environment" in properties:
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "Environment"],
                        f"Lambda@Edge function {name} sets Environment; edge functions "
                        "cannot have environment variables (bake settings into the zip)",
                    )
                )
        return matches
