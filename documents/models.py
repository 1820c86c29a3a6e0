"""Decision documents and requests for them (the utlämnande flow, 3 d § SoF).

Files live in the storage called "documents" (settings.STORAGES): a local folder by default, an
S3-compatible store by setting. They are never served from a public URL: every download goes
through a view that checks who asks and writes the access log.
"""

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from register.models import Decision, Municipality


class _DocumentsStorage(LazyObject):
    """The storage called "documents", looked up when first used (and again after a test
    changes STORAGES), not when the model is defined."""

    def _setup(self):
        self._wrapped = storages["documents"]


_documents_storage = _DocumentsStorage()


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        _documents_storage._wrapped = empty


def documents_storage():
    return _documents_storage


def stored_name(instance, filename: str) -> str:
    # Never the uploader's file name: it may carry a child's name.
    return f"beslut/{uuid.uuid4().hex}.pdf"


class DecisionDocument(models.Model):
    """The full decision and its release copy (after sekretessprövning) for one decision."""

    decision = models.OneToOneField(
        Decision, on_delete=models.PROTECT, related_name="document", verbose_name=_("beslut")
    )
    full_file = models.FileField(
        _("fullständigt beslut"),
        storage=documents_storage,
        upload_to=stored_name,
        blank=True,
        max_length=200,
    )
    full_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("beslutet bifogat av"),
    )
    full_uploaded_at = models.DateTimeField(_("beslutet bifogat"), null=True, blank=True)
    release_file = models.FileField(
        _("kopia för utlämnande"),
        storage=documents_storage,
        upload_to=stored_name,
        blank=True,
        max_length=200,
    )
    release_partial = models.BooleanField(
        _("delvis utlämnad"),
        default=False,
        help_text=_("Kopian har maskerade uppgifter som omfattas av sekretess."),
    )
    release_note = models.TextField(
        _("skäl för maskering"),
        blank=True,
        default="",
        help_text=_("Vad som har maskerats och med stöd av vilken bestämmelse."),
    )
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sekretessprövad av"),
    )
    cleared_at = models.DateTimeField(_("sekretessprövad"), null=True, blank=True)
    history = HistoricalRecords(verbose_name=_("historik för beslutshandling"))

    class Meta:
        verbose_name = _("beslutshandling")
        verbose_name_plural = _("beslutshandlingar")
        constraints = [
            models.CheckConstraint(
                condition=Q(release_file="") | Q(cleared_at__isnull=False),
                name="document_release_copy_is_cleared",
                violation_error_message=_("En kopia för utlämnande ska vara sekretessprövad."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.decision)

    @property
    def release_cleared(self) -> bool:
        return bool(self.release_file) and self.cleared_at is not None


class DecisionRequest(models.Model):
    """A socialnämnd's request for a full decision, from arrival to release or refusal."""

    class State(models.TextChoices):
        RECEIVED = "inkommen", _("Inkommen")
        IN_REVIEW = "under_provning", _("Under prövning")
        RELEASED = "utlamnad", _("Utlämnad")
        PARTLY_RELEASED = "delvis_utlamnad", _("Delvis utlämnad")
        REFUSED = "avslagen", _("Avslagen")

    OPEN_STATES = (State.RECEIVED, State.IN_REVIEW)
    RELEASED_STATES = (State.RELEASED, State.PARTLY_RELEASED)
    DECIDED_STATES = (State.RELEASED, State.PARTLY_RELEASED, State.REFUSED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="requests", verbose_name=_("beslut")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("kommun")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("begärd av"),
    )
    requester_email = models.EmailField(_("besked till"))
    # A context of its own: linking's "skäl" (a match's reasons) is another word in English.
    reason = models.TextField(pgettext_lazy("begäran", "skäl"), blank=True, default="")
    state = models.CharField(_("status"), max_length=16, choices=State.choices)
    created_at = models.DateTimeField(_("inkommen"), auto_now_add=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handläggare"),
    )
    taken_at = models.DateTimeField(_("tagen"), null=True, blank=True)
    decided_at = models.DateTimeField(_("avgjord"), null=True, blank=True)
    outcome_text = models.TextField(
        _("motivering"),
        blank=True,
        default="",
        help_text=_("Skälet till avslag eller till att uppgifter har maskerats."),
    )
    released_file = models.FileField(
        _("utlämnad kopia"),
        storage=documents_storage,
        upload_to=stored_name,
        blank=True,
        max_length=200,
    )
    history = HistoricalRecords(verbose_name=_("historik för begäran"))

    class Meta:
        verbose_name = _("begäran om beslut")
        verbose_name_plural = _("begäranden om beslut")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "created_at"], name="request_queue")]
        constraints = [
            # One open request per decision and municipality; the database holds it even when
            # two colleagues press the button at the same moment.
            models.UniqueConstraint(
                fields=["decision", "municipality"],
                condition=Q(state__in=["inkommen", "under_provning"]),
                name="request_one_open_per_decision_and_municipality",
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "inkommen",
                        "under_provning",
                        "utlamnad",
                        "delvis_utlamnad",
                        "avslagen",
                    ]
                ),
                name="request_state_known",
            ),
            models.CheckConstraint(
                condition=Q(state="inkommen") | Q(handler__isnull=False, taken_at__isnull=False),
                name="request_taken_has_handler",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["inkommen", "under_provning"]) | Q(decided_at__isnull=False),
                name="request_decided_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision.diarienummer} ({self.municipality_id})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_released(self) -> bool:
        return self.state in self.RELEASED_STATES and bool(self.released_file)
