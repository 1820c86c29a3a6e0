"""IVO administrators bring a municipality in: its first administrator and its login method."""

import pytest

from access.models import AccessEvent, AllowlistEntry, MunicipalityLogin
from access.roles import Role
from tests.factories import make_user, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def ivo_admin(client):
    user = make_user(Role.IVO_ADMIN)
    sign_in(client, user)
    return user


def test_municipalities__first_administrator_added__can_keep_the_list(client, ivo_admin):
    response = client.post(
        "/ivo/kommuner/", {"municipality": "2514", "email": "admin@kalix.example"}
    )

    assert response.status_code == 302
    entry = AllowlistEntry.objects.get(email="admin@kalix.example")
    assert (entry.municipality_id, entry.role) == ("2514", Role.MUNICIPAL_ADMIN)
    page = client.get("/ivo/kommuner/").content.decode()
    assert "Kalix (2514)" in page
    assert AccessEvent.objects.filter(action="allowlist_change", detail__contains="kommun=2514")


def test_municipalities__unknown_municipality__page_back_with_message(client, ivo_admin):
    response = client.post("/ivo/kommuner/", {"municipality": "9999", "email": "a@b.example"})

    assert response.status_code == 400
    assert "Kommun:" in response.content.decode()
    assert not AllowlistEntry.objects.exists()


def test_municipalities__switch_to_oidc__recorded_and_logged(client, ivo_admin):
    client.post("/ivo/kommuner/", {"municipality": "2514", "email": "admin@kalix.example"})

    client.post("/ivo/kommuner/2514/inloggning/", {"method": "oidc"})

    assert MunicipalityLogin.objects.get(municipality_id="2514").method == "oidc"
    assert AccessEvent.objects.filter(detail__contains="inloggningssätt").exists()


def test_municipalities__unknown_method__refused(client, ivo_admin):
    client.post("/ivo/kommuner/2514/inloggning/", {"method": "lösenord"})

    assert not MunicipalityLogin.objects.exists()


@pytest.mark.parametrize("role", [Role.MUNICIPAL_ADMIN, Role.IVO_REGISTRATOR])
def test_municipalities__other_roles__forbidden(client, role):
    sign_in(client, make_user(role))

    assert client.get("/ivo/kommuner/").status_code == 403
    assert client.post("/ivo/kommuner/2514/inloggning/", {"method": "oidc"}).status_code == 403
