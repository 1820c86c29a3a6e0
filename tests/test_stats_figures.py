"""Every statistics figure against a register counted by hand (stats/figures.py).

The register: Kalmar län with six private HVB homes (K1–K6), a municipal stödboende (K7) and a
protected home (KP); Stockholm with five municipal HVB homes (S1–S5) and one closed in February
2025 (S6); Gotland with one home (G1). Decisions in 2024 and 2025, one follow-up in 2026, and
"today" is 30 June 2026. The period is 2024–2025 unless a test says otherwise.

What each number is, is worked out in the test beside it; fewer than five homes is "–".
"""

import datetime

import pytest

from documents.models import DecisionRequest
from register.codes import (
    AppealStatus,
    Assessment,
    FacilityStatus,
    FacilityType,
    Outcome,
    Ownership,
    ReviewArea,
)
from stats import figures
from stats.figures import Filters
from tests.factories import (
    DecisionFactory,
    FacilityFactory,
    FindingFactory,
    InspectionFactory,
    ProviderFactory,
    build_valid_organisation_number,
    make_user,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 30)
PERIOD = Filters(first_year=2024, last_year=2025)
D = datetime.date
SUPPRESSED = "–"


def _decision(
    home, day, outcome, *, findings=(), inspected_days_before=30, inspection=True, **extra
):
    number = _decision.serial = getattr(_decision, "serial", 0) + 1
    diarienummer = f"3.2.2-{number + 100}/{day.year}"
    if inspection:
        inspected = day - datetime.timedelta(days=inspected_days_before)
        InspectionFactory(
            facility=home, diarienummer=diarienummer, start_date=inspected, end_date=inspected
        )
    decision = DecisionFactory(
        facility=home, diarienummer=diarienummer, decision_date=day, outcome=outcome, **extra
    )
    for area, assessment, due in findings:
        FindingFactory(
            decision=decision,
            area=area,
            assessment=assessment,
            requirement="Åtgärda bristen." if due else "",
            due_date=due,
        )
    return decision


@pytest.fixture
def register():
    private = ProviderFactory(ownership=Ownership.ENSKILD)
    municipal = ProviderFactory(
        ownership=Ownership.KOMMUNAL,
        organisation_number=build_valid_organisation_number("212000123"),
    )
    homes = {}
    for n in range(1, 7):
        homes[f"K{n}"] = FacilityFactory(provider=private, places=6)
    homes["K7"] = FacilityFactory(
        provider=municipal,
        facility_type=FacilityType.STODBOENDE,
        places=4,
        age_from=16,
        age_to=20,
    )
    homes["KP"] = FacilityFactory(provider=private, places=5, protected_by_ivo=True)
    for n in range(1, 6):
        homes[f"S{n}"] = FacilityFactory(provider=municipal, municipality_id="0180", places=10)
    homes["S6"] = FacilityFactory(
        provider=municipal,
        municipality_id="0180",
        places=10,
        status=FacilityStatus.NEDLAGD,
        status_date=D(2025, 2, 28),
        end_date=D(2025, 2, 28),
    )
    homes["G1"] = FacilityFactory(provider=private, municipality_id="0980", places=8)

    vald, ingen, brist = ReviewArea.VALD_KRANKNINGAR, Assessment.INGEN_BRIST, Assessment.BRIST
    k1_2024 = _decision(
        homes["K1"], D(2024, 3, 1), Outcome.BRISTER, findings=[(vald, brist, D(2024, 6, 1))]
    )
    _decision(homes["S1"], D(2024, 5, 1), Outcome.INGA_BRISTER, findings=[(vald, ingen, None)])
    decisions = {}
    decisions["K1"] = _decision(
        homes["K1"],
        D(2025, 4, 1),
        Outcome.BRISTER,
        follows_up=k1_2024,
        findings=[(vald, brist, D(2025, 9, 1)), (ReviewArea.DELAKTIGHET, ingen, None)],
    )
    decisions["K2"] = _decision(
        homes["K2"], D(2025, 4, 2), Outcome.INGA_BRISTER, findings=[(vald, ingen, None)]
    )
    decisions["K3"] = _decision(
        homes["K3"],
        D(2025, 4, 3),
        Outcome.FORELAGGANDE_VITE,
        findings=[(vald, Assessment.ALLVARLIG_BRIST, D(2026, 12, 31))],
    )
    decisions["K4"] = _decision(homes["K4"], D(2025, 4, 4), Outcome.INGA_BRISTER)
    decisions["K5"] = _decision(homes["K5"], D(2025, 4, 5), Outcome.INGA_BRISTER)
    decisions["K7"] = _decision(
        homes["K7"],
        D(2025, 4, 7),
        Outcome.BRISTER,
        findings=[(ReviewArea.KOMPETENS_BEMANNING, brist, D(2027, 1, 1))],
    )
    decisions["KP"] = _decision(
        homes["KP"],
        D(2025, 4, 8),
        Outcome.FORELAGGANDE_VITE,
        findings=[(vald, Assessment.ALLVARLIG_BRIST, D(2025, 5, 1))],
    )
    decisions["S1"] = _decision(homes["S1"], D(2025, 5, 1), Outcome.INGA_BRISTER)
    decisions["S2"] = _decision(
        homes["S2"], D(2025, 5, 2), Outcome.INGA_BRISTER, findings=[(vald, ingen, None)]
    )
    decisions["S3"] = _decision(
        homes["S3"],
        D(2025, 5, 3),
        Outcome.BRISTER,
        findings=[(vald, ingen, None), (ReviewArea.DELAKTIGHET, brist, D(2025, 12, 1))],
    )
    decisions["S4"] = _decision(
        homes["S4"], D(2025, 5, 4), Outcome.INGA_BRISTER, findings=[(vald, ingen, None)]
    )
    decisions["S5"] = _decision(
        homes["S5"], D(2025, 5, 5), Outcome.INGA_BRISTER, findings=[(vald, ingen, None)]
    )
    # A sanction fee a court overturned, decided without an inspection.
    decisions["S4b"] = _decision(
        homes["S4"],
        D(2025, 6, 1),
        Outcome.SANKTIONSAVGIFT,
        appeal_status=AppealStatus.UPPHAVT,
        inspection=False,
    )
    decisions["G1"] = _decision(
        homes["G1"],
        D(2025, 6, 10),
        Outcome.BRISTER,
        inspected_days_before=10,
        findings=[(ReviewArea.LOKALER, brist, D(2026, 1, 15))],
    )
    # K3's requirement followed up and met in 2026.
    _decision(
        homes["K3"],
        D(2026, 3, 1),
        Outcome.INGA_BRISTER,
        follows_up=decisions["K3"],
        findings=[(vald, ingen, None)],
    )
    return {"homes": homes, "decisions": decisions}


def table(figure) -> dict[str, list]:
    """The figure as {row key: [values]}: "–" for a suppressed cell, None for nothing to show,
    shares and rates rounded to four places."""
    shown = {}
    for row in figure.rows:
        values = []
        for cell in row.cells:
            if cell.suppressed:
                values.append(SUPPRESSED)
            elif isinstance(cell.value, float):
                values.append(round(cell.value, 4))
            else:
                values.append(cell.value)
        shown[row.key] = values
    return shown


def bases(figure, column: str) -> dict[str, int | None]:
    return {row.key: cell.base for row, cell in zip(figure.rows, figure.cells(column), strict=True)}


def compute(key, filters=PERIOD):
    return figures.compute(key, filters, today=TODAY)


def test_homes_by_type__a_type_with_one_home_and_the_cell_that_would_give_it_away(register):
    # 2024: HVB K1–K6, S1–S6, G1 = 13; stödboende K7 = 1 (suppressed); no SiS home. The total
    # (14) would give the stödboende away (14 − 13), so HVB is suppressed too: the zero stays.
    # Places: 6×6 + 4 + 6×10 + 8 = 108. 2025: S6 closed, 13 homes, 98 places. KP left out.
    figure = compute("homes-by-type")
    assert [column.key for column in figure.columns] == [
        "hvb",
        "stodboende",
        "sarskilt_ungdomshem",
        "homes",
        "places",
    ]
    assert table(figure) == {
        "2024": [SUPPRESSED, SUPPRESSED, 0, 14, 108],
        "2025": [SUPPRESSED, SUPPRESSED, 0, 13, 98],
    }


def test_homes_by_ownership__counts_by_the_providers_ownership(register):
    # Private: K1–K6, G1 = 7; municipal: K7, S1–S6 = 7 (2025: S6 closed, 6).
    assert table(compute("homes-by-ownership")) == {
        "2024": [7, 7, 0, 0, 14, 108],
        "2025": [7, 6, 0, 0, 13, 98],
    }


def test_homes_by_county__a_lone_protected_home_is_not_counted_even_in_its_lan(register):
    # On 31 December 2025. Kalmar: K1–K7 = 7 homes, 36 + 4 = 40 places; its one protected home
    # (KP) is left out, or the difference from the figures without protected homes would single
    # it out. Stockholm: S1–S5 = 5 homes, 50 places. Gotland: G1 alone, suppressed; the
    # country's total (13 homes, 98 places) would give it away, so Stockholm, the smallest, is
    # suppressed too.
    rows = table(compute("homes-by-county"))
    assert rows["08"] == [7, 40]
    assert rows["01"] == [SUPPRESSED, SUPPRESSED]
    assert rows["09"] == [SUPPRESSED, SUPPRESSED]
    assert rows["03"] == [0, 0]
    assert rows["total"] == [13, 98]
    assert len(rows) == 22


def test_homes_by_county__five_protected_homes_count_in_their_whole_lan_only(register):
    # Four more protected homes in Kalmar, 6 places each: with KP five, so they count in
    # Kalmar's total and the country's (7 + 5 homes, 40 + 5 + 24 places), and in nothing else.
    for _home in range(4):
        FacilityFactory(protected_by_ivo=True)
    rows = table(compute("homes-by-county"))
    assert rows["08"] == [12, 69]
    assert rows["total"] == [18, 127]
    assert table(compute("homes-by-type"))["2025"][3] == 13


def test_homes_by_county__one_type_chosen__the_protected_home_is_left_out(register):
    rows = table(compute("homes-by-county", Filters(2024, 2025, facility_type="hvb")))
    assert rows["08"] == [6, 36]  # K1–K6, not KP


def test_homes_by_county__one_lan__its_row_and_no_total(register):
    figure = compute("homes-by-county", Filters(2024, 2025, county="08"))
    assert table(figure) == {"08": [7, 40]}


def test_decisions_by_severity__tillsyn_decisions_per_year(register):
    # 2025: no deficiency K2, K4, K5, S1, S2, S4, S5 = 7; deficiencies K1, K7, S3, G1 = 4 (–);
    # serious K3 and the overturned S4b = 2 (–); 13 in all, at 12 homes. 2024: two decisions at
    # two homes: everything suppressed but the serious decisions, of which there were none.
    assert table(compute("decisions-by-severity")) == {
        "2024": [SUPPRESSED, SUPPRESSED, 0, SUPPRESSED],
        "2025": [7, SUPPRESSED, SUPPRESSED, 13],
    }


def test_decisions_by_outcome__a_year_the_total_would_give_away_is_suppressed(register):
    # Inga brister: 2024 S1 alone (–); 2025 seven; in all 8. The total minus 2025 would give
    # 2024 away, so 2025 is suppressed too.
    rows = table(compute("decisions-by-outcome"))
    assert rows["inga_brister"] == [SUPPRESSED, SUPPRESSED, 8]
    assert rows["brister"] == [SUPPRESSED, SUPPRESSED, SUPPRESSED]
    assert rows["forelaggande_vite"] == [0, SUPPRESSED, SUPPRESSED]  # K3 (KP left out)
    assert rows["sanktionsavgift"] == [0, SUPPRESSED, SUPPRESSED]
    assert rows["forbud"] == [0, 0, 0]


def test_inspections_with_deficiencies__share_and_the_number_behind_it(register):
    # 2025: 13 decisions; with deficiencies K1, K3, K7, S3, S4b, G1 = 6: 6/13.
    figure = compute("inspections-with-deficiencies")
    assert table(figure) == {
        "2024": [SUPPRESSED, SUPPRESSED, SUPPRESSED],
        "2025": [13, 6, round(6 / 13, 4)],
    }
    assert bases(figure, "share") == {"2024": None, "2025": 13}
    assert figure.summary == "Andelen inspektioner med brister var 46 % 2025."


def test_serious_decisions__per_100_homes_in_operation_overturned_left_out(register):
    # 2025: K3's fine (S4b overturned, KP protected): 1 decision at 1 home, of the 14 homes in
    # operation some day of 2025 (S6 until February): 7.14 per 100.
    figure = compute("serious-decisions")
    assert table(figure) == {"2024": [0, 0, 0.0], "2025": [1, 1, round(100 / 14, 4)]}
    assert bases(figure, "rate") == {"2024": 14, "2025": 14}


def test_deficiencies_by_area__reviews_deficiencies_and_share(register):
    # Våld och kränkningar: K1 2024 and 2025, K2, K3, S1 2024, S2, S3, S4, S5 = 9 reviews at 8
    # homes; deficient K1 ×2 and K3 = 3 (K3 serious); 3/9. KP's serious deficiency left out.
    figure = compute("deficiencies-by-area")
    rows = table(figure)
    assert rows["vald_krankningar"] == [9, 3, round(3 / 9, 4), 1]
    assert bases(figure, "share")["vald_krankningar"] == 9
    assert rows["delaktighet"] == [SUPPRESSED] * 4  # K1 and S3: two homes
    assert rows["kompetens_bemanning"] == [SUPPRESSED] * 4
    assert rows["lokaler"] == [SUPPRESSED] * 4
    assert rows["ekonomi"] == [0, 0, None, 0]


def test_deficiencies_by_ownership__each_ownership_by_its_own_homes(register):
    # Våld: private K1 ×2, K2, K3 at three homes (–); municipal S1–S5 at five homes, none
    # deficient: 0 of 5.
    figure = compute("deficiencies-by-ownership")
    assert table(figure)["vald_krankningar"] == [SUPPRESSED, 0.0, None, None]
    assert bases(figure, "kommunal")["vald_krankningar"] == 5


def test_deficiencies_by_county__a_lan_with_one_home_and_its_neighbour_in_the_total(register):
    # Kalmar: K1 ×2, K2, K3, K4, K5, K7 = 7 decisions at 6 homes, 4 with deficiencies.
    # Stockholm: S1 2024, S1–S5, S4b = 7 at 5 homes. Gotland: G1 alone (–); the total (15, 7)
    # would give it away: Stockholm, the smallest, goes too, with its share.
    figure = compute("deficiencies-by-county")
    rows = table(figure)
    assert rows["08"] == [7, 4, round(4 / 7, 4)]
    assert rows["01"] == [SUPPRESSED] * 3
    assert rows["09"] == [SUPPRESSED] * 3
    assert rows["03"] == [0, 0, None]
    assert rows["total"] == [15, 7, round(7 / 15, 4)]
    assert figure.chart.kind == "map"


def test_requirements__met_not_met_overdue_open_and_days_to_follow_up(register):
    # 2025: K1 (due 1 Sep 2025, no follow-up: overdue), K3 (met by the 2026 follow-up), K7
    # (open), S3 and G1 (overdue): 5 requirements at 5 homes. One followed up, at one home: the
    # share met is suppressed, and with it met and not met (they would give it away).
    # 2024: K1's requirement, not met by the 2025 decision: one home, everything suppressed.
    assert table(compute("requirements")) == {
        "2024": [SUPPRESSED] * 7,
        "2025": [5, SUPPRESSED, SUPPRESSED, 3, 1, SUPPRESSED, SUPPRESSED],
    }


def test_requirements__days_to_follow_up_is_the_median(register):
    # Over the whole country and 2024–2026, with four more follow-ups to have five homes: the
    # median of the days from decision to the decision that followed it up.
    decisions = register["decisions"]
    days = {"K2": 100, "S1": 200, "S2": 300, "S5": 400}
    for name, after in days.items():
        decision = decisions[name]
        FindingFactory(
            decision=decision,
            area=ReviewArea.DOKUMENTATION,
            assessment=Assessment.BRIST,
            requirement="Åtgärda bristen.",
            due_date=D(2025, 12, 31),
        )
        _decision(
            decision.facility,
            decision.decision_date + datetime.timedelta(days=after),
            Outcome.INGA_BRISTER,
            follows_up=decision,
            findings=[(ReviewArea.DOKUMENTATION, Assessment.INGEN_BRIST, None)],
        )
    figure = compute("requirements")
    row = table(figure)["2025"]
    # K3 after 332 days, and 100, 200, 300, 400: median 300; five met of five followed up.
    assert row[-2:] == [1.0, 300]
    assert bases(figure, "days_to_follow_up")["2025"] == 5


def test_recurring_deficiencies__per_100_homes_with_a_decision(register):
    # K1: våld found deficient in March 2024 and April 2025 (within three years): 1 home of the
    # 12 with a supervision decision in 2025.
    figure = compute("recurring-deficiencies")
    assert table(figure) == {
        "2024": [SUPPRESSED] * 3,
        "2025": [1, 12, round(100 / 12, 4)],
    }


def test_inspection_frequency__share_inspected_within_12_months_at_year_end(register):
    # 31 Dec 2024: 14 homes due (K1–K7, S1–S6, G1; KP left out), inspected in 2024: K1 and S1.
    # 31 Dec 2025: 13 due (S6 closed), all inspected in 2025 but K6: 12.
    figure = compute("inspection-frequency")
    assert table(figure) == {
        "2024": [14, 2, round(2 / 14, 4)],
        "2025": [13, 12, round(12 / 13, 4)],
    }


def test_inspection_frequency__a_home_opened_within_the_year_is_not_yet_due(register):
    FacilityFactory(start_date=D(2025, 9, 1))
    assert table(compute("inspection-frequency"))["2025"][0] == 13


def test_inspection_frequency_by_county__on_the_periods_last_day(register):
    # Kalmar: 7 due, 6 inspected (not K6). Stockholm 5 of 5, Gotland 1 (–): Stockholm goes too.
    rows = table(compute("inspection-frequency-by-county"))
    assert rows["08"] == [7, 6, round(6 / 7, 4)]
    assert rows["01"] == [SUPPRESSED] * 3
    assert rows["09"] == [SUPPRESSED] * 3
    assert rows["total"] == [13, 12, round(12 / 13, 4)]


def test_inspection_to_decision__median_days_from_the_inspections_last_day(register):
    # 2025: 12 decisions with an inspection in the same case (S4b had none): eleven 30 days
    # after it, G1 10 days: the median is 30.
    figure = compute("inspection-to-decision")
    assert table(figure) == {"2024": [SUPPRESSED, SUPPRESSED], "2025": [12, 30]}
    assert bases(figure, "days")["2025"] == 12


def test_decision_requests__counted_by_year_with_median_days_to_decision(register):
    user = make_user("kommun_anvandare")
    officer = make_user("ivo_handlaggare")
    decisions = register["decisions"]
    arrived = datetime.datetime(2025, 6, 1, 9, tzinfo=datetime.UTC)
    for name, days in {"K1": 2, "K2": 4, "K3": 6, "S1": 8, "S2": None, "KP": 1}.items():
        decided = {
            "state": DecisionRequest.State.REFUSED,
            "handler": officer,
            "taken_at": arrived,
            "decided_at": arrived + datetime.timedelta(days=days or 0),
        }
        request = DecisionRequest.objects.create(
            decision=decisions[name],
            municipality=user.account.municipality,
            requested_by=user,
            requester_email=user.email,
            **({"state": DecisionRequest.State.RECEIVED} if days is None else decided),
        )
        DecisionRequest.objects.filter(pk=request.pk).update(created_at=arrived)
    figure = compute("decision-requests")
    # Five requests about five homes (KP's left out), four decided: median of 2, 4, 6, 8.
    assert table(figure) == {"2024": [0, 0, None], "2025": [5, 4, 5.0]}


@pytest.mark.parametrize("key", figures.FIGURE_KEYS)
def test_every_figure__a_protected_home_alone_in_its_lan_is_never_counted(key):
    """A län whose only home is protected: outside the homes-by-county total it appears in no
    figure, and even there (one home) it is suppressed."""
    home = FacilityFactory(municipality_id="0980", protected_by_ivo=True)
    decision = _decision(
        home,
        D(2025, 4, 1),
        Outcome.FORELAGGANDE_VITE,
        findings=[(ReviewArea.VALD_KRANKNINGAR, Assessment.ALLVARLIG_BRIST, D(2025, 5, 1))],
    )
    user = make_user("kommun_anvandare")
    DecisionRequest.objects.create(
        decision=decision,
        municipality=user.account.municipality,
        requested_by=user,
        requester_email=user.email,
        state=DecisionRequest.State.RECEIVED,
    )
    for filters in (PERIOD, Filters(2024, 2026, county="09")):
        figure = figures.compute(key, filters, today=TODAY)
        for row in figure.rows:
            for cell in row.cells:
                assert cell.value in (0, None), (key, row.key, cell)


def test_homes__a_home_revoked_without_an_end_date_is_counted_until_its_status_date(register):
    FacilityFactory(
        municipality_id="0180",
        status=FacilityStatus.ATERKALLAD,
        status_date=D(2025, 3, 1),
    )
    # In operation at the end of 2024 (14 + 1), not at the end of 2025 (13).
    assert [row[3] for row in table(compute("homes-by-type")).values()] == [15, 13]


def test_recurring_deficiencies__not_when_the_earlier_one_is_more_than_three_years_before(
    register,
):
    home = FacilityFactory()
    vald = ReviewArea.VALD_KRANKNINGAR
    _decision(home, D(2021, 3, 1), Outcome.BRISTER, findings=[(vald, Assessment.BRIST, None)])
    _decision(home, D(2025, 3, 2), Outcome.BRISTER, findings=[(vald, Assessment.BRIST, None)])
    # Still K1 alone, now of 13 homes with a decision in 2025.
    assert table(compute("recurring-deficiencies"))["2025"] == [1, 13, round(100 / 13, 4)]


def test_tallies__kept_for_the_data_version__one_query_for_a_second_figure(
    register, django_assert_num_queries
):
    compute("deficiencies-by-area")
    with django_assert_num_queries(1):  # the register's data version, nothing else
        compute("inspections-with-deficiencies")


def test_tallies__counted_again_after_a_write__never_a_stale_figure(register):
    assert table(compute("inspections-with-deficiencies"))["2025"][:2] == [13, 6]
    _decision(FacilityFactory(municipality_id="0180"), D(2025, 9, 1), Outcome.BRISTER)
    assert table(compute("inspections-with-deficiencies"))["2025"][:2] == [14, 7]
