"""IVO staff sign in with password and a TOTP code; django-axes locks a username from an address."""

import datetime
import io
import re
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.middleware import LOGIN_AT
from access.models import AccessEvent
from access.roles import Role
from tests.assertions import without_form_tokens
from tests.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/personal/logga-in/"
PASSWORD = "ett-långt-lösenord-för-tester"
REFUSED = "Inloggningen misslyckades"
LOCKED = "För många inloggningsförsök"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = {code_for(device, steps_ahead=step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in right)


def make_staff(role: str = Role.IVO_REGISTRATOR, *, device: bool = True):
    user = make_user(role, password=PASSWORD)
    if device:
        TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    return user


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user)


def sign_in(client, username: str, *, code: str, password: str = PASSWORD, ip="10.1.1.1", **extra):
    data = {"username": username, "password": password, "code": code}
    return client.post(URL, data, REMOTE_ADDR=ip, **extra)


def fail(client, username: str, *, ip="10.1.1.1", **extra):
    return sign_in(client, username, password="fel-lösenord", code="123456", ip=ip, **extra)


def is_signed_in_to_back_office(client) -> bool:
    return client.get("/admin/").status_code == 200


# Signing in ------------------------------------------------------------------------------------


def test_staff_login__password_and_code__signed_in_and_back_office_opens(client):
    user = make_staff()
    before = int(time.time())  # whole seconds, as the session keeps them

    response = sign_in(client, user.username, code=code_for(device_of(user)))

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert before <= client.session[LOGIN_AT] <= time.time()  # the moment of the login
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "Registerförvaltning" in index.content.decode()


def test_staff_login__page__swedish_labels_and_one_time_code_field(client):
    content = client.get(URL).content.decode()

    assert "Inloggning för IVO:s personal" in content
    assert '<label for="id_username">Användarnamn</label>' in content
    assert '<label for="id_password">Lösenord</label>' in content
    assert '<label for="id_code">Kod från autentiseringsappen</label>' in content
    assert 'autocomplete="one-time-code"' in content
    assert 'autocomplete="current-password"' in content
    assert 'inputmode="numeric"' in content


def test_staff_login__code_in_two_groups__accepted(client):
    user = make_staff()
    code = code_for(device_of(user))

    response = sign_in(client, user.username, code=f"{code[:3]} {code[3:]}")

    assert response.status_code == 302
    assert is_signed_in_to_back_office(client)


def test_staff_login__session_id_changes(client):
    user = make_staff()
    before = client.session
    before["besökt"] = True
    before.save()
    old_key = before.session_key

    sign_in(client, user.username, code=code_for(device_of(user)))

    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key and new_key != old_key


def test_staff_login__next_on_the_site__followed(client):
    user = make_staff()
    data = {"username": user.username, "password": PASSWORD, "code": code_for(device_of(user))}

    response = client.post(f"{URL}?next=/admin/register/facility/", data)

    assert response["Location"] == "/admin/register/facility/"


def test_staff_login__next_elsewhere__ignored(client):
    user = make_staff()
    data = {"username": user.username, "password": PASSWORD, "code": code_for(device_of(user))}

    response = client.post(f"{URL}?next=https://angripare.example/", data)

    assert response["Location"] == "/admin/"


# Refusals: the same words whatever was wrong -------------------------------------------------


def refusal_text(response) -> str:
    content = response.content.decode()
    assert response.status_code == 400
    assert REFUSED in content
    return content


def test_staff_login__wrong_code__refused(client):
    user = make_staff()

    response = sign_in(client, user.username, code=wrong_code(device_of(user)))

    content = refusal_text(response)
    assert "Kontrollera användarnamn, lösenord och kod" in content
    assert "_auth_user_id" not in client.session
    assert not is_signed_in_to_back_office(client)


def test_staff_login__wrong_code_and_wrong_password__same_message(client):
    user = make_staff()
    wrong = wrong_code(device_of(user))

    wrong_code_page = refusal_text(sign_in(client, user.username, code=wrong))
    wrong_password_page = refusal_text(
        sign_in(client, user.username, password="fel-lösenord", code=wrong)
    )
    unknown_user_page = refusal_text(sign_in(client, "finns.inte", code=wrong))

    def message(content: str) -> str:
        return re.search(r'<div class="error-summary".*?</div>', content, re.S).group()

    assert message(wrong_code_page) == message(wrong_password_page) == message(unknown_user_page)


def test_staff_login__wrong_code__not_written_back_into_the_page(client):
    user = make_staff()
    wrong = wrong_code(device_of(user))

    content = refusal_text(sign_in(client, user.username, code=wrong))

    assert wrong not in content
    assert PASSWORD not in content
    assert f'value="{user.username}"' in content


def test_staff_login__missing_code__refused_and_password_not_tried(client):
    user = make_staff()

    response = client.post(URL, {"username": user.username, "password": PASSWORD, "code": ""})

    assert response.status_code == 400
    assert "Skriv koden från autentiseringsappen." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AccessAttempt.objects.exists()


def test_staff_login__code_used_twice__refused_the_second_time(client):
    user = make_staff()
    code = code_for(device_of(user))
    sign_in(client, user.username, code=code)
    client.logout()

    refusal_text(sign_in(client, user.username, code=code))


def test_staff_login__no_device__refused(client):
    user = make_staff(device=False)

    refusal_text(sign_in(client, user.username, code="123456"))

    assert "_auth_user_id" not in client.session


def test_staff_login__unconfirmed_device__refused(client):
    user = make_staff(device=False)
    device = TOTPDevice.objects.create(user=user, name="Ej bekräftad", confirmed=False)

    refusal_text(sign_in(client, user.username, code=code_for(device)))

    assert "_auth_user_id" not in client.session


def test_staff_login__municipal_user__refused(client):
    user = make_user(Role.MUNICIPAL_USER, password=PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="Telefon", confirmed=True)

    refusal_text(sign_in(client, user.username, code=code_for(device)))

    assert "_auth_user_id" not in client.session


def test_staff_login__user_without_role__refused(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="utan.roll", password=PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="Telefon", confirmed=True)

    refusal_text(sign_in(client, user.username, code=code_for(device)))


def test_staff_login__second_factor_failure__counted_like_a_wrong_password(client):
    user = make_staff()

    sign_in(client, user.username, code=wrong_code(device_of(user)))

    attempt = AccessAttempt.objects.get()
    assert attempt.username == user.username
    assert attempt.failures_since_start == 1


def test_staff_login__code_and_password__never_stored_by_axes(client):
    user = make_staff()
    wrong = wrong_code(device_of(user))

    sign_in(client, user.username, code=wrong)

    attempt = AccessAttempt.objects.get()
    assert wrong not in attempt.post_data
    assert PASSWORD not in attempt.post_data


# The back office ------------------------------------------------------------------------------


def test_back_office__anonymous__sent_to_staff_login(client):
    response = client.get("/admin/register/facility/")

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?next=/admin/register/facility/"


def test_back_office__own_login_page__sends_to_staff_login(client):
    response = client.get("/admin/login/?next=/admin/register/decision/")

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?next=/admin/register/decision/"


def test_back_office__own_login_page__cannot_sign_in_with_password_alone(client):
    user = make_staff()

    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith(URL)
    assert "_auth_user_id" not in client.session


def test_back_office__password_only_session__sent_to_staff_login(client):
    client.force_login(make_staff())

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?next=/admin/"


def test_back_office__municipal_user__refused(client, municipal_user):
    client.force_login(municipal_user)

    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/login/").status_code == 302


def test_back_office__device_replaced__session_no_longer_verified(client):
    user = make_staff()
    sign_in(client, user.username, code=code_for(device_of(user)))
    assert is_signed_in_to_back_office(client)

    call_command("totp_device", user.username, "--replace", stdout=io.StringIO())

    assert not is_signed_in_to_back_office(client)


# Lockout: the pair of username and address ----------------------------------------------------


@pytest.fixture
def locked(client):
    """A registrator whose username is locked from 10.1.1.1 after five failures."""
    assert settings.AXES_FAILURE_LIMIT == 5
    user = make_staff()
    for _ in range(4):
        assert fail(client, user.username).status_code == 400
    response = fail(client, user.username)
    assert response.status_code == 429
    return user


def test_staff_login__five_failures__locked_with_a_time_to_try_again(client, locked):
    response = sign_in(client, locked.username, code=code_for(device_of(locked)))

    content = response.content.decode()
    assert response.status_code == 429
    assert LOCKED in content
    assert re.search(r"Försök igen efter klockan \d\d:\d\d, om ungefär 30 minuter", content)
    assert 1700 <= int(response["Retry-After"]) <= 1800
    assert "_auth_user_id" not in client.session


def test_staff_login__lockout_page__same_for_an_unknown_username(client, locked):
    for _ in range(5):
        fail(client, "finns.inte")
    unknown = fail(client, "finns.inte")
    known = fail(client, locked.username)

    assert unknown.status_code == known.status_code == 429
    # The same page but for the header's language switch's form token, new at every page.
    assert without_form_tokens(unknown.content) == without_form_tokens(known.content)


def test_staff_login__locked__another_address_can_still_sign_in(client, locked):
    response = sign_in(client, locked.username, code=code_for(device_of(locked)), ip="10.2.2.2")

    assert response.status_code == 302
    assert is_signed_in_to_back_office(client)


def test_staff_login__locked__another_username_from_the_same_address_can_still_sign_in(
    client, locked
):
    colleague = make_staff()

    response = sign_in(client, colleague.username, code=code_for(device_of(colleague)))

    assert response.status_code == 302


def test_staff_login__forged_forwarded_for__still_locked(client, locked):
    code = code_for(device_of(locked))
    for forged in ("10.9.9.9", "192.0.2.1, 10.9.9.8", "203.0.113.7"):
        response = sign_in(client, locked.username, code=code, HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 429


def test_staff_login__behind_our_proxy__counts_the_last_hop_only(client, settings):
    settings.TRUSTED_PROXY_HEADER = True
    user = make_staff()
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"):
        fail(client, user.username, HTTP_X_FORWARDED_FOR=f"{forged}, 10.3.3.3")

    code = code_for(device_of(user))
    forged_first_hop = sign_in(
        client, user.username, code=code, HTTP_X_FORWARDED_FOR="6.6.6.6, 10.3.3.3"
    )
    other_client = sign_in(client, user.username, code=code, HTTP_X_FORWARDED_FOR="10.4.4.4")

    assert forged_first_hop.status_code == 429
    assert other_client.status_code == 302


def test_staff_login__cool_off_over__can_sign_in_again(client, locked):
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=31))

    response = sign_in(client, locked.username, code=code_for(device_of(locked)))

    assert response.status_code == 302
    assert is_signed_in_to_back_office(client)


def test_staff_login__cool_off__a_setting(client, settings):
    settings.AXES_COOLOFF_TIME = 10 / 60
    user = make_staff()
    for _ in range(5):
        fail(client, user.username)

    response = fail(client, user.username)

    assert "om ungefär 10 minuter" in response.content.decode()


def test_staff_login__success__clears_earlier_failures(client):
    user = make_staff()
    for _ in range(4):
        fail(client, user.username)
    sign_in(client, user.username, code=code_for(device_of(user)))
    client.logout()

    assert fail(client, user.username).status_code == 400


# The access log -------------------------------------------------------------------------------


def test_staff_login__access_log__login_with_user_role_and_address(client):
    user = make_staff(Role.IVO_ADMIN)
    code = code_for(device_of(user))

    sign_in(client, user.username, code=code, ip="10.5.5.5")

    event = AccessEvent.objects.using(settings.ACCESS_LOG_DATABASE).get(
        action=AccessEvent.Action.LOGIN
    )
    assert event.user_id == user.pk
    assert event.role == Role.IVO_ADMIN
    assert event.ip == "10.5.5.5"
    assert "lösenord och kod" in event.detail
    assert code not in event.detail


def test_staff_login__access_log__failures_without_password_or_code(client):
    user = make_staff()
    wrong = wrong_code(device_of(user))

    sign_in(client, user.username, code=wrong)
    sign_in(client, "finns.inte", password="hemligt-fel-lösenord", code=wrong)

    events = AccessEvent.objects.using(settings.ACCESS_LOG_DATABASE).filter(
        action=AccessEvent.Action.LOGIN_FAILED
    )
    by_user = {event.user_id: event for event in events}
    assert set(by_user) == {user.pk, None}
    assert "fel kod" in by_user[user.pk].detail
    assert "fel användarnamn eller lösenord" in by_user[None].detail
    for event in events:
        assert wrong not in event.detail
        assert PASSWORD not in event.detail
        assert "hemligt-fel-lösenord" not in event.detail


def test_staff_login__access_log__lockout_noted(client, locked):
    sign_in(client, locked.username, code=code_for(device_of(locked)))

    details = list(
        AccessEvent.objects.using(settings.ACCESS_LOG_DATABASE)
        .filter(action=AccessEvent.Action.LOGIN_FAILED)
        .values_list("detail", flat=True)
    )
    assert len(details) == 6
    assert "spärrad" in details[0]  # the newest: refused before the password was checked


# The command that gives a user a key -----------------------------------------------------------


def test_totp_device_command__creates_a_confirmed_device_and_prints_the_key_once(client):
    user = make_staff(device=False)
    out = io.StringIO()

    call_command("totp_device", user.username, stdout=out)

    device = device_of(user)
    assert device.confirmed
    secret = re.search(r"Nyckel att skriva in i appen: ([A-Z2-7]+)", out.getvalue()).group(1)
    assert f"otpauth://totp/HVB-registret%3A{user.username}?secret={secret}" in out.getvalue()
    assert sign_in(client, user.username, code=code_for(device)).status_code == 302


def test_totp_device_command__existing_device__kept_unless_replace(client):
    user = make_staff()
    old_key = device_of(user).key

    with pytest.raises(CommandError, match="--replace"):
        call_command("totp_device", user.username, stdout=io.StringIO())
    assert device_of(user).key == old_key

    call_command("totp_device", user.username, "--replace", stdout=io.StringIO())
    assert device_of(user).key != old_key


def test_totp_device_command__not_ivo_staff__refused():
    user = make_user(Role.MUNICIPAL_USER)

    with pytest.raises(CommandError, match="inte aktiv IVO-personal"):
        call_command("totp_device", user.username, stdout=io.StringIO())
    with pytest.raises(CommandError, match="finns inte"):
        call_command("totp_device", "finns.inte", stdout=io.StringIO())
    assert not TOTPDevice.objects.exists()


def test_create_ivo_user__account_with_role_and_no_usable_password_yet():
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    out = io.StringIO()
    call_command("create_ivo_user", "karin.ivo", "Karin@IVO.se", "--role", "ivo_admin", stdout=out)

    user = get_user_model().objects.get(username="karin.ivo")
    assert (user.email, user.is_staff, user.account.role) == ("karin@ivo.se", True, "ivo_admin")
    assert not user.has_usable_password()
    assert "changepassword karin.ivo" in out.getvalue()


def test_create_ivo_user__municipal_role__refused():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("create_ivo_user", "x", "x@ivo.se", "--role", "kommun_admin")
