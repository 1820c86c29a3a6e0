"""The quality report finds each planted defect, on the page and in ``quality_report``'s CSV, and
says nothing about a facility without defects."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command

from access.roles import Role
from linking.models import CaseStatus
from linking.quality import Kind, quality_report
from register import services
from register.models import Facility, Inspection, Manager, Permit, Provider, Registration
from tests.factories import (
    CaseRecordFactory,
    FacilityFactory,
    ProviderFactory,
    make_user,
    sign_in,
)
from tests.import_support import personnummer_in_test_range

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 1)


def complete(facility_id: str, name: str, **values) -> Facility:
    """An active HVB with every fact the report asks for, inspected a month ago."""
    defaults = {
        "street_address": f"{name}vägen 1",
        "postal_town": "Kalmar",
        "target_groups": ["npf"],
        "age_from": 13,
        "age_to": 17,
        "gender": "alla",
    }
    facility = FacilityFactory(facility_id=facility_id, name=name, **{**defaults, **values})
    services.permit_save(permit=Permit(facility=facility, diarienummer=f"8.4.1-{facility.pk}/2015"))
    services.manager_save(
        manager=Manager(
            facility=facility, name="Test Testsson", start_date=datetime.date(2015, 1, 1)
        )
    )
    services.inspection_save(
        inspection=Inspection(
            facility=facility,
            diarienummer=f"8.5-{facility.pk}/2026",
            start_date=TODAY - datetime.timedelta(days=30),
        )
    )
    return facility


def found(kind: str) -> list[tuple[str, str]]:
    return [(f.subject, f.detail) for f in quality_report(today=TODAY) if f.kind == kind]


@pytest.fixture
def clean(db):
    return complete("Q-1", "Lindgården")


def test_clean_facility__no_findings(clean):
    assert quality_report(today=TODAY) == []


def test_missing_facts__each_missing_fact_named(clean):
    facility = FacilityFactory(facility_id="Q-2", name="Tallbacken")

    assert found(Kind.MISSING_FACTS) == [
        (
            "Q-2",
            "saknar besöksadress, postort, målgrupper, åldersspann, kön, föreståndare, "
            "gällande tillstånd",
        )
    ]
    assert facility.provider.ownership == "enskild"


def test_missing_facts__municipal_home_without_registration(clean):
    provider = ProviderFactory(
        organisation_number="212000-0746", name="Kalmar kommun", ownership="kommunal"
    )
    facility = complete("Q-3", "Björkhemmet", provider=provider)
    Permit.objects.filter(facility=facility).delete()

    assert found(Kind.MISSING_FACTS) == [("Q-3", "saknar anmälan")]
    services.registration_save(
        registration=Registration(facility=facility, diarienummer="3.2.2-1/2015")
    )
    assert found(Kind.MISSING_FACTS) == []


def test_invalid_organisation_number__found_and_a_sole_trader_s_not_repeated(clean):
    legal = ProviderFactory(name="Felnummer AB")
    sole = ProviderFactory(
        name="Anna Andersson",
        is_sole_trader=True,
        organisation_number=personnummer_in_test_range()[2:],
    )
    # Data from before the register validated numbers: around the services on purpose.
    Provider.objects.filter(pk=legal.pk).update(organisation_number="556000-0002")
    Provider.objects.filter(pk=sole.pk).update(organisation_number="811218-9870")

    findings = found(Kind.INVALID_ORGANISATION_NUMBER)

    assert findings == [
        (str(sole.public_id), "kontrollsiffran stämmer inte"),
        (str(legal.public_id), "556000-0002: kontrollsiffran stämmer inte"),
    ]
    names = [
        f.name for f in quality_report(today=TODAY) if f.kind == Kind.INVALID_ORGANISATION_NUMBER
    ]
    assert "Anna Andersson" not in names


def test_probable_duplicate__same_kommun_and_type_with_nearly_the_same_name(clean):
    complete("Q-4", "Lindgårdens HVB")
    complete("Q-5", "Lindgården", municipality_id="0180")  # Stockholm: another kommun

    assert found(Kind.PROBABLE_DUPLICATE) == [
        ("Q-1", "kan vara samma som Q-4 (Lindgårdens HVB): namnen liknar varandra (95 %)")
    ]


def test_probable_duplicate__same_street_address(clean):
    complete("Q-6", "Solrosen", street_address="Lindgårdenvägen 1")

    assert found(Kind.PROBABLE_DUPLICATE) == [
        ("Q-1", "kan vara samma som Q-6 (Solrosen): samma besöksadress")
    ]


def test_inspection_overdue__hvb_without_inspection_in_twelve_months(clean):
    complete("Q-7", "Granhagen")
    inspection = Inspection.objects.get(facility__facility_id="Q-7")
    inspection.start_date = inspection.end_date = datetime.date(2024, 11, 1)
    services.inspection_save(inspection=inspection)

    assert found(Kind.INSPECTION_OVERDUE) == [("Q-7", "senast inspekterad 2024-11-01")]


def test_revoked_permit__on_an_active_facility(clean):
    Permit.objects.filter(facility=clean).update(status="aterkallat")

    assert found(Kind.REVOKED_PERMIT_ACTIVE) == [
        ("Q-1", f"tillståndet 8.4.1-{clean.pk}/2015 är återkallat men verksamheten står som aktiv")
    ]


def test_unlinked_decision__case_records_not_linked(clean):
    CaseRecordFactory(
        diarienummer="8.5-77/2025",
        decision_date=datetime.date(2025, 4, 2),
        facility_name="Okända hemmet",
        status=CaseStatus.UNMATCHED,
    )

    assert found(Kind.UNLINKED_DECISION) == [
        ("8.5-77/2025", "beslut 2025-04-02, ingen trolig verksamhet")
    ]


def test_provider_without_active_facility(clean):
    closed = FacilityFactory(
        facility_id="Q-8", status="nedlagd", end_date=datetime.date(2024, 12, 31)
    )

    assert found(Kind.PROVIDER_WITHOUT_ACTIVE) == [
        (str(closed.provider.public_id), "1 verksamheter, ingen aktiv")
    ]


def test_manager_on_several_active_facilities__named_by_the_facilities_only(clean):
    other = complete("Q-9", "Ekhagen")
    number = personnummer_in_test_range()
    for facility in (clean, other):
        services.manager_set_current(
            facility=facility, values={"name": "Sara Svensson", "personal_identity_number": number}
        )

    findings = [f for f in quality_report(today=TODAY) if f.kind == Kind.MANAGER_ON_SEVERAL]

    assert [(f.subject, f.detail) for f in findings] == [
        ("Q-1", "samma föreståndare (samma personnummer) är också registrerad på Q-9")
    ]
    assert "Sara" not in str(findings) and number not in str(findings)


# The command and the page -----------------------------------------------------------------------


@pytest.fixture
def defects(clean):
    FacilityFactory(facility_id="Q-2", name="Tallbacken")
    CaseRecordFactory(
        diarienummer="8.5-77/2025",
        facility_name='=HYPERLINK("http://example.com")',
        status=CaseStatus.REVIEW,
    )


def test_command__writes_csv_for_excel(defects, tmp_path):
    path = tmp_path / "kvalitet.csv"
    err = io.StringIO()

    call_command("quality_report", "--output", str(path), stderr=err)

    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeffFel;Kod;Avser;Namn;Beskrivning")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    kinds = [row[1] for row in rows[1:]]
    assert Kind.MISSING_FACTS in kinds and Kind.UNLINKED_DECISION in kinds
    # A would-be formula from the case system is defused.
    assert '\'=HYPERLINK("http://example.com")' in [row[3] for row in rows]
    assert "Beslut som inte är kopplade till en verksamhet: 1" in err.getvalue()


def test_page__every_kind_with_its_findings_for_a_registrator(client, defects):
    sign_in(client, make_user(Role.IVO_REGISTRATOR))

    page = client.get("/ivo/kvalitet/").content.decode()

    for label in Kind.LABELS.values():
        assert str(label) in page
    assert "Tallbacken" in page
    assert "8.5-77/2025" in page


def test_page__csv_download(client, defects):
    sign_in(client, make_user(Role.IVO_ADMIN))

    response = client.get("/ivo/kvalitet/?format=csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().startswith("\ufeffFel;Kod;Avser;Namn;Beskrivning")
