"""The register's domain model (DESIGN.md). Writes go through ``register.services`` only."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from register import validation
from register.codes import (
    AppealStatus,
    Assessment,
    DecisionKind,
    EventKind,
    FacilityStatus,
    FacilityType,
    FollowUp,
    Gender,
    InspectionReason,
    Outcome,
    Ownership,
    PermitStatus,
    ReviewArea,
    TargetGroup,
)
from register.fields import CodeListField, holds_code


def name_key_of(name: str) -> str:
    """What the search compares and sorts a name by: Python's ``str.lower()``, the one
    normalisation of names (``Facility.name_key``, ``Provider.name_key``, the search's text).

    The application writes it, so no database's lower() decides what a search finds: SQLite's
    folds ASCII only, and so does PostgreSQL's under a "C" LC_CTYPE, and an index on lower(name)
    holds whatever lower() built it (a database rebuilt from a dump, or reindexed by a tool
    without the application's function, found "Ängsbo" under "Ängsbo"). Not ``casefold()``: it
    gives what ``Lower()`` gave before, so the order users see is unchanged ("Straße" stays
    "straße"; casefold would make it "strasse" and move it). Migration 0008 wrote it for the
    rows already there with this same rule: change it and write a migration that rewrites them.
    """
    return name.lower()


# lower() may lengthen a name ("İ" becomes two characters): room for that.
NAME_KEY_MAX_LENGTH = 400


def _in_choices(field: str, choices: type[models.TextChoices], *, blank: bool = False) -> Q:
    allowed = list(choices.values) + ([""] if blank else [])
    return Q(**{f"{field}__in": allowed})


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        abstract = True


class County(models.Model):
    """Län, keyed by its two-digit SCB code. Reference data, loaded by a data migration."""

    code = models.CharField(_("länskod"), max_length=2, primary_key=True)
    name = models.CharField(_("län"), max_length=60)
    letter = models.CharField(_("länsbokstav"), max_length=2)

    class Meta:
        verbose_name = _("län")
        verbose_name_plural = _("län")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """Kommun, keyed by its four-digit SCB code (the first two digits are the län's)."""

    code = models.CharField(_("kommunkod"), max_length=4, primary_key=True)
    name = models.CharField(_("kommun"), max_length=60)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("län")
    )

    class Meta:
        verbose_name = _("kommun")
        verbose_name_plural = _("kommuner")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def protected_condition(prefix: str = "") -> Q:
    """A protected home (skyddat boende, DESIGN.md): one that takes the target group ``skydd``, or
    that IVO has marked protected. Derived here, in one place, from the two facts that are stored;
    ``prefix`` reaches the facility through a relation (``"facilities__"``)."""
    return Q(**{f"{prefix}protected_by_ivo": True}) | Q(
        **{f"{prefix}target_groups__contains": holds_code(TargetGroup.SKYDD)}
    )


class FacilityQuerySet(models.QuerySet):
    def protected(self) -> "FacilityQuerySet":
        return self.filter(protected_condition())

    def unprotected(self) -> "FacilityQuerySet":
        return self.exclude(protected_condition())


class ProviderQuerySet(models.QuerySet):
    def shown_to_outsiders(self) -> "ProviderQuerySet":
        """Providers an outsider may learn of: those with a home an outsider is shown. A provider
        that runs only protected homes exists, for an outsider, only through them; one with no
        home at all is left out too, so that a provider left without homes (its only, protected,
        home moved or closed down) does not appear and tell what it ran."""
        return self.exclude(no_public_homes())


def no_public_homes() -> Q:
    """A provider with no home that is not protected (api/change_triggers.sql_provider_hidden)."""
    homes = Facility.objects.filter(provider=models.OuterRef("pk"))
    return ~Q(models.Exists(homes.unprotected()))


class Provider(TimeStamped):
    """Huvudman / verksamhetsutförare."""

    # The provider's address in URLs: the organisationsnummer of a sole trader is a personnummer,
    # and an autoincrement invites enumeration (STYLE.md §4).
    public_id = models.UUIDField(_("publikt id"), default=uuid.uuid4, editable=False)
    organisation_number = models.CharField(
        _("organisationsnummer"),
        max_length=13,  # stored as 11 (NNNNNN-NNNN); input may have 12 digits and a dash
        help_text=_(
            "NNNNNN-NNNN. För en enskild näringsidkare är det personnumret: personuppgift."
        ),
    )
    name = models.CharField(_("namn"), max_length=200)
    # name_key_of(name), written by clean() (so by every service) and register_bulk_create: the
    # search reads it. NULL only for a row written around the application (none should be):
    # added to the table without rebuilding it on SQLite (the API's change triggers name it).
    name_key = models.CharField(  # noqa: DJ001
        _("namn för sökning"),
        max_length=NAME_KEY_MAX_LENGTH,
        null=True,
        blank=True,
        editable=False,
    )
    ownership = models.CharField(_("regi"), max_length=10, choices=Ownership.choices)
    is_sole_trader = models.BooleanField(
        _("enskild näringsidkare"),
        default=False,
        help_text=_("Namn och nummer är då personuppgifter och visas bara enligt lag."),
    )
    # name_key is derived from the name: the history keeps the name.
    history = HistoricalRecords(
        verbose_name=_("historik för huvudman"), excluded_fields=["name_key"]
    )

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("huvudman")
        verbose_name_plural = _("huvudmän")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_number"], name="provider_unique_organisation_number"
            ),
            models.UniqueConstraint(fields=["public_id"], name="provider_unique_public_id"),
            models.CheckConstraint(
                condition=_in_choices("ownership", Ownership), name="provider_ownership_known"
            ),
        ]
        indexes = [
            # Search filter "regi".
            models.Index(fields=["ownership"], name="provider_ownership_idx"),
        ]

    def __str__(self) -> str:
        # Never the name of a sole trader: it is personal data (DESIGN.md).
        if self.is_sole_trader:
            return str(_("Enskild näringsidkare (uppgift skyddad)"))
        return self.name

    def clean(self) -> None:
        self.name_key = name_key_of(self.name)
        with validation.field_errors("organisation_number"):
            self.organisation_number = validation.organisation_number(
                self.organisation_number, sole_trader=self.is_sole_trader
            )


LATEST_FIELDS = (
    "latest_decision_date",
    "latest_outcome",
    "latest_appeal_status",
    "latest_decision_diarienummer",
    "last_inspection_date",
    "temporary_prohibition_until",
    "unresolved_requirements",
)


class DecisionDateOrNever(Func):
    """A facility's latest decision date, or 0001-01-01 when it has never been decided on: newest
    first (descending) then puts those last on SQLite and PostgreSQL alike, without NULLS LAST,
    which SQLite refuses in an index. The date is written into the SQL rather than bound, so the
    search's expression is the index's own (facility_status_latest_idx) and the database can walk
    the index instead of sorting every match."""

    template = "COALESCE(%(expressions)s, '0001-01-01')"
    arity = 1
    output_field = models.DateField()


class Facility(TimeStamped):
    """Verksamhet: one HVB, stödboende or särskilt ungdomshem."""

    facility_id = models.CharField(
        _("verksamhetsid"),
        max_length=32,
        help_text=_("Registrets stabila id: bokstäver, siffror och bindestreck."),
    )
    name = models.CharField(_("namn"), max_length=200)
    # name_key_of(name): what the search matches and sorts on (facility_status_name_idx,
    # facility_status_latest_idx), written by clean() (so by every service) and
    # register_bulk_create, never by the database. NULL only for a row written around the
    # application: added without rebuilding the table on SQLite (the API's change triggers).
    name_key = models.CharField(  # noqa: DJ001
        _("namn för sökning"),
        max_length=NAME_KEY_MAX_LENGTH,
        null=True,
        blank=True,
        editable=False,
    )
    facility_type = models.CharField(
        _("verksamhetstyp"), max_length=24, choices=FacilityType.choices
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("huvudman")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("kommun")
    )
    street_address = models.CharField(_("besöksadress"), max_length=200, blank=True, default="")
    postal_code = models.CharField(_("postnummer"), max_length=6, blank=True, default="")
    postal_town = models.CharField(_("postort"), max_length=100, blank=True, default="")
    target_groups = CodeListField(_("målgrupper"), codes=TargetGroup)
    age_from = models.PositiveSmallIntegerField(_("ålder från"), null=True, blank=True)
    age_to = models.PositiveSmallIntegerField(_("ålder till"), null=True, blank=True)
    gender = models.CharField(
        _("kön"), max_length=8, choices=Gender.choices, blank=True, default=""
    )
    places = models.PositiveIntegerField(_("antal platser"))
    status = models.CharField(
        _("status"), max_length=18, choices=FacilityStatus.choices, default=FacilityStatus.AKTIV
    )
    status_date = models.DateField(
        _("status sedan"),
        null=True,
        blank=True,
        help_text=_("Datum för beslutet som senast ändrade status."),
    )
    start_date = models.DateField(_("startdatum"), null=True, blank=True)
    end_date = models.DateField(_("slutdatum"), null=True, blank=True)
    orientation = models.TextField(_("inriktning"), blank=True, default="")
    summary = models.TextField(_("sammanfattning"), blank=True, default="")
    # IVO's own mark, beside the target group skydd (protected_condition). The column is added
    # by SQL in migration 0008 so that SQLite does not rebuild the table (0010 rebuilds it,
    # setting every trigger aside while it does).
    protected_by_ivo = models.BooleanField(
        _("markerat som skyddat av IVO"),
        default=False,
        help_text=_(
            "IVO:s egen markering. Ett boende med målgruppen Skyddat boende är alltid skyddat. "
            "Skyddade boenden visas aldrig i öppna data eller för den som inte är inloggad, och "
            "varje visning loggas."
        ),
    )
    # The latest decision and inspection, kept here by register.services.refresh_latest whenever
    # a decision or an inspection is written, so the search sorts and filters on indexed columns
    # instead of a subquery per facility. Derived, never set by hand, not in the history (the
    # decisions' own history is), never written by Facility.save.
    latest_decision_date = models.DateField(
        _("senaste beslut"), null=True, blank=True, editable=False
    )
    # NULL, not "", when there is no decision: added to the table without rebuilding it on
    # SQLite (the API's change triggers name it), and what the subqueries they replace gave.
    latest_outcome = models.CharField(  # noqa: DJ001
        _("senaste beslutets utfall"), max_length=20, null=True, blank=True, editable=False
    )
    latest_appeal_status = models.CharField(  # noqa: DJ001
        _("senaste beslutets överklagande"), max_length=14, null=True, blank=True, editable=False
    )
    latest_decision_diarienummer = models.CharField(  # noqa: DJ001
        _("senaste beslutets diarienummer"),
        max_length=40,
        null=True,
        blank=True,
        editable=False,
    )
    last_inspection_date = models.DateField(
        _("senaste inspektion"), null=True, blank=True, editable=False
    )
    # The last day of the temporary prohibition that holds or held last (a decision
    # tillfalligt_forbud no court overturned and no later status decision replaced): the
    # facility's status is tillfalligt_forbud until then (register.supervision.current_status).
    # Derived like the columns above. Nullable so that it is added without rebuilding the table.
    temporary_prohibition_until = models.DateField(
        _("tillfälligt förbud till och med"), null=True, blank=True, editable=False
    )
    # Requirements no later decision has followed up in their area (open or overdue,
    # register.supervision.requirement_state), for the search's filter "no open requirement".
    # Derived like the columns above.
    unresolved_requirements = models.PositiveIntegerField(
        _("krav som inte följts upp"), default=0, editable=False
    )
    objects = FacilityQuerySet.as_manager()
    history = HistoricalRecords(
        verbose_name=_("historik för verksamhet"), excluded_fields=[*LATEST_FIELDS, "name_key"]
    )

    class Meta:
        verbose_name = _("verksamhet")
        verbose_name_plural = _("verksamheter")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["facility_id"], name="facility_unique_facility_id"),
            models.CheckConstraint(
                condition=Q(places__gte=0),
                name="facility_places_not_negative",
                violation_error_message=_("Antal platser kan inte vara negativt."),
            ),
            models.CheckConstraint(
                condition=Q(age_from__isnull=True) | Q(age_from__lte=21),
                name="facility_age_from_at_most_21",
                violation_error_message=_("Åldern från får vara högst 21 år."),
            ),
            models.CheckConstraint(
                condition=Q(age_to__isnull=True) | Q(age_to__lte=21),
                name="facility_age_to_at_most_21",
                violation_error_message=_("Åldern till får vara högst 21 år."),
            ),
            models.CheckConstraint(
                condition=Q(age_from__isnull=True)
                | Q(age_to__isnull=True)
                | Q(age_from__lte=F("age_to")),
                name="facility_age_from_not_above_age_to",
                violation_error_message=_("Åldern från får inte vara högre än åldern till."),
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="facility_end_date_not_before_start_date",
                violation_error_message=_("Slutdatum får inte ligga före startdatum."),
            ),
            models.CheckConstraint(
                condition=~Q(status=FacilityStatus.NEDLAGD) | Q(end_date__isnull=False),
                name="facility_closed_has_end_date",
                violation_error_message=_("En nedlagd verksamhet måste ha ett slutdatum."),
            ),
            models.CheckConstraint(
                condition=_in_choices("facility_type", FacilityType),
                name="facility_type_known",
            ),
            models.CheckConstraint(
                condition=_in_choices("status", FacilityStatus), name="facility_status_known"
            ),
            models.CheckConstraint(
                condition=_in_choices("gender", Gender, blank=True), name="facility_gender_known"
            ),
        ]
        indexes = [
            # Search filters: type, status, gender, places, age span; sorting by name.
            models.Index(fields=["status", "facility_type"], name="facility_status_type_idx"),
            models.Index(fields=["facility_type"], name="facility_type_idx"),
            models.Index(fields=["gender"], name="facility_gender_idx"),
            models.Index(fields=["places"], name="facility_places_idx"),
            models.Index(fields=["age_from", "age_to"], name="facility_age_idx"),
            models.Index(fields=["name"], name="facility_name_idx"),
            # The search's usual filters in one index that also answers its count without
            # reading the table: status, type, kommun (and so län), places, the age span, and
            # the provider (for ownership).
            models.Index(
                fields=[
                    "status",
                    "facility_type",
                    "municipality",
                    "places",
                    "age_from",
                    "age_to",
                    "provider",
                ],
                name="facility_search_idx",
            ),
            # The default order (name) walked in the index for a status: no sort of every row.
            # On name_key, not Lower("name"): an index on an expression holds what the
            # database's lower() gave when it was built (a restore, a REINDEX), not Python's.
            models.Index(
                fields=["status", "name_key", "facility_id"], name="facility_status_name_idx"
            ),
            # The order by latest decision walked the same way (register.selectors.ORDERINGS).
            models.Index(
                F("status"),
                DecisionDateOrNever("latest_decision_date").desc(),
                F("name_key"),
                F("facility_id"),
                name="facility_status_latest_idx",
            ),
            # Filtering on the latest decision (date, outcome) and the frekvenstillsyn flag.
            models.Index(fields=["latest_decision_date"], name="facility_latest_date_idx"),
            models.Index(fields=["latest_outcome"], name="facility_latest_outcome_idx"),
            models.Index(fields=["last_inspection_date"], name="facility_last_inspection_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.facility_id})"

    def save(self, *args, **kwargs):
        """A facility loaded before a decision was written must not put its old latest-decision
        columns back: an update writes every field but those (refresh_latest writes them)."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in LATEST_FIELDS
            ]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.name_key = name_key_of(self.name)
        with validation.field_errors("facility_id"):
            self.facility_id = validation.facility_id(self.facility_id)
        for field in ("summary", "orientation"):
            with validation.field_errors(field):
                validation.public_text(getattr(self, field))

    @property
    def is_protected(self) -> bool:
        """As protected_condition, for a facility in hand."""
        return self.protected_by_ivo or TargetGroup.SKYDD in (self.target_groups or ())


class Permit(TimeStamped):
    """Tillstånd (private providers)."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="permits", verbose_name=_("verksamhet")
    )
    diarienummer = models.CharField(_("diarienummer"), max_length=40)
    granted_on = models.DateField(_("beviljat"), null=True, blank=True)
    scope = models.TextField(_("omfattning"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=12, choices=PermitStatus.choices, default=PermitStatus.GALLANDE
    )
    history = HistoricalRecords(verbose_name=_("historik för tillstånd"))

    class Meta:
        verbose_name = _("tillstånd")
        verbose_name_plural = pgettext_lazy("plural", "tillstånd")
        ordering = ["-granted_on"]
        constraints = [
            models.UniqueConstraint(fields=["diarienummer"], name="permit_unique_diarienummer"),
            models.CheckConstraint(
                condition=_in_choices("status", PermitStatus), name="permit_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.diarienummer

    def clean(self) -> None:
        with validation.field_errors("diarienummer"):
            self.diarienummer = validation.diarienummer(self.diarienummer)


class Registration(TimeStamped):
    """Anmälan (municipal and regional providers)."""

    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("verksamhet"),
    )
    diarienummer = models.CharField(_("diarienummer"), max_length=40)
    registered_on = models.DateField(_("anmäld"), null=True, blank=True)
    history = HistoricalRecords(verbose_name=_("historik för anmälan"))

    class Meta:
        verbose_name = _("anmälan")
        verbose_name_plural = _("anmälningar")
        ordering = ["-registered_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["diarienummer"], name="registration_unique_diarienummer"
            ),
        ]

    def __str__(self) -> str:
        return self.diarienummer

    def clean(self) -> None:
        with validation.field_errors("diarienummer"):
            self.diarienummer = validation.diarienummer(self.diarienummer)


class Manager(TimeStamped):
    """Föreståndare. Every field but the period is personal data (DESIGN.md)."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="managers", verbose_name=_("verksamhet")
    )
    name = models.CharField(_("namn"), max_length=200)
    personal_identity_number = models.CharField(
        _("personnummer"), max_length=13, blank=True, default=""
    )
    email = models.EmailField(_("e-post"), blank=True, default="")
    phone = models.CharField(_("telefon"), max_length=30, blank=True, default="")
    start_date = models.DateField(_("från"), null=True, blank=True)
    end_date = models.DateField(_("till"), null=True, blank=True)
    history = HistoricalRecords(verbose_name=_("historik för föreståndare"))

    class Meta:
        verbose_name = _("föreståndare")
        verbose_name_plural = pgettext_lazy("plural", "föreståndare")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="manager_end_date_not_before_start_date",
                violation_error_message=_("Slutdatum får inte ligga före startdatum."),
            ),
        ]
        indexes = [
            # The current manager of a facility: end_date IS NULL.
            models.Index(fields=["facility", "end_date"], name="manager_facility_current_idx"),
        ]

    def __str__(self) -> str:
        # Personal data stays out of logs, admin breadcrumbs and history listings.
        return str(_("Föreståndare för %(facility)s") % {"facility": self.facility_id})

    def clean(self) -> None:
        if self.personal_identity_number:
            with validation.field_errors("personal_identity_number"):
                self.personal_identity_number = validation.personal_identity_number(
                    self.personal_identity_number
                )
        if self.email:
            with validation.field_errors("email"):
                self.email = validation.email(self.email)
        if self.phone:
            with validation.field_errors("phone"):
                self.phone = validation.phone(self.phone)


class Inspection(TimeStamped):
    """Inspektion, keyed by the diarienummer of the case it belongs to."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("verksamhet")
    )
    diarienummer = models.CharField(_("diarienummer"), max_length=40)
    start_date = models.DateField(_("inspektionsdatum"))
    end_date = models.DateField(_("sista inspektionsdag"), null=True, blank=True)
    announced = models.BooleanField(_("anmäld i förväg"), null=True, blank=True)
    history = HistoricalRecords(verbose_name=_("historik för inspektion"))

    class Meta:
        verbose_name = _("inspektion")
        verbose_name_plural = _("inspektioner")
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["diarienummer"], name="inspection_unique_diarienummer"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="inspection_end_date_not_before_start_date",
                violation_error_message=_("Sista inspektionsdagen får inte ligga före den första."),
            ),
        ]
        indexes = [
            # The latest inspection of a facility (frekvenstillsyn, 3 kap. 19 § SoF).
            models.Index(fields=["facility", "-start_date"], name="inspection_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.diarienummer} ({self.start_date.isoformat()})"

    def clean(self) -> None:
        with validation.field_errors("diarienummer"):
            self.diarienummer = validation.diarienummer(self.diarienummer)


class Decision(TimeStamped):
    """Beslut: IVO's decision in a supervision or permit case."""

    diarienummer = models.CharField(_("diarienummer"), max_length=40)
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("verksamhet")
    )
    kind = models.CharField(_("beslutstyp"), max_length=10, choices=DecisionKind.choices)
    decision_date = models.DateField(_("beslutsdatum"))
    outcome = models.CharField(_("utfall"), max_length=20, choices=Outcome.choices)
    review_areas = CodeListField(_("granskade områden"), codes=ReviewArea)
    summary = models.TextField(
        _("sammanfattning"),
        blank=True,
        default="",
        help_text=_("Offentlig sammanfattning: inget sekretessbelagt innehåll."),
    )
    legal_reference = models.CharField(
        _("lagrum"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("Med lagens SFS-nummer, t.ex. 26 kap. 1 § socialtjänstlagen (2025:400)."),
    )
    follow_up = models.CharField(
        _("uppföljning"), max_length=10, choices=FollowUp.choices, default=FollowUp.INGEN
    )
    appeal_status = models.CharField(
        _("överklagande"),
        max_length=14,
        choices=AppealStatus.choices,
        default=AppealStatus.EJ_OVERKLAGAT,
    )
    follows_up = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("följer upp beslut"),
        help_text=_("Ett tidigare beslut för samma verksamhet som detta beslut följer upp."),
    )
    inspection_reason = models.CharField(
        _("anledning till inspektionen"),
        max_length=20,
        choices=InspectionReason.choices,
        blank=True,
        default="",
    )
    children_talked_with = models.PositiveIntegerField(
        _("barn och unga som IVO talat med"), null=True, blank=True
    )
    prohibition_until = models.DateField(
        _("tillfälligt förbud till och med"),
        null=True,
        blank=True,
        help_text=_(
            "Bara för tillfälligt förbud, och då obligatoriskt: förbudets sista dag, högst sex "
            "månader efter beslutsdatum."
        ),
    )
    history = HistoricalRecords(verbose_name=_("historik för beslut"))

    class Meta:
        verbose_name = _("beslut")
        verbose_name_plural = pgettext_lazy("plural", "beslut")
        ordering = ["-decision_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["diarienummer"], name="decision_unique_diarienummer"),
            models.CheckConstraint(
                condition=_in_choices("kind", DecisionKind), name="decision_kind_known"
            ),
            models.CheckConstraint(
                condition=_in_choices("outcome", Outcome), name="decision_outcome_known"
            ),
            models.CheckConstraint(
                condition=_in_choices("appeal_status", AppealStatus),
                name="decision_appeal_status_known",
            ),
            models.CheckConstraint(
                condition=_in_choices("follow_up", FollowUp), name="decision_follow_up_known"
            ),
            models.CheckConstraint(
                condition=_in_choices("inspection_reason", InspectionReason, blank=True),
                name="decision_inspection_reason_known",
            ),
            models.CheckConstraint(
                condition=Q(children_talked_with__isnull=True) | Q(children_talked_with__gte=0),
                name="decision_children_talked_with_not_negative",
                violation_error_message=_("Antalet barn kan inte vara negativt."),
            ),
            # A temporary prohibition has a last day, after its decision date; nothing else has.
            models.CheckConstraint(
                condition=(
                    Q(outcome=Outcome.TILLFALLIGT_FORBUD)
                    & Q(prohibition_until__isnull=False)
                    & Q(prohibition_until__gt=F("decision_date"))
                )
                | (~Q(outcome=Outcome.TILLFALLIGT_FORBUD) & Q(prohibition_until__isnull=True)),
                name="decision_prohibition_until_for_temporary_prohibition",
                violation_error_message=_(
                    "Ett tillfälligt förbud ska ha en sista dag efter beslutsdatum; andra beslut "
                    "har ingen."
                ),
            ),
            models.CheckConstraint(
                condition=Q(follows_up__isnull=True) | ~Q(follows_up=F("id")),
                name="decision_does_not_follow_up_itself",
                violation_error_message=_("Ett beslut kan inte följa upp sig självt."),
            ),
        ]
        indexes = [
            # The latest decision of a facility (marking, "latest outcome" filter and sorting).
            models.Index(fields=["facility", "-decision_date", "-id"], name="decision_latest_idx"),
            models.Index(fields=["outcome"], name="decision_outcome_idx"),
        ]

    def __str__(self) -> str:
        return self.diarienummer

    def clean(self) -> None:
        with validation.field_errors("diarienummer"):
            self.diarienummer = validation.diarienummer(self.diarienummer)
        if self.decision_date:
            with validation.field_errors("decision_date"):
                validation.date_not_in_future(self.decision_date)
        with validation.field_errors("summary"):
            validation.public_text(self.summary)
        if self.prohibition_until and self.decision_date:
            with validation.field_errors("prohibition_until"):
                validation.temporary_prohibition_end(self.decision_date, self.prohibition_until)
        if self.follows_up_id and self.decision_date:
            with validation.field_errors("follows_up"):
                earlier = self.follows_up
                if self.pk and earlier.pk == self.pk:
                    raise ValidationError(_("ett beslut kan inte följa upp sig självt"))
                if earlier.facility_id != self.facility_id:
                    raise ValidationError(
                        _("beslutet %(diarienummer)s gäller en annan verksamhet")
                        % {"diarienummer": earlier.diarienummer}
                    )
                if earlier.decision_date > self.decision_date:
                    raise ValidationError(
                        _("beslutet %(diarienummer)s är senare än detta beslut")
                        % {"diarienummer": earlier.diarienummer}
                    )

    @property
    def is_overturned(self) -> bool:
        """Overturned by a court: it changes no status and says so wherever it is shown."""
        return self.appeal_status == AppealStatus.UPPHAVT


class Finding(TimeStamped):
    """Iakttagelse och krav: what IVO found in one area a decision reviewed and, where it found a
    deficiency, what the provider must do, by when, and any vite. Public text (DESIGN.md).

    Part of its decision: removed with it (CASCADE, each removal in the history), and written
    only through register.services (findings_replace, finding_save)."""

    decision = models.ForeignKey(
        Decision, on_delete=models.CASCADE, related_name="findings", verbose_name=_("beslut")
    )
    area = models.CharField(_("område"), max_length=30, choices=ReviewArea.choices)
    assessment = models.CharField(_("bedömning"), max_length=16, choices=Assessment.choices)
    observation = models.TextField(
        _("iakttagelse"),
        blank=True,
        default="",
        help_text=_("Offentlig text: vad IVO såg. Inget sekretessbelagt, inga personuppgifter."),
    )
    requirement = models.TextField(
        _("krav"),
        blank=True,
        default="",
        help_text=_("Vad verksamheten ska göra. Bara vid brist eller allvarlig brist."),
    )
    due_date = models.DateField(
        _("senast"),
        null=True,
        blank=True,
        help_text=_("Dag då kravet ska vara uppfyllt eller redovisat. Bara med ett krav."),
    )
    fine_amount = models.PositiveIntegerField(
        _("vite i kronor"),
        null=True,
        blank=True,
        help_text=_("Bara när beslutet är ett föreläggande med vite."),
    )
    history = HistoricalRecords(verbose_name=_("historik för iakttagelse"))

    class Meta:
        verbose_name = _("iakttagelse och krav")
        verbose_name_plural = _("iakttagelser och krav")
        ordering = ["decision", "id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "area"], name="finding_unique_area"),
            models.CheckConstraint(
                condition=_in_choices("area", ReviewArea), name="finding_area_known"
            ),
            models.CheckConstraint(
                condition=_in_choices("assessment", Assessment), name="finding_assessment_known"
            ),
            models.CheckConstraint(
                condition=Q(requirement="") | ~Q(assessment=Assessment.INGEN_BRIST),
                name="finding_requirement_only_with_deficiency",
                violation_error_message=_("Ett krav kan bara ställas där IVO funnit en brist."),
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True) | ~Q(requirement=""),
                name="finding_due_date_only_with_requirement",
                violation_error_message=_("Ett datum (senast) hör till ett krav."),
            ),
            models.CheckConstraint(
                condition=Q(fine_amount__isnull=True) | Q(fine_amount__gt=0),
                name="finding_fine_amount_positive",
                violation_error_message=_("Vitet ska vara ett belopp större än 0 kronor."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision_id}: {self.get_area_display()}"

    def clean(self) -> None:
        for field in ("observation", "requirement"):
            with validation.field_errors(field):
                validation.public_text(getattr(self, field))
        if self.decision_id is None:
            return
        decision = self.decision
        if self.due_date and self.due_date < decision.decision_date:
            with validation.field_errors("due_date"):
                raise ValidationError(
                    _("datumet ligger före beslutsdatum %(date)s")
                    % {"date": decision.decision_date.isoformat()}
                )
        if self.fine_amount is not None and decision.outcome != Outcome.FORELAGGANDE_VITE:
            with validation.field_errors("fine_amount"):
                raise ValidationError(
                    _("vite kan bara anges när beslutet är ett föreläggande med vite")
                )


class DataVersion(models.Model):
    """Stamps the database changes with every write to a register table (migration 0006's
    triggers, whatever wrote: services, admin, bulk loads, raw SQL). The register's data version is
    every stamp read together (``register.selectors.data_version``). An import plans its rows
    outside the write transaction and, inside it, plans again if the version moved, so nothing
    written meanwhile is overwritten unseen (``register.services.decisions_bulk_write``).

    One row on SQLite, which has one writer at a time. On PostgreSQL a writing transaction changes
    the first row that no other transaction holds (``SKIP LOCKED``) and adds a row when every one
    is held, so writers never wait for each other here. Random stamps rather than counters: a
    rolled-back write can never leave a stamp that a later, different write takes again."""

    id = models.PositiveIntegerField(primary_key=True)
    stamp = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("dataversion")

    def __str__(self) -> str:
        return self.stamp


class RegisterEvent(models.Model):
    """Something that happened at a facility that its watchers are told (DESIGN.md: bevakning):
    a new decision, a status change, a new provider or manager, an appeal decided, a requirement
    or an inspection overdue, a new home.

    Recorded by ``register.events`` in the transaction of the write that made it (every service
    of ``register.services``, bulk writes included), or by the daily scan for what only the
    calendar makes (overdue). Holds nothing about a child and no personal data: a new manager is
    the fact only, the provider by reference. ``details`` holds codes and dates (the outcome,
    the status before and after, the area and due day of a requirement)."""

    kind = models.CharField(_("händelse"), max_length=24, choices=EventKind.choices)
    facility = models.ForeignKey(
        "Facility", on_delete=models.CASCADE, related_name="events", verbose_name=_("verksamhet")
    )
    # Where and whose the home was when it happened: the watchers of an area or a provider are
    # told what happened while it was theirs.
    # No index of their own: nothing reads events by these (the fan-out reads watches by them),
    # and each index is written for every event of a 100,000-decision import.
    provider = models.ForeignKey(
        Provider,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("huvudman"),
        db_index=False,
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("kommun"),
        db_index=False,
    )
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="+", verbose_name=_("län"), db_index=False
    )
    decision = models.ForeignKey(
        "Decision",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("beslut"),
    )
    serious = models.BooleanField(_("allvarlig"), default=False)
    # A protected home's events reach only those who watch that very home (never an area's or a
    # provider's watchers: where a protected home is must not spread).
    protected = models.BooleanField(_("skyddat boende"), default=False)
    occurred_on = models.DateField(_("datum"))
    details = models.JSONField(_("uppgifter"), default=dict, blank=True)
    # For what the daily scan records: one event per requirement, per inspection period.
    once_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    # PostgreSQL's transaction id, for the notifications feed's cursor as the changes feed's
    # (api/changes.py: a transaction that commits late never lands behind a cursor); 0 on SQLite.
    transaction_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(_("registrerad"), auto_now_add=True)

    class Meta:
        verbose_name = _("registerhändelse")
        verbose_name_plural = _("registerhändelser")
        constraints = [
            models.CheckConstraint(
                condition=_in_choices("kind", EventKind), name="registerevent_kind_known"
            ),
        ]
        indexes = [
            # The notifications feed: (transaction_id, id) after a cursor.
            models.Index(fields=["transaction_id", "id"], name="registerevent_feed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.facility_id} {self.occurred_on}"
