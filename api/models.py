"""API clients, their keys, and the changes feed's log (DESIGN.md, "api/")."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from register.models import Municipality


class ApiClient(models.Model):
    """A municipality's system that reads the register through the API, registered by an IVO
    administrator. Its account (role ``kommun_system``) is what the disclosure policy and the
    access log see; it never signs in with a session."""

    public_id = models.UUIDField(_("klient-id"), default=uuid.uuid4, editable=False, unique=True)
    name = models.CharField(_("namn"), max_length=120, help_text=_("T.ex. kommunens ärendesystem."))
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("kommun")
    )
    account_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client",
        editable=False,
    )
    created_at = models.DateTimeField(_("registrerad"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("återkallad"), null=True, blank=True)

    class Meta:
        verbose_name = _("API-klient")
        verbose_name_plural = _("API-klienter")
        ordering = ["municipality__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality_id})"


class ApiTokenQuerySet(models.QuerySet):
    def live(self, *, now=None):
        now = now or timezone.now()
        return self.filter(
            revoked_at__isnull=True, expires_at__gt=now, client__revoked_at__isnull=True
        )


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is kept: the token itself is shown once, when issued."""

    class Scope(models.TextChoices):
        READ = "read", _("Läsa")

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("klient")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so an administrator can tell keys apart without the key itself.
    prefix = models.CharField(_("början av nyckeln"), max_length=12, editable=False)
    scope = models.CharField(
        _("behörighet"), max_length=10, choices=Scope.choices, default=Scope.READ
    )
    created_at = models.DateTimeField(_("utfärdad"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("gäller till"))
    revoked_at = models.DateTimeField(_("återkallad"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API-nyckel")
        verbose_name_plural = _("API-nycklar")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(scope__in=["read"]), name="apitoken_scope_known"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"


class ChangeEvent(models.Model):
    """One created, changed or removed facility, provider, decision or inspection.

    Written by database triggers (migration 0002), so no write path — services, admin, bulk
    loads, raw SQL — escapes the feed. ``transaction_id`` is PostgreSQL's transaction id
    (``pg_current_xact_id()``); the feed orders by (transaction_id, id) and only lists
    transactions older than every transaction still running, so a transaction that commits late
    never lands behind a client's cursor (api/changes.py). On SQLite writers are serialised
    (IMMEDIATE transactions), ids are taken in commit order, and transaction_id is 0.
    """

    class Resource(models.TextChoices):
        FACILITY = "facility", _("verksamhet")
        PROVIDER = "provider", _("huvudman")
        DECISION = "decision", _("beslut")
        INSPECTION = "inspection", _("inspektion")

    class Operation(models.TextChoices):
        CREATED = "created", _("skapad")
        CHANGED = "changed", _("ändrad")
        REMOVED = "removed", _("borttagen")

    transaction_id = models.BigIntegerField(default=0)
    resource = models.CharField(max_length=12, choices=Resource.choices)
    resource_id = models.CharField(max_length=100)
    operation = models.CharField(max_length=10, choices=Operation.choices)
    at = models.DateTimeField(default=timezone.now)
    # Set by the triggers when the event is written (api/change_triggers.py): an event of a
    # protected home, of its decision or inspection, or of a provider with no home an outsider
    # is shown. Outsiders are shown the other events, numbered by public_position (a sequence of
    # their own, so their cursors show no gap where a hidden event was written).
    protected = models.BooleanField(default=False)
    # An event only outsiders are shown: a home that became protected is "removed" for them, one
    # that stopped being protected "created".
    outsiders_only = models.BooleanField(default=False)
    public_position = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("ändring")
        verbose_name_plural = _("ändringar")
        indexes = [
            # The feed: WHERE (transaction_id, id) > cursor ORDER BY transaction_id, id.
            models.Index(fields=["transaction_id", "id"], name="changeevent_feed_idx"),
            # The outsider's feed, by public_position likewise; and the next number on SQLite.
            models.Index(
                fields=["transaction_id", "public_position"], name="changeevent_public_feed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.resource_id} {self.operation}"
