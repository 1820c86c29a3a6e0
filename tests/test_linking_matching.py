"""Matching: which evidence counts, and what the thresholds do with it."""

import datetime

import pytest

from linking import services as linking_services
from linking.generate import SCENARIOS, generate_cases
from linking.matching import match_case_records, normalise_address, normalise_name
from linking.models import CaseStatus, LinkAction
from register import services
from register.demo import seed_demo
from register.models import Facility, Permit
from tests.factories import (
    CaseRecordFactory,
    DecisionFactory,
    FacilityFactory,
    ProviderFactory,
)

pytestmark = pytest.mark.django_db


def matched(**values):
    case = CaseRecordFactory(**values)
    match_case_records([case])
    case.refresh_from_db()
    return case


def top(case):
    candidate = case.candidates.get(rank=1)
    return candidate.facility.facility_id, [reason["code"] for reason in candidate.reasons]


@pytest.fixture
def ekbacken(db):
    facility = FacilityFactory(
        facility_id="E-1",
        name="Ekbackens HVB",
        provider=ProviderFactory(name="Ekbacken Omsorg AB"),
        street_address="Skolvägen 4",
        postal_town="Kalmar",
    )
    services.permit_save(permit=Permit(facility=facility, diarienummer="8.4.1-100/2019"))
    return facility


def test_normalise__case_punctuation_accents_and_kind_words_do_not_count():
    assert normalise_name("Ekbackens HVB AB,") == normalise_name("ekbackens")
    assert normalise_name("Stödboendet Tallåsen") == "tallasen"
    assert normalise_name("HVB") == "hvb"  # nothing but a kind word: kept, not emptied
    assert normalise_address("Storg. 12 B") == normalise_address("Storgatan 12b")
    assert normalise_address("Skolv. 4") == ("skolvagen", "4")


def test_perfect_name_and_kommun__never_linked_on_the_name_alone(ekbacken):
    case = matched(facility_name="Ekbackens HVB", municipality_id="0880", postal_town="Kalmar")

    assert case.status == CaseStatus.REVIEW
    assert top(case) == ("E-1", ["name", "municipality", "postal_town"])


def test_number_address_and_name__linked_automatically(ekbacken):
    case = matched(
        facility_name="Ekbackens",
        organisation_number=ekbacken.provider.organisation_number,
        street_address="Skolv. 4",
        municipality_id="0880",
    )

    assert case.status == CaseStatus.LINKED
    assert case.facility == ekbacken
    assert case.decision.facility == ekbacken


def test_permit_diarienummer__identifies_the_home(ekbacken):
    case = matched(
        facility_name="Ekbackens gård",
        reference_diarienummer="8.4.1-100/2019",
        municipality_id="0880",
    )

    facility_id, codes = top(case)
    assert facility_id == "E-1"
    assert codes[0] == "reference"


def test_case_diarienummer_already_a_decision__points_to_its_home(ekbacken):
    DecisionFactory(facility=ekbacken, diarienummer="8.5-4242/2024")

    case = matched(diarienummer="8.5-4242/2024", facility_name="Eckbacken")

    assert top(case)[1][0] == "own_diarienummer"


def test_shared_number__two_close_homes_of_one_provider__left_to_a_person(ekbacken):
    FacilityFactory(facility_id="E-2", name="Ekbackens stödboende", provider=ekbacken.provider)

    case = matched(
        facility_name="Ekbacken",
        organisation_number=ekbacken.provider.organisation_number,
        municipality_id="0880",
        postal_town="Kalmar",
    )

    assert case.status == CaseStatus.REVIEW
    scores = list(case.candidates.order_by("rank").values_list("score", flat=True))
    assert len(scores) == 2 and scores[0] - scores[1] < 15


def test_renamed_home__found_by_its_former_name_in_the_history(ekbacken):
    ekbacken.name = "Solgläntan"
    services.facility_save(facility=ekbacken, reason="namnbyte")

    case = matched(facility_name="Ekbackens HVB", municipality_id="0880")

    assert top(case) == ("E-1", ["former_name", "municipality"])


def test_new_owner__found_by_the_former_provider_s_number(ekbacken):
    former = ekbacken.provider
    ekbacken.provider = ProviderFactory(name="Nya Ägare AB")
    services.facility_save(facility=ekbacken, reason="ny huvudman")

    case = matched(facility_name="Ekbacken", organisation_number=former.organisation_number)

    assert "former_organisation_number" in top(case)[1]


def test_moved_home__found_by_its_former_address(ekbacken):
    ekbacken.street_address = "Kyrkvägen 9"
    services.facility_save(facility=ekbacken, reason="flytt")

    case = matched(facility_name="Ekbacken", street_address="Skolvägen 4")

    assert "former_address" in top(case)[1]


def test_earlier_linked_case__its_typed_name_counts_for_the_home(ekbacken):
    earlier = matched(diarienummer="8.5-1/2023", facility_name="Ekbacka ungdomshem")
    linking_services.case_link(
        case_record=earlier, facility=ekbacken, actor=None, kind=LinkAction.Kind.CONFIRM
    )

    case = matched(diarienummer="8.5-2/2024", facility_name="Ekbacka ungdomshem")

    assert top(case) == ("E-1", ["earlier_case_name"])


def test_closed_home__counts_against(ekbacken):
    ekbacken.status = "nedlagd"
    ekbacken.end_date = datetime.date(2020, 1, 1)
    services.facility_save(facility=ekbacken)

    case = matched(facility_name="Ekbackens HVB", municipality_id="0880")

    assert case.status == CaseStatus.UNMATCHED
    assert set(top(case)[1]) == {"name", "municipality", "closed"}


def test_other_kommun__counts_against(ekbacken):
    case = matched(facility_name="Ekbackens HVB", municipality_id="0180")

    assert case.status == CaseStatus.UNMATCHED
    assert case.candidates.get().score == 20
    assert set(top(case)[1]) == {"name", "other_municipality"}


def test_nothing_alike__flagged_unmatched_without_candidates(ekbacken):
    case = matched(facility_name="Zebrahagen", municipality_id="2480")

    assert case.status == CaseStatus.UNMATCHED
    assert not case.candidates.exists()


def test_thresholds_are_settings(ekbacken, settings):
    settings.LINKING_AUTO_THRESHOLD = 60
    settings.LINKING_AUTO_MARGIN = 0

    case = matched(
        facility_name="Ekbackens HVB",
        organisation_number=ekbacken.provider.organisation_number,
    )

    assert case.status == CaseStatus.LINKED


# The generator ----------------------------------------------------------------------------------


def test_generator__labelled_records_of_every_scenario_and_the_targets_hold(tmp_path):
    seed_demo(facility_count=120, today=datetime.date(2026, 6, 1))

    cases = generate_cases(count=300, seed=7)

    assert {case.scenario for case in cases} == set(SCENARIOS)
    known = {facility_id for facility_id in Facility.objects.values_list("facility_id", flat=True)}
    assert all(case.facility_id in known for case in cases if case.scenario != "no_facility")
    assert all(case.facility_id == "" for case in cases if case.scenario == "no_facility")
    # The register remembers the past the generator gave it: renames are in the history.
    assert Facility.history.filter(history_change_reason="generate_cases").exists()

    from linking.generate import write_csv
    from linking.imports import import_cases
    from linking.models import CaseRecord

    write_csv(cases, tmp_path / "arenden.csv")
    import_cases(tmp_path / "arenden.csv")
    truth = {case.row["diarienummer"]: case.facility_id for case in cases}
    linked = CaseRecord.objects.filter(status=CaseStatus.LINKED).select_related("facility")
    assert linked.exists()
    assert all(record.facility.facility_id == truth[record.diarienummer] for record in linked)
    with_truth = [dnr for dnr, facility_id in truth.items() if facility_id]
    top_right = sum(
        1
        for record in CaseRecord.objects.filter(diarienummer__in=with_truth)
        if record.candidates.filter(rank=1, facility__facility_id=truth[record.diarienummer])
    )
    assert top_right / len(with_truth) >= 0.95


def test_generate_cases_command__run_twice__the_second_file_is_written_too(tmp_path):
    from django.core.management import call_command

    seed_demo(facility_count=60, today=datetime.date(2026, 6, 1))
    for name in ("a", "b"):
        call_command(
            "generate_cases",
            str(tmp_path / f"{name}.csv"),
            "--facit",
            str(tmp_path / f"{name}-facit.csv"),
            "--antal",
            "20",
        )

    assert len((tmp_path / "b.csv").read_text().splitlines()) == 21
    known = set(Facility.objects.values_list("facility_id", flat=True))
    facit = [line.split(";")[1] for line in (tmp_path / "b-facit.csv").read_text().splitlines()[1:]]
    assert all(facility_id in known for facility_id in facit if facility_id)


def test_generate_cases_command__refuses_real_register_data(tmp_path):
    from django.core.management import CommandError, call_command

    FacilityFactory(facility_id="K0880-001")

    with pytest.raises(CommandError, match="riktiga registeruppgifter"):
        call_command("generate_cases", str(tmp_path / "a.csv"), "--facit", str(tmp_path / "f.csv"))
    assert not Facility.history.filter(history_change_reason="generate_cases").exists()
