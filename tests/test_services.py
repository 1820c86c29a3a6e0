import datetime

import pytest
from django.core.exceptions import ValidationError

from register import services
from register.codes import (
    STATUS_FROM_OUTCOME,
    AppealStatus,
    FacilityStatus,
    Outcome,
    PermitStatus,
)
from register.models import Decision, Facility, Permit, Provider
from tests.factories import DecisionFactory, FacilityFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def reload(facility: Facility) -> Facility:
    return Facility.objects.get(pk=facility.pk)


@pytest.mark.parametrize(
    "outcome,status",
    [
        (Outcome.ATERKALLELSE, FacilityStatus.ATERKALLAD),
        (Outcome.FORBUD, FacilityStatus.FORBUD),
    ],
)
def test_decision_save__revocation_or_prohibition__changes_status_as_of_decision_date(
    outcome, status
):
    facility = FacilityFactory()
    DecisionFactory(facility=facility, outcome=outcome, decision_date=datetime.date(2025, 3, 4))

    facility = reload(facility)
    assert facility.status == status
    assert facility.status_date == datetime.date(2025, 3, 4)


def test_decision_save__status_change__recorded_in_history_with_the_decision_as_reason(
    registrator,
):
    facility = FacilityFactory()
    decision = Decision(
        facility=facility,
        diarienummer="3.2.2-13748/2022",
        kind="tillsyn",
        decision_date=datetime.date(2022, 6, 16),
        outcome=Outcome.ATERKALLELSE,
    )
    services.decision_save(decision=decision, actor=registrator)

    latest = reload(facility).history.latest()
    assert latest.status == FacilityStatus.ATERKALLAD
    assert latest.prev_record.status == FacilityStatus.AKTIV
    assert latest.history_user == registrator
    assert latest.history_change_reason == ("Beslut 3.2.2-13748/2022: Återkallelse av tillstånd")


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome.INGA_BRISTER,
        Outcome.BRISTER,
        Outcome.FORELAGGANDE,
        Outcome.FORELAGGANDE_VITE,
        Outcome.SANKTIONSAVGIFT,
        Outcome.TILLSTAND_BEVILJAT,
        Outcome.TILLSTAND_AVSLAG,
    ],
)
def test_decision_save__other_outcomes__leave_status_alone(outcome):
    facility = FacilityFactory()
    DecisionFactory(facility=facility, outcome=outcome)
    assert reload(facility).status == FacilityStatus.AKTIV


def test_decision_save__older_prohibition__does_not_override_a_later_revocation():
    facility = FacilityFactory()
    DecisionFactory(
        facility=facility, outcome=Outcome.ATERKALLELSE, decision_date=datetime.date(2024, 6, 1)
    )
    DecisionFactory(
        facility=facility, outcome=Outcome.FORBUD, decision_date=datetime.date(2023, 1, 1)
    )

    facility = reload(facility)
    assert (facility.status, facility.status_date) == (
        FacilityStatus.ATERKALLAD,
        datetime.date(2024, 6, 1),
    )


def test_decision_save__later_ordinary_decision__does_not_lift_a_prohibition():
    facility = FacilityFactory()
    DecisionFactory(
        facility=facility, outcome=Outcome.BRISTER, decision_date=datetime.date(2024, 2, 1)
    )
    DecisionFactory(
        facility=facility, outcome=Outcome.FORBUD, decision_date=datetime.date(2024, 1, 10)
    )

    facility = reload(facility)
    assert (facility.status, facility.status_date) == (
        FacilityStatus.FORBUD,
        datetime.date(2024, 1, 10),
    )


def test_decision_save__old_decision_entered_late__does_not_undo_a_later_closure():
    facility = FacilityFactory(
        status=FacilityStatus.NEDLAGD,
        status_date=datetime.date(2020, 6, 30),
        end_date=datetime.date(2020, 6, 30),
    )
    DecisionFactory(
        facility=facility, outcome=Outcome.FORBUD, decision_date=datetime.date(2016, 1, 10)
    )

    assert reload(facility).status == FacilityStatus.NEDLAGD


def test_decision_save__revocation__revokes_the_valid_permit():
    facility = FacilityFactory()
    services.permit_save(
        permit=Permit(facility=facility, diarienummer="8.5-100/2015", status="gallande")
    )
    DecisionFactory(facility=facility, outcome=Outcome.ATERKALLELSE)
    assert Permit.objects.get(diarienummer="8.5-100/2015").status == PermitStatus.ATERKALLAT


def test_decision_save__revocation_overturned_by_court__gives_status_and_permit_back():
    facility = FacilityFactory()
    services.permit_save(permit=Permit(facility=facility, diarienummer="8.5-100/2015"))
    decision = DecisionFactory(facility=facility, outcome=Outcome.ATERKALLELSE)
    assert reload(facility).status == FacilityStatus.ATERKALLAD

    decision.appeal_status = AppealStatus.UPPHAVT
    services.decision_save(decision=decision)

    facility = reload(facility)
    assert facility.status == FacilityStatus.AKTIV
    assert facility.history.latest().history_change_reason.endswith("upphävt av domstol")
    assert Permit.objects.get(diarienummer="8.5-100/2015").status == PermitStatus.GALLANDE


@pytest.mark.parametrize(
    "outcome,label",
    [
        (Outcome.ATERKALLELSE, "Tillståndet återkallat"),
        (Outcome.FORBUD, "Förbud mot verksamheten"),
    ],
)
def test_facility_save__status_a_decision_gave__change_refused_nothing_written(outcome, label):
    facility = FacilityFactory()
    DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-2/2024",
        outcome=outcome,
        decision_date=datetime.date(2024, 3, 1),
    )
    history_rows = Facility.history.count()
    facility = reload(facility)
    facility.status = FacilityStatus.AKTIV
    facility.places = 9

    with pytest.raises(ValidationError) as refused:
        services.facility_save(facility=facility)

    assert refused.value.message_dict == {
        "status": [
            f"Statusen ”{label}” följer av beslut 3.2.2-2/2024 (2024-03-01) och ändras bara av "
            "ett senare beslut, eller när en domstol upphäver beslutet (överklagande: upphävt)."
        ]
    }
    stored = reload(facility)
    assert (stored.status, stored.places) == (STATUS_FROM_OUTCOME[outcome], 6)
    assert Facility.history.count() == history_rows


def test_facility_save__status_a_decision_gave__other_fields_still_saved():
    facility = FacilityFactory()
    DecisionFactory(facility=facility, outcome=Outcome.FORBUD)
    facility = reload(facility)
    facility.places = 9

    services.facility_save(facility=facility)

    assert (reload(facility).status, reload(facility).places) == (FacilityStatus.FORBUD, 9)


def test_facility_save__status_staff_set__changed_freely():
    """Only a decision's status is kept: one a file or a registrator set is not."""
    facility = FacilityFactory(status=FacilityStatus.NEDLAGD, end_date=datetime.date(2024, 1, 1))
    facility.status = FacilityStatus.AKTIV

    services.facility_save(facility=facility)

    assert reload(facility).status == FacilityStatus.AKTIV


def test_decision_save__revocation_after_a_prohibition__still_changes_the_status():
    """A later decision changes a status an earlier one gave: the rule is not for decisions."""
    facility = FacilityFactory()
    DecisionFactory(
        facility=facility, outcome=Outcome.FORBUD, decision_date=datetime.date(2024, 1, 10)
    )
    DecisionFactory(
        facility=facility, outcome=Outcome.ATERKALLELSE, decision_date=datetime.date(2024, 5, 2)
    )

    facility = reload(facility)
    assert (facility.status, facility.status_date) == (
        FacilityStatus.ATERKALLAD,
        datetime.date(2024, 5, 2),
    )


def test_decision_save__future_date__refused_and_nothing_written():
    facility = FacilityFactory()
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError) as error:
        DecisionFactory(facility=facility, outcome=Outcome.FORBUD, decision_date=tomorrow)
    assert "decision_date" in error.value.message_dict
    assert Decision.objects.count() == 0
    assert reload(facility).status == FacilityStatus.AKTIV


def test_provider_save__invalid_organisation_number__refused_with_swedish_message():
    with pytest.raises(ValidationError) as error:
        ProviderFactory(organisation_number="212000-0747")
    assert error.value.message_dict == {"organisation_number": ["kontrollsiffran stämmer inte"]}
    assert Provider.objects.count() == 0


def test_provider_save__number_stored_in_canonical_form():
    provider = ProviderFactory(organisation_number="162120000746")
    assert Provider.objects.get(pk=provider.pk).organisation_number == "212000-0746"


def test_provider_save__duplicate_organisation_number__refused():
    ProviderFactory(organisation_number="212000-0746")
    with pytest.raises(ValidationError) as error:
        ProviderFactory(organisation_number="2120000746")
    assert "organisation_number" in error.value.message_dict


def test_facility_save__closed_without_end_date__refused():
    with pytest.raises(ValidationError) as error:
        FacilityFactory(status=FacilityStatus.NEDLAGD, end_date=None)
    assert error.value.messages == ["En nedlagd verksamhet måste ha ett slutdatum."]


def test_facility_save__age_from_above_age_to__refused():
    with pytest.raises(ValidationError) as error:
        FacilityFactory(age_from=17, age_to=13)
    assert error.value.messages == ["Åldern från får inte vara högre än åldern till."]


def test_facility_upsert__same_values_twice__second_writes_no_history():
    facility = FacilityFactory(name="Ängen")
    values = {"name": "Ängen", "places": 6}
    before = facility.history.count()

    _, result = services.facility_upsert(facility_id=facility.facility_id, values=values)

    assert result == "unchanged"
    assert reload(facility).history.count() == before


def test_facility_upsert__changed_value__updates_and_keeps_before_and_after():
    facility = FacilityFactory(places=6)

    _, result = services.facility_upsert(
        facility_id=facility.facility_id, values={"places": 8}, reason="import x.csv"
    )

    assert result == "updated"
    latest = reload(facility).history.latest()
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("places", 6, 8)]
    assert latest.history_change_reason == "import x.csv"


def test_manager_set_current__another_person__ends_the_earlier_period():
    facility = FacilityFactory()
    first = {"name": "Test Testsson", "personal_identity_number": "19811218-9876"}
    services.manager_set_current(facility=facility, values=first)
    second = {"name": "Prov Provsson", "personal_identity_number": "19811278-9873"}

    assert services.manager_set_current(facility=facility, values=second) == "created"

    managers = list(facility.managers.order_by("id"))
    assert [m.name for m in managers] == ["Test Testsson", "Prov Provsson"]
    assert managers[0].end_date is not None
    assert managers[1].end_date is None


def test_manager_set_current__same_person__updated_in_place():
    facility = FacilityFactory()
    values = {"name": "Test Testsson", "personal_identity_number": "811218-9876"}
    services.manager_set_current(facility=facility, values=values)
    manager = facility.managers.get()
    assert manager.personal_identity_number == "19811218-9876"

    changed = {
        "name": "Test Testsson",
        "personal_identity_number": "19811218-9876",
        "email": "Test@Example.com",
    }
    assert services.manager_set_current(facility=facility, values=changed) == "updated"
    assert facility.managers.get().email == "test@example.com"


def test_register_object_delete__leaves_a_deletion_row_in_history(registrator):
    provider = ProviderFactory()
    services.register_object_delete(instance=provider, actor=registrator, reason="felregistrerad")
    deleted = Provider.history.filter(history_type="-").get()
    assert deleted.history_user == registrator
    assert deleted.history_change_reason == "felregistrerad"


# The latest decision and inspection kept on the facility (refresh_latest) ---------------------


def latest(facility) -> tuple:
    facility.refresh_from_db()
    return (
        facility.latest_decision_date,
        facility.latest_outcome,
        facility.latest_appeal_status,
        facility.latest_decision_diarienummer,
        facility.last_inspection_date,
    )


def test_latest__follows_every_write_of_decisions_and_inspections():
    from tests.factories import InspectionFactory

    facility = FacilityFactory()
    other = FacilityFactory()
    assert latest(facility) == (None, None, None, None, None)

    older = DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-1/2023",
        decision_date=datetime.date(2023, 5, 1),
        outcome=Outcome.BRISTER,
    )
    newer = DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-2/2024",
        decision_date=datetime.date(2024, 5, 1),
        outcome=Outcome.INGA_BRISTER,
    )
    InspectionFactory(facility=facility, start_date=datetime.date(2024, 3, 1))
    assert latest(facility) == (
        datetime.date(2024, 5, 1),
        Outcome.INGA_BRISTER,
        AppealStatus.EJ_OVERKLAGAT,
        "3.2.2-2/2024",
        datetime.date(2024, 3, 1),
    )

    # Changed: a court overturns it.
    newer.appeal_status = AppealStatus.UPPHAVT
    services.decision_save(decision=newer)
    assert latest(facility)[2] == AppealStatus.UPPHAVT
    # Moved to another facility: both are brought up to date.
    newer.facility = other
    services.decision_save(decision=newer)
    assert latest(facility)[:4] == (
        datetime.date(2023, 5, 1),
        Outcome.BRISTER,
        AppealStatus.EJ_OVERKLAGAT,
        "3.2.2-1/2023",
    )
    assert latest(other)[3] == "3.2.2-2/2024"
    # Removed.
    services.register_object_delete(instance=older)
    assert latest(facility)[:4] == (None, None, None, None)
    # Created in bulk.
    services.register_bulk_create(
        Decision,
        [
            Decision(
                facility=facility,
                diarienummer="3.2.2-3/2025",
                kind="tillsyn",
                decision_date=datetime.date(2025, 1, 9),
                outcome=Outcome.FORELAGGANDE,
            )
        ],
    )
    assert latest(facility)[:2] == (datetime.date(2025, 1, 9), Outcome.FORELAGGANDE)


def test_latest__a_facility_saved_from_an_old_copy_keeps_its_latest_decision():
    facility = FacilityFactory()
    stale = Facility.objects.get(pk=facility.pk)
    DecisionFactory(facility=facility, decision_date=datetime.date(2024, 5, 1))

    stale.summary = "Ändrad sammanfattning."
    services.facility_save(facility=stale)

    assert latest(facility)[0] == datetime.date(2024, 5, 1)
    assert facility.summary == "Ändrad sammanfattning."
