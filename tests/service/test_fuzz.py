"""Property-based fuzzing of the real ``bentoml serve`` (schemathesis over its own OpenAPI document): generated
requests to every public route, valid and invalid, never get a 5xx, and every answer conforms to the schema the
document declares. The suite runs a bounded number of cases per route (``DRSKIN_FUZZ_EXAMPLES``, default 30);
``scripts/fuzz.sh`` runs 1000 per route (docs/reliability.md)."""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[test]')")

EXAMPLES = int(os.environ.get("DRSKIN_FUZZ_EXAMPLES", "30"))
ROUTES = ("/classify", "/segment", "/diagnose")

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("route", ROUTES)
def test_generated_requests_never_break_the_service(bento_service_url: str, route: str) -> None:
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    schema = schemathesis.openapi.from_url(f"{bento_service_url}/docs.json")
    operation = schema[route]["POST"]
    seen: dict[int, int] = {}

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
              database=None)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(timeout=120)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        case.validate_response(response, checks=[not_a_server_error, content_type_conformance,
                                                 response_schema_conformance])

    run()
    print(f"\nfuzz {route}: {sum(seen.values())} requests, by status {dict(sorted(seen.items()))}")
    assert sum(seen.values()) >= min(EXAMPLES, 5), seen
    assert not any(status >= 500 for status in seen), seen
