"""The middleware meant for pages passes the API over (config/middleware.py), and still guards
every page: CSRF on forms, the session's end, the back office."""

import pytest
from django.test import Client
from django.urls import reverse

from access.models import AccessEvent
from access.roles import Role
from tests.factories import FacilityFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(db):
    return FacilityFactory(facility_id="K0880-001", name="Ängsgården")


def test_api__a_signed_in_browser_gets_no_session_work_no_cookie_and_no_session_end(
    client, home, settings
):
    client.force_login(make_user(Role.MUNICIPAL_USER, municipality="0880"))
    settings.SESSION_IDLE_SECONDS = -1  # the portal would end this session at its next page

    response = client.get("/api/v1/facilities/K0880-001")

    assert response.status_code == 200
    assert response.json()["name"] == "Ängsgården"
    assert not response.cookies  # neither the session's nor CSRF's
    assert "Cookie" not in response.get("Vary", "")
    # The session was not read, so not ended either: that is the portal's next page's to do.
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.SESSION_ENDED).exists()
    page = client.get(reverse("portal:search"))
    assert page.status_code == 302
    assert AccessEvent.objects.filter(action=AccessEvent.Action.SESSION_ENDED).count() == 1


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
