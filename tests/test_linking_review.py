"""The review queue: confirm, choose another facility, mark a new one, and undo each — through
the pages, as a registrator works, with the register's state read back."""

import datetime

import pytest

from access.models import AccessEvent
from access.roles import Role
from linking.matching import match_case_records
from linking.models import Candidate, CaseRecord, CaseStatus, LinkAction
from register import services as register_services
from register.codes import FacilityStatus, PermitStatus
from register.models import Decision, Facility, Inspection, Permit
from tests.factories import (
    CaseRecordFactory,
    DecisionFactory,
    FacilityFactory,
    ProviderFactory,
    make_user,
    sign_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ekbacken(db):
    provider = ProviderFactory(name="Ekbacken Omsorg AB")
    facility = FacilityFactory(
        facility_id="E-1",
        name="Ekbackens HVB",
        provider=provider,
        street_address="Skolvägen 4",
        postal_town="Kalmar",
    )
    register_services.permit_save(
        permit=Permit(facility=facility, diarienummer="8.4.1-100/2019", status="gallande")
    )
    return facility


@pytest.fixture
def sibling(ekbacken):
    """Another home of the same provider, in the same kommun."""
    return FacilityFactory(
        facility_id="E-2", name="Ekbackens stödboende", provider=ekbacken.provider
    )


def make_case(**values) -> CaseRecord:
    defaults = {
        "diarienummer": "8.5-3001/2024",
        "decision_date": datetime.date(2024, 9, 2),
        "outcome": "brister",
        "review_areas": ["dokumentation"],
        "organisation_number": "",
        "facility_name": "Ekbackens HVB",
        "municipality_id": "0880",
        "inspection_start": datetime.date(2024, 6, 11),
        "summary": "IVO fann brister i dokumentationen.",
    }
    case = CaseRecordFactory(**{**defaults, **values})
    match_case_records([case])
    case.refresh_from_db()
    return case


@pytest.fixture
def case(ekbacken, sibling):
    """Name, number and kommun: the right home first, but its sibling too close for the machine."""
    return make_case(organisation_number=ekbacken.provider.organisation_number)


@pytest.fixture
def registrator_client(client):
    user = make_user(Role.IVO_REGISTRATOR)
    sign_in(client, user)
    client.user = user
    return client


def state() -> dict:
    """Everything a link touches, every field but the ``updated_at`` stamp."""

    def rows(model):
        return [
            {key: value for key, value in row.items() if key != "updated_at"}
            for row in model.objects.order_by("pk").values()
        ]

    return {
        model.__name__: rows(model)
        for model in (CaseRecord, Candidate, Decision, Inspection, Facility, Permit)
    }


def url(case: CaseRecord, action: str = "") -> str:
    return f"/ivo/koppling/{case.public_id}/" + (f"{action}/" if action else "")


# The queue and the case page ------------------------------------------------------------------


def test_queue__lists_records_waiting_with_their_best_suggestion(registrator_client, case):
    response = registrator_client.get("/ivo/koppling/")

    page = response.content.decode()
    assert case.status == CaseStatus.REVIEW
    assert "8.5-3001/2024" in page
    assert "Ekbackens HVB (E-1)" in page
    assert "Väntar på granskning (1)" in page


def test_case_page__candidates_beside_the_record_with_scores_and_reasons(registrator_client, case):
    response = registrator_client.get(url(case))

    page = response.content.decode()
    assert response.status_code == 200
    top, second = case.candidates.order_by("rank")[:2]
    assert (top.facility.facility_id, second.facility.facility_id) == ("E-1", "E-2")
    assert "organisationsnumret är huvudmannens (+35)" in page
    assert "namnet liknar verksamhetens (100 %) (+30)" in page
    assert "samma kommun (+10)" in page


def test_case_page__typed_personnummer_as_organisation_number__logged_as_personal_data(
    registrator_client, ekbacken
):
    case = make_case(organisation_number="811218-9876", provider_name="Anna Andersson")

    page = registrator_client.get(url(case)).content.decode()

    assert "811218-9876" in page  # IVO's staff may see it (access/disclosure.py) …
    event = AccessEvent.objects.get(action=AccessEvent.Action.PERSONAL_DATA_VIEW)
    assert (event.object_type, event.object_id) == ("case_record", str(case.public_id))  # … logged


# Confirm, choose another, mark new ------------------------------------------------------------


def test_confirm__decision_and_inspection_enter_the_register_with_who_and_when(
    registrator_client, case, ekbacken
):
    response = registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"}, follow=True)

    assert "Ärendet 8.5-3001/2024 är kopplat till Ekbackens HVB (E-1)" in response.content.decode()
    case.refresh_from_db()
    assert (case.status, case.facility, case.link_method) == ("kopplad", ekbacken, "manuell")
    decision = Decision.objects.get(diarienummer="8.5-3001/2024")
    assert (decision.facility, decision.outcome, decision.decision_date) == (
        ekbacken,
        "brister",
        datetime.date(2024, 9, 2),
    )
    assert decision.history.get().history_user == registrator_client.user
    assert Inspection.objects.get(diarienummer="8.5-3001/2024").facility == ekbacken
    action = LinkAction.objects.get()
    assert (action.kind, action.actor, action.facility) == (
        "bekraftad",
        registrator_client.user,
        ekbacken,
    )


def test_choose_another__a_lower_candidate__recorded_as_another_facility(
    registrator_client, case, sibling
):
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "e-2"})

    case.refresh_from_db()
    assert case.facility == sibling
    assert LinkAction.objects.get().kind == "annan"


def test_choose_another__unknown_id__page_back_with_the_error_and_nothing_written(
    registrator_client, case
):
    before = state()

    response = registrator_client.post(url(case, "koppla"), {"verksamhetsid": "X-404"})

    assert response.status_code == 400
    assert "Det finns ingen verksamhet med id X-404 i registret." in response.content.decode()
    assert state() == before
    assert not LinkAction.objects.exists()


def test_choose_another__malformed_id__page_back_with_the_error(registrator_client, case):
    response = registrator_client.post(url(case, "koppla"), {"verksamhetsid": "K 0880/1"})

    assert response.status_code == 400
    assert (
        "Ska vara 1–32 tecken: bokstäver a–z, siffror och bindestreck." in response.content.decode()
    )


def test_link__diarienummer_already_a_decision_of_another_facility__refused(
    registrator_client, case, sibling
):
    DecisionFactory(facility=sibling, diarienummer="8.5-3001/2024")
    before = state()

    response = registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})

    assert response.status_code == 409
    assert (
        "Diarienumret 8.5-3001/2024 finns redan som beslut för verksamheten E-2."
        in response.content.decode()
    )
    assert state() == before


def test_link__already_linked__refused(registrator_client, case):
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})

    response = registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-2"})

    assert response.status_code == 409
    assert LinkAction.objects.count() == 1


def test_mark_new_facility__leaves_the_queue_and_writes_no_decision(registrator_client, case):
    registrator_client.post(url(case, "ny-verksamhet"))

    case.refresh_from_db()
    assert case.status == CaseStatus.NEW_FACILITY
    assert not Decision.objects.exists()
    assert LinkAction.objects.get().kind == "ny_verksamhet"


def test_case_officer__may_not_link(client, case):
    sign_in(client, make_user(Role.IVO_CASE_OFFICER))

    response = client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})

    assert response.status_code == 403
    assert not Decision.objects.exists()


# Undo -----------------------------------------------------------------------------------------


def _undo(client, case, action=None):
    action = action or LinkAction.objects.filter(case_record=case).order_by("-id").first()
    return client.post(url(case, "angra"), {"atgard": str(action.public_id)}, follow=True)


def test_undo_confirm__restores_the_exact_earlier_state(registrator_client, case):
    before = state()
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})
    assert state() != before

    response = _undo(registrator_client, case)

    assert "Ångrat: förslaget bekräftat." in response.content.decode()
    assert state() == before
    undo = LinkAction.objects.get(kind="angrad")
    assert (undo.actor, undo.undoes.kind) == (registrator_client.user, "bekraftad")
    # The register's history keeps both the link and its undoing.
    assert [row.history_type for row in Decision.history.order_by("history_id")] == ["+", "-"]


def test_undo_revocation__facility_status_and_permit_come_back(registrator_client, ekbacken):
    case = make_case(outcome="aterkallelse", review_areas=[], inspection_start=None)
    before = state()
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})
    ekbacken.refresh_from_db()
    assert ekbacken.status == FacilityStatus.ATERKALLAD
    assert Permit.objects.get().status == PermitStatus.ATERKALLAT

    _undo(registrator_client, case)

    assert state() == before
    ekbacken.refresh_from_db()
    assert (ekbacken.status, ekbacken.status_date) == (FacilityStatus.AKTIV, None)
    assert Permit.objects.get().status == PermitStatus.GALLANDE


def test_undo__decision_already_in_the_register__given_back_its_earlier_values(
    registrator_client, case, ekbacken
):
    DecisionFactory(
        facility=ekbacken,
        diarienummer="8.5-3001/2024",
        outcome="inga_brister",
        decision_date=datetime.date(2024, 8, 30),
    )
    before = state()
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})
    assert Decision.objects.get().outcome == "brister"

    _undo(registrator_client, case)

    assert state() == before
    assert Decision.objects.get().outcome == "inga_brister"


def test_undo_automatic_link__the_machine_s_link_undone_by_a_person(registrator_client, ekbacken):
    case = make_case(
        organisation_number=ekbacken.provider.organisation_number,
        street_address="Skolv. 4",
        postal_town="Kalmar",
    )
    assert case.status == CaseStatus.LINKED
    action = LinkAction.objects.get()
    assert (action.kind, action.actor) == ("automatisk", None)

    _undo(registrator_client, case)

    case.refresh_from_db()
    assert case.status == CaseStatus.REVIEW
    assert not Decision.objects.exists()


def test_undo_new_facility_mark__back_in_the_queue(registrator_client, case):
    before = state()
    registrator_client.post(url(case, "ny-verksamhet"))

    _undo(registrator_client, case)

    assert state() == before


def test_undo__register_changed_since__refused_and_nothing_changed(registrator_client, case):
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})
    decision = Decision.objects.get()
    decision.follow_up = "planerad"
    register_services.decision_save(decision=decision)
    before = state()

    response = _undo(registrator_client, case)

    assert (
        "Ärendet eller registret har ändrats efter åtgärden, så den kan inte ångras automatiskt"
        in response.content.decode()
    )
    assert state() == before
    assert not LinkAction.objects.filter(kind="angrad").exists()


def test_undo__twice__refused(registrator_client, case):
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})
    link = LinkAction.objects.get()
    _undo(registrator_client, case, link)

    response = _undo(registrator_client, case, link)

    assert "Åtgärden är redan ångrad." in response.content.decode()
    assert LinkAction.objects.filter(kind="angrad").count() == 1


def test_undo__an_earlier_action__refused(registrator_client, case):
    registrator_client.post(url(case, "ny-verksamhet"))
    mark = LinkAction.objects.get()
    _undo(registrator_client, case, mark)
    registrator_client.post(url(case, "koppla"), {"verksamhetsid": "E-1"})

    response = _undo(registrator_client, case, LinkAction.objects.get(kind="angrad"))

    assert "En ångring kan inte ångras; gör om åtgärden i stället." in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.LINKED


def test_typed_personnummer__withheld_from_anyone_not_allowed_personal_data(rf, ekbacken):
    from access.disclosure import case_provider_facts

    case = make_case(organisation_number="811218-9876", provider_name="Anna Andersson")
    request = rf.get("/")
    request.user = make_user(Role.MUNICIPAL_USER)

    facts = case_provider_facts(case, sole_trader=False, request=request)

    assert (facts.name, facts.organisation_number, facts.withheld) == (
        "Enskild näringsidkare",
        "",
        True,
    )
    assert not AccessEvent.objects.exists()
