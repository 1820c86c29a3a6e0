"""The language switch: Swedish by default, English when chosen, remembered."""

import pytest
from django.conf import settings

from access.models import Account
from access.roles import Role
from access.services import language_of
from tests.factories import make_user


def _html_lang(response) -> str:
    text = response.content.decode()
    start = text.index('<html lang="') + len('<html lang="')
    return text[start : text.index('"', start)]


@pytest.mark.django_db
def test_the_start_page__is_swedish_by_default_and_offers_english(client):
    response = client.get("/logga-in/")
    assert _html_lang(response) == "sv"
    assert response["Content-Language"] == "sv"
    assert 'name="language" value="en"' in response.content.decode()


@pytest.mark.django_db
def test_a_browser_asking_for_english__still_gets_swedish_pages(client):
    response = client.get("/logga-in/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert _html_lang(response) == "sv"


@pytest.mark.django_db
def test_choosing_english__sets_the_cookie_and_returns_to_the_page(client):
    response = client.post("/sprak/", {"language": "en", "next": "/oppna-data/"})
    assert response.status_code == 302
    assert response["Location"] == "/oppna-data/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/oppna-data/")
    assert _html_lang(page) == "en"
    assert 'name="language" value="sv"' in page.content.decode()


@pytest.mark.django_db
def test_choosing_a_language__never_redirects_off_the_site(client):
    response = client.post("/sprak/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_choosing_an_unknown_language__changes_nothing(client):
    response = client.post("/sprak/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert _html_lang(client.get("/logga-in/")) == "sv"


@pytest.mark.django_db(databases="__all__")
def test_choosing_english_signed_in__is_kept_for_mail_and_other_devices(client):
    user = make_user(Role.MUNICIPAL_USER)
    client.force_login(user)
    client.post("/sprak/", {"language": "en", "next": "/"})
    assert Account.objects.get(user=user).language == "en"
    user.refresh_from_db()
    assert language_of(user) == "en"

    elsewhere = client.__class__()
    elsewhere.force_login(user)
    assert _html_lang(elsewhere.get("/")) == "en"


@pytest.mark.django_db
def test_a_user_who_never_chose__is_written_to_in_swedish():
    assert language_of(make_user(Role.MUNICIPAL_USER)) == "sv"


@pytest.mark.parametrize(
    ("language", "short", "long"),
    [("sv", "2026-12-07", "7 december 2026"), ("en", "7 Dec 2026", "7 December 2026")],
)
def test_dates__are_written_in_each_languages_form(language, short, long):
    import datetime

    from django.utils import formats, translation

    day = datetime.date(2026, 12, 7)
    with translation.override(language):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == short
        assert formats.date_format(day) == long
