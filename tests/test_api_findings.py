"""Findings and requirements through the API: a facility's status today and its supervision
summary, decisions with their new facts and findings, the findings list, and the search's new
filters through the same selector as the portal. Every derived state comes from
register.supervision (the SQL of the findings list is held to its answers here)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.models import AccessEvent
from register import selectors
from register.codes import (
    AppealStatus,
    Assessment,
    InspectionReason,
    Outcome,
    RequirementState,
    ReviewArea,
)
from register.counties import with_neighbours
from register.models import Decision, Finding
from register.supervision import supervision_of
from tests.api_support import get_json
from tests.factories import DecisionFactory, FacilityFactory, FindingFactory, InspectionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]


def days(number: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=number)


@pytest.fixture
def supervised(db):
    """Homes with supervision in every state: requirements met, not met, open and overdue, a
    recurring deficiency, a vite, a temporary prohibition in force, homes in three län."""
    kalmar = FacilityFactory(facility_id="K-1", name="Ängsgården")
    InspectionFactory(facility=kalmar, diarienummer="3.2.2-90/2025", start_date=days(-100))
    first = DecisionFactory(
        facility=kalmar,
        diarienummer="3.2.2-1/2024",
        decision_date=days(-400),
        outcome=Outcome.FORELAGGANDE,
        review_areas=["trygghet_sakerhet", "dokumentation", "lokaler"],
        legal_reference="13 kap. 8 § socialtjänstlagen (2001:453)",
        inspection_reason=InspectionReason.FREKVENSTILLSYN,
        children_talked_with=4,
    )
    FindingFactory(
        decision=first,
        area=ReviewArea.TRYGGHET_SAKERHET,
        assessment=Assessment.BRIST,
        observation="Rutiner för larm saknades.",
        requirement="Ta fram rutiner för larm.",
        due_date=days(-300),
    )
    FindingFactory(
        decision=first,
        area=ReviewArea.DOKUMENTATION,
        assessment=Assessment.BRIST,
        observation="Genomförandeplaner saknades.",
        requirement="Upprätta genomförandeplaner.",
        due_date=days(-200),
    )
    FindingFactory(decision=first, area=ReviewArea.LOKALER, observation="Lokalerna var lämpliga.")
    second = DecisionFactory(
        facility=kalmar,
        diarienummer="3.2.2-2/2025",
        decision_date=days(-100),
        outcome=Outcome.FORELAGGANDE,
        review_areas=["trygghet_sakerhet", "dokumentation", "delaktighet"],
        follows_up=first,
        inspection_reason=InspectionReason.UPPFOLJNING,
        children_talked_with=2,
    )
    FindingFactory(decision=second, area=ReviewArea.TRYGGHET_SAKERHET)
    FindingFactory(
        decision=second,
        area=ReviewArea.DOKUMENTATION,
        assessment=Assessment.BRIST,
        requirement="Dokumentera varje placering.",
        due_date=days(30),
    )
    FindingFactory(
        decision=second,
        area=ReviewArea.DELAKTIGHET,
        assessment=Assessment.BRIST,
        requirement="Låt barnen delta i planeringen.",
        due_date=days(-10),
    )
    linkoping = FacilityFactory(facility_id="K-2", name="Björkhagen", municipality_id="0580")
    InspectionFactory(facility=linkoping, diarienummer="3.2.2-91/2025", start_date=days(-200))
    fine = DecisionFactory(
        facility=linkoping,
        diarienummer="3.2.2-3/2025",
        decision_date=days(-200),
        outcome=Outcome.FORELAGGANDE_VITE,
        review_areas=["vald_krankningar"],
    )
    FindingFactory(
        decision=fine,
        area=ReviewArea.VALD_KRANKNINGAR,
        assessment=Assessment.ALLVARLIG_BRIST,
        requirement="Utred varje händelse av våld.",
        due_date=days(10),
        fine_amount=100_000,
    )
    stockholm = FacilityFactory(facility_id="K-3", name="Cedern", municipality_id="0180")
    prohibited = FacilityFactory(facility_id="K-4", name="Dalen")
    InspectionFactory(facility=prohibited, diarienummer="3.2.2-92/2025", start_date=days(-20))
    DecisionFactory(
        facility=prohibited,
        diarienummer="3.2.2-4/2025",
        decision_date=days(-10),
        outcome=Outcome.TILLFALLIGT_FORBUD,
        prohibition_until=days(60),
        appeal_status=AppealStatus.OVERKLAGAT,
    )
    return {"kalmar": kalmar, "linkoping": linkoping, "stockholm": stockholm, "first": first}


def _ids(page: dict) -> list[str]:
    return [item["facility_id"] for item in page["items"]]


# The facility: its status today and the supervision summary ------------------------------------


def test_facility__status_today_and_the_temporary_prohibitions_last_day(client, supervised):
    detail = get_json(client, "/api/v1/facilities/K-4")
    assert detail["status"] == "tillfalligt_forbud"
    assert detail["temporary_prohibition_until"] == days(60).isoformat()
    listed = get_json(client, "/api/v1/facilities?status=tillfalligt_forbud")
    assert _ids(listed) == ["K-4"]
    assert listed["items"][0]["temporary_prohibition_until"] == days(60).isoformat()
    # Without a prohibition in force: the stored status and no day.
    other = get_json(client, "/api/v1/facilities/K-1")
    assert (other["status"], other["temporary_prohibition_until"]) == ("aktiv", None)
    # The default search is of active homes: one under a temporary prohibition is not active.
    assert "K-4" not in _ids(get_json(client, "/api/v1/facilities"))


def test_facility__after_the_prohibitions_last_day_the_status_is_what_it_was(
    client, supervised, monkeypatch
):
    later = days(61)
    monkeypatch.setattr(timezone, "localdate", lambda *args: later)
    detail = get_json(client, "/api/v1/facilities/K-4")
    assert (detail["status"], detail["temporary_prohibition_until"]) == ("aktiv", None)


def test_facility__supervision_summary_from_the_decisions_and_findings(client, supervised):
    detail = get_json(client, "/api/v1/facilities/K-1")

    assert detail["unresolved_requirements"] == 2
    assert detail["supervision"] == {
        "open_requirements": [
            {
                "diarienummer": "3.2.2-2/2025",
                "decision_date": days(-100).isoformat(),
                "area": "dokumentation",
                "requirement": "Dokumentera varje placering.",
                "due_date": days(30).isoformat(),
                "state": "open",
            }
        ],
        "overdue_requirements": [
            {
                "diarienummer": "3.2.2-2/2025",
                "decision_date": days(-100).isoformat(),
                "area": "delaktighet",
                "requirement": "Låt barnen delta i planeringen.",
                "due_date": days(-10).isoformat(),
                "state": "overdue",
            }
        ],
        "recurring_deficiencies": [
            {"area": "dokumentation", "decisions": ["3.2.2-1/2024", "3.2.2-2/2025"]}
        ],
        "latest_inspection": {
            "diarienummer": "3.2.2-2/2025",
            "decision_date": days(-100).isoformat(),
            "inspection_reason": "uppfoljning",
            "children_talked_with": 2,
        },
    }


def test_facility__without_decisions_an_empty_summary(client, supervised):
    detail = get_json(client, "/api/v1/facilities/K-3")
    assert detail["supervision"] == {
        "open_requirements": [],
        "overdue_requirements": [],
        "recurring_deficiencies": [],
        "latest_inspection": None,
    }


def test_facility__decisions_carry_their_facts_and_findings_with_states(client, supervised):
    decisions = get_json(client, "/api/v1/facilities/K-1")["decisions"]
    first = decisions[1]

    assert {key: first[key] for key in DECISION_FACTS} == {
        "legal_reference": "13 kap. 8 § socialtjänstlagen (2001:453)",
        "appeal_status": "ej_overklagat",
        "follows_up_diarienummer": None,
        "inspection_reason": "frekvenstillsyn",
        "children_talked_with": 4,
        "prohibition_until": None,
    }
    assert decisions[0]["follows_up_diarienummer"] == "3.2.2-1/2024"
    # In the code list's order of areas, each requirement in its state today.
    assert [(f["area"], f["assessment"], f["requirement_state"]) for f in first["findings"]] == [
        ("trygghet_sakerhet", "brist", "met"),
        ("lokaler", "ingen_brist", None),
        ("dokumentation", "brist", "not_met"),
    ]
    assert first["findings"][0] == {
        "area": "trygghet_sakerhet",
        "assessment": "brist",
        "observation": "Rutiner för larm saknades.",
        "requirement": "Ta fram rutiner för larm.",
        "due_date": days(-300).isoformat(),
        "fine_amount": None,
        "requirement_state": "met",
    }


DECISION_FACTS = (
    "legal_reference",
    "appeal_status",
    "follows_up_diarienummer",
    "inspection_reason",
    "children_talked_with",
    "prohibition_until",
)


# Decisions and the findings list -----------------------------------------------------------


def test_decisions__the_same_facts_and_findings_as_on_the_facility(client, supervised):
    on_facility = {
        d["diarienummer"]: d for d in get_json(client, "/api/v1/facilities/K-1")["decisions"]
    }
    listed = get_json(client, "/api/v1/decisions?facility_id=K-1")["items"]

    assert [d["diarienummer"] for d in listed] == ["3.2.2-2/2025", "3.2.2-1/2024"]
    for decision in listed:
        assert decision == on_facility[decision["diarienummer"]]
    prohibition = get_json(client, "/api/v1/decisions?diarienummer=3.2.2-4/2025")["items"][0]
    assert prohibition["prohibition_until"] == days(60).isoformat()
    assert prohibition["appeal_status"] == "overklagat"
    assert prohibition["findings"] == []
    vite = get_json(client, "/api/v1/decisions?diarienummer=3.2.2-3/2025")["items"][0]
    assert vite["findings"][0]["fine_amount"] == 100_000


def test_findings__every_field_and_newest_decision_first(client, supervised):
    page = get_json(client, "/api/v1/findings?facility_id=k-1")

    assert page["total"] == 6
    assert [(f["diarienummer"], f["area"]) for f in page["items"]] == [
        ("3.2.2-2/2025", "trygghet_sakerhet"),
        ("3.2.2-2/2025", "dokumentation"),
        ("3.2.2-2/2025", "delaktighet"),
        ("3.2.2-1/2024", "trygghet_sakerhet"),
        ("3.2.2-1/2024", "dokumentation"),
        ("3.2.2-1/2024", "lokaler"),
    ]
    item = page["items"][2]
    assert item.pop("updated_at").endswith("Z")
    assert item == {
        "diarienummer": "3.2.2-2/2025",
        "facility_id": "K-1",
        "decision_date": days(-100).isoformat(),
        "area": "delaktighet",
        "assessment": "brist",
        "observation": "",
        "requirement": "Låt barnen delta i planeringen.",
        "due_date": days(-10).isoformat(),
        "fine_amount": None,
        "requirement_state": "overdue",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("diarienummer=3.2.2-3/2025", [("3.2.2-3/2025", "vald_krankningar")]),
        (
            "area=dokumentation",
            [("3.2.2-2/2025", "dokumentation"), ("3.2.2-1/2024", "dokumentation")],
        ),
        ("assessment=allvarlig_brist", [("3.2.2-3/2025", "vald_krankningar")]),
        (
            "assessment=ingen_brist&area=lokaler&area=trygghet_sakerhet",
            [("3.2.2-2/2025", "trygghet_sakerhet"), ("3.2.2-1/2024", "lokaler")],
        ),
        (
            "requirement_state=open",
            [("3.2.2-2/2025", "dokumentation"), ("3.2.2-3/2025", "vald_krankningar")],
        ),
        ("requirement_state=overdue", [("3.2.2-2/2025", "delaktighet")]),
        ("requirement_state=met", [("3.2.2-1/2024", "trygghet_sakerhet")]),
        (
            "requirement_state=not_met&requirement_state=met",
            [("3.2.2-1/2024", "trygghet_sakerhet"), ("3.2.2-1/2024", "dokumentation")],
        ),
    ],
)
def test_findings__filters(client, supervised, query, expected):
    page = get_json(client, f"/api/v1/findings?{query}")
    assert [(f["diarienummer"], f["area"]) for f in page["items"]] == expected
    assert page["total"] == len(expected)


def test_findings__paged_like_the_other_lists(client, supervised):
    everything = get_json(client, "/api/v1/findings?limit=1000")["items"]
    page = get_json(client, "/api/v1/findings?limit=2&offset=3")
    assert page["total"] == len(everything) == 7
    assert page["items"] == everything[3:5]


@pytest.mark.parametrize(
    ("query", "parameter", "detail"),
    [
        ("area=kok", "area.0", "Okänt värde. Tillåtna värden: "),
        ("assessment=bra", "assessment.0", "Okänt värde. Tillåtna värden: "),
        ("requirement_state=klart", "requirement_state.0", "Okänt värde. Tillåtna värden: "),
        ("limit=1001", "limit", "Värdet får vara högst 1000."),
        ("diarienummer=" + "1" * 41, "diarienummer", "Värdet får vara högst 40 tecken."),
    ],
)
def test_findings__bad_parameter__problem_in_swedish(client, query, parameter, detail):
    response = client.get(f"/api/v1/findings?{query}")

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["parameter"] == parameter
    assert error["detail"].startswith(detail)
    if detail.startswith("Okänt"):
        assert (
            "'open'" in error["detail"]
            or "'ingen_brist'" in error["detail"]
            or ("'trygghet_sakerhet'" in error["detail"])
        )


def test_findings__read_is_logged(client, supervised):
    get_json(client, "/api/v1/findings")
    event = AccessEvent.objects.get(action=AccessEvent.Action.API_READ)
    assert event.object_type == "finding"


def test_findings__the_sql_state_is_register_supervisions(supervised):
    """findings_with_state (the list's filter and paging) gives every finding the state
    register.supervision derives for it."""
    decisions = Decision.objects.prefetch_related("findings")
    derived = {}
    for facility_id in {d.facility_id for d in decisions}:
        supervision = supervision_of([d for d in decisions if d.facility_id == facility_id])
        for entry in supervision.decisions:
            for finding in entry.findings:
                requirement = entry.requirements.get(finding.pk)
                derived[finding.pk] = requirement.state if requirement else None
    in_sql = dict(
        selectors.findings_with_state(Finding.objects.all()).values_list("pk", "requirement_state")
    )
    assert in_sql == derived
    assert set(in_sql.values()) == {None, *RequirementState.values}


# Fixed number of queries -----------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        get_json(client, url)
    return len(queries)


def _more_supervision(home, number: int) -> None:
    for n in range(number):
        decision = DecisionFactory(
            facility=home,
            diarienummer=f"3.2.2-{home.pk}{500 + n}/2023",
            decision_date=days(-600 - n),
            outcome=Outcome.FORELAGGANDE,
        )
        for area in (ReviewArea.LOKALER, ReviewArea.DOKUMENTATION):
            FindingFactory(
                decision=decision,
                area=area,
                assessment=Assessment.BRIST,
                requirement="Åtgärda.",
                due_date=days(-500),
            )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/facilities/K-1",
        "/api/v1/decisions?limit=1000",
        "/api/v1/findings?limit=1000",
        "/api/v1/findings?requirement_state=overdue&limit=1000",
        "/api/v1/facilities?no_serious_decision_years=3&no_open_requirement=true",
    ],
)
def test_a_fixed_number_of_queries_whatever_the_number_of_decisions_and_findings(
    client, supervised, settings, url
):
    few = _queries(client, url)
    _more_supervision(supervised["kalmar"], 5)
    _more_supervision(supervised["linkoping"], 3)
    assert _queries(client, url) == few


# The search's new filters, through the portal's selector -------------------------------------


@pytest.mark.parametrize(
    ("query", "search", "expected"),
    [
        (
            "county=08&county=01",
            selectors.FacilitySearch(counties=("01", "08")),
            ["K-3", "K-1"],
        ),
        (
            "county=08&include_neighbours=true",
            selectors.FacilitySearch(counties=with_neighbours("08")),
            ["K-2", "K-1"],
        ),
        (
            "county=01&county=08&include_neighbours=true",
            selectors.FacilitySearch(counties=(*with_neighbours("01"), *with_neighbours("08"))),
            ["K-2", "K-3", "K-1"],
        ),
        (
            "no_serious_decision_years=1",
            selectors.FacilitySearch(no_serious_decision_years=1),
            ["K-3", "K-1"],
        ),
        (
            "no_open_requirement=true",
            selectors.FacilitySearch(no_unresolved_requirement=True),
            ["K-3"],
        ),
        (
            "no_overdue_inspection=true",
            selectors.FacilitySearch(no_overdue_inspection=True),
            ["K-2", "K-1"],
        ),
        (
            "status=tillfalligt_forbud&no_overdue_inspection=true&county=08",
            selectors.FacilitySearch(
                statuses=("tillfalligt_forbud",), no_overdue_inspection=True, counties=("08",)
            ),
            ["K-4"],
        ),
    ],
)
def test_facilities__new_filters_are_the_selectors(client, supervised, query, search, expected):
    page = get_json(client, f"/api/v1/facilities?{query}")

    assert _ids(page) == expected
    assert page["total"] == len(expected)
    assert [f.facility_id for f in selectors.facility_search(search)] == expected
