#!/usr/bin/env bash
# The full fuzzing run (issue 18): schemathesis over the real `bentoml serve` (tiny synthetic models), 1000 generated
# requests per public route, no 5xx, answers conforming to the OpenAPI document. Figures: docs/reliability.md.
#   scripts/fuzz.sh [EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
DRSKIN_FUZZ_EXAMPLES="${1:-1000}" .venv/bin/python -m pytest tests/service/test_fuzz.py -q -s -p no:cacheprovider \
  "${@:2}" 2>&1 | grep -v "^INFO\|^DEBUG"
