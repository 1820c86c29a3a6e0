"""The libraries' texts in the back office are Swedish too.

django-axes, django-otp, django-tasks, django-tasks-db and django-simple-history ship no Swedish.
Their texts marked for translation are found as tests/test_translations.py finds ours (Babel on
the Python, Django's ``templatize`` on the templates) and must come out Swedish from our catalogue
``access/locale/sv/LC_MESSAGES/django.po``; the field names and column headings they left unmarked
are passed through gettext in access/apps.py and must come out Swedish as well.
"""

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.utils import timezone, translation
from django.utils.translation.template import templatize

from access.apps import THIRD_PARTY_APPS
from access.roles import Role
from tests.factories import make_user, sign_in
from tests.test_translations import _messages

SITE_PACKAGES = Path(admin.__file__).resolve().parents[3]
PACKAGES = ["axes", "django_otp", "django_tasks", "django_tasks_db", "simple_history"]
# Texts no staff member meets: django-otp's e-mail devices are not installed.
NOT_SHOWN = ["django_otp/plugins/otp_email/"]
# The same word in both languages.
SAME_IN_SWEDISH = {"ID", "Status", "status"}


def _texts_of_package(package: str) -> dict[tuple[str | None, str], str]:
    root = SITE_PACKAGES / package
    found: dict[tuple[str | None, str], str] = {}
    sources = [(path, path.read_bytes()) for path in sorted(root.rglob("*.py"))]
    for path in sorted(root.rglob("templates/**/*.html")) + sorted(
        root.rglob("templates/**/*.txt")
    ):
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        code = "\n".join(line.lstrip() for line in code.splitlines())
        sources.append((path, code.encode("utf-8")))
    for path, source in sources:
        where = str(path.relative_to(SITE_PACKAGES))
        if "migrations" in path.parts or any(where.startswith(skip) for skip in NOT_SHOWN):
            continue
        for context, message in _messages(source):
            found.setdefault((context, message), where)
    return found


def _in_swedish(context, message) -> str:
    with translation.override("sv"):
        if isinstance(message, tuple):
            return translation.ngettext(message[0], message[1], 2)
        if context:
            return translation.pgettext(context, message)
        return translation.gettext(message)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_text_a_library_marks__is_swedish_in_swedish(package):
    texts = _texts_of_package(package)
    assert texts, f"no texts found in {package}: is the extraction still pointed right?"
    english = [
        f"{where}: {message!r}"
        for (context, message), where in texts.items()
        if (message[-1] if isinstance(message, tuple) else message) not in SAME_IN_SWEDISH
        and _in_swedish(context, message)
        == (message[-1] if isinstance(message, tuple) else message)
    ]
    assert not english, f"{len(english)} texts without Swedish:\n" + "\n".join(english)


def _shown_texts_of_models():
    from django.apps import apps

    for label in THIRD_PARTY_APPS:
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                for attribute in ("verbose_name", "help_text"):
                    text = getattr(field, attribute, None)
                    if text:
                        yield f"{model._meta.label}.{field.name} {attribute}", text
            model_admin = admin.site._registry.get(model)
            if model_admin is None:
                continue
            for name in [*model_admin.list_display, "qrcode_link", "formatted_traceback"]:
                if name == "__str__" or not (hasattr(model_admin, name) or hasattr(model, name)):
                    continue
                if not isinstance(name, str):
                    continue
                yield (
                    f"{model._meta.label} column {name}",
                    label_for_field(name, model, model_admin),
                )
            yield f"{model._meta.label} search help", model_admin.search_help_text


def test_every_field_name_help_text_and_column_heading_of_the_libraries__is_swedish():
    english = []
    for where, text in _shown_texts_of_models():
        if not text:
            continue
        with translation.override("en"):
            original = str(text)
        with translation.override("sv"):
            swedish = str(text)
        if swedish == original and original not in SAME_IN_SWEDISH:
            english.append(f"{where}: {original!r}")
    assert not english, "\n".join(english)


def test_the_libraries_texts__stay_english_when_english_is_chosen():
    from axes.models import AccessAttempt
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with translation.override("en"):
        assert str(AccessAttempt._meta.get_field("attempt_time").verbose_name) == "Attempt Time"
        assert str(TOTPDevice._meta.get_field("created_at").verbose_name) == "created at"
    with translation.override("sv"):
        assert str(AccessAttempt._meta.get_field("attempt_time").verbose_name) == (
            "Tidpunkt för försöket"
        )
        assert str(TOTPDevice._meta.get_field("created_at").verbose_name) == "skapad"


# In the back office ------------------------------------------------------------------------

COLUMN = re.compile(r'<th scope="col"[^>]*>(.*?)</th>', re.S)


def _column_headings(response) -> list[str]:
    assert response.status_code == 200
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
        for cell in COLUMN.findall(response.content.decode())
    ]


@pytest.fixture
def ivo_admin_client(client, db):
    sign_in(client, make_user(Role.IVO_ADMIN))
    return client


@pytest.fixture
def operator_client(client, db):
    """An IVO administrator who is also a superuser: the only one who sees the authenticators
    and the background jobs in the back office (access/roles.py)."""
    user = make_user(Role.IVO_ADMIN)
    user.is_superuser = True
    user.save()
    sign_in(client, user)
    return client


def test_login_lockouts__have_swedish_column_headings(ivo_admin_client):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="ivo.someone",
        ip_address="192.0.2.1",
        user_agent="test",
        path_info="/personal/logga-in/",
        failures_since_start=2,
        get_data="",
        post_data="",
        http_accept="*/*",
    )
    response = ivo_admin_client.get("/admin/axes/accessattempt/")
    headings = _column_headings(response)
    content = response.content.decode()
    for swedish in ["Tidpunkt för försöket", "IP-adress", "Sökväg", "Misslyckade inloggningar"]:
        assert swedish in headings
    assert "försök kvar" in content  # the status column: "3 försök kvar"
    assert "Rensa utgångna försök" in content  # the action
    for english in [
        "Attempt Time",
        "IP Address",
        "Failed Logins",
        "Locked Out",
        "Attempt Remaining",
    ]:
        assert english not in content


def test_authenticators__have_swedish_column_headings(operator_client):
    response = operator_client.get("/admin/otp_totp/totpdevice/")
    headings = _column_headings(response)
    content = response.content.decode()
    for swedish in ["Skapad", "Senast använd", "Bekräftad"]:
        assert swedish in headings
    assert "Sök på användarens användarnamn eller e-postadress" in content
    # OTP_ADMIN_HIDE_SENSITIVE_DATA: no QR code (it holds the secret), not even for a superuser.
    assert "QR-kod" not in content
    for english in ["Created at", "Last used at", "Confirmed", "QR Code", ">qrcode<", "Search by"]:
        assert english not in content


def test_an_authenticator__has_swedish_field_names_and_sections(operator_client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get()
    content = operator_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content
    content = content.decode()
    for swedish in ["Identitet", "Tidpunkter", "Tidssteg", "Antal siffror", "Tolerans"]:
        assert swedish in content
    for english in ["Identity", "Timestamps", "Throttling", "The time step in seconds."]:
        assert english not in content


def test_background_jobs__have_swedish_column_headings(operator_client):
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.create(
        args_kwargs={"args": [[1]], "kwargs": {}},
        task_path="alerts.tasks.fan_out",
        backend_name="default",
        queue_name="alerts",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )
    response = operator_client.get("/admin/django_tasks_database/dbtaskresult/")
    headings = _column_headings(response)
    content = response.content.decode()
    for swedish in ["Jobbets namn", "Lagt i kö", "Startat", "Avslutat", "Prioritet", "Kö"]:
        assert swedish in headings
    assert "Väntar" in content  # the status of a job not yet run
    for english in ["Task name", "Enqueued at", "Started at", "Priority", "Queue name", "Ready"]:
        assert english not in content


def test_a_homes_history__is_swedish(ivo_admin_client):
    from tests.factories import FacilityFactory

    facility = FacilityFactory()
    response = ivo_admin_client.get(f"/admin/register/facility/{facility.pk}/history/")
    headings = _column_headings(response)
    content = response.content.decode()
    for swedish in ["Objekt", "Ändrad av", "Orsak till ändringen", "Ändringar"]:
        assert swedish in headings
    assert "Skapad" in content  # the kind of change
    for english in ["Changed by", "Change reason", "Choose a date from the list"]:
        assert english not in content
