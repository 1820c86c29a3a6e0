import csv
import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from stdnum import luhn

from register import demo, services, validation
from register.codes import (
    DEFICIENT_ASSESSMENTS,
    STATUS_FROM_OUTCOME,
    TEMPORARY_PROHIBITION_MAX_MONTHS,
    AppealStatus,
    Assessment,
    FacilityStatus,
    InspectionReason,
    Outcome,
    Ownership,
    RequirementState,
    ReviewArea,
)
from register.counties import with_neighbours
from register.fields import holds_code
from register.models import (
    County,
    Decision,
    Facility,
    Finding,
    Inspection,
    Manager,
    Municipality,
    Permit,
    Provider,
    Registration,
)
from register.selectors import (
    FacilitySearch,
    facilities_with_marking,
    facility_search,
    supervision_by_facility,
)
from register.supervision import current_status, temporary_prohibition_decision
from tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db

SMALL = 80
REGISTER_MODELS = (Provider, Facility, Permit, Registration, Manager, Inspection, Decision, Finding)
PHONE = re.compile(r"^070-174 06 (\d\d)$")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(count: int = SMALL) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--facilities", str(count), "--logins", stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple]:
    return [
        (facility.facility_id, facility.name, facility.status, facility.latest_outcome)
        for facility in facilities_with_marking().order_by("facility_id")
    ]


@pytest.fixture
def seeded():
    return seed()


def test_seed_demo__prints_counts_and_logins(seeded):
    assert re.search(r"^Demodata klara på \d+,\d s: 80 verksamheter, \d+ huvudmän", seeded)
    assert re.search(r"\d+ beslut, \d+ iakttagelser\.$", seeded, re.MULTILINE)
    assert "ivo.admin / demo-ivo-admin-2026" in seeded
    assert "ivo.registrator / demo-registrator-2026" in seeded


def test_seed_demo__facilities_in_every_lan_and_of_every_ownership_and_type(seeded):
    assert Facility.objects.count() == SMALL
    assert set(Facility.objects.values_list("municipality__county", flat=True)) == set(
        County.objects.values_list("code", flat=True)
    )
    assert County.objects.count() == 21
    assert set(Provider.objects.values_list("ownership", flat=True)) == set(Ownership.values)
    assert set(Facility.objects.values_list("facility_type", flat=True)) == {
        "hvb",
        "stodboende",
        "sarskilt_ungdomshem",
    }
    assert all(facility_id.startswith("DEMO-") for facility_id in Facility.objects.values_list(
        "facility_id", flat=True
    ))  # fmt: skip
    # Some providers own several homes; some are sole traders.
    assert any(provider.facilities.count() > 1 for provider in Provider.objects.all())
    assert Provider.objects.filter(is_sole_trader=True, ownership=Ownership.ENSKILD).exists()


def test_seed_demo__organisation_numbers_valid_and_of_the_right_kind(seeded):
    for provider in Provider.objects.all():
        number = validation.organisation_number(
            provider.organisation_number, sole_trader=provider.is_sole_trader
        )
        assert number == provider.organisation_number
        prefix = {
            Ownership.KOMMUNAL: "212000-",
            Ownership.REGIONAL: "232100-",
            Ownership.STATLIG: "202100-",
        }.get(provider.ownership)
        if prefix:
            assert number.startswith(prefix)
        if provider.ownership == Ownership.KOMMUNAL:
            assert provider.name.startswith("Socialnämnden i ")
            assert provider.name.endswith(" (demo)")
        if provider.ownership == Ownership.REGIONAL:
            assert provider.name.endswith("(demo)")
        if provider.is_sole_trader:
            assert 980 <= int(number[7:10]) <= 999  # a test-range personnummer


def test_seed_demo__the_real_sis_homes_by_name_in_their_kommun(seeded):
    with open(demo.SIS_CSV, encoding="utf-8") as file:
        confirmed = [row for row in csv.DictReader(file) if row["certainty"] == "high"]
    assert len(confirmed) >= 10
    sis = Provider.objects.get(organisation_number="202100-4011")
    assert sis.name == "Statens institutionsstyrelse"
    assert sis.ownership == Ownership.STATLIG
    for row in confirmed:
        name = row["name"].split(" (")[0]
        facility = Facility.objects.get(name=f"SiS ungdomshem {name}")
        assert facility.municipality_id == row["kommunkod"]
        assert facility.facility_type == "sarskilt_ungdomshem"
        assert facility.provider == sis
        assert not facility.permits.exists() and not facility.registrations.exists()
    assert set(sis.facilities.values_list("name", flat=True)) == {
        f"SiS ungdomshem {row['name'].split(' (')[0]}" for row in confirmed
    }
    assert Facility.objects.get(name="SiS ungdomshem Lövsta").status == FacilityStatus.NEDLAGD


def test_seed_demo__every_row_passes_full_clean(seeded):
    for model in REGISTER_MODELS:
        rows = list(model.objects.all())
        assert rows, model
        for row in rows[:: max(1, len(rows) // 60)]:
            row.full_clean()


def test_seed_demo__name_keys_written(seeded):
    from tests.assertions import assert_name_keys_written

    assert_name_keys_written()


def test_seed_demo__managers_are_fictional_in_the_test_ranges(seeded):
    managers = list(Manager.objects.all())
    assert len(managers) >= SMALL
    for manager in managers:
        number = manager.personal_identity_number
        assert re.fullmatch(r"(19[6-9]\d)(\d{4})-(\d{4})", number)
        assert validation.personal_identity_number(number) == number
        assert luhn.is_valid(number[2:].replace("-", ""))
        assert 980 <= int(number[9:12]) <= 999, number
        assert 1960 <= int(number[:4]) <= 1995
        assert manager.email.endswith("@example.com")
        assert manager.email == manager.email.lower() and manager.email.isascii()
        match = PHONE.match(manager.phone)
        assert match and 5 <= int(match.group(1)) <= 99, manager.phone
    for facility in Facility.objects.exclude(status=FacilityStatus.NEDLAGD):
        assert facility.managers.filter(end_date__isnull=True).count() == 1
    assert Manager.objects.filter(end_date__isnull=False).exists()


def test_seed_demo__permits_for_private_registrations_for_public_providers(seeded):
    for facility in Facility.objects.select_related("provider"):
        ownership = facility.provider.ownership
        assert facility.permits.count() == (1 if ownership == Ownership.ENSKILD else 0)
        public = ownership in (Ownership.KOMMUNAL, Ownership.REGIONAL)
        assert facility.registrations.count() == (1 if public else 0)
    permit_decisions = Decision.objects.filter(outcome=Outcome.TILLSTAND_BEVILJAT)
    assert permit_decisions.exists()
    for decision in permit_decisions:
        permit = decision.facility.permits.get()
        assert (decision.diarienummer, decision.decision_date, decision.kind) == (
            permit.diarienummer,
            permit.granted_on,
            "tillstand",
        )


def test_seed_demo__diarienummer_unique_and_shared_only_within_a_case(seeded):
    case_numbers = [
        *Permit.objects.values_list("diarienummer", flat=True),
        *Registration.objects.values_list("diarienummer", flat=True),
        *Inspection.objects.values_list("diarienummer", flat=True),
    ]
    assert len(case_numbers) == len(set(case_numbers))
    decision_numbers = list(Decision.objects.values_list("diarienummer", flat=True))
    assert len(decision_numbers) == len(set(decision_numbers))
    assert set(decision_numbers) <= set(case_numbers)
    for number in case_numbers:
        assert validation.diarienummer(number) == number


def test_seed_demo__dates_never_in_the_future_and_inspections_before_decisions(seeded):
    today = timezone.localdate()
    assert not Decision.objects.filter(decision_date__gt=today).exists()
    assert not Inspection.objects.filter(start_date__gt=today).exists()
    inspections = {inspection.diarienummer: inspection for inspection in Inspection.objects.all()}
    oldest = today.replace(year=today.year - 6)
    for decision in Decision.objects.filter(kind="tillsyn"):
        inspection = inspections[decision.diarienummer]
        assert inspection.facility_id == decision.facility_id
        assert inspection.start_date <= (inspection.end_date or inspection.start_date)
        assert (inspection.end_date or inspection.start_date) < decision.decision_date
        assert decision.decision_date >= oldest
        assert decision.review_areas and decision.summary and decision.legal_reference


def test_seed_demo__legal_references_cite_the_law_in_force_on_the_decision_date(seeded):
    new_law = datetime.date(2025, 7, 1)
    for decision in Decision.objects.all():
        if decision.decision_date < new_law:
            assert decision.legal_reference.endswith("socialtjänstlagen (2001:453)")
        else:
            assert decision.legal_reference.endswith("socialtjänstlagen (2025:400)")
    for outcome in (Outcome.FORELAGGANDE, Outcome.BRISTER):
        assert Decision.objects.filter(outcome=outcome).exists()


def test_seed_demo__status_follows_the_latest_decision_as_the_services_rule_would_set_it(seeded):
    facilities = list(facilities_with_marking().prefetch_related("permits"))
    statuses = {facility.status for facility in facilities}
    assert {"aktiv", "nedlagd", "aterkallad", "forbud"} <= statuses
    for facility in facilities:
        expected = STATUS_FROM_OUTCOME.get(facility.latest_outcome)
        if facility.latest_appeal_status == AppealStatus.UPPHAVT:
            expected = None
        if expected:
            assert facility.status == expected, facility
            assert facility.status_date == facility.latest_decision_date
        elif facility.status == FacilityStatus.NEDLAGD:
            assert facility.end_date and facility.start_date < facility.end_date
            assert all(permit.status == "upphort" for permit in facility.permits.all())
        else:
            assert facility.status == FacilityStatus.AKTIV, facility
        if facility.status == FacilityStatus.ATERKALLAD:
            assert facility.provider.ownership == Ownership.ENSKILD
            assert [permit.status for permit in facility.permits.all()] == ["aterkallat"]
        # A status-changing outcome only ever ends a history.
        serious = facility.decisions.filter(outcome__in=list(STATUS_FROM_OUTCOME))
        assert serious.count() <= 1
        if serious:
            assert serious.get().diarienummer == facility.latest_decision_diarienummer
    assert (
        Permit.objects.filter(status="aterkallat").count()
        == Facility.objects.filter(status="aterkallad").count()
    )

    # Applying the real rule to each latest decision changes nothing.
    history_rows = Facility.history.count(), Permit.history.count()
    for facility in facilities:
        if facility.latest_decision_diarienummer:
            decision = Decision.objects.get(diarienummer=facility.latest_decision_diarienummer)
            services._apply_status_rule(decision, actor=None)
    assert (Facility.history.count(), Permit.history.count()) == history_rows


def test_seed_demo__some_active_homes_are_overdue_for_their_yearly_inspection(seeded):
    active = facility_search(FacilitySearch(facility_types=("hvb", "stodboende")))
    overdue = [facility for facility in active if facility.inspection_overdue]
    assert overdue
    assert len(overdue) <= 0.1 * active.count()
    cutoff = timezone.localdate().replace(year=timezone.localdate().year - 1)
    for facility in overdue:
        assert facility.last_inspection_date is None or facility.last_inspection_date < cutoff


def test_seed_demo__every_row_has_its_history_row(seeded):
    for model in REGISTER_MODELS:
        assert model.history.count() == model.objects.count() > 0, model
        assert set(model.history.values_list("history_change_reason", flat=True)) == {"seed_demo"}


def test_seed_demo__run_again__same_data_no_duplicates():
    seed()
    first = snapshot()
    counts = {model: model.objects.count() for model in REGISTER_MODELS}
    seed()
    assert snapshot() == first
    for model in REGISTER_MODELS:
        assert model.objects.count() == counts[model], model
        assert model.history.count() == counts[model], model
    assert get_user_model().objects.filter(username__startswith="ivo.").count() == 2


def test_seed_demo__rerun_after_a_request_for_a_demo_decision(seeded):
    """What was tried in the demo (a request for a demo decision, a release copy) goes with the
    demo data; it does not block the next seed_demo."""
    from access.roles import Role
    from documents import services as document_services
    from documents.models import DecisionDocument, DecisionRequest
    from tests.documents_helpers import pdf_upload
    from tests.factories import make_user

    decision = Decision.objects.first()
    document_services.request_decision(decision=decision, user=make_user(Role.MUNICIPAL_USER))
    document_services.clear_release_copy(
        decision=decision, upload=pdf_upload(), user=make_user(Role.IVO_CASE_OFFICER), partial=False
    )

    seed()

    assert not DecisionRequest.objects.exists() and not DecisionRequest.history.exists()
    assert not DecisionDocument.objects.exists() and not DecisionDocument.history.exists()
    assert Decision.objects.exists()


def test_seed_demo__rerun_after_a_case_linked_to_a_demo_home(seeded):
    from linking import services as linking_services
    from linking.matching import match_case_records
    from linking.models import CaseRecord, LinkAction
    from tests.factories import CaseRecordFactory

    facility = Facility.objects.first()
    case = CaseRecordFactory(facility_name=facility.name, municipality_id=facility.municipality_id)
    match_case_records([case])
    linking_services.case_link(
        case_record=case, facility=facility, actor=None, kind=LinkAction.Kind.CONFIRM
    )

    seed()

    assert not CaseRecord.objects.filter(facility__isnull=False).exists()
    assert Facility.objects.exists()


def test_build_demo_data__same_seed_same_data_other_seed_other_data():
    arguments = {
        "municipalities": list(Municipality.objects.all()),
        "sis_homes": demo.read_sis_homes(),
        "today": datetime.date(2026, 3, 1),
        "facility_count": 60,
    }

    def rows(data):
        return [
            (facility.facility_id, facility.name, facility.municipality_id, facility.status)
            for facility in data.facilities
        ] + [(manager.name, manager.personal_identity_number) for manager in data.managers]

    first = demo.build_demo_data(seed=2026, **arguments)
    assert rows(demo.build_demo_data(seed=2026, **arguments)) == rows(first)
    assert rows(demo.build_demo_data(seed=7, **arguments)) != rows(first)
    assert not Facility.objects.exists()  # building writes nothing


def test_seed_demo__refused_when_real_register_data_exist():
    seed()
    FacilityFactory(facility_id="IVO-123")
    counts = {model: model.objects.count() for model in REGISTER_MODELS}

    with pytest.raises(CommandError) as refusal:
        seed()

    assert str(refusal.value) == (
        "Databasen innehåller riktiga registeruppgifter (verksamheter vars verksamhetsid inte "
        "börjar med DEMO-): seed_demo körs inte."
    )
    assert {model: model.objects.count() for model in REGISTER_MODELS} == counts
    assert Facility.objects.filter(facility_id="IVO-123").exists()


def test_seed_demo__refused_below_the_minimum_size():
    with pytest.raises(CommandError, match="minst 40"):
        seed(10)
    assert not Facility.objects.exists()


def test_seed_demo__demo_users_can_log_in_and_the_registrator_cannot_delete(seeded, client):
    user_model = get_user_model()
    administrator = user_model.objects.get(username="ivo.admin")
    assert administrator.is_staff and not administrator.is_superuser
    assert administrator.account.role == "ivo_admin"
    assert administrator.has_perm("register.delete_decision")
    registrator = user_model.objects.get(username="ivo.registrator")
    assert registrator.is_staff and not registrator.is_superuser
    assert registrator.account.role == "ivo_registrator"
    # Their permissions are their roles' (access/roles.py), nothing granted beside them.
    assert not registrator.groups.exists() and not registrator.user_permissions.exists()
    for model in REGISTER_MODELS:
        name = model._meta.model_name
        for action in ("add", "change", "view"):
            assert registrator.has_perm(f"register.{action}_{name}")
        # A finding is part of its decision: removing an area is an edit (access/roles.py).
        assert registrator.has_perm(f"register.delete_{name}") == (model is Finding)
    assert registrator.has_perm("register.view_county")
    assert registrator.has_perm("register.view_municipality")
    assert not registrator.has_perm("register.change_municipality")
    assert {
        perm for perm in registrator.get_all_permissions() if perm.startswith("register.delete_")
    } == {"register.delete_finding"}

    # The demo logins work as printed: password and the code of the demo TOTP key.
    assert staff_sign_in(client, "ivo.registrator", "demo-registrator-2026").status_code == 302
    assert client.get("/admin/register/facility/").status_code == 200
    client.logout()
    assert staff_sign_in(client, "ivo.admin", "demo-ivo-admin-2026").status_code == 302
    assert client.get("/admin/").status_code == 200


def staff_sign_in(client, username: str, password: str):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    key = TOTPDevice.objects.get(user__username=username, confirmed=True).bin_key
    return client.post(
        "/personal/logga-in/",
        {"username": username, "password": password, "code": f"{totp(key):06d}"},
    )


def test_seed_demo__without_debug_or_logins_option__sets_no_known_passwords():
    out = io.StringIO()
    call_command("seed_demo", "--facilities", str(SMALL), stdout=out)

    assert not get_user_model().objects.filter(username__in=["ivo.admin", "ivo.registrator"])
    assert "Inga demoinloggningar skapades (DEBUG är av)" in out.getvalue()
    assert "demo-ivo-admin-2026" not in out.getvalue()


def test_seed_demo__provider_addresses_stable_across_reseeds():
    seed()
    first = sorted(Provider.objects.values_list("organisation_number", "public_id"))
    seed()

    assert sorted(Provider.objects.values_list("organisation_number", "public_id")) == first


# What supervision found (issue 16): findings, requirements and their states -------------------


def supervision_of_all() -> dict[int, object]:
    return supervision_by_facility(list(Facility.objects.all()), today=timezone.localdate())


def test_seed_demo__every_requirement_state_and_supervision_fact_is_shown(seeded):
    today = timezone.localdate()
    supervision = supervision_of_all()
    states = {
        requirement.state
        for facts in supervision.values()
        for entry in facts.decisions
        for requirement in entry.requirements.values()
    }
    assert states == set(RequirementState.values)
    assert any(facts.recent_recurring for facts in supervision.values())

    in_force = [facts.temporary_prohibition for facts in supervision.values()]
    in_force = [decision for decision in in_force if decision is not None]
    assert in_force
    for decision in in_force:
        assert decision.decision_date < today < decision.prohibition_until
        assert decision.prohibition_until <= validation.months_after(
            decision.decision_date, TEMPORARY_PROHIBITION_MAX_MONTHS
        )
        assert current_status(decision.facility, today) == FacilityStatus.TILLFALLIGT_FORBUD
    ended = [facts.ended_temporary_prohibition for facts in supervision.values()]
    ended = [decision for decision in ended if decision is not None]
    assert ended
    for decision in ended:
        assert decision.prohibition_until < today
        assert current_status(decision.facility, today) == FacilityStatus.AKTIV
        # A follow-up after it ended.
        assert decision.follow_ups.filter(decision_date__gt=decision.prohibition_until).exists()

    prohibitions = Decision.objects.filter(outcome__in=(Outcome.FORBUD, Outcome.TILLFALLIGT_FORBUD))
    assert prohibitions.filter(appeal_status=AppealStatus.OVERKLAGAT).exists()
    overturned = prohibitions.filter(appeal_status=AppealStatus.UPPHAVT)
    assert overturned.exists()
    for decision in overturned:  # a decision a court overturned changes no status
        assert current_status(decision.facility, today) == FacilityStatus.AKTIV


def test_seed_demo__findings_consistent_with_each_decision_s_outcome(seeded):
    decisions = Decision.objects.prefetch_related("findings")
    fined_outcomes = set()
    brister_with_requirement = 0
    for decision in decisions:
        findings = list(decision.findings.all())
        assert sorted(f.area for f in findings) == sorted(decision.review_areas), decision
        deficient = [f for f in findings if f.assessment in DEFICIENT_ASSESSMENTS]
        if decision.outcome in (Outcome.INGA_BRISTER, Outcome.TILLSTAND_BEVILJAT):
            assert not deficient, decision
        else:
            assert deficient, decision
        for finding in findings:
            if finding.fine_amount is not None:
                fined_outcomes.add(decision.outcome)
            if finding.assessment == Assessment.INGEN_BRIST:
                assert not finding.requirement and finding.due_date is None
            if finding.requirement:
                assert finding.requirement.startswith("Verksamheten ska ")
                assert finding.due_date > decision.decision_date
        areas = [f for f in deficient if f.area != ReviewArea.UPPFOLJNING_TIDIGARE_BESLUT]
        if decision.outcome in (Outcome.FORELAGGANDE, Outcome.FORELAGGANDE_VITE):
            assert areas and all(f.requirement and f.due_date for f in areas), decision
        if decision.outcome == Outcome.FORELAGGANDE_VITE:
            for finding in areas:
                assert finding.assessment == Assessment.ALLVARLIG_BRIST
                assert 100_000 <= finding.fine_amount <= 1_000_000
        if decision.outcome == Outcome.BRISTER and any(f.requirement for f in areas):
            brister_with_requirement += 1
    assert fined_outcomes == {Outcome.FORELAGGANDE_VITE}
    assert brister_with_requirement > 0.6 * decisions.filter(outcome=Outcome.BRISTER).count()


def test_seed_demo__follow_ups_review_again_what_the_earlier_decision_found(seeded):
    follow_ups = Decision.objects.filter(follows_up__isnull=False).select_related("follows_up")
    assert follow_ups.exists()
    for decision in follow_ups.prefetch_related("findings", "follows_up__findings"):
        earlier = decision.follows_up
        assert earlier.facility_id == decision.facility_id
        assert earlier.decision_date < decision.decision_date
        assert decision.inspection_reason == InspectionReason.UPPFOLJNING
        assert ReviewArea.UPPFOLJNING_TIDIGARE_BESLUT in decision.review_areas
        assert earlier.diarienummer in decision.summary
        found_before = {f.area for f in earlier.findings.all() if f.assessment != "ingen_brist"}
        found_before.discard(ReviewArea.UPPFOLJNING_TIDIGARE_BESLUT)
        assert found_before <= set(decision.review_areas), decision


def test_seed_demo__inspection_reasons_children_and_barns_upplevelse(seeded):
    supervision = Decision.objects.filter(kind="tillsyn")
    reasons = list(supervision.values_list("inspection_reason", flat=True))
    assert "" not in reasons
    assert set(reasons) >= {
        InspectionReason.FREKVENSTILLSYN,
        InspectionReason.KLAGOMAL,
        InspectionReason.ANMALAN,
        InspectionReason.UPPFOLJNING,
    }
    assert max(set(reasons), key=reasons.count) == InspectionReason.FREKVENSTILLSYN
    assert set(
        Decision.objects.filter(kind="tillstand").values_list("inspection_reason", flat=True)
    ) == {InspectionReason.TILLSTANDSPROVNING}
    assert supervision.filter(children_talked_with__isnull=False).count() > 0.7 * len(reasons)
    assert Finding.objects.filter(area=ReviewArea.BARNS_UPPLEVELSE).exists()
    # IVO heard the children wherever it judged their experience.
    assert not supervision.filter(
        review_areas__contains=holds_code(ReviewArea.BARNS_UPPLEVELSE),
        children_talked_with__lt=2,
    ).exists()


def test_seed_demo__every_finding_text_is_public_text(seeded):
    texts = Finding.objects.values_list("observation", "requirement")
    assert texts
    names = set(Manager.objects.values_list("name", flat=True))
    for observation, requirement in texts:
        assert observation
        for text in (observation, requirement):
            assert validation.public_text(text) == text
            assert not any(name in text for name in names)


def test_seed_demo__derived_columns_written_after_the_findings(seeded):
    """refresh_latest ran over the seeded facilities once their findings existed: the stored
    columns give what register.supervision derives."""
    supervision = supervision_of_all()
    unresolved = 0
    for facility in Facility.objects.all():
        facts = supervision[facility.pk]
        assert facility.unresolved_requirements == len(facts.unresolved_requirements), facility
        unresolved += facility.unresolved_requirements
        temporary = temporary_prohibition_decision(entry.decision for entry in facts.decisions)
        assert facility.temporary_prohibition_until == (
            temporary.prohibition_until if temporary else None
        )
    assert unresolved > 0


def test_seed_demo__the_social_worker_s_path_has_a_home_with_an_open_requirement(seeded):
    """Kalmar län and its neighbours, a girl of 15, no serious decision in three years: a home
    whose requirement is still to be met, and by when."""
    today = timezone.localdate()
    hits = list(
        facility_search(
            FacilitySearch(
                counties=with_neighbours("08"),
                child_age=15,
                gender="flickor",
                no_serious_decision_years=3,
            )
        )
    )
    supervision = supervision_by_facility(hits, today=today)
    with_open = [hit for hit in hits if supervision[hit.pk].open_requirements]
    assert len(with_open) >= 3
    for hit in with_open:
        assert hit.municipality.county_id in with_neighbours("08")
        assert not hit.is_protected and not hit.inspection_overdue
        for requirement in supervision[hit.pk].open_requirements:
            assert requirement.finding.requirement.startswith("Verksamheten ska ")
            assert requirement.finding.due_date >= today
    assert any(hit.municipality.county_id == "08" for hit in with_open)


def test_build_demo_data__findings_and_follow_ups_the_same_for_the_same_seed():
    arguments = {
        "municipalities": list(Municipality.objects.all()),
        "sis_homes": demo.read_sis_homes(),
        "today": datetime.date(2026, 3, 1),
        "facility_count": 60,
        "seed": 2026,
    }

    def rows(data):
        return [
            (
                finding.decision.diarienummer,
                finding.area,
                finding.assessment,
                finding.observation,
                finding.requirement,
                finding.due_date,
                finding.fine_amount,
            )
            for finding in data.findings
        ] + [
            (decision.diarienummer, decision.follows_up and decision.follows_up.diarienummer)
            for decision in data.decisions
        ]

    first = rows(demo.build_demo_data(**arguments))
    assert first and rows(demo.build_demo_data(**arguments)) == first
