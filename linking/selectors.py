"""Reads for IVO's linking pages: the facilities a registrator can choose for a case, and where
each finding of the quality report is corrected.

The search reuses the portal's free text (register.selectors.facility_search: a facility's name,
a legal person's name and organisationsnummer, a diarienummer) and adds what a registrator also
knows a home by: its verksamhetsid and its kommun. Protected homes are in it only for a viewer
the disclosure policy lets see them, decided by the caller (``include_protected``).
"""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When
from django.urls import reverse

from linking import quality
from linking.models import CaseRecord
from register.codes import FacilityStatus
from register.models import Facility, Municipality, Provider, name_key_of
from register.selectors import FacilitySearch, facility_search

SEARCH_LIMIT = 10
# Shorter texts match too much to be worth a query (one letter is in most names); an exact
# verksamhetsid or kommunkod of that length is still found through the longer rule below.
SEARCH_MIN_LENGTH = 2


def facility_choices(
    text: str, *, include_protected: bool, limit: int = SEARCH_LIMIT
) -> list[Facility]:
    """At most ``limit`` facilities for ``text``, the likeliest first: the exact verksamhetsid,
    then ids that begin with it, names that begin with it, names with a word that begins with
    it, names that hold it, and last what matched on the provider, a diarienummer or the kommun.
    Active homes before closed ones within each, then by name. Any status: a decision may
    concern a home that has closed since."""
    text = " ".join(text.split())
    if len(text) < SEARCH_MIN_LENGTH:
        return []
    needle = name_key_of(text)
    identifier = text.upper()
    portal_matches = facility_search(
        FacilitySearch(text=text, statuses=(), include_protected=include_protected)
    ).values("pk")
    condition = (
        Q(pk__in=portal_matches)
        | Q(facility_id__startswith=identifier)
        | Q(municipality_id__in=_municipality_codes(needle))
    )
    queryset = Facility.objects.all() if include_protected else Facility.objects.unprotected()
    return list(
        queryset.filter(condition)
        .select_related("municipality")
        .annotate(
            rank=Case(
                When(facility_id=identifier, then=Value(0)),
                When(facility_id__startswith=identifier, then=Value(1)),
                When(name_key__startswith=needle, then=Value(2)),
                When(name_key__contains=f" {needle}", then=Value(3)),
                When(name_key__contains=needle, then=Value(4)),
                default=Value(5),
                output_field=IntegerField(),
            ),
            closed=Case(
                When(status=FacilityStatus.AKTIV, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("rank", "closed", "name_key", "facility_id")[:limit]
    )


def _municipality_codes(needle: str) -> list[str]:
    """The kommuner whose name begins with the text, or whose code it is. Compared in Python
    (290 rows): SQLite's LIKE folds no "Ö" to "ö"."""
    return [
        code
        for code, name in Municipality.objects.values_list("code", "name")
        if code == needle or name_key_of(name).startswith(needle)
    ]


# The quality report's findings, each with where it is read and where it is corrected ----------

FACILITY_KINDS = frozenset(
    {
        quality.Kind.MISSING_FACTS,
        quality.Kind.PROBABLE_DUPLICATE,
        quality.Kind.INSPECTION_OVERDUE,
        quality.Kind.REVOKED_PERMIT_ACTIVE,
        quality.Kind.MANAGER_ON_SEVERAL,
    }
)
PROVIDER_KINDS = frozenset(
    {quality.Kind.INVALID_ORGANISATION_NUMBER, quality.Kind.PROVIDER_WITHOUT_ACTIVE}
)


@dataclass(frozen=True)
class LinkedFinding:
    finding: quality.Finding
    page_url: str  # the record's own page in the service ("" when it has none)
    fix_url: str  # where a registrar corrects it: the register administration, or the case page
    protected: bool = False  # a protected home: its view is logged (access.disclosure)


def findings_with_links(findings: list[quality.Finding]) -> list[LinkedFinding]:
    """Each finding with the links to its record, in three queries whatever their number."""
    facility_ids = {f.subject for f in findings if f.kind in FACILITY_KINDS}
    provider_ids = {f.subject for f in findings if f.kind in PROVIDER_KINDS}
    diarienummer = {f.subject for f in findings if f.kind == quality.Kind.UNLINKED_DECISION}
    facilities = Facility.objects.filter(facility_id__in=facility_ids).only(
        "facility_id", "protected_by_ivo", "target_groups"
    )
    facility_pks = {facility.facility_id: facility.pk for facility in facilities}
    protected = {facility.facility_id for facility in facilities if facility.is_protected}
    provider_pks = {
        str(public_id): pk
        for public_id, pk in Provider.objects.filter(public_id__in=provider_ids).values_list(
            "public_id", "pk"
        )
    }
    cases = dict(
        CaseRecord.objects.filter(diarienummer__in=diarienummer).values_list(
            "diarienummer", "public_id"
        )
    )
    linked = []
    for finding in findings:
        page_url = fix_url = ""
        if finding.kind in FACILITY_KINDS and finding.subject in facility_pks:
            page_url = reverse("portal:facility", args=[finding.subject])
            fix_url = reverse(
                "admin:register_facility_change", args=[facility_pks[finding.subject]]
            )
        elif finding.kind in PROVIDER_KINDS and finding.subject in provider_pks:
            page_url = reverse("portal:provider", args=[finding.subject])
            fix_url = reverse(
                "admin:register_provider_change", args=[provider_pks[finding.subject]]
            )
        elif finding.kind == quality.Kind.UNLINKED_DECISION and finding.subject in cases:
            # A decision waiting to be linked is corrected where it is linked.
            fix_url = reverse("linking:case", args=[cases[finding.subject]])
        linked.append(
            LinkedFinding(
                finding,
                page_url,
                fix_url,
                protected=finding.kind in FACILITY_KINDS and finding.subject in protected,
            )
        )
    return linked
