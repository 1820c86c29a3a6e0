"""What supervision found, derived (register/supervision.py): requirement states, recurring
deficiencies, a temporary prohibition before, on and after its last day, a decision a court
overturned; and the SQL the search filters on giving the same answers as the Python."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from register import services
from register.codes import (
    AppealStatus,
    Assessment,
    FacilityStatus,
    Outcome,
    RequirementState,
    ReviewArea,
)
from register.models import Decision, Facility, Finding
from register.selectors import FacilitySearch, SearchResults, facility_with_history
from register.supervision import current_status, supervision_of
from tests.factories import DecisionFactory, FacilityFactory, FindingFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 10)
SAFETY = ReviewArea.TRYGGHET_SAKERHET
STAFF = ReviewArea.KOMPETENS_BEMANNING


def supervision(facility, today):
    return supervision_of(facility_with_history(facility.facility_id).decisions.all(), today=today)


def injunction(facility, *, date=DAY, area=SAFETY, due=datetime.date(2025, 6, 1), **kw):
    decision = DecisionFactory(
        facility=facility, decision_date=date, outcome=Outcome.FORELAGGANDE, **kw
    )
    FindingFactory(
        decision=decision,
        area=area,
        assessment=Assessment.BRIST,
        observation="Personalen saknar rutiner för att larma vid hot.",
        requirement="Ta fram rutiner för larm och redovisa dem.",
        due_date=due,
    )
    return decision


def follow_up(facility, earlier, *, date, assessment, area=SAFETY):
    decision = DecisionFactory(
        facility=facility,
        decision_date=date,
        outcome=Outcome.INGA_BRISTER if assessment == Assessment.INGEN_BRIST else Outcome.BRISTER,
        follows_up=earlier,
    )
    FindingFactory(decision=decision, area=area, assessment=assessment)
    return decision


def states(facility, today):
    return [
        r.state
        for entry in supervision(facility, today).decisions
        for r in entry.requirements.values()
    ]


def unresolved_column(facility) -> int:
    return Facility.objects.get(pk=facility.pk).unresolved_requirements


def without_unresolved(today) -> list[str]:
    search = FacilitySearch(no_unresolved_requirement=True)
    return [f.facility_id for f in SearchResults(search, today=today)[:100]]


# Requirements ---------------------------------------------------------------------------------


def test_requirement__open_before_its_day__overdue_after_it():
    facility = FacilityFactory()
    injunction(facility)
    assert states(facility, datetime.date(2025, 6, 1)) == [RequirementState.OPEN]
    assert states(facility, datetime.date(2025, 6, 2)) == [RequirementState.OVERDUE]
    # Both are "not followed up": the search's column counts it either way.
    assert unresolved_column(facility) == 1
    assert facility.facility_id not in without_unresolved(datetime.date(2025, 6, 2))


def test_requirement__without_a_day__stays_open():
    facility = FacilityFactory()
    injunction(facility, due=None)
    assert states(facility, datetime.date(2030, 1, 1)) == [RequirementState.OPEN]


def test_requirement__met_when_a_follow_up_finds_no_deficiency_in_the_area():
    facility = FacilityFactory()
    earlier = injunction(facility)
    later = follow_up(facility, earlier, date=datetime.date(2025, 9, 1), assessment="ingen_brist")
    found = supervision(facility, datetime.date(2025, 10, 1))
    (requirement,) = [r for e in found.decisions for r in e.requirements.values()]
    assert requirement.state == RequirementState.MET
    assert requirement.settled_by == later
    assert found.unresolved_requirements == []
    assert unresolved_column(facility) == 0
    assert facility.facility_id in without_unresolved(datetime.date(2025, 10, 1))


def test_requirement__not_met_when_the_follow_up_finds_it_again():
    facility = FacilityFactory()
    earlier = injunction(facility)
    follow_up(facility, earlier, date=datetime.date(2025, 9, 1), assessment=Assessment.BRIST)
    assert states(facility, datetime.date(2025, 10, 1)) == [RequirementState.NOT_MET]
    assert unresolved_column(facility) == 0


def test_requirement__a_follow_up_of_another_area_leaves_it_overdue():
    facility = FacilityFactory()
    earlier = injunction(facility)
    follow_up(
        facility, earlier, date=datetime.date(2025, 9, 1), assessment="ingen_brist", area=STAFF
    )
    assert states(facility, datetime.date(2025, 10, 1)) == [RequirementState.OVERDUE]
    assert unresolved_column(facility) == 1


def test_requirement__removing_the_follow_up_finding_opens_it_again():
    facility = FacilityFactory()
    earlier = injunction(facility)
    later = follow_up(facility, earlier, date=datetime.date(2025, 9, 1), assessment="ingen_brist")
    assert unresolved_column(facility) == 0
    services.findings_replace(decision=later, findings=[])
    assert unresolved_column(facility) == 1
    assert states(facility, datetime.date(2025, 10, 1)) == [RequirementState.OVERDUE]


def test_requirement__of_an_overturned_decision_is_not_outstanding():
    facility = FacilityFactory()
    injunction(facility, appeal_status=AppealStatus.UPPHAVT)
    found = supervision(facility, datetime.date(2025, 10, 1))
    assert found.unresolved_requirements == []
    assert unresolved_column(facility) == 0


# Recurring deficiencies -----------------------------------------------------------------------


def test_recurring__same_area_deficient_twice_within_three_years():
    facility = FacilityFactory()
    injunction(facility, date=datetime.date(2022, 3, 11))
    injunction(facility, date=datetime.date(2025, 3, 10))
    injunction(facility, date=datetime.date(2025, 3, 10), area=STAFF)
    found = supervision(facility, datetime.date(2025, 4, 1))
    assert [(r.area, len(r.decisions)) for r in found.recurring] == [(SAFETY, 2)]
    assert [r.area for r in found.recent_recurring] == [SAFETY]


def test_recurring__not_when_more_than_three_years_apart():
    facility = FacilityFactory()
    injunction(facility, date=datetime.date(2022, 3, 9))
    injunction(facility, date=datetime.date(2025, 3, 10))
    assert supervision(facility, datetime.date(2025, 4, 1)).recurring == []


def test_recurring__an_overturned_decision_does_not_count():
    facility = FacilityFactory()
    injunction(facility, date=datetime.date(2024, 3, 1), appeal_status=AppealStatus.UPPHAVT)
    injunction(facility, date=datetime.date(2025, 3, 10))
    assert supervision(facility, datetime.date(2025, 4, 1)).recurring == []


# Temporary prohibition ------------------------------------------------------------------------

LAST_DAY = datetime.date(2025, 6, 30)


def temporary_prohibition(facility, **kw):
    return DecisionFactory(
        facility=facility,
        decision_date=DAY,
        outcome=Outcome.TILLFALLIGT_FORBUD,
        prohibition_until=LAST_DAY,
        **kw,
    )


def status_on(facility, day):
    facility = Facility.objects.get(pk=facility.pk)
    found = [
        f.facility_id
        for f in SearchResults(FacilitySearch(statuses=("tillfalligt_forbud",)), today=day)[:10]
    ]
    active = [f.facility_id for f in SearchResults(FacilitySearch(), today=day)[:10]]
    status = current_status(facility, day)
    # The search finds it under the status it has that day, and only there.
    assert (facility.facility_id in found) == (status == FacilityStatus.TILLFALLIGT_FORBUD)
    assert (facility.facility_id in active) == (status == FacilityStatus.AKTIV)
    return status


def test_temporary_prohibition__holds_from_its_date_to_its_last_day():
    facility = FacilityFactory()
    temporary_prohibition(facility)
    assert Facility.objects.get(pk=facility.pk).status == FacilityStatus.AKTIV  # stored
    assert status_on(facility, DAY) == FacilityStatus.TILLFALLIGT_FORBUD
    assert status_on(facility, LAST_DAY) == FacilityStatus.TILLFALLIGT_FORBUD
    assert status_on(facility, LAST_DAY + datetime.timedelta(days=1)) == FacilityStatus.AKTIV
    assert supervision(facility, LAST_DAY).temporary_prohibition is not None
    after = supervision(facility, LAST_DAY + datetime.timedelta(days=1))
    assert after.temporary_prohibition is None
    assert after.ended_temporary_prohibition is not None


def test_temporary_prohibition__before_on_and_after_its_last_day():
    facility = FacilityFactory()
    temporary_prohibition(facility)
    before, after = LAST_DAY - datetime.timedelta(days=1), LAST_DAY + datetime.timedelta(days=1)
    assert status_on(facility, before) == FacilityStatus.TILLFALLIGT_FORBUD
    assert status_on(facility, LAST_DAY) == FacilityStatus.TILLFALLIGT_FORBUD
    assert status_on(facility, after) == FacilityStatus.AKTIV


def test_temporary_prohibition__overturned_by_a_court_changes_no_status():
    facility = FacilityFactory()
    temporary_prohibition(facility, appeal_status=AppealStatus.UPPHAVT)
    assert status_on(facility, DAY) == FacilityStatus.AKTIV
    assert supervision(facility, DAY).temporary_prohibition is None


def test_temporary_prohibition__a_later_prohibition_replaces_it():
    facility = FacilityFactory()
    temporary_prohibition(facility)
    DecisionFactory(
        facility=facility, decision_date=DAY + datetime.timedelta(days=20), outcome=Outcome.FORBUD
    )
    assert status_on(facility, DAY + datetime.timedelta(days=30)) == FacilityStatus.FORBUD
    assert Facility.objects.get(pk=facility.pk).temporary_prohibition_until is None


def test_temporary_prohibition__over_a_closed_home_changes_nothing():
    facility = FacilityFactory(status=FacilityStatus.NEDLAGD, end_date=DAY)
    temporary_prohibition(facility)
    assert status_on(facility, DAY) == FacilityStatus.NEDLAGD


def test_overturned_prohibition__changes_no_status():
    facility = FacilityFactory()
    DecisionFactory(
        facility=facility,
        decision_date=DAY,
        outcome=Outcome.FORBUD,
        appeal_status=AppealStatus.UPPHAVT,
    )
    assert Facility.objects.get(pk=facility.pk).status == FacilityStatus.AKTIV


# Rules the database and the services hold ------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"prohibition_until": None}, "prohibition_until", "sista dag"),
        ({"prohibition_until": DAY}, "prohibition_until", "efter beslutsdatum"),
        ({"prohibition_until": datetime.date(2025, 9, 11)}, "prohibition_until", "högst sex"),
    ],
)
def test_temporary_prohibition__needs_a_last_day_within_six_months(values, field, message):
    facility = FacilityFactory()
    decision = Decision(
        facility=facility,
        diarienummer="3.2.2-1/2025",
        kind="tillsyn",
        decision_date=DAY,
        outcome=Outcome.TILLFALLIGT_FORBUD,
        **values,
    )
    with pytest.raises(ValidationError) as error:
        services.decision_save(decision=decision)
    assert message in str(error.value)
    assert not Decision.objects.exists()


def test_temporary_prohibition__six_months_to_the_day_is_allowed():
    facility = FacilityFactory()
    decision = temporary_prohibition(facility, diarienummer="3.2.2-2/2025")
    decision.prohibition_until = datetime.date(2025, 9, 10)
    services.decision_save(decision=decision)


def test_prohibition_until__only_on_a_temporary_prohibition():
    decision = DecisionFactory.build(facility=FacilityFactory(), prohibition_until=LAST_DAY)
    with pytest.raises(ValidationError):
        services.decision_save(decision=decision)
    assert not Decision.objects.exists()


def test_follows_up__must_be_an_earlier_decision_of_the_same_facility():
    facility, other = FacilityFactory(), FacilityFactory()
    earlier = DecisionFactory(facility=other, decision_date=DAY)
    decision = DecisionFactory.build(facility=facility, follows_up=earlier, decision_date=DAY)
    with pytest.raises(ValidationError) as error:
        services.decision_save(decision=decision)
    assert "annan verksamhet" in str(error.value)
    later = DecisionFactory(facility=facility, decision_date=DAY + datetime.timedelta(days=1))
    decision = DecisionFactory.build(facility=facility, follows_up=later, decision_date=DAY)
    with pytest.raises(ValidationError) as error:
        services.decision_save(decision=decision)
    assert "senare än detta beslut" in str(error.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"assessment": "ingen_brist", "requirement": "Gör något."}, "bara ställas där IVO"),
        ({"assessment": "brist", "due_date": datetime.date(2025, 5, 1)}, "hör till ett krav"),
        (
            {"assessment": "brist", "requirement": "Gör.", "due_date": datetime.date(2025, 3, 9)},
            "före beslutsdatum",
        ),
        ({"assessment": "brist", "fine_amount": 50000}, "föreläggande med vite"),
        ({"assessment": "brist", "observation": "Gäller 19121212-1212."}, "personnummer"),
    ],
)
def test_finding__rules(values, message):
    decision = DecisionFactory(decision_date=DAY, outcome=Outcome.FORELAGGANDE)
    with pytest.raises(ValidationError) as error:
        services.finding_save(finding=Finding(decision=decision, area=SAFETY, **values))
    assert message in str(error.value)
    assert not Finding.objects.exists()


def test_finding__fine_on_an_injunction_with_vite():
    decision = DecisionFactory(decision_date=DAY, outcome=Outcome.FORELAGGANDE_VITE)
    finding = FindingFactory(
        decision=decision, assessment="allvarlig_brist", requirement="Bemanna.", fine_amount=250000
    )
    assert supervision_of([Decision.objects.get(pk=decision.pk)]).latest.fine_total == 250000
    assert finding.history.count() == 1


def test_findings_replace__creates_updates_and_removes_with_history():
    decision = DecisionFactory(decision_date=DAY, outcome=Outcome.FORELAGGANDE)
    first = [
        {"area": SAFETY, "assessment": "brist", "requirement": "Larm.", "due_date": LAST_DAY},
        {"area": STAFF, "assessment": "ingen_brist"},
    ]
    assert services.findings_replace(decision=decision, findings=first) == "created"
    assert services.findings_replace(decision=decision, findings=first) == "unchanged"
    second = [{"area": SAFETY, "assessment": "brist", "requirement": "Larm och rutin."}]
    assert services.findings_replace(decision=decision, findings=second) == "updated"
    assert list(decision.findings.values_list("area", "requirement")) == [
        (SAFETY, "Larm och rutin.")
    ]
    history = Finding.history.order_by("history_id").values_list("area", "history_type")
    assert list(history) == [(SAFETY, "+"), (STAFF, "+"), (STAFF, "-"), (SAFETY, "~")]


def test_findings_replace__an_area_twice_is_refused():
    decision = DecisionFactory(decision_date=DAY)
    with pytest.raises(ValidationError):
        services.findings_replace(
            decision=decision,
            findings=[
                {"area": SAFETY, "assessment": "ingen_brist"},
                {"area": SAFETY, "assessment": "brist"},
            ],
        )
    assert not Finding.objects.exists()


def test_decision_delete__removes_its_findings_with_history():
    facility = FacilityFactory()
    decision = injunction(facility)
    assert unresolved_column(facility) == 1
    services.register_object_delete(instance=decision)
    assert not Finding.objects.exists()
    assert Finding.history.filter(history_type="-").count() == 1
    assert unresolved_column(facility) == 0


# Migration 0010 ---------------------------------------------------------------------------------


def test_migration_0010__a_status_set_by_a_temporary_prohibition_becomes_derived():
    """Before 0010 a temporary prohibition stored ``forbud`` for good; after it, the facility
    is active underneath and the prohibition holds to its last day. A prohibition decided the
    same day keeps ``forbud``."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    temporary, lasting = FacilityFactory(), FacilityFactory()
    temporary_prohibition(temporary)
    DecisionFactory(facility=lasting, decision_date=DAY, outcome=Outcome.FORBUD)
    temporary_prohibition(lasting)
    # As the rows were before the migration (written around the services on purpose).
    Facility.objects.filter(pk__in=[temporary.pk, lasting.pk]).update(
        status=FacilityStatus.FORBUD,
        status_date=DAY,
        temporary_prohibition_until=None,
        unresolved_requirements=7,
    )
    migration = importlib.import_module("register.migrations.0010_findings_and_decision_facts")

    migration.temporary_prohibitions_to_derived_status(apps, SimpleNamespace(connection=connection))

    temporary.refresh_from_db()
    lasting.refresh_from_db()
    assert (temporary.status, temporary.temporary_prohibition_until) == ("aktiv", LAST_DAY)
    assert current_status(temporary, DAY) == FacilityStatus.TILLFALLIGT_FORBUD
    assert current_status(temporary, LAST_DAY + datetime.timedelta(days=1)) == "aktiv"
    assert lasting.status == FacilityStatus.FORBUD
    assert current_status(lasting, DAY) == FacilityStatus.FORBUD
    assert (temporary.unresolved_requirements, lasting.unresolved_requirements) == (0, 0)
