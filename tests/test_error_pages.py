"""The error pages with DEBUG off, as a visitor meets them: in the site's design and language,
saying what happened and where to go; the API's paths keep their problem+json answers; the 500
page is drawn without the database."""

import re
from contextlib import ExitStack

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connections
from django.test import Client, RequestFactory
from django.utils import translation

from portal.errors import server_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]


@pytest.fixture(autouse=True)
def _production_mode(settings):
    settings.DEBUG = False


@pytest.fixture
def visitor():
    return Client(raise_request_exception=False)


def heading(response) -> str:
    match = re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S)
    return match.group(1).strip() if match else ""


def page_language(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def english(text: str) -> str:
    with translation.override("en"):
        return translation.gettext(text)


def test_404__swedish_page_with_a_way_to_the_start_page(visitor):
    response = visitor.get("/finns-inte-alls/")

    assert response.status_code == 404
    assert page_language(response) == "sv"
    assert heading(response) == "Sidan finns inte"
    assert 'href="/">Till startsidan, där du söker verksamheter</a>' in response.content.decode()
    assert 'class="skip-link"' in response.content.decode()


def test_404__link_back_to_the_page_the_visitor_came_from_on_this_site(visitor):
    response = visitor.get("/finns-inte-alls/", HTTP_REFERER="http://testserver/?q=Kalmar")

    assert 'href="http://testserver/?q=Kalmar">Tillbaka till sidan du kom från' in (
        response.content.decode()
    )


def test_404__no_back_link_to_another_site(visitor):
    response = visitor.get("/finns-inte-alls/", HTTP_REFERER="https://elsewhere.example/")

    assert "Tillbaka till sidan du kom från" not in response.content.decode()


def test_404__in_english_when_the_visitor_chose_english(visitor):
    visitor.cookies["sprak"] = "en"

    response = visitor.get("/finns-inte-alls/")

    assert response.status_code == 404
    assert page_language(response) == "en"
    assert heading(response) == english("Sidan finns inte")


def test_403__says_who_may_see_it_and_offers_both_logins(visitor):
    response = visitor.get("/test-fel/403/")

    assert response.status_code == 403
    assert heading(response) == "Du har inte behörighet till sidan"
    body = response.content.decode()
    assert 'href="/logga-in/">Logga in som kommunens användare</a>' in body
    assert 'href="/personal/logga-in/">Logga in som IVO:s personal</a>' in body


def test_403__in_english_with_the_cookie(visitor):
    visitor.cookies["sprak"] = "en"

    response = visitor.get("/test-fel/403/")

    assert page_language(response) == "en"
    assert heading(response) == english("Du har inte behörighet till sidan")


def test_400__a_suspicious_request__the_sites_own_page(visitor):
    response = visitor.get("/test-fel/400/")

    assert response.status_code == 400
    assert heading(response) == "Begäran kunde inte tas emot"
    assert 'href="/">' in response.content.decode()


def test_500__the_sites_own_page_with_a_way_to_the_start_page(visitor):
    response = visitor.get("/test-fel/500/")

    assert response.status_code == 500
    assert page_language(response) == "sv"
    assert heading(response) == "Något gick fel hos oss"
    assert 'href="/">Till startsidan, där du söker verksamheter</a>' in response.content.decode()


def test_500__in_english_with_the_cookie(visitor):
    visitor.cookies["sprak"] = "en"

    response = visitor.get("/test-fel/500/")

    assert response.status_code == 500
    assert page_language(response) == "en"
    assert heading(response) == english("Något gick fel hos oss")


def test_500__drawn_for_a_signed_in_user_with_every_database_unreachable(municipal_user):
    signed_in = Client()
    signed_in.force_login(municipal_user)
    request = RequestFactory().get("/verksamhet/K0880-001/")
    request.COOKIES = {name: morsel.value for name, morsel in signed_in.cookies.items()}
    # The user as the middleware leaves it: lazy, read from the session when first asked for.
    SessionMiddleware(lambda request: None).process_request(request)
    AuthenticationMiddleware(lambda request: None).process_request(request)

    def unreachable(*args, **kwargs):
        raise AssertionError("the 500 page asked the database")

    with translation.override("sv"), ExitStack() as blocked:
        for alias in connections:
            blocked.enter_context(connections[alias].execute_wrapper(unreachable))
        response = server_error(request)

    assert response.status_code == 500
    assert heading(response) == "Något gick fel hos oss"


def test_500__the_language_switch_on_it_carries_a_csrf_token(visitor):
    response = visitor.get("/test-fel/500/")

    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', response.content.decode()), (
        "the switch would itself fail the CSRF check"
    )


def test_api_paths__keep_problem_json_for_a_missing_resource_and_a_server_error(visitor):
    missing = visitor.get("/api/v1/finns-inte/")
    broken = visitor.get("/api/test-fel/500/")

    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/problem+json")
    assert missing.json()["code"] == "finns-inte"
    assert broken.status_code == 500
    assert broken["Content-Type"].startswith("application/problem+json")
    assert broken.json()["code"] == "serverfel"


def test_csrf_failure__a_form_posted_without_its_token__explained_in_the_sites_design():
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        "/logga-in/", {"email": "anna@example.com"}, HTTP_REFERER="http://testserver/logga-in/"
    )

    assert response.status_code == 403
    assert page_language(response) == "sv"
    assert heading(response) == "Formuläret kunde inte skickas"
    assert 'href="http://testserver/logga-in/">Tillbaka till sidan du kom från' in (
        response.content.decode()
    )
    assert 'href="/logga-in/">Logga in som kommunens användare</a>' in response.content.decode()


def test_csrf_failure__in_english_with_the_cookie():
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["sprak"] = "en"

    response = browser.post("/logga-in/", {"email": "anna@example.com"})

    assert response.status_code == 403
    assert page_language(response) == "en"
    assert heading(response) == english("Formuläret kunde inte skickas")
