"""The middleware: CSRF guards every form, the security headers and the content security policy
are on every answer, the API's too, and Django's and the libraries' checks find what they need."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(db):
    return FacilityFactory(facility_id="K0880-001", name="Ängsgården")


def test_page__a_form_posted_without_its_csrf_token__refused(db):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(reverse("access:login"), {"email": "anna@example.com"})

    assert response.status_code == 403


def test_page__security_headers_and_policy_on_the_api_as_well(client, home):
    response = client.get("/api/v1/facilities/K0880-001")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response


def test_django_and_the_libraries_checks_still_find_the_middleware_they_need():
    """The admin needs sessions, authentication and messages; django-axes its own middleware:
    the pages-only subclasses must still count as them (`manage.py check` refused to start)."""
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")
