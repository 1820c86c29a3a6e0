"""The register's quality report: the defects a registrator should correct, each kind by itself.

Every check is a query or two (with rapidfuzz's ``process.extract`` for the names within each
kommun), so the report stays quick at ten times today's register. No personal data leaves here:
a sole trader is named as the model names them (withheld), a manager by the facilities they are
registered on.

Required facts of an active facility (beyond what the database already enforces): street address
and postort (IVO inspects on site), target groups, age span and gender (a placement is chosen on
them), start date (frekvenstillsyn counts from it), a current manager, and a permit in force for a
private provider or a registration for a municipal or regional one (SiS is entered by IVO
itself, 3 kap. 19 § SoF applies but no duty to notify).
"""

import csv
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz, process

from linking.matching import normalise_address, normalise_name
from linking.models import CaseRecord, CaseStatus
from register import validation
from register.codes import FacilityStatus, Ownership, PermitStatus
from register.models import Facility, Manager, Permit, Provider, Registration
from register.selectors import facilities_with_marking

DUPLICATE_NAME_SIMILARITY = 92


class Kind:
    MISSING_FACTS = "saknade_uppgifter"
    INVALID_ORGANISATION_NUMBER = "ogiltigt_organisationsnummer"
    PROBABLE_DUPLICATE = "trolig_dubblett"
    INSPECTION_OVERDUE = "forsenad_tillsyn"
    REVOKED_PERMIT_ACTIVE = "aterkallat_tillstand_aktiv"
    UNLINKED_DECISION = "beslut_ej_kopplat"
    PROVIDER_WITHOUT_ACTIVE = "huvudman_utan_aktiv_verksamhet"
    MANAGER_ON_SEVERAL = "forestandare_flera_verksamheter"

    ORDER = (
        MISSING_FACTS,
        INVALID_ORGANISATION_NUMBER,
        PROBABLE_DUPLICATE,
        INSPECTION_OVERDUE,
        REVOKED_PERMIT_ACTIVE,
        UNLINKED_DECISION,
        PROVIDER_WITHOUT_ACTIVE,
        MANAGER_ON_SEVERAL,
    )
    LABELS = {
        MISSING_FACTS: gettext_lazy("Verksamheter som saknar uppgifter"),
        INVALID_ORGANISATION_NUMBER: gettext_lazy("Ogiltiga organisationsnummer"),
        PROBABLE_DUPLICATE: gettext_lazy("Troliga dubbletter"),
        INSPECTION_OVERDUE: gettext_lazy(
            "HVB och stödboenden utan inspektion de senaste 12 månaderna (3 kap. 19 § SoF)"
        ),
        REVOKED_PERMIT_ACTIVE: gettext_lazy("Återkallat tillstånd men aktiv verksamhet"),
        UNLINKED_DECISION: gettext_lazy("Beslut som inte är kopplade till en verksamhet"),
        PROVIDER_WITHOUT_ACTIVE: gettext_lazy("Huvudmän utan aktiv verksamhet"),
        MANAGER_ON_SEVERAL: gettext_lazy("Föreståndare på mer än en aktiv verksamhet"),
    }


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str  # verksamhetsid, a provider's public id, or a diarienummer
    name: str  # what a person recognises it by
    detail: str

    @property
    def label(self) -> str:
        return str(Kind.LABELS[self.kind])


def quality_report(*, today: datetime.date | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in (
        _missing_facts,
        _invalid_organisation_numbers,
        _probable_duplicates,
        lambda: _inspection_overdue(today),
        _revoked_permits_on_active,
        _unlinked_decisions,
        _providers_without_active_facility,
        _managers_on_several_facilities,
    ):
        findings.extend(check())
    return findings


def _active() -> Q:
    return Q(status=FacilityStatus.AKTIV)


def _missing_facts() -> Iterable[Finding]:
    facilities = (
        Facility.objects.filter(_active())
        .select_related("provider")
        .annotate(
            has_permit=Exists(
                Permit.objects.filter(facility=OuterRef("pk"), status=PermitStatus.GALLANDE)
            ),
            has_registration=Exists(Registration.objects.filter(facility=OuterRef("pk"))),
            has_manager=Exists(
                Manager.objects.filter(facility=OuterRef("pk"), end_date__isnull=True)
            ),
        )
        .order_by("facility_id")
    )
    for facility in facilities:
        missing = []
        if not facility.street_address:
            missing.append(_("besöksadress"))
        if not facility.postal_town:
            missing.append(_("postort"))
        if not facility.target_groups:
            missing.append(_("målgrupper"))
        if facility.age_from is None or facility.age_to is None:
            missing.append(_("åldersspann"))
        if not facility.gender:
            missing.append(_("kön"))
        if facility.start_date is None:
            missing.append(_("startdatum"))
        if not facility.has_manager:
            missing.append(_("föreståndare"))
        ownership = facility.provider.ownership
        if ownership == Ownership.ENSKILD and not facility.has_permit:
            missing.append(_("gällande tillstånd"))
        if ownership in (Ownership.KOMMUNAL, Ownership.REGIONAL) and not facility.has_registration:
            missing.append(_("anmälan"))
        if missing:
            yield Finding(
                Kind.MISSING_FACTS,
                facility.facility_id,
                facility.name,
                _("saknar %(facts)s") % {"facts": ", ".join(missing)},
            )


def _invalid_organisation_numbers() -> Iterable[Finding]:
    for provider in Provider.objects.order_by("name", "pk"):
        try:
            validation.organisation_number(
                provider.organisation_number, sole_trader=provider.is_sole_trader
            )
        except ValidationError as error:
            # A sole trader's number is a personnummer: it is not repeated here.
            number = "" if provider.is_sole_trader else f"{provider.organisation_number}: "
            yield Finding(
                Kind.INVALID_ORGANISATION_NUMBER,
                str(provider.public_id),
                str(provider),
                number + " ".join(error.messages),
            )


def _probable_duplicates() -> Iterable[Finding]:
    """Active facilities of one type in one kommun with (nearly) the same name or the same street
    address."""
    groups: dict[tuple[str, str], list[Facility]] = defaultdict(list)
    for facility in Facility.objects.filter(_active()).order_by("facility_id"):
        groups[(facility.municipality_id, facility.facility_type)].append(facility)
    for facilities in groups.values():
        if len(facilities) < 2:
            continue
        names = [normalise_name(facility.name) for facility in facilities]
        streets = [
            normalise_address(facility.street_address) if facility.street_address else None
            for facility in facilities
        ]
        for i, first in enumerate(facilities):
            similar = {
                i + 1 + position: score
                for _name, score, position in process.extract(
                    names[i],
                    names[i + 1 :],
                    scorer=fuzz.token_sort_ratio,
                    score_cutoff=DUPLICATE_NAME_SIMILARITY,
                    limit=None,
                )
            }
            for j in range(i + 1, len(facilities)):
                second = facilities[j]
                reasons = []
                if j in similar:
                    reasons.append(
                        _("namnen liknar varandra (%(similarity)s %%)")
                        % {"similarity": round(similar[j])}
                    )
                if streets[i] is not None and streets[i] == streets[j]:
                    reasons.append(_("samma besöksadress"))
                if reasons:
                    yield Finding(
                        Kind.PROBABLE_DUPLICATE,
                        first.facility_id,
                        first.name,
                        _("kan vara samma som %(other)s (%(name)s): %(reasons)s")
                        % {
                            "other": second.facility_id,
                            "name": second.name,
                            "reasons": ", ".join(reasons),
                        },
                    )


def _inspection_overdue(today: datetime.date | None) -> Iterable[Finding]:
    facilities = (
        facilities_with_marking(today=today).filter(inspection_overdue=True).order_by("facility_id")
    )
    for facility in facilities:
        if facility.last_inspection_date:
            detail = _("senast inspekterad %(date)s") % {
                "date": date_format(facility.last_inspection_date, "SHORT_DATE_FORMAT")
            }
        else:
            detail = _("aldrig inspekterad")
        yield Finding(Kind.INSPECTION_OVERDUE, facility.facility_id, facility.name, detail)


def _revoked_permits_on_active() -> Iterable[Finding]:
    permits = (
        Permit.objects.filter(status=PermitStatus.ATERKALLAT, facility__status=FacilityStatus.AKTIV)
        .exclude(facility__permits__status=PermitStatus.GALLANDE)
        .select_related("facility")
        .order_by("facility__facility_id", "diarienummer")
    )
    for permit in permits:
        yield Finding(
            Kind.REVOKED_PERMIT_ACTIVE,
            permit.facility.facility_id,
            permit.facility.name,
            _("tillståndet %(dnr)s är återkallat men verksamheten står som aktiv")
            % {"dnr": permit.diarienummer},
        )


def _unlinked_decisions() -> Iterable[Finding]:
    records = CaseRecord.objects.exclude(status=CaseStatus.LINKED).order_by(
        "decision_date", "diarienummer"
    )
    for record in records:
        yield Finding(
            Kind.UNLINKED_DECISION,
            record.diarienummer,
            record.facility_name,
            _("beslut %(date)s, %(status)s")
            % {
                "date": date_format(record.decision_date, "SHORT_DATE_FORMAT"),
                "status": CaseStatus(record.status).label.lower(),
            },
        )


def _providers_without_active_facility() -> Iterable[Finding]:
    providers = (
        Provider.objects.annotate(
            active=Exists(Facility.objects.filter(_active(), provider=OuterRef("pk"))),
            facility_count=Count("facilities"),
        )
        .filter(active=False)
        .order_by("name", "pk")
    )
    for provider in providers:
        yield Finding(
            Kind.PROVIDER_WITHOUT_ACTIVE,
            str(provider.public_id),
            str(provider),
            _("%(count)s verksamheter, ingen aktiv") % {"count": provider.facility_count},
        )


def _managers_on_several_facilities() -> Iterable[Finding]:
    """The same personnummer as current manager of two or more active facilities. The person is
    named by nothing but the facilities: the report holds no personal data."""
    current = Manager.objects.filter(
        end_date__isnull=True, facility__status=FacilityStatus.AKTIV
    ).exclude(personal_identity_number="")
    shared = (
        current.values("personal_identity_number")
        .annotate(facilities=Count("facility", distinct=True))
        .filter(facilities__gt=1)
        .values("personal_identity_number")
    )
    by_person: dict[str, list[tuple[str, str]]] = defaultdict(list)
    rows = (
        current.filter(personal_identity_number__in=shared)
        .order_by("facility__facility_id")
        .values_list("personal_identity_number", "facility__facility_id", "facility__name")
    )
    for number, facility_id, name in rows:
        by_person[number].append((facility_id, name))
    for facilities in sorted(by_person.values()):
        (first_id, first_name), *others = facilities
        yield Finding(
            Kind.MANAGER_ON_SEVERAL,
            first_id,
            first_name,
            _("samma föreståndare (samma personnummer) är också registrerad på %(others)s")
            % {"others": ", ".join(facility_id for facility_id, _name in others)},
        )


# CSV -------------------------------------------------------------------------------------------

CSV_HEADER = (
    gettext_lazy("Fel"),
    gettext_lazy("Kod"),
    gettext_lazy("Avser"),
    gettext_lazy("Namn"),
    gettext_lazy("Beskrivning"),
)


def write_csv(findings: Iterable[Finding], file: TextIO) -> None:
    """For Excel: a byte-order mark, ``;`` between cells, formulas defused."""
    from register.spreadsheets import csv_cell

    file.write("\ufeff")
    writer = csv.writer(file, delimiter=";")
    writer.writerow([str(title) for title in CSV_HEADER])
    for finding in findings:
        writer.writerow(
            [
                csv_cell(value)
                for value in (
                    finding.label,
                    finding.kind,
                    finding.subject,
                    finding.name,
                    finding.detail,
                )
            ]
        )
