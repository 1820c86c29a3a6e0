import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from register import selectors, services
from register.codes import FacilityStatus, FacilityType, Outcome, Ownership
from register.models import Municipality, Permit
from register.selectors import FacilitySearch, facility_search, inspection_overdue_cutoff
from tests.factories import DecisionFactory, FacilityFactory, InspectionFactory, ProviderFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 23)


def ids(search: FacilitySearch) -> list[str]:
    return [facility.facility_id for facility in facility_search(search, today=TODAY)]


@pytest.fixture
def homes():
    """A small register: each home differs from the others in one or two filtered facts."""
    kalmar = Municipality.objects.get(code="0880")  # Kalmar län (08)
    uppsala = Municipality.objects.get(code="0380")  # Uppsala län (03)
    municipal = ProviderFactory(
        name="Kalmar socialnämnd", organisation_number="212000-0746", ownership=Ownership.KOMMUNAL
    )
    company = ProviderFactory(name="Omsorgsbolaget AB", ownership=Ownership.ENSKILD)
    sole_trader = ProviderFactory(
        name="Anna Exempelsson",
        organisation_number="811218-9876",
        ownership=Ownership.ENSKILD,
        is_sole_trader=True,
    )
    return {
        "A": FacilityFactory(
            facility_id="A",
            name="Ängsbacken",
            provider=municipal,
            municipality=kalmar,
            target_groups=["missbruk", "npf"],
            age_from=13,
            age_to=17,
            gender="flickor",
            places=4,
        ),
        "B": FacilityFactory(
            facility_id="B",
            name="Björkudden",
            provider=company,
            municipality=uppsala,
            facility_type=FacilityType.STODBOENDE,
            target_groups=["npf"],
            age_from=16,
            age_to=20,
            gender="alla",
            places=12,
        ),
        "C": FacilityFactory(
            facility_id="C",
            name="Cederhemmet",
            provider=sole_trader,
            municipality=kalmar,
            target_groups=["psykisk_ohalsa"],
            age_from=12,
            age_to=15,
            gender="pojkar",
            places=6,
        ),
        "D": FacilityFactory(
            facility_id="D",
            name="Dalgården",
            provider=company,
            municipality=uppsala,
            status=FacilityStatus.NEDLAGD,
            end_date=datetime.date(2023, 1, 1),
            places=8,
        ),
    }


def test_search__defaults__active_homes_only_sorted_by_name(homes):
    assert ids(FacilitySearch()) == ["B", "C", "A"]  # Björkudden, Cederhemmet, Ängsbacken


def test_search__closed_on_request(homes):
    assert ids(FacilitySearch(statuses=("nedlagd",))) == ["D"]
    assert ids(FacilitySearch(statuses=())) == ["B", "C", "D", "A"]


def test_search__type(homes):
    assert ids(FacilitySearch(facility_types=("stodboende",))) == ["B"]


def test_search__target_groups__a_home_must_take_every_one(homes):
    assert ids(FacilitySearch(target_groups=("npf",))) == ["B", "A"]
    assert ids(FacilitySearch(target_groups=("npf", "missbruk"))) == ["A"]
    assert ids(FacilitySearch(target_groups=("skydd",))) == []


@pytest.mark.parametrize(
    "age,expected", [(12, ["C"]), (13, ["C", "A"]), (17, ["B", "A"]), (19, ["B"]), (21, [])]
)
def test_search__child_age__within_the_age_span(homes, age, expected):
    assert ids(FacilitySearch(child_age=age)) == expected


def test_search__child_age__home_without_age_span_matches_any_age(homes):
    FacilityFactory(facility_id="E", name="Eken")
    assert ids(FacilitySearch(child_age=21)) == ["E"]


def test_search__gender__homes_for_that_gender_and_for_all(homes):
    assert ids(FacilitySearch(gender="flickor")) == ["B", "A"]
    assert ids(FacilitySearch(gender="pojkar")) == ["B", "C"]


def test_search__county_and_municipality(homes):
    assert ids(FacilitySearch(counties=("08",))) == ["C", "A"]
    assert ids(FacilitySearch(municipality="0380")) == ["B"]
    assert ids(FacilitySearch(counties=("01",))) == []


def test_search__ownership(homes):
    assert ids(FacilitySearch(ownerships=("kommunal",))) == ["A"]
    assert ids(FacilitySearch(ownerships=("enskild", "kommunal"))) == ["B", "C", "A"]


def test_search__min_places(homes):
    assert ids(FacilitySearch(min_places=6)) == ["B", "C"]


def test_search__latest_outcome_uses_only_the_latest_decision(homes):
    DecisionFactory(
        facility=homes["A"], outcome=Outcome.FORELAGGANDE, decision_date=datetime.date(2023, 5, 1)
    )
    DecisionFactory(
        facility=homes["A"], outcome=Outcome.INGA_BRISTER, decision_date=datetime.date(2024, 5, 1)
    )
    DecisionFactory(
        facility=homes["B"], outcome=Outcome.FORELAGGANDE, decision_date=datetime.date(2024, 5, 1)
    )
    assert ids(FacilitySearch(latest_outcomes=("forelaggande",))) == ["B"]
    assert ids(FacilitySearch(latest_outcomes=("inga_brister", "forelaggande"))) == ["B", "A"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ängs", ["A"]),  # non-ASCII letters fold case on SQLite too
        ("ÄNGSBACKEN", ["A"]),
        ("omsorgsbolaget", ["B"]),  # a legal person's name
        ("2120000746", ["A"]),  # organisationsnummer without dash
        ("212000-0746", ["A"]),
        ("exempelsson", []),  # a sole trader's name is personal data: never searched
        ("811218-9876", []),  # nor a sole trader's number
        ("finns inte", []),
    ],
)
def test_search__free_text(homes, text, expected):
    assert ids(FacilitySearch(text=text)) == expected


def test_search__free_text__diarienummer_of_decision_inspection_and_permit(homes):
    DecisionFactory(facility=homes["A"], diarienummer="3.2.2-13748/2022")
    InspectionFactory(facility=homes["B"], diarienummer="3.2.2-777/2023")
    services.permit_save(permit=Permit(facility=homes["C"], diarienummer="8.5-29206/2014"))
    assert ids(FacilitySearch(text="3.2.2-13748/2022")) == ["A"]
    assert ids(FacilitySearch(text="777/2023")) == ["B"]
    assert ids(FacilitySearch(text="8.5-29206")) == ["C"]
    assert ids(FacilitySearch(text=" 2022 ")) == ["A"]


@pytest.mark.parametrize("text", ["Lindgården", "3.2.2-13748/2022 a", "13748 2022"])
def test_search__free_text_no_diarienummer_holds__not_looked_for_among_them(homes, text):
    """Every diarienummer has IVO's form (digits, dots, a dash, a slash): a text with anything
    else in it is part of none, and the decisions, inspections, permits and registrations are
    not read for it."""
    DecisionFactory(facility=homes["A"], diarienummer="3.2.2-13748/2022")
    sql = str(facility_search(FacilitySearch(text=text)).query)

    assert "register_decision" not in sql and "register_permit" not in sql
    assert "A" not in ids(FacilitySearch(text=text))


def test_search__filters_combine(homes):
    search = FacilitySearch(
        facility_types=("hvb",),
        counties=("08",),
        child_age=14,
        gender="flickor",
        target_groups=("npf",),
        ownerships=("kommunal",),
        min_places=4,
    )
    assert ids(search) == ["A"]
    assert ids(FacilitySearch(facility_types=("hvb",), counties=("03",))) == []


def test_search__ordering(homes):
    DecisionFactory(facility=homes["C"], decision_date=datetime.date(2025, 1, 1))
    DecisionFactory(facility=homes["A"], decision_date=datetime.date(2024, 1, 1))
    assert ids(FacilitySearch(ordering="latest_decision")) == ["C", "A", "B"]
    assert ids(FacilitySearch(ordering="municipality")) == ["C", "A", "B"]  # Kalmar, Uppsala


def test_search__marking_of_latest_decision_on_each_row(homes):
    DecisionFactory(
        facility=homes["A"],
        outcome=Outcome.BRISTER,
        decision_date=datetime.date(2024, 2, 1),
        diarienummer="3.2.2-1/2024",
    )
    DecisionFactory(
        facility=homes["A"],
        outcome=Outcome.FORELAGGANDE_VITE,
        decision_date=datetime.date(2025, 2, 1),
        diarienummer="3.2.2-2/2025",
    )
    row = facility_search(FacilitySearch(text="Ängsbacken"), today=TODAY).get()
    assert row.latest_outcome == "forelaggande_vite"
    assert row.latest_decision_date == datetime.date(2025, 2, 1)
    assert row.latest_decision_diarienummer == "3.2.2-2/2025"


def test_search__one_query_whatever_the_number_of_results(homes):
    for number in range(30):
        facility = FacilityFactory(facility_id=f"X{number}")
        DecisionFactory(facility=facility)
        InspectionFactory(facility=facility)
    with CaptureQueriesContext(connection) as queries:
        rows = list(facility_search(FacilitySearch(text="gården", target_groups=()), today=TODAY))
        shown = [  # what a result list shows of each row
            (
                row.provider.name,
                row.municipality.county.name,
                row.latest_outcome,
                row.inspection_overdue,
            )
            for row in rows
        ]
    assert len(shown) == 30
    assert len(queries) == 1


def test_inspection_overdue__hvb_and_stodboende_without_inspection_in_twelve_months():
    cutoff = inspection_overdue_cutoff(TODAY)
    assert cutoff == datetime.date(2025, 11, 23)
    inspected = FacilityFactory(facility_id="inspected")
    InspectionFactory(facility=inspected, start_date=cutoff)
    stale = FacilityFactory(facility_id="stale", facility_type=FacilityType.STODBOENDE)
    InspectionFactory(facility=stale, start_date=cutoff - datetime.timedelta(days=1))
    FacilityFactory(facility_id="never")
    FacilityFactory(facility_id="new", start_date=TODAY - datetime.timedelta(days=30))
    FacilityFactory(facility_id="sis", facility_type=FacilityType.SARSKILT_UNGDOMSHEM)
    FacilityFactory(facility_id="closed", status="nedlagd", end_date=datetime.date(2020, 1, 1))

    rows = facility_search(FacilitySearch(statuses=()), today=TODAY)
    overdue = {row.facility_id: row.inspection_overdue for row in rows}
    assert overdue == {  # verksamhetsid is kept in upper case
        "INSPECTED": False,
        "STALE": True,
        "NEVER": True,
        "NEW": False,  # opened less than a year ago: not yet due
        "SIS": True,  # särskilda ungdomshem are HVB (12 § LVU): 3 kap. 19 § SoF holds
        "CLOSED": False,
    }


def test_inspection_overdue_cutoff__leap_day():
    assert inspection_overdue_cutoff(datetime.date(2028, 2, 29)) == datetime.date(2027, 2, 28)


@pytest.fixture
def many_homes(db):
    """48 homes whose order has ties to break: names equal but for case, shared decision dates,
    homes never decided on, closed homes between the active ones, and the kommunal homes (one in
    three) sparse where the order by latest decision begins."""
    municipal = ProviderFactory(ownership=Ownership.KOMMUNAL)
    company = ProviderFactory(ownership=Ownership.ENSKILD)
    uppsala = Municipality.objects.get(code="0380")
    for n in range(48):
        closed = n % 7 == 3
        facility = FacilityFactory(
            facility_id=f"W{47 - n:03d}",
            name=("Eken", "eken", "Almen", "Ängen")[n % 4] + ("" if n % 5 else " gård"),
            provider=municipal if n % 3 == 0 else company,
            municipality=uppsala if n % 2 else Municipality.objects.get(code="0880"),
            facility_type=FacilityType.STODBOENDE if n % 5 == 4 else FacilityType.HVB,
            status=FacilityStatus.NEDLAGD if closed else FacilityStatus.AKTIV,
            end_date=datetime.date(2025, 1, 1) if closed else None,
        )
        decided = None if n % 4 == 1 else datetime.date(2024, 1 + n % 3, 1 + (n > 30))
        type(facility).objects.filter(pk=facility.pk).update(latest_decision_date=decided)


@pytest.mark.parametrize("ordering", ["name", "latest_decision", "municipality"])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"ownerships": (Ownership.KOMMUNAL,)},
        {"facility_types": (FacilityType.HVB,), "counties": ("03",)},
        {"statuses": (FacilityStatus.AKTIV, FacilityStatus.NEDLAGD)},
        {"statuses": (FacilityStatus.NEDLAGD,)},
        {"text": "EKEN"},
    ],
)
def test_search_results__every_page_as_the_whole_sorted_search(many_homes, ordering, filters):
    search = FacilitySearch(ordering=ordering, **filters)
    expected = ids(search)
    results = selectors.SearchResults(search, today=TODAY)

    assert results.count() == len(expected) > 0
    for start, stop in [(0, 1), (1, 2), (0, 3), (2, 5), (5, 6), (9, 10), (0, 100), (4, None)]:
        page = [facility.facility_id for facility in results[start:stop]]
        assert page == expected[start:stop], (start, stop)


def test_search_results__a_page_is_one_query_and_the_count_another_only_when_asked(many_homes):
    search = FacilitySearch(ordering="latest_decision")
    expected = ids(search)
    results = selectors.SearchResults(search, today=TODAY)

    with CaptureQueriesContext(connection) as queries:
        page = results[0:2]
    assert [facility.facility_id for facility in page] == expected[0:2]
    assert len(queries) == 1

    with CaptureQueriesContext(connection) as queries:
        assert results.count() == results.count() == len(expected)
    assert len(queries) == 1
