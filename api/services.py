"""Writes for API clients and their keys: each in one transaction, each written to the access log
(who registered which client, who issued or revoked which key)."""

import datetime
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from access import log
from access.models import AccessEvent, Account
from access.roles import Role
from api.auth import new_token, token_hash
from api.models import ApiClient, ApiToken
from register.models import Municipality


def _log_change(request, actor, client: ApiClient, **detail) -> None:
    log.record(
        request,
        AccessEvent.Action.API_CLIENT_CHANGE,
        user=actor,
        object_type="api_client",
        object_id=str(client.public_id),
        detail=detail,
    )


def api_client_create(
    *, name: str, municipality: Municipality, actor, request: HttpRequest | None = None
) -> ApiClient:
    """A client and its account: role ``kommun_system``, no password, no allowlist entry, so it
    can never sign in to the portal; it reads only through the API with a key."""
    public_id = uuid.uuid4()
    with transaction.atomic():
        account_user = get_user_model().objects.create_user(
            username=f"api-klient-{public_id}", password=None
        )
        Account.objects.create(
            user=account_user, role=Role.MUNICIPAL_SYSTEM, municipality=municipality
        )
        client = ApiClient.objects.create(
            public_id=public_id,
            name=name,
            municipality=municipality,
            account_user=account_user,
            created_by=actor,
        )
    _log_change(request, actor, client, händelse="registrerad", kommun=municipality.code)
    return client


def api_token_issue(
    *,
    client: ApiClient,
    actor,
    request: HttpRequest | None = None,
    valid_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new read key for the client. Returns the key itself: shown once, never stored."""
    token = new_token()
    days = valid_days or settings.API_TOKEN_VALIDITY_DAYS
    issued = ApiToken.objects.create(
        client=client,
        token_hash=token_hash(token),
        prefix=token[:8],
        created_by=actor,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    _log_change(
        request, actor, client, händelse="nyckel utfärdad", nyckel=issued.prefix, dagar=days
    )
    return issued, token


def api_token_revoke(*, token: ApiToken, actor, request: HttpRequest | None = None) -> None:
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    _log_change(request, actor, token.client, händelse="nyckel återkallad", nyckel=token.prefix)


def api_client_revoke(*, client: ApiClient, actor, request: HttpRequest | None = None) -> None:
    now = timezone.now()
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=now)
        client.tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    _log_change(request, actor, client, händelse="klient återkallad")
