"""A bounded, schema-based fuzz run over the API's OpenAPI document, against the real server:
no request, however odd, gets a 500, and every answer is one the document describes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from core.testing.testbot import test_config
from tests.dashboard_kit import TOKEN, LiveDashboard

#: Examples per operation: enough to reach every status of each, few enough to stay quick.
EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          ignored_auth]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDashboard]:
    config = test_config(tmp_path_factory.mktemp("fuzz"))
    config.limits.user_per_minute = config.limits.server_per_minute = 0  # reach past the limits, too
    with LiveDashboard(config) as dashboard:
        yield dashboard


def test_fuzzed_requests_get_documented_answers_and_never_a_500(live_api: LiveDashboard) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

        call()
