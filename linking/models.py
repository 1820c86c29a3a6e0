"""Case records from IVO's case system, the facilities the machine suggests for them, and every
decision taken about a link (DESIGN.md: ``CaseRecord``).

A case record is not register data: it is what the case system exported, kept as typed. Linking it
turns it into a ``Decision`` on the facility through ``register.services``; the link, and every
step that led to it, is a ``LinkAction`` with who and when and the state before and after, so
that an undo can put back exactly what was there.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from register.codes import DecisionKind, Outcome, ReviewArea
from register.fields import CodeListField
from register.models import Decision, Facility, Municipality, TimeStamped, _in_choices


class CaseStatus(models.TextChoices):
    NEW = "ny", _("Inte matchad ännu")
    REVIEW = "granskas", _("Väntar på granskning")
    UNMATCHED = "omatchad", _("Ingen trolig verksamhet")
    LINKED = "kopplad", _("Kopplad")
    NEW_FACILITY = "ny_verksamhet", _("Ny verksamhet – finns inte i registret")


class LinkMethod(models.TextChoices):
    AUTOMATIC = "automatisk", _("Automatiskt")
    MANUAL = "manuell", _("Av registrator")


class CaseRecord(TimeStamped):
    """One closed case as the case system exported it (``import_cases``), keyed by diarienummer."""

    public_id = models.UUIDField(_("publikt id"), default=uuid.uuid4, editable=False)
    diarienummer = models.CharField(_("diarienummer"), max_length=40)
    kind = models.CharField(_("ärendetyp"), max_length=10, choices=DecisionKind.choices)
    decision_date = models.DateField(_("beslutsdatum"))
    outcome = models.CharField(_("utfall"), max_length=20, choices=Outcome.choices)
    review_areas = CodeListField(_("granskade områden"), codes=ReviewArea)
    # As the case officer typed them: may be missing, misspelt or wrong. A sole trader's
    # organisationsnummer is a personnummer, and the provider name then a person's name: both are
    # shown only through access.disclosure.
    organisation_number = models.CharField(
        _("organisationsnummer"), max_length=13, blank=True, default=""
    )
    provider_name = models.CharField(_("huvudman"), max_length=200, blank=True, default="")
    facility_name = models.CharField(_("verksamhet"), max_length=200)
    street_address = models.CharField(_("adress"), max_length=200, blank=True, default="")
    postal_town = models.CharField(_("postort"), max_length=100, blank=True, default="")
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kommun"),
    )
    reference_diarienummer = models.CharField(
        _("referensdiarienummer"), max_length=40, blank=True, default=""
    )
    inspection_start = models.DateField(_("inspektionsdatum"), null=True, blank=True)
    inspection_end = models.DateField(_("sista inspektionsdag"), null=True, blank=True)
    summary = models.TextField(_("sammanfattning"), blank=True, default="")

    status = models.CharField(
        _("status"), max_length=14, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_records",
        verbose_name=_("kopplad verksamhet"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_records",
        verbose_name=_("beslut i registret"),
    )
    link_method = models.CharField(
        _("kopplad hur"), max_length=10, choices=LinkMethod.choices, blank=True, default=""
    )
    history = HistoricalRecords(verbose_name=_("historik för ärende"))

    class Meta:
        verbose_name = _("ärende")
        verbose_name_plural = _("ärenden")
        ordering = ["-decision_date", "diarienummer"]
        constraints = [
            models.UniqueConstraint(fields=["diarienummer"], name="caserecord_unique_diarienummer"),
            models.UniqueConstraint(fields=["public_id"], name="caserecord_unique_public_id"),
            models.CheckConstraint(
                condition=_in_choices("status", CaseStatus), name="caserecord_status_known"
            ),
            # A linked record has its facility and the decision the link made; no other has.
            models.CheckConstraint(
                condition=(
                    Q(status=CaseStatus.LINKED)
                    & Q(facility__isnull=False)
                    & Q(decision__isnull=False)
                    & ~Q(link_method="")
                )
                | (
                    ~Q(status=CaseStatus.LINKED)
                    & Q(facility__isnull=True)
                    & Q(decision__isnull=True)
                    & Q(link_method="")
                ),
                name="caserecord_linked_has_facility_and_decision",
                violation_error_message=_(
                    "Ett kopplat ärende har en verksamhet och ett beslut; andra har ingetdera."
                ),
            ),
        ]
        indexes = [
            # The review queue: records of one status, newest decision first.
            models.Index(fields=["status", "-decision_date"], name="caserecord_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.diarienummer


class Candidate(models.Model):
    """A facility the matching suggests for a case record, with its score and the reasons."""

    case_record = models.ForeignKey(
        CaseRecord, on_delete=models.CASCADE, related_name="candidates", verbose_name=_("ärende")
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", verbose_name=_("verksamhet")
    )
    rank = models.PositiveSmallIntegerField(_("plats"))
    score = models.PositiveSmallIntegerField(_("poäng"))
    # [{"code": "organisationsnummer", "points": 35, "text": "…"}, …], strongest first.
    reasons = models.JSONField(_("skäl"), default=list)

    class Meta:
        verbose_name = _("kandidat")
        verbose_name_plural = _("kandidater")
        ordering = ["case_record", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_record", "facility"], name="candidate_unique_facility"
            ),
            models.UniqueConstraint(fields=["case_record", "rank"], name="candidate_unique_rank"),
            models.CheckConstraint(condition=Q(score__lte=100), name="candidate_score_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.case_record_id} → {self.facility_id} ({self.score})"


class ActionKind(models.TextChoices):
    AUTOMATIC = "automatisk", _("Kopplad automatiskt")
    CONFIRM = "bekraftad", _("Förslaget bekräftat")
    OTHER = "annan", _("Annan verksamhet vald")
    NEW_FACILITY = "ny_verksamhet", _("Markerad som ny verksamhet")
    UNDO = "angrad", _("Ångrad")


class LinkAction(models.Model):
    """One decision about a case record's link, by the machine or a registrator.

    ``before`` and ``after`` hold the state the action changed — the case record, and the
    register's decision, inspection, facility status and permits — so that an undo restores
    ``before`` exactly, and refuses when someone has changed ``after`` since.
    """

    Kind = ActionKind

    public_id = models.UUIDField(_("publikt id"), default=uuid.uuid4, editable=False, unique=True)
    case_record = models.ForeignKey(
        CaseRecord, on_delete=models.PROTECT, related_name="actions", verbose_name=_("ärende")
    )
    kind = models.CharField(_("åtgärd"), max_length=14, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("av"),
    )
    at = models.DateTimeField(_("när"), auto_now_add=True)
    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verksamhet"),
    )
    before = models.JSONField(_("före"), default=dict)
    after = models.JSONField(_("efter"), default=dict)
    undoes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="undone_by",
        verbose_name=_("ångrar"),
    )

    class Meta:
        verbose_name = _("kopplingsåtgärd")
        verbose_name_plural = _("kopplingsåtgärder")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_in_choices("kind", ActionKind), name="linkaction_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(kind=ActionKind.UNDO, undoes__isnull=False)
                | (~Q(kind=ActionKind.UNDO) & Q(undoes__isnull=True)),
                name="linkaction_undo_names_what_it_undoes",
            ),
        ]
        indexes = [
            # A record's actions, newest first (the case page; the latest one is what undo undoes).
            models.Index(fields=["case_record", "-at", "-id"], name="linkaction_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_record_id}"
