"""schemathesis against the OpenAPI document: for every operation, generated requests never get
a 5xx, and every response — problems included — matches the documented status, media type and
schema. Runs in-process through the WSGI application, on the test database."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from tests.api_support import api_client_with_token
from tests.factories import DecisionFactory, FacilityFactory, InspectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(db, settings):
    from django.core.cache import cache

    from config.wsgi import application

    cache.clear()
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.ALLOWED_HOSTS = ["*"]
    facility = FacilityFactory(facility_id="K0880-001")
    DecisionFactory(facility=facility, diarienummer="3.2.2-1/2025")
    InspectionFactory(facility=facility, diarienummer="3.2.2-2/2025")
    # As Django's test client does: a request's end must not close the test's connection
    # (it is inside the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:
    return api_client_with_token("0880")[1]


def test_api_matches_its_openapi_document(api_schema, token):
    """Each operation in turn (schemathesis' pytest plugin does not load under this pytest)."""
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers)

        check()
