#!/usr/bin/env bash
# cfn-lint every template under infra/, with the project's Lambda@Edge rules appended.
set -eu
cd "$(dirname "$0")/.."
shopt -s nullglob
templates=(infra/*.yaml)
if [ "${#templates[@]}" -eq 0 ]; then
    echo "cfn-lint: no templates under infra/ yet"
    exit 0
fi
rules=()
[ -d infra/cfn_rules ] && rules=(--append-rules infra/cfn_rules)
.venv/bin/cfn-lint "${rules[@]}" -- "${templates[@]}"
echo "cfn-lint: ${#templates[@]} templates clean"
