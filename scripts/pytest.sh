#!/usr/bin/env bash
# Run pytest; exit 5 ("no tests collected") is not a failure of the check.
set -u
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest: no tests were collected (exit 5), treated as success"
    exit 0
fi
exit "$rc"
