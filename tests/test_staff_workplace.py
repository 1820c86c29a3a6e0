"""One staff workplace (issue 19): one header and menu by task for everyone signed in, on the staff
pages and in the back office alike, and the back office in Swedish, third-party models included."""

import re

import pytest
from django.test import Client

from access.roles import Role
from tests.factories import make_user, sign_in

pytestmark = pytest.mark.django_db

SEARCH = ("Sök", "/")
MUNICIPAL = [
    SEARCH,
    ("Notiser", "/notiser/"),
    ("Mina bevakningar", "/bevakningar/"),
    ("Begärda beslut", "/beslut/begaranden/"),
]
MUNICIPAL_ADMIN = [
    *MUNICIPAL,
    ("Frilistning", "/kommun/frilistning/"),
    ("Loggutdrag", "/kommun/logg/"),
    ("Kommunens bevakningar", "/kommun/bevakningar/"),
]
REGISTER = ("Register", "/admin/")
LINKING = [("Koppling", "/ivo/koppling/"), ("Kvalitet", "/ivo/kvalitet/")]
RELEASE = ("Utlämnande", "/ivo/utlamnande/")
STATISTICS = ("Statistik", "/statistik/")


def signed_in(role: str) -> Client:
    client = Client()
    sign_in(client, make_user(role))
    return client


def menu(response) -> list[tuple[str, str]]:
    """The main menu's items as (label, address), in order."""
    html = response.content.decode()
    found = re.search(r'<nav aria-label="Huvudmeny">(.*?)</nav>', html, re.S)
    assert found, "no main menu"
    return [
        (label, href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', found[1])
    ]


def current(response, nav_label: str) -> list[tuple[str, str]]:
    """The items of one menu marked as where the user is: (label, aria-current)."""
    html = response.content.decode()
    found = re.search(rf'<nav (?:class="[^"]*" )?aria-label="{nav_label}">(.*?)</nav>', html, re.S)
    assert found, f"no menu {nav_label}"
    return [
        (label, value)
        for value, label in re.findall(
            r'<a href="[^"]+" aria-current="(\w+)"[^>]*>([^<]+)</a>', found[1]
        )
    ]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.MUNICIPAL_USER, [*MUNICIPAL, STATISTICS]),
        (Role.MUNICIPAL_ADMIN, [*MUNICIPAL_ADMIN, STATISTICS]),
        (Role.IVO_REGISTRATOR, [SEARCH, REGISTER, *LINKING, STATISTICS]),
        (Role.IVO_CASE_OFFICER, [SEARCH, REGISTER, RELEASE, STATISTICS]),
        (
            Role.IVO_ADMIN,
            [
                SEARCH,
                REGISTER,
                *LINKING,
                RELEASE,
                ("Logg", "/ivo/logg/"),
                ("Kommuner", "/ivo/kommuner/"),
                ("API", "/api/v1/docs"),
                STATISTICS,
            ],
        ),
    ],
)
def test_menu__lists_exactly_the_sections_of_the_role(role, expected):
    response = signed_in(role).get("/")

    assert response.status_code == 200
    assert menu(response) == expected
    assert current(response, "Huvudmeny") == [("Sök", "page")]


@pytest.mark.parametrize(
    "role",
    [
        Role.MUNICIPAL_USER,
        Role.MUNICIPAL_ADMIN,
        Role.IVO_REGISTRATOR,
        Role.IVO_CASE_OFFICER,
        Role.IVO_ADMIN,
    ],
)
def test_menu__same_on_the_back_office_for_staff_and_refused_to_municipal_users(role):
    client = signed_in(role)
    staff_page = client.get("/")

    response = client.get("/admin/")

    if role in (Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN):
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert menu(response) == menu(staff_page)
        assert current(response, "Huvudmeny") == [("Register", "page")]


def test_menu__anonymous__language_switch_without_menu(client):
    html = client.get("/logga-in/").content.decode()

    assert 'class="language-switch"' in html
    assert "Huvudmeny" not in html
    assert "Logga ut" not in html


def test_menu__signed_in__language_switch_and_logout_with_user_name():
    client = Client()
    user = make_user(Role.IVO_ADMIN)
    sign_in(client, user)

    html = client.get("/").content.decode()

    assert 'class="language-switch"' in html
    assert re.search(rf"Logga ut <span[^>]*>{re.escape(user.username)}</span>", html)
    assert '<summary class="site-menu__toggle">Meny</summary>' in html


def test_menu__a_section_marked_on_its_sub_pages_and_its_own_pages_in_a_second_row():
    client = signed_in(Role.IVO_ADMIN)

    search = client.get("/ivo/logg/")
    review = client.get("/ivo/logg/granskning/")

    assert current(search, "Huvudmeny") == [("Logg", "page")]
    assert current(search, "Logg") == [("Sök i åtkomstloggen", "page")]
    assert current(review, "Huvudmeny") == [("Logg", "true")]
    assert current(review, "Logg") == [("Logggranskning", "page")]


def test_menu__api_clients_in_the_back_office_belong_to_api_not_register():
    client = signed_in(Role.IVO_ADMIN)

    clients = client.get("/admin/api/apiclient/")
    facilities = client.get("/admin/register/facility/")

    assert current(clients, "Huvudmeny") == [("API", "true")]
    assert current(clients, "API") == [("API-klienter", "page")]
    assert current(facilities, "Huvudmeny") == [("Register", "true")]


def test_menu__a_case_in_the_linking_queue_marks_koppling():
    from tests.factories import CaseRecordFactory

    case = CaseRecordFactory()
    response = signed_in(Role.IVO_REGISTRATOR).get(f"/ivo/koppling/{case.public_id}/")

    assert response.status_code == 200
    assert current(response, "Huvudmeny") == [("Koppling", "true")]


@pytest.fixture
def superuser_client(client, django_user_model):
    """A superuser (who sees every model in the back office), signed in with password and code."""
    from access.models import Account

    user = django_user_model.objects.create_superuser(username="ivo.root", password="x-" * 8)
    Account.objects.create(user=user, role=Role.IVO_ADMIN)
    sign_in(client, user)
    return client


def test_admin_index__third_party_models_in_swedish(superuser_client):
    response = superuser_client.get("/admin/")
    html = response.content.decode()

    assert response.status_code == 200
    for swedish in [
        "Konton och behörigheter",
        "Inloggningsspärrar",
        "Räknade inloggningsförsök",
        "Misslyckade inloggningar",
        "Inloggningar",
        "Tvåstegsinloggning",
        "Autentiseringsappar",
        "Bakgrundsjobb",
        "Användare",
        "Grupper",
    ]:
        assert f">{swedish}<" in html, swedish
    for english in [
        "Access attempts",
        "Access failures",
        "Access logs",
        "TOTP devices",
        "Task Results",
        "Tasks Database",
        "Otp_Totp",
        "Axes",
        "Back office",
        "Django",
    ]:
        assert english not in html, english


def test_admin_index__links_to_the_staff_pages_in_the_site_dress(superuser_client):
    html = superuser_client.get("/admin/").content.decode()

    for href in ["/", "/ivo/koppling/", "/ivo/kvalitet/", "/ivo/utlamnande/", "/ivo/logg/"]:
        assert f'<a href="{href}"' in html, href
    assert '<a href="/ivo/kommuner/"' in html
    assert "portal/header.css" in html
    assert "portal/admin.css" in html
    assert "dark_mode.css" not in html


def test_back_office__still_refused_without_the_second_factor(client):
    user = make_user(Role.IVO_ADMIN)
    client.force_login(user)  # password only: no verified device in the session

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/personal/logga-in/")
