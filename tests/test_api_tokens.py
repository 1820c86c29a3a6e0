"""API keys: issued by an IVO administrator in the back office and shown once, stored hashed,
expiring, revocable; every bad key gets its own documented problem response."""

import datetime
import re

import pytest
from django.utils import timezone

from access.models import AccessEvent
from access.roles import Role
from api import services
from api.auth import token_hash
from api.models import ApiClient, ApiToken
from tests.api_support import api_client_with_token, bearer
from tests.factories import FacilityFactory, make_user, sign_in

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/municipalities/0880/access-events"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    from django.core.cache import cache

    cache.clear()


def assert_problem(response, status: int, code: str, detail_start: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["status"], problem["code"]) == (status, code)
    assert problem["detail"].startswith(detail_start)
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="hvb-registret"'


def test_valid_key__reads_its_own_municipality(client):
    _api_client, token = api_client_with_token("0880")

    response = client.get(EVENTS, **bearer(token))

    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_no_key__401_token_saknas(client):
    assert_problem(client.get(EVENTS), 401, "token-saknas", "Ange en API-nyckel i huvudet")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Bearer hvb_" + "x" * 10,
        "Basic dXNlcjpwYXNz",
        "hvb_" + "a" * 43,
        "Bearer hvb_" + "a" * 42 + "!",
    ],
)
def test_malformed_key__401_ogiltig_token(client, header):
    response = client.get(EVENTS, HTTP_AUTHORIZATION=header)

    assert_problem(response, 401, "ogiltig-token", "Huvudet Authorization ska vara Bearer")


def test_malformed_key_on_a_public_resource__still_refused(client):
    """A client whose key broke learns it at once, even where no key is needed."""
    response = client.get("/api/v1/facilities", HTTP_AUTHORIZATION="Bearer abc")

    assert_problem(response, 401, "ogiltig-token", "Huvudet Authorization")


def test_unknown_key__401_okand_token(client):
    response = client.get(EVENTS, **bearer("hvb_" + "A" * 43))

    assert_problem(response, 401, "okand-token", "Nyckeln finns inte.")


def test_expired_key__401_token_har_gatt_ut_with_the_date(client):
    _api_client, token = api_client_with_token()
    ApiToken.objects.update(expires_at=datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC))

    response = client.get(EVENTS, **bearer(token))

    assert_problem(response, 401, "token-har-gatt-ut", "Nyckeln gällde till 2025-03-01.")


def test_revoked_key__401_token_aterkallad(client):
    api_client, token = api_client_with_token()
    services.api_token_revoke(token=api_client.tokens.get(), actor=make_user(Role.IVO_ADMIN))

    response = client.get("/api/v1/facilities", **bearer(token))

    assert_problem(response, 401, "token-aterkallad", "Nyckeln är återkallad.")


def test_revoked_client__every_key_refused(client):
    api_client, token = api_client_with_token()
    services.api_client_revoke(client=api_client, actor=make_user(Role.IVO_ADMIN))

    assert_problem(client.get(EVENTS, **bearer(token)), 401, "token-aterkallad", "Nyckeln är")
    assert ApiToken.objects.live().count() == 0


def test_key_of_a_deactivated_account__401_token_aterkallad(client):
    """An account switched off in the back office takes its client's keys with it, also a key
    already used (whose state the API keeps)."""
    api_client, token = api_client_with_token()
    assert client.get(EVENTS, **bearer(token)).status_code == 200
    account = api_client.account_user
    account.is_active = False
    account.save(update_fields=["is_active"])

    assert_problem(client.get(EVENTS, **bearer(token)), 401, "token-aterkallad", "Nyckeln är")


def test_key_of_another_municipality__403_fel_kommun(client):
    _api_client, token = api_client_with_token("1480")

    response = client.get(EVENTS, **bearer(token))

    assert_problem(
        response, 403, "fel-kommun", "Nyckeln gäller kommun 1480 och kan inte läsa kommun 0880."
    )
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.LOG_EXPORT).exists()


def test_access_events__what_the_municipality_s_own_systems_read(client):
    own, token = api_client_with_token("0880")
    _other, other_token = api_client_with_token("1480", name="Göteborgs system")
    FacilityFactory(facility_id="K0880-001")
    client.get("/api/v1/facilities/K0880-001", **bearer(token))
    client.get("/api/v1/facilities", **bearer(other_token))

    page = client.get(EVENTS, **bearer(token)).json()

    assert [(item["client"], item["action"]) for item in page["items"]] == [
        (own.account_user.username, "facility_view")
    ]


def test_only_the_hash_is_stored_and_the_key_is_unguessable():
    api_client, token = api_client_with_token()
    stored = api_client.tokens.get()

    assert re.fullmatch(r"hvb_[A-Za-z0-9_-]{43}", token)
    assert stored.token_hash == token_hash(token) != token
    assert stored.prefix == token[:8]
    assert not ApiToken.objects.filter(token_hash__contains=token[4:]).exists()
    assert stored.expires_at > timezone.now() + datetime.timedelta(days=364)


def test_the_client_account_cannot_use_the_portal(client):
    api_client, _token = api_client_with_token()
    client.force_login(api_client.account_user)

    assert client.get("/").status_code == 403
    assert api_client.account_user.has_usable_password() is False


def test_ivo_administrator_registers_a_client_and_sees_the_key_once(client):
    administrator = make_user(Role.IVO_ADMIN)
    sign_in(client, administrator)

    response = client.post(
        "/admin/api/apiclient/add/",
        {
            "name": "Kalmars ärendesystem",
            "municipality": "0880",
            "tokens-TOTAL_FORMS": "0",
            "tokens-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    api_client = ApiClient.objects.get(name="Kalmars ärendesystem")
    assert api_client.account_user.account.role == Role.MUNICIPAL_SYSTEM

    confirm = client.get(f"/admin/api/apiclient/{api_client.pk}/ny-nyckel/")
    assert confirm.status_code == 200
    issued = client.post(f"/admin/api/apiclient/{api_client.pk}/ny-nyckel/")
    html = issued.content.decode()
    token = re.search(r'value="(hvb_[A-Za-z0-9_-]{43})"', html).group(1)
    assert "Den visas inte igen" in html
    assert "no-store" in issued["Cache-Control"]

    change_page = client.get(f"/admin/api/apiclient/{api_client.pk}/change/").content.decode()
    assert token not in change_page
    assert api_client.tokens.get().prefix in change_page
    assert client.get(EVENTS, **bearer(token)).status_code == 200
    logged = AccessEvent.objects.filter(action=AccessEvent.Action.API_CLIENT_CHANGE)
    assert [event.user_id for event in logged] == [administrator.pk, administrator.pk]


@pytest.mark.parametrize("role", [Role.IVO_REGISTRATOR, Role.IVO_CASE_OFFICER])
def test_other_ivo_staff_cannot_manage_clients(client, role):
    sign_in(client, make_user(role))
    api_client, _token = api_client_with_token()

    assert client.get("/admin/api/apiclient/").status_code == 403
    assert client.post(f"/admin/api/apiclient/{api_client.pk}/ny-nyckel/").status_code == 403
    assert api_client.tokens.count() == 1
