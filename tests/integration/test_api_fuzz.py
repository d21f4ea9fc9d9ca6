"""The API fuzzed against its own OpenAPI with schemathesis (bounded budget; scripts/bench_api_fuzz.py runs 5,000+).

Every generated request (valid and invalid, per the schema) must get: no 5xx, a status code the OpenAPI declares
for the route, the declared content type (errors: application/problem+json) and a body matching the declared
schema. The API runs on a local S3 (moto server) with both models deployed and one complete forecast run.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.slow

CASES_PER_OPERATION = int(os.environ.get("CRIMECAST_FUZZ_CASES", "30"))  # × 2 modes × 7 operations ≥ 300


@pytest.fixture
def with_run(aws, deployed_forecaster, data_uploaded, lambda_context):
    from lambda_helpers import import_handler, load_event

    import_handler("forecast_job").handler(load_event("scheduled_event"), lambda_context)


def test_api_matches_its_openapi_under_schemathesis(aws, deployed_classifier, with_run):
    import schemathesis
    from crimecast.api import create_app
    from crimecast.settings import get_settings
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    app = create_app(get_settings(), aws.stores)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ran: dict[str, int] = {}
    failures: list[str] = []
    def fuzz(op, mode, label):
        @settings(max_examples=CASES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(generation_mode=mode))
        def run(case):
            ran[label] = ran.get(label, 0) + 1
            case.call_and_validate(checks=checks)

        return run

    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{op.label} [{mode.value}]"
            try:
                fuzz(op, mode, label)()
            except Unsatisfiable:  # e.g. no invalid request exists for a route without parameters
                continue
            except Exception as exc:  # noqa: BLE001 - collect every failing operation, then fail
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:1500]}")
    total = sum(ran.values())
    print(f"\nschemathesis: {total} cases over {len(ran)} operation/mode pairs: {ran}")
    assert not failures, "\n\n".join(failures)
    assert total >= 300, ran
