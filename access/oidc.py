"""Federated login through OpenID Connect: a municipality can let its users sign in with their own
organisation's login instead of the one-time link (access.models.MunicipalityLogin).

One identity provider is configured by settings (OIDC_*); the feature is off while any of them is
unset. The identity provider only says who the person is: the allowlist still decides. A login is
let in only if the verified e-mail address has a live allowlist entry, the entry's municipality
has switched to "oidc", and the municipality claim (OIDC_MUNICIPALITY_CLAIM), when the provider
sends one, names the entry's municipality. The user and account are made as for the one-time link
(access.services.user_for_entry). No token is stored or logged.
"""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from access import log, services
from access.middleware import session_started
from access.models import AccessEvent, AllowlistEntry, MunicipalityLogin

LOGGER = logging.getLogger(__name__)

METHOD = "oidc"  # the access log's "sätt"

REQUIRED_SETTINGS = (
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
)

# Set on the request when the backend has written the refusal to the access log itself.
_REFUSAL_LOGGED = "_oidc_refusal_logged"


def configured() -> bool:
    """An identity provider is configured: every setting it needs is set."""
    return all(getattr(settings, name, "") for name in REQUIRED_SETTINGS)


def offered() -> bool:
    """The login page offers the federated login: configured, and some municipality uses it."""
    return (
        configured()
        and MunicipalityLogin.objects.filter(method=MunicipalityLogin.Method.OIDC).exists()
    )


def _refuse(request: HttpRequest, reason: str, entry: AllowlistEntry | None = None) -> None:
    log.record(
        request,
        AccessEvent.Action.LOGIN_FAILED,
        detail={
            "sätt": METHOD,
            "orsak": reason,
            "kommun": entry.municipality_id if entry else "",
        },
    )
    setattr(request, _REFUSAL_LOGGED, True)


def _verified(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class MunicipalOIDCBackend(OIDCAuthenticationBackend):
    """Maps the identity provider's answer to an allowlisted municipal user, or to no one."""

    def authenticate(self, request, **kwargs):
        # Only the callback of our own flow, which passes the nonce: a password login with a
        # "code" in its query string never makes this backend call the identity provider.
        if request is None or "nonce" not in kwargs or not configured():
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation, jwt.PyJWTError, ValueError) as e:
            # The class only: the messages can carry the provider's response.
            LOGGER.warning("OIDC-inloggning avbröts: %s", type(e).__name__)
            _refuse(request, "svaret från identitetsleverantören kunde inte godtas")
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued to another client.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        request = self.request
        claims = self.get_userinfo(access_token, id_token, payload)
        if not claims.get("sub") or claims.get("sub") != payload.get("sub"):
            return _refuse(request, "användarinformationen gäller en annan person än id-token")
        email = str(claims.get("email") or "").strip().lower()
        if not email:
            return _refuse(request, "e-postadress saknas i svaret")
        if "email_verified" in claims and not _verified(claims["email_verified"]):
            return _refuse(request, "e-postadressen är inte bekräftad hos identitetsleverantören")
        entry = services.live_entry(email)
        if entry is None:
            return _refuse(request, "adressen är inte frilistad")
        method = (
            MunicipalityLogin.objects.filter(municipality_id=entry.municipality_id)
            .values_list("method", flat=True)
            .first()
        )
        if method != MunicipalityLogin.Method.OIDC:
            return _refuse(request, "kommunen använder inte federerad inloggning", entry)
        claim = settings.OIDC_MUNICIPALITY_CLAIM
        if claim and claim in claims and str(claims[claim]).strip() != entry.municipality_id:
            return _refuse(request, "kommunen i svaret stämmer inte med frilistningen", entry)
        user = services.user_for_entry(entry)
        if user is None:
            return _refuse(request, "kontot är avstängt", entry)
        return user


# Views: mozilla-django-oidc's, with the site's own session start, access log and refusal page.


class AuthenticationRequestView(OIDCAuthenticationRequestView):
    def get(self, request):
        if not offered():
            raise Http404
        return super().get(request)


class AuthenticationCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        if not configured():
            raise Http404
        return super().get(request)

    def login_success(self) -> HttpResponse:
        request = self.request
        auth.login(request, self.user)  # always a new session id
        session_started(request)
        log.record(request, AccessEvent.Action.LOGIN, user=self.user, detail={"sätt": METHOD})
        return redirect(self.success_url)

    def login_failure(self) -> HttpResponse:
        """The same page whatever the reason: nothing is revealed about the allowlist."""
        request = self.request
        if not getattr(request, _REFUSAL_LOGGED, False):
            _refuse(request, "inloggningen avbröts eller kunde inte slutföras")
        return render(request, "access/oidc_refused.html", status=403)


class LogoutView(OIDCLogoutView):
    @property
    def redirect_url(self) -> str:
        return reverse("access:login")

    def post(self, request):
        if request.user.is_authenticated:
            log.record(request, AccessEvent.Action.LOGOUT, detail={"sätt": METHOD})
        return super().post(request)
