"""Watches (bevakningar) and the notices they give (DESIGN.md: ``Watch``).

A watch follows a facility, a provider (all its homes, present and future) or an area (a kommun or
a län). It holds nothing about a child: no name, no case number, no note — there is no field for
one. A notice is one register event told to one user, at most once (``notice_once_per_user_and_
event``): a user who watches both a home and its provider is told once.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from register.models import County, Facility, Municipality, Provider, RegisterEvent


class Watch(models.Model):
    class Kind(models.TextChoices):
        FACILITY = "facility", _("verksamhet")
        PROVIDER = "provider", _("huvudman")
        MUNICIPALITY = "municipality", _("kommun")
        COUNTY = "county", _("län")

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches"
    )
    # The watcher's municipality when the watch was made: its administrator sees how many of
    # its users watch each home, and its systems read the watches' notices (api).
    owner_municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("kommun")
    )
    kind = models.CharField(_("bevakar"), max_length=12, choices=Kind.choices)
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("sedan"), auto_now_add=True)

    class Meta:
        verbose_name = _("bevakning")
        verbose_name_plural = _("bevakningar")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="facility",
                        facility__isnull=False,
                        provider__isnull=True,
                        municipality__isnull=True,
                        county__isnull=True,
                    )
                    | Q(
                        kind="provider",
                        facility__isnull=True,
                        provider__isnull=False,
                        municipality__isnull=True,
                        county__isnull=True,
                    )
                    | Q(
                        kind="municipality",
                        facility__isnull=True,
                        provider__isnull=True,
                        municipality__isnull=False,
                        county__isnull=True,
                    )
                    | Q(
                        kind="county",
                        facility__isnull=True,
                        provider__isnull=True,
                        municipality__isnull=True,
                        county__isnull=False,
                    )
                ),
                name="watch_one_target_of_its_kind",
            ),
            *(
                models.UniqueConstraint(
                    fields=["user", target],
                    condition=Q(**{f"{target}__isnull": False}),
                    name=f"watch_once_per_user_and_{target}",
                )
                for target in ("facility", "provider", "municipality", "county")
            ),
        ]
        indexes = [
            # The fan-out: the watches of an event's home, provider, kommun and län.
            models.Index(fields=["facility"], name="watch_facility_idx"),
            models.Index(fields=["provider"], name="watch_provider_idx"),
            models.Index(fields=["municipality"], name="watch_municipality_idx"),
            models.Index(fields=["county"], name="watch_county_idx"),
            models.Index(fields=["owner_municipality", "kind"], name="watch_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.kind}"


class MailChoice(models.TextChoices):
    AT_ONCE = "at_once", _("Med en gång")
    DAILY = "daily", _("En sammanfattning om dagen")
    SERVICE_ONLY = "service_only", _("Bara i tjänsten")


class AlertSettings(models.Model):
    """How a user wants to be told of what is not serious. Serious events are mailed at once
    whatever the choice."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_settings"
    )
    mail = models.CharField(
        _("e-post"), max_length=12, choices=MailChoice.choices, default=MailChoice.AT_ONCE
    )

    class Meta:
        verbose_name = _("inställning för bevakningar")
        verbose_name_plural = _("inställningar för bevakningar")
        constraints = [
            models.CheckConstraint(
                condition=Q(mail__in=list(MailChoice.values)), name="alertsettings_mail_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.mail}"


class EventFanOut(models.Model):
    """That an event's notices were made: written in the same transaction as the notices, so
    an event without one is work not yet done (the sweep's, after a worker was killed)."""

    event = models.OneToOneField(
        RegisterEvent, on_delete=models.CASCADE, primary_key=True, related_name="fan_out"
    )
    notices = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("utskick av händelse")
        verbose_name_plural = _("utskick av händelser")

    def __str__(self) -> str:
        return f"{self.event_id}: {self.notices}"


class Notice(models.Model):
    class Mail(models.TextChoices):
        PENDING = "pending", _("väntar")
        SENT = "sent", _("skickad")
        NOT_SENT = "not_sent", _("skickas inte")  # the user chose the service only
        STOPPED = "stopped", _("stoppad")  # the user's access ended before it was sent
        FAILED = "failed", _("misslyckades")  # every attempt refused

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    watch = models.ForeignKey(
        Watch, on_delete=models.SET_NULL, null=True, blank=True, related_name="notices"
    )
    event = models.ForeignKey(RegisterEvent, on_delete=models.CASCADE, related_name="+")
    serious = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    mail = models.CharField(max_length=10, choices=Mail.choices, default=Mail.PENDING)
    digest = models.BooleanField(default=False)  # to go in the daily summary
    mail_due_at = models.DateTimeField(null=True, blank=True)
    # Held by the worker sending it: no other sends it until then (a worker killed mid-send
    # leaves it to the next after this time); also the time of the next attempt after a refusal.
    mail_lease_until = models.DateTimeField(null=True, blank=True)
    mail_claim = models.UUIDField(null=True, blank=True)  # which worker's send holds it
    mail_attempts = models.PositiveSmallIntegerField(default=0)
    mail_error = models.CharField(max_length=300, blank=True, default="")
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notis")
        verbose_name_plural = _("notiser")
        constraints = [
            # Exactly once: the unique key, not hope.
            models.UniqueConstraint(
                fields=["user", "event"], name="notice_once_per_user_and_event"
            ),
            models.CheckConstraint(
                condition=Q(mail__in=["pending", "sent", "not_sent", "stopped", "failed"]),
                name="notice_mail_known",
            ),
        ]
        indexes = [
            # A user's notices, newest first; the unread count.
            models.Index(fields=["user", "-id"], name="notice_user_idx"),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notice_unread_idx"
            ),
            # The worker and the sweep: mails still to send, by when.
            models.Index(
                fields=["mail_due_at"], condition=Q(mail="pending"), name="notice_pending_idx"
            ),
            # A send reads back what it claimed.
            models.Index(
                fields=["mail_claim"],
                condition=Q(mail_claim__isnull=False),
                name="notice_claim_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.event_id}"
