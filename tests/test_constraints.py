"""The database itself holds every invariant it can, whatever code writes to it.

These tests go around the services on purpose (queryset ``update`` and ``bulk_create`` skip
validation) to show that the constraint, not only the validation, refuses the bad row. They run
on SQLite and on PostgreSQL in CI.
"""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from register import services
from register.models import Decision, Facility, Inspection, Provider
from tests.factories import DecisionFactory, FacilityFactory, InspectionFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def refused(queryset, **values) -> bool:
    try:
        with transaction.atomic():
            queryset.update(**values)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(
    "values",
    [
        {"places": -1},
        {"age_from": 17, "age_to": 13},
        {"age_from": 22},
        {"age_to": 22},
        {"start_date": datetime.date(2020, 1, 2), "end_date": datetime.date(2020, 1, 1)},
        {"status": "nedlagd", "end_date": None},
        {"status": "stangd"},
        {"facility_type": "familjehem"},
        {"gender": "okant"},
    ],
    ids=lambda values: ",".join(values),
)
def test_facility_constraint__bad_row__refused_by_database(values):
    facility = FacilityFactory()
    assert refused(Facility.objects.filter(pk=facility.pk), **values)
    assert Facility.objects.get(pk=facility.pk).places == 6


def test_facility_constraint__closed_with_end_date__accepted():
    facility = FacilityFactory()
    assert not refused(
        Facility.objects.filter(pk=facility.pk),
        status="nedlagd",
        end_date=datetime.date(2024, 1, 1),
    )


def test_facility_constraint__duplicate_facility_id__refused_by_database():
    FacilityFactory(facility_id="K0880-001")
    other = FacilityFactory()
    assert refused(Facility.objects.filter(pk=other.pk), facility_id="K0880-001")


def test_provider_constraint__duplicate_organisation_number__refused_by_database():
    ProviderFactory(organisation_number="212000-0746")
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.bulk_create(
            [Provider(organisation_number="212000-0746", name="Kopia", ownership="kommunal")]
        )


def test_provider_constraint__unknown_ownership__refused_by_database():
    provider = ProviderFactory()
    assert refused(Provider.objects.filter(pk=provider.pk), ownership="privat")


def test_decision_constraint__duplicate_diarienummer__refused_by_database():
    DecisionFactory(diarienummer="3.2.2-13748/2022")
    other = DecisionFactory()
    assert refused(Decision.objects.filter(pk=other.pk), diarienummer="3.2.2-13748/2022")


@pytest.mark.parametrize(
    "values", [{"outcome": "godkand"}, {"kind": "anmalan"}, {"appeal_status": "kanske"}]
)
def test_decision_constraint__unknown_code__refused_by_database(values):
    decision = DecisionFactory()
    assert refused(Decision.objects.filter(pk=decision.pk), **values)


def test_inspection_constraint__last_day_before_first__refused_by_database():
    inspection = InspectionFactory(start_date=datetime.date(2024, 5, 2))
    assert refused(Inspection.objects.filter(pk=inspection.pk), end_date=datetime.date(2024, 5, 1))


def test_register_relations__facility_with_decisions__cannot_be_deleted():
    decision = DecisionFactory()
    with pytest.raises(ProtectedError):
        services.register_object_delete(instance=decision.facility)
    assert Facility.objects.filter(pk=decision.facility_id).exists()
