"""Reads of the register shared by the interfaces (portal, API, exports, staff pages).

Every list here is one query (plus a fixed number of prefetches), whatever its length.
Restricted fields (a manager's data, a sole trader's name and number) are fetched here only for
the disclosure policy to filter; nothing here decides what a viewer may see.
"""

import datetime
import re
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from register.codes import (
    DEFICIENT_ASSESSMENTS,
    OUTCOME_SEVERITY,
    TYPES_WITH_YEARLY_INSPECTION,
    AppealStatus,
    FacilityStatus,
    Gender,
    RequirementState,
    Severity,
)
from register.fields import holds_code
from register.models import (
    DataVersion,
    Decision,
    DecisionDateOrNever,
    Facility,
    Finding,
    Inspection,
    Permit,
    Provider,
    Registration,
    name_key_of,
    protected_condition,
)
from register.supervision import (
    Supervision,
    current_status_expression,
    status_condition,
    supervision_of,
    years_before,
)

SERIOUS_OUTCOMES = tuple(
    outcome for outcome, severity in OUTCOME_SEVERITY.items() if severity == Severity.SERIOUS
)

# Names sort on name_key (Python's lower(), written by the application), never on the database's
# lower(): an index on lower(name) holds whatever lower() built it (register.models.name_key_of).
ORDERINGS = {
    "name": ("name_key", "facility_id"),
    "municipality": ("municipality__name", "name_key", "facility_id"),
    # Homes never decided on last, on SQLite and PostgreSQL alike.
    "latest_decision": (
        DecisionDateOrNever("latest_decision_date").desc(),
        "name_key",
        "facility_id",
    ),
}
_ORGANISATION_NUMBER = re.compile(r"^(?:16)?(\d{6})-?(\d{4})$")
# What can be part of a diarienummer: every one in the register has IVO's form
# (validation.DIARIENUMMER_PATTERN: digits, dots, a dash, a slash), so a text with anything else
# in it is in none, and the search need not read the decisions, inspections, permits and
# registrations for it (each is a scan: they took half the time of a mix of searches).
_PART_OF_DIARIENUMMER = re.compile(r"^[0-9./-]+$")


@dataclass(frozen=True)
class FacilitySearch:
    """The facility search of the portal and the API. Empty values mean "any"."""

    text: str = ""
    facility_types: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()  # the facility must take every one of them
    child_age: int | None = None  # within the facility's age span
    gender: str = ""  # the child's: flickor or pojkar (facilities for all match too)
    counties: tuple[str, ...] = ()  # länskoder: in any of them
    municipality: str = ""  # kommunkod
    ownerships: tuple[str, ...] = ()
    statuses: tuple[str, ...] = (FacilityStatus.AKTIV,)
    min_places: int | None = None
    latest_outcomes: tuple[str, ...] = ()
    # No serious decision (by the marking's severity; none a court overturned) in this many
    # years back from today.
    no_serious_decision_years: int | None = None
    no_unresolved_requirement: bool = False  # no requirement open or overdue
    no_overdue_inspection: bool = False  # not flagged for frekvenstillsyn
    ordering: str = "name"  # a key of ORDERINGS
    # Protected homes only for a viewer the disclosure policy lets see them
    # (access.disclosure.may_see_protected_homes); left out of the query itself otherwise, so
    # no count, page or order tells that one exists.
    include_protected: bool = False


def inspection_overdue_cutoff(today: datetime.date | None = None) -> datetime.date:
    """The latest inspection must be on or after this date (3 kap. 19 § SoF: HVB and stödboenden
    for children are inspected at least once a year)."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def facilities_with_marking(
    queryset: QuerySet[Facility] | None = None, *, today: datetime.date | None = None
) -> QuerySet[Facility]:
    """Facilities annotated with their latest decision (the marking) and the frekvenstillsyn flag.

    The marking is derived from the latest decision's outcome, never set by hand: the latest
    decision and inspection are columns of the facility that register.services.refresh_latest
    writes whenever a decision or an inspection is written, so the list is one query on
    indexed columns, with no subquery per facility.
    """
    queryset = Facility.objects.all() if queryset is None else queryset
    today = today or timezone.localdate()
    return queryset.select_related("provider", "municipality__county").annotate(
        inspection_overdue=Case(
            When(inspection_overdue_condition(today), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        # Its status today: tillfalligt_forbud while a temporary prohibition holds.
        current_status=current_status_expression(today),
    )


def inspection_overdue_condition(today: datetime.date) -> Q:
    """Flagged for frekvenstillsyn (3 kap. 19 § SoF): an active HVB, stödboende or särskilt
    ungdomshem without an inspection in the last 12 months."""
    cutoff = inspection_overdue_cutoff(today)
    return (
        Q(facility_type__in=TYPES_WITH_YEARLY_INSPECTION, status=FacilityStatus.AKTIV)
        & (Q(last_inspection_date__isnull=True) | Q(last_inspection_date__lt=cutoff))
        # A home opened less than a year ago is not yet due.
        & (Q(start_date__isnull=True) | Q(start_date__lt=cutoff))
    )


def facility_search(
    search: FacilitySearch, *, today: datetime.date | None = None
) -> QuerySet[Facility]:
    today = today or timezone.localdate()
    queryset = facilities_with_marking(today=today)
    conditions = Q()
    if search.facility_types:
        conditions &= Q(facility_type__in=search.facility_types)
    for target_group in search.target_groups:
        conditions &= Q(target_groups__contains=holds_code(target_group))
    if search.child_age is not None:
        conditions &= Q(age_from__isnull=True) | Q(age_from__lte=search.child_age)
        conditions &= Q(age_to__isnull=True) | Q(age_to__gte=search.child_age)
    if search.gender:
        conditions &= Q(gender__in=[search.gender, Gender.ALLA, ""])
    if search.counties:
        conditions &= Q(municipality__county_id__in=search.counties)
    if search.municipality:
        conditions &= Q(municipality_id=search.municipality)
    if search.ownerships:
        conditions &= Q(provider__ownership__in=search.ownerships)
    if search.statuses:
        conditions &= status_condition(search.statuses, today)
    if search.min_places is not None:
        conditions &= Q(places__gte=search.min_places)
    if search.latest_outcomes:
        # A decision a court overturned is marked grey, not by its outcome: it does not match.
        conditions &= Q(latest_outcome__in=search.latest_outcomes) & ~Q(
            latest_appeal_status=AppealStatus.UPPHAVT
        )
    if search.no_serious_decision_years is not None:
        since = years_before(today, search.no_serious_decision_years)
        conditions &= ~Exists(
            Decision.objects.filter(
                facility=OuterRef("pk"),
                outcome__in=SERIOUS_OUTCOMES,
                decision_date__gt=since,
            ).exclude(appeal_status=AppealStatus.UPPHAVT)
        )
    if search.no_unresolved_requirement:
        conditions &= Q(unresolved_requirements=0)
    if search.no_overdue_inspection:
        conditions &= ~inspection_overdue_condition(today)
    if search.text.strip():
        conditions &= _text_condition(search.text)
    if not search.include_protected:
        conditions &= ~protected_condition()
    queryset = queryset.filter(conditions)
    return queryset.order_by(*ORDERINGS.get(search.ordering, ORDERINGS["name"]))


class SearchResults:
    """The search's matches in order, as Django's Paginator and the API's pages read them:
    ``count()`` and slices (lists of facilities with their marking). The count is read once, and
    only when asked for."""

    ordered = True  # for Paginator

    def __init__(self, search: FacilitySearch, *, today: datetime.date | None = None):
        self.search = search
        self.queryset = facility_search(search, today=today)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.queryset.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[Facility]:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("SearchResults takes a slice of consecutive matches.")
        start = item.start or 0
        stop = self.count() if item.stop is None else item.stop
        if start >= stop:
            return []
        return list(self.queryset[start:stop])


def data_version() -> str | None:
    """The register's data version (register.models.DataVersion): it changes with every committed
    write to a register table. None when unknown (no stamp after a flush, until the next write).
    An import plans outside its write transaction and plans again when this changed
    (register.services.decisions_bulk_write).

    Read where the router reads the register's rows (a read replica during a request that may
    read one: config/replicas.py), so that what is kept under the version is counted from the
    same server: stats/facts.py keys its tallies by it, and a version read on the primary with
    tallies counted on a lagging replica would keep old tallies under the new version until the
    next write."""
    with connections[router.db_for_read(DataVersion)].cursor() as cursor:
        cursor.execute(f"SELECT stamp FROM {DataVersion._meta.db_table} ORDER BY id")
        return version_of(row[0] for row in cursor.fetchall())


def version_of(stamps) -> str | None:
    """The data version the stamps make, in the order of their ids; None for none."""
    return ".".join(stamp for stamp in stamps if stamp is not None) or None


def _text_condition(text: str) -> Q:
    """Free text over the facility's name, a legal person's name and organisationsnummer, and the
    diarienummer of its decisions, inspections, permits and registrations (only for a text that
    can be part of one).

    A sole trader's name and number are personal data: searching by them must not reveal which
    home a person runs, so they are not searched.

    Names are matched on their name_key, normalised as the text is (name_key_of): neither
    SQLite's nor PostgreSQL's lower() decides what is found.
    """
    needle = name_key_of(text.strip())
    legal_person = Q(provider__is_sole_trader=False)
    condition = Q(name_key__contains=needle)
    condition |= legal_person & Q(provider__name_key__contains=needle)
    match = _ORGANISATION_NUMBER.match(needle.replace(" ", ""))
    if match:
        number = f"{match.group(1)}-{match.group(2)}"
        condition |= legal_person & Q(provider__organisation_number=number)
    if not _PART_OF_DIARIENUMMER.match(needle):
        return condition
    for model in (Decision, Inspection, Permit, Registration):
        condition |= Exists(
            model.objects.filter(facility=OuterRef("pk"), diarienummer__icontains=needle)
        )
    return condition


def facility_with_history(
    facility_id: str, *, include_protected: bool = False, today: datetime.date | None = None
) -> Facility:
    """One facility with its marking, its provider and place, and its whole supervision history
    (decisions and inspections newest first, permits, registrations): a fixed number of queries.
    Raises ``Facility.DoesNotExist``, also for a protected home without ``include_protected``
    (the same answer as for a home that does not exist)."""
    facilities = Facility.objects.filter(facility_id=facility_id.upper())
    if not include_protected:
        facilities = facilities.unprotected()
    return (
        facilities_with_marking(facilities, today=today)
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=Decision.objects.order_by("-decision_date", "-id").prefetch_related(
                    Prefetch("findings", queryset=Finding.objects.order_by("id"))
                ),
            ),
            Prefetch("inspections", queryset=Inspection.objects.order_by("-start_date", "-id")),
            Prefetch("permits", queryset=Permit.objects.order_by("-granted_on", "-id")),
            Prefetch(
                "registrations", queryset=Registration.objects.order_by("-registered_on", "-id")
            ),
        )
        .get()
    )


def supervision_by_facility(
    facilities: list[Facility], *, today: datetime.date | None = None
) -> dict[int, Supervision]:
    """What supervision found for each of ``facilities`` (a page of search hits, say): their
    decisions and findings in two queries, whatever their number, and the derived facts
    (register.supervision.supervision_of)."""
    today = today or timezone.localdate()
    decisions = Decision.objects.filter(facility__in=[f.pk for f in facilities]).prefetch_related(
        Prefetch("findings", queryset=Finding.objects.order_by("id"))
    )
    by_facility: dict[int, list[Decision]] = {f.pk: [] for f in facilities}
    for decision in decisions:
        by_facility[decision.facility_id].append(decision)
    return {pk: supervision_of(found, today=today) for pk, found in by_facility.items()}


def provider_facilities(
    provider: Provider, *, include_protected: bool = False, today: datetime.date | None = None
) -> QuerySet[Facility]:
    """All facilities of one provider, active and closed, with their markings: one query.
    Protected homes only with ``include_protected``."""
    facilities = provider.facilities.all()
    if not include_protected:
        facilities = facilities.unprotected()
    return facilities_with_marking(facilities, today=today).order_by("name_key", "facility_id")


def providers_for(*, include_protected: bool) -> QuerySet[Provider]:
    """The providers a viewer may learn of: without ``include_protected``, none whose every home
    is protected."""
    return Provider.objects.all() if include_protected else Provider.objects.shown_to_outsiders()


# Findings (API, open data) ---------------------------------------------------------------------


def findings_with_state(
    queryset: QuerySet[Finding] | None = None, *, today: datetime.date | None = None
) -> QuerySet[Finding]:
    """Findings annotated with ``requirement_state``: register.supervision.requirement_state in
    SQL (None for a finding without a requirement), so a list can filter and page on it in one
    query. The latest decision that follows up the finding's decision with a finding in the same
    area settles it: not met where that found a deficiency again, else met; without one it is
    overdue once its day has passed, open before. tests/test_api_findings.py holds it to the
    Python's answers."""
    queryset = Finding.objects.all() if queryset is None else queryset
    today = today or timezone.localdate()
    settling = (
        Finding.objects.filter(decision__follows_up=OuterRef("decision"), area=OuterRef("area"))
        .order_by("-decision__decision_date", "-decision_id")
        .values("assessment")[:1]
    )
    return queryset.alias(settled_assessment=Subquery(settling)).annotate(
        requirement_state=Case(
            When(requirement="", then=Value(None)),
            When(
                settled_assessment__in=DEFICIENT_ASSESSMENTS,
                then=Value(RequirementState.NOT_MET),
            ),
            When(settled_assessment__isnull=False, then=Value(RequirementState.MET)),
            When(due_date__lt=today, then=Value(RequirementState.OVERDUE)),
            default=Value(RequirementState.OPEN),
            output_field=CharField(),
        )
    )
