"""Municipal login by one-time link or code (mail through a real SMTP server on loopback), the
session rules, and the allowlist that decides who may log in."""

import datetime
import re
import time

import pytest
from django.conf import settings
from django.test import TestCase
from django.utils import timezone

from access.middleware import LOGIN_AT, SEEN_AT
from access.models import AccessEvent, AllowlistEntry, LoginToken
from access.roles import Role
from tests.assertions import assert_none_shown, assert_shows
from tests.factories import make_user
from tests.login_support import ADDRESS, link_and_code, same_page

pytestmark = pytest.mark.django_db


def request_link(client, email=ADDRESS, *, path="/logga-in/", **extra):
    # The mail goes when the token's transaction commits (transaction.on_commit); the test's own
    # transaction never does, so its callbacks are run here as the commit would run them.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, {"email": email}, **extra)


def test_login_link__listed_address__mail_with_link_and_code_then_signed_in(
    client, listed, smtp_server
):
    response = request_link(client)

    assert response.status_code == 302
    assert response["Location"] == "/logga-in/skickat/"
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == ADDRESS
    assert message["Subject"] == "Logga in i HVB-registret"
    link, _code = link_and_code(smtp_server)
    assert "gäller i 15 minuter" in smtp_server.bodies()[0]

    assert client.get(link).status_code == 200  # a button, so a mail scanner uses nothing up
    anonymous_session = client.session.session_key
    response = client.post(link)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session.session_key != anonymous_session
    user = client.get("/").context["user"]
    assert user.get_username() == ADDRESS
    assert user.account.role == Role.MUNICIPAL_USER
    assert user.account.municipality_id == "0880"
    assert AccessEvent.objects.filter(action="login", username=ADDRESS).count() == 1


def test_login_link__second_use__refused(client, listed, smtp_server):
    request_link(client)
    link, _code = link_and_code(smtp_server)
    client.post(link)
    client.post("/logga-ut/")

    response = client.post(link)

    assert response.status_code == 400
    assert "Länken gäller inte längre" in response.content.decode()
    assert client.get("/").status_code == 302


def test_login_link__after_15_minutes__refused(client, listed, smtp_server):
    request_link(client)
    link, _code = link_and_code(smtp_server)
    LoginToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert client.post(link).status_code == 400
    assert client.get("/").status_code == 302


def test_login_code__right_code__signed_in(client, listed, smtp_server):
    request_link(client)
    _link, code = link_and_code(smtp_server)

    response = client.post("/logga-in/skickat/", {"code": code})

    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_login_code__five_wrong_codes__the_right_one_no_longer_works(client, listed, smtp_server):
    request_link(client)
    _link, code = link_and_code(smtp_server)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _attempt in range(settings.LOGIN_CODE_ATTEMPTS):
        response = client.post("/logga-in/skickat/", {"code": wrong})
        assert response.status_code == 400
        assert "Koden stämmer inte eller har gått ut." in response.content.decode()

    assert client.post("/logga-in/skickat/", {"code": code}).status_code == 400
    assert client.get("/").status_code == 302


def test_login_link__unlisted_address__same_page_no_mail_failure_logged(
    client, listed, smtp_server
):
    from django.test import Client

    listed_page = client.get(request_link(client)["Location"]).content.decode()
    other = Client()
    response = request_link(other, email="okand@example.com")
    unlisted_page = other.get(response["Location"]).content.decode()

    assert response["Location"] == "/logga-in/skickat/"
    assert len(smtp_server.messages) == 1  # only the listed address got one
    assert same_page(unlisted_page, "okand@example.com") == same_page(listed_page, ADDRESS)
    assert AccessEvent.objects.filter(
        action="login_failed", detail__contains="inte frilistad"
    ).exists()


def test_login_link__too_many_requests_for_one_address__no_more_mail(client, listed, smtp_server):
    for _attempt in range(settings.LOGIN_RATE_PER_ADDRESS + 2):
        assert request_link(client).status_code == 302

    assert len(smtp_server.messages) == settings.LOGIN_RATE_PER_ADDRESS


def test_login_link__too_many_requests_from_one_ip__no_more_mail(
    client, listed, smtp_server, settings
):
    settings.LOGIN_RATE_PER_IP = 3
    for number in range(3):
        request_link(client, email=f"nagon{number}@example.com")

    request_link(client)

    assert smtp_server.messages == []


def test_login__next_elsewhere__not_followed(client, listed, smtp_server):
    request_link(client, path="/logga-in/?next=https://evil.example/")
    link, _code = link_and_code(smtp_server)

    assert client.post(link)["Location"] == "/"


def test_login__next_on_site__followed(client, listed, smtp_server):
    request_link(client, path="/logga-in/?next=/%3Falder%3D15")
    link, _code = link_and_code(smtp_server)

    assert client.post(link)["Location"] == "/?alder=15"


def test_login_form__not_an_address__page_back_with_message(client, listed):
    response = client.post("/logga-in/", {"email": "inte en adress"})

    assert response.status_code == 400
    assert "Skriv en e-postadress, till exempel namn@kommun.se." in response.content.decode()


# Access ends the moment it should ---------------------------------------------------------------


@pytest.fixture
def signed_in(client):
    user = make_user(Role.MUNICIPAL_USER, municipality="0880")
    client.force_login(user)
    assert client.get("/").status_code == 200
    return user


def assert_sent_to_login(client, reason: str):
    response = client.get("/?alder=15")
    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")
    assert client.get("/").status_code == 302  # the session is gone, not only this request
    assert AccessEvent.objects.filter(action="session_ended", detail__contains=reason).exists()


def test_session__allowlist_entry_revoked__ends_at_the_next_request(client, signed_in):
    AllowlistEntry.objects.filter(email=signed_in.email).update(revoked_at=timezone.now())

    assert_sent_to_login(client, "behörighet har upphört")


def test_session__ended_for_a_reader_of_english__told_in_english_logged_in_swedish(
    client, signed_in
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    AllowlistEntry.objects.filter(email=signed_in.email).update(revoked_at=timezone.now())

    response = client.get("/", follow=True)

    assert "You have been logged out: your access has ended." in response.content.decode()
    assert (
        AccessEvent.objects.get(action="session_ended").detail == "orsak=din behörighet har upphört"
    )


def test_session__allowlist_entry_expired__ends_at_the_next_request(client, signed_in):
    AllowlistEntry.objects.filter(email=signed_in.email).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert_sent_to_login(client, "behörighet har upphört")


def test_session__moved_to_another_municipality__ends(client, signed_in):
    AllowlistEntry.objects.filter(email=signed_in.email).update(municipality_id="0180")

    assert_sent_to_login(client, "behörighet har upphört")


def test_session__idle_too_long__ends(client, signed_in):
    session = client.session
    session[SEEN_AT] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 1
    session.save()

    assert_sent_to_login(client, "inaktiv")


def test_session__absolute_time_passed__ends_even_when_active(client, signed_in):
    session = client.session
    session[LOGIN_AT] = int(time.time()) - settings.SESSION_ABSOLUTE_SECONDS - 1
    session[SEEN_AT] = int(time.time())
    session.save()

    assert_sent_to_login(client, "längsta tid")


class _Clock:
    """The middleware's clock, moved by hand: minutes pass without the test waiting."""

    def __init__(self):
        self.now = float(int(time.time()))  # whole seconds, as the session keeps them

    def time(self) -> float:
        return self.now

    def advance(self, *, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr("access.middleware.time", fake)
    return fake


@pytest.fixture
def signed_in_by_link(client, listed, smtp_server, clock):
    """Signed in the way a social worker is: the link from the mail, at the clock's now."""
    request_link(client)
    link, _code = link_and_code(smtp_server)
    assert client.post(link).status_code == 302
    return client


def test_session__used_every_20_minutes__alive_past_30_minutes_of_age(signed_in_by_link, clock):
    for _request in range(4):  # 80 minutes old at the end
        clock.advance(minutes=20)
        assert signed_in_by_link.get("/").status_code == 200


def test_session__idle_31_minutes_right_after_the_login__ends(signed_in_by_link, clock):
    clock.advance(minutes=31)

    assert_sent_to_login(signed_in_by_link, "inaktiv")


def test_session__idle_31_minutes_after_its_last_request__ends(signed_in_by_link, clock):
    clock.advance(minutes=20)
    assert signed_in_by_link.get("/").status_code == 200

    clock.advance(minutes=31)

    assert_sent_to_login(signed_in_by_link, "inaktiv")


def test_session__used_every_20_minutes__ends_at_the_absolute_time_from_the_login(
    signed_in_by_link, clock, settings
):
    settings.SESSION_ABSOLUTE_SECONDS = 60 * 60
    for _request in range(3):  # 60 minutes after the login: not yet more than the hour
        clock.advance(minutes=20)
        assert signed_in_by_link.get("/").status_code == 200

    clock.advance(minutes=20)

    assert_sent_to_login(signed_in_by_link, "längsta tid")


# The allowlist, kept by each municipality's administrator ----------------------------------------


@pytest.fixture
def administrator(client):
    user = make_user(Role.MUNICIPAL_ADMIN, municipality="0880")
    client.force_login(user)
    return user


def test_allowlist__administrator_adds_an_address__valid_a_year_and_logged(client, administrator):
    response = client.post(
        "/kommun/frilistning/", {"email": "Ny.Person@Kalmar.example", "role": Role.MUNICIPAL_USER}
    )

    assert response.status_code == 302
    entry = AllowlistEntry.objects.get(email="ny.person@kalmar.example")
    assert entry.municipality_id == "0880"
    assert entry.confirmed_by == administrator
    assert (entry.expires_at - entry.confirmed_at).days == settings.ALLOWLIST_VALIDITY_DAYS
    event = AccessEvent.objects.get(action="allowlist_change")
    assert "ändring=tillagd" in event.detail and "ny.person@kalmar.example" in event.detail


def test_allowlist__address_already_on_the_own_list__refused_with_message(client, administrator):
    make_user(Role.MUNICIPAL_USER, municipality="0880", email="finns@kalmar.example")

    response = client.post(
        "/kommun/frilistning/", {"email": "finns@kalmar.example", "role": "kommun_anvandare"}
    )

    assert response.status_code == 400
    assert "Adressen finns redan på listan. Förnya den i stället." in response.content.decode()
    assert AllowlistEntry.objects.filter(email="finns@kalmar.example").count() == 1


def _add_and_follow(client, email: str) -> tuple:
    """What an administrator sees on adding an address: status, redirects and the page, with
    the address, its entry's id and the form token left out."""
    response = client.post(
        "/kommun/frilistning/", {"email": email, "role": Role.MUNICIPAL_USER}, follow=True
    )
    page = same_page(response.content.decode(), email)
    page = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", page)
    return response.status_code, response.redirect_chain, page


def test_allowlist__address_another_municipality_lists__same_answer_as_a_new_address(
    client, administrator
):
    from django.db import transaction

    stranger = make_user(Role.MUNICIPAL_USER, municipality="0180", email="finns@example.com")
    theirs = AllowlistEntry.objects.get(email=stranger.email)
    before = AllowlistEntry.objects.filter(pk=theirs.pk).values().get()
    with transaction.atomic():
        new_address = _add_and_follow(client, "annan@example.com")  # sorts as the other
        transaction.set_rollback(True)  # as if the other address had been added instead

    held_elsewhere = _add_and_follow(client, "finns@example.com")

    assert held_elsewhere == new_address
    assert new_address[0] == 200 and "Adressen är tillagd" in new_address[2]
    assert AllowlistEntry.objects.filter(pk=theirs.pk).values().get() == before
    ours = AllowlistEntry.objects.get(email="finns@example.com", municipality_id="0880")
    assert ours.revoked_at is None and ours.confirmed_by == administrator


def test_login__address_two_municipalities_list__the_first_to_list_it_decides_until_it_ends(
    client, smtp_server
):
    """A second municipality's entry takes no one over: the person keeps signing in as the
    first municipality's user until that municipality revokes the address."""
    now = timezone.now()
    first = AllowlistEntry.objects.create(
        email=ADDRESS,
        municipality_id="0180",
        confirmed_at=now,
        expires_at=now + datetime.timedelta(days=365),
    )
    AllowlistEntry.objects.create(
        email=ADDRESS,
        municipality_id="0880",
        role=Role.MUNICIPAL_ADMIN,
        confirmed_at=now,
        expires_at=now + datetime.timedelta(days=365),
    )
    request_link(client)
    client.post(link_and_code(smtp_server)[0])
    user = client.get("/").context["user"]
    assert (user.account.municipality_id, user.account.role) == ("0180", Role.MUNICIPAL_USER)

    AllowlistEntry.objects.filter(pk=first.pk).update(revoked_at=timezone.now())
    assert client.get("/").status_code == 302  # the first municipality's access ended

    request_link(client)
    client.post(link_and_code(smtp_server)[0])
    user = client.get("/").context["user"]
    assert (user.account.municipality_id, user.account.role) == ("0880", Role.MUNICIPAL_ADMIN)


def test_allowlist__renew__another_year_from_today(client, administrator):
    entry = AllowlistEntry.objects.create(
        email="gammal@kalmar.example",
        municipality_id="0880",
        confirmed_at=timezone.now() - datetime.timedelta(days=350),
        expires_at=timezone.now() + datetime.timedelta(days=15),
    )
    page = client.get("/kommun/frilistning/").content.decode()
    assert "Går snart ut" in page and "gammal@kalmar.example" in page.split("Går snart ut")[1]

    client.post(f"/kommun/frilistning/{entry.public_id}/fornya/")

    entry.refresh_from_db()
    assert entry.expires_at > timezone.now() + datetime.timedelta(days=360)


def test_allowlist__revoke__that_user_loses_access_at_once(client, administrator):
    from django.test import Client

    worker = make_user(Role.MUNICIPAL_USER, municipality="0880")
    worker_client = Client()
    worker_client.force_login(worker)
    assert worker_client.get("/").status_code == 200
    entry = AllowlistEntry.objects.get(email=worker.email)

    client.post(f"/kommun/frilistning/{entry.public_id}/aterkalla/")

    assert worker_client.get("/").status_code == 302
    assert AccessEvent.objects.filter(
        action="allowlist_change", detail__contains="återkallad"
    ).exists()


def test_allowlist__other_municipalitys_entry__404_and_untouched(client, administrator):
    stranger = make_user(Role.MUNICIPAL_USER, municipality="0180")
    colleague = make_user(Role.MUNICIPAL_USER, municipality="0880")
    entry = AllowlistEntry.objects.get(email=stranger.email)

    assert client.post(f"/kommun/frilistning/{entry.public_id}/aterkalla/").status_code == 404
    assert client.post(f"/kommun/frilistning/{entry.public_id}/fornya/").status_code == 404
    page = assert_shows(client.get("/kommun/frilistning/"), colleague.email)
    assert_none_shown(page, [stranger.email, "0180"])
    entry.refresh_from_db()
    assert entry.revoked_at is None


def test_allowlist__municipal_user__forbidden(client):
    client.force_login(make_user(Role.MUNICIPAL_USER))

    assert client.get("/kommun/frilistning/").status_code == 403


def test_login_link__address_of_an_ivo_staff_account__never_signs_it_in(client, smtp_server):
    staff = make_user(Role.IVO_ADMIN, email="karin@ivo.example")
    staff.username = "karin@ivo.example"
    staff.save()
    now = timezone.now()
    AllowlistEntry.objects.create(
        email="karin@ivo.example",
        municipality_id="0880",
        confirmed_at=now,
        expires_at=now + datetime.timedelta(days=365),
    )
    request_link(client, email="karin@ivo.example")
    link, _code = link_and_code(smtp_server)

    assert client.post(link).status_code == 400
    staff.account.refresh_from_db()
    assert staff.account.role == Role.IVO_ADMIN


def test_ivo_role__without_the_second_factor__no_rights_anywhere(client):
    client.force_login(make_user(Role.IVO_ADMIN))  # a session not verified with a code

    assert client.get("/ivo/kommuner/").status_code == 403
    assert client.get("/").status_code == 403
