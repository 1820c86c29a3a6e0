"""Federated login through OpenID Connect, in Chromium against a real identity provider.

The provider is django-oauth-toolkit with OIDC on (tests/oidc_provider/), in a process of its own
on loopback with its own SQLite database: the register's live server asks it for tokens, keys and
user information over HTTP exactly as it would ask a municipality's identity provider.
"""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from playwright.sync_api import expect

from access.models import AccessEvent, Account, AllowlistEntry, MunicipalityLogin
from access.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

BASE_DIR = Path(__file__).resolve().parents[2]
CLIENT_ID = "hvb-registret-test"
CLIENT_SECRET = "test-client-secret-for-the-loopback-provider-only"
PASSWORD = "Lösenord-hos-testorganisationen-1"
CLAIM = "municipality_code"
# The users the identity provider knows, with the municipality each belongs to there.
USERS = {
    # Mixed case at the provider: the register compares addresses in lower case.
    "anna": {"email": "Anna.Andersson@Kalmar.se", "claims": {CLAIM: "0880"}},
    "bertil": {"email": "bertil.berg@kalmar.se", "claims": {CLAIM: "0880"}},
    "cecilia": {"email": "cecilia.carlsson@nybro.se", "claims": {CLAIM: "0881"}},
    "david": {"email": "david.dahl@kalmar.se", "claims": {CLAIM: "0881"}},
    "eva": {"email": "eva.ek@kalmar.se", "claims": {CLAIM: "0880", "email_verified": False}},
}
OIDC_LINK = "Logga in med din organisations inloggning"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def identity_provider(tmp_path_factory):
    """The provider, set up by tests/oidc_provider/seed.py and served by runserver in a second
    process; yields its discovery document."""
    directory = tmp_path_factory.mktemp("oidc_provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seed = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://127.0.0.1/oidc/callback/",
        "users": [{"username": name, "password": PASSWORD, **user} for name, user in USERS.items()],
    }
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "OIDC_PROVIDER_DATABASE": str(directory / "provider.sqlite3"),
        "OIDC_PROVIDER_SEED": json.dumps(seed),
        "OIDC_PROVIDER_RSA_KEY": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    }
    run = {"cwd": BASE_DIR, "env": env}
    subprocess.run(
        [sys.executable, "-m", "tests.oidc_provider.seed"], check=True, timeout=60, **run
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(directory / "server.log", "wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            stdout=output,
            stderr=subprocess.STDOUT,
            **run,
        )
    try:
        discovery = _wait_for(f"{url}/o/.well-known/openid-configuration", server, directory)
        yield discovery
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for(url: str, server: subprocess.Popen, directory: Path) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log = (directory / "server.log").read_text(errors="replace")
            pytest.fail(f"Identitetsleverantören startade inte:\n{log}")
        try:
            response = requests.get(url, timeout=2)
            if response.ok:
                return response.json()
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"Identitetsleverantören svarade inte på {url}")


@pytest.fixture
def oidc(identity_provider, settings):
    """The register pointed at the provider, with the municipality claim checked."""
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = identity_provider["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = identity_provider["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = identity_provider["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = identity_provider["jwks_uri"]
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_MUNICIPALITY_CLAIM = CLAIM
    # Kalmar kommun has switched to its own login; Nybro kommun still uses the one-time link.
    MunicipalityLogin.objects.create(municipality_id="0880", method="oidc")
    MunicipalityLogin.objects.create(municipality_id="0881", method="link")
    return identity_provider


def _allowlist(email: str, municipality: str, role: str = Role.MUNICIPAL_USER) -> AllowlistEntry:
    now = timezone.now()
    return AllowlistEntry.objects.create(
        email=email,
        municipality_id=municipality,
        role=role,
        confirmed_at=now,
        expires_at=now + datetime.timedelta(days=365),
    )


def _sign_in_at_provider(page, username: str) -> None:
    page.goto("/logga-in/")
    page.get_by_role("link", name=OIDC_LINK).click()
    expect(page.get_by_role("heading", name="Testorganisationens inloggning")).to_be_visible()
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in hos organisationen").click()


def _expect_refused(page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Du kunde inte loggas in")
    expect(page.get_by_text("Kontakta den som administrerar HVB-registret")).to_be_visible()
    page.goto("/")
    assert "/logga-in/" in page.url  # not signed in


def _failures() -> list[str]:
    return list(
        AccessEvent.objects.filter(action=AccessEvent.Action.LOGIN_FAILED).values_list(
            "detail", flat=True
        )
    )


def test_oidc__allowlisted_in_oidc_municipality__signed_in_with_the_entrys_role(
    anonymous_page, oidc
):
    _allowlist("anna.andersson@kalmar.se", "0880", role=Role.MUNICIPAL_ADMIN)

    _sign_in_at_provider(anonymous_page, "anna")

    expect(anonymous_page.get_by_role("heading", name="Hitta ett hem för barnet")).to_be_visible()
    assert urlsplit(anonymous_page.url).path == "/"
    account = Account.objects.select_related("user").get(user__email="anna.andersson@kalmar.se")
    assert account.user.username == "anna.andersson@kalmar.se"
    assert (account.role, account.municipality_id) == (Role.MUNICIPAL_ADMIN, "0880")
    login = AccessEvent.objects.get(action=AccessEvent.Action.LOGIN)
    assert (login.username, login.municipality_code, login.detail) == (
        "anna.andersson@kalmar.se",
        "0880",
        "sätt=oidc",
    )
    assert _failures() == []


def test_oidc__revoking_the_entry_afterwards__ends_the_session_at_the_next_request(
    anonymous_page, oidc
):
    entry = _allowlist("anna.andersson@kalmar.se", "0880")
    _sign_in_at_provider(anonymous_page, "anna")
    expect(anonymous_page.get_by_role("heading", name="Hitta ett hem för barnet")).to_be_visible()

    AllowlistEntry.objects.filter(pk=entry.pk).update(revoked_at=timezone.now())
    anonymous_page.goto("/")

    assert "/logga-in/" in anonymous_page.url
    expect(anonymous_page.get_by_text("din behörighet har upphört")).to_be_visible()
    assert AccessEvent.objects.filter(action=AccessEvent.Action.SESSION_ENDED).exists()


def test_oidc__address_not_allowlisted__refused(anonymous_page, oidc):
    _sign_in_at_provider(anonymous_page, "bertil")

    _expect_refused(anonymous_page)
    assert _failures() == ["sätt=oidc orsak=adressen är inte frilistad"]
    assert not Account.objects.filter(user__email="bertil.berg@kalmar.se").exists()


def test_oidc__allowlisted_but_municipality_still_on_link__refused(anonymous_page, oidc):
    _allowlist("cecilia.carlsson@nybro.se", "0881")

    _sign_in_at_provider(anonymous_page, "cecilia")

    _expect_refused(anonymous_page)
    assert _failures() == [
        "sätt=oidc orsak=kommunen använder inte federerad inloggning kommun=0881"
    ]


def test_oidc__municipality_claim_not_the_entrys__refused(anonymous_page, oidc):
    _allowlist("david.dahl@kalmar.se", "0880")  # the provider says he belongs to 0881

    _sign_in_at_provider(anonymous_page, "david")

    _expect_refused(anonymous_page)
    assert _failures() == [
        "sätt=oidc orsak=kommunen i svaret stämmer inte med frilistningen kommun=0880"
    ]


def test_oidc__email_not_verified_at_the_provider__refused(anonymous_page, oidc):
    _allowlist("eva.ek@kalmar.se", "0880")

    _sign_in_at_provider(anonymous_page, "eva")

    _expect_refused(anonymous_page)
    assert _failures() == [
        "sätt=oidc orsak=e-postadressen är inte bekräftad hos identitetsleverantören"
    ]


def test_oidc__no_municipality_switched__login_page_offers_no_federated_login(anonymous_page, oidc):
    MunicipalityLogin.objects.filter(municipality_id="0880").update(method="link")

    anonymous_page.goto("/logga-in/")

    expect(anonymous_page.get_by_role("heading", name="Logga in")).to_be_visible()
    expect(anonymous_page.get_by_role("link", name=OIDC_LINK)).to_have_count(0)
    assert anonymous_page.goto("/oidc/authenticate/").status == 404
