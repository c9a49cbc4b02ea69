"""Property-based fuzzing of intake's OpenAPI with schemathesis: no input yields a 5xx.

Only the ``not_a_server_error`` check runs: the other default checks compare every answer
with the documented responses, and our machine-readable 4xx bodies (400/401/404/409/413/429)
are one shared error shape rather than documented per route. Every operation is included.
POSTs carry a freshly solved proof-of-work, so generated requests get past it to the
validation, secret and Redis paths (the proof-of-work refusals have their own tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from schemas.security import KafkaAccess
from tests.support import intake
from tests.support.services import ServiceProcess, service_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def intake_url(
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    topics: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("intake-fuzz")
    env = service_env(kafka=kafka_bootstrap, redis=redis_url, namespace=topics, data_dir=data_dir)
    service = ServiceProcess("intake", env, data_dir).start()
    try:
        yield service.wait_ready().url
    finally:
        service.stop()


def test_no_input_makes_intake_fail(intake_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{intake_url}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results)  # the whole schema loaded, nothing skipped
    assert {(op.method.upper(), op.path) for op in operations} >= {
        ("GET", "/v1/challenge"),
        ("POST", "/v1/cases"),
        ("POST", "/v1/cases/{case_number}/media"),
        ("GET", "/v1/cases/{case_number}"),
        ("DELETE", "/v1/cases/{case_number}"),
    }
    statuses: set[int] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def no_server_error(case: Any) -> None:
            if case.method.upper() == "POST":
                case.headers = {**(case.headers or {}), "X-Altcha": intake.pow_header(intake_url)}
            response = case.call_and_validate(base_url=intake_url, checks=[not_a_server_error])
            statuses.add(response.status_code)

        no_server_error()
    # Generated fingerprints are rarely valid hex (the schema has no pattern), so most POSTs
    # end in a 422 naming the field; what matters here is that none ended in a 5xx.
    assert 422 in statuses and all(status < 500 for status in statuses)
