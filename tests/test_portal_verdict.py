"""The facility page answers the question at the top: the verdict for each state a home can be in
(DESIGN.md: requirements open, overdue, met, not met; recurring deficiencies; a temporary
prohibition in force and ended; an appeal; a court's overturning), and the timeline below it."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from register import services
from register.codes import AppealStatus, Assessment, FacilityStatus, Outcome, ReviewArea
from register.models import Municipality
from tests.factories import DecisionFactory, FacilityFactory, FindingFactory, InspectionFactory

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def _signed_in(client, municipal_user):
    client.force_login(municipal_user)


def text(html: str) -> str:
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
    return re.sub(r" ([,.:])", r"\1", spaced)


def page_parts(client, facility) -> dict[str, str]:
    """The text of the page's verdict, its timeline and the page below them."""
    response = client.get(reverse("portal:facility", args=[facility.facility_id]))
    assert response.status_code == 200
    html = response.content.decode()
    verdict = re.search(r'<section class="verdict"[^>]*>(.*?)</section>', html, re.S).group(1)
    history = re.search(r'<section class="history"[^>]*>(.*?)</section>', html, re.S).group(1)
    return {"verdict": text(verdict), "history": text(history), "page": text(html)}


# Builders: one home for each state, as a worker meets them (also for the browser tests and the
# screenshots).


def home(name: str = "Tallgården", **facts):
    facts.setdefault("municipality", Municipality.objects.get(code="0880"))
    return FacilityFactory(name=name, age_from=13, age_to=17, gender="flickor", **facts)


def decision(facility, dnr: str, on: datetime.date, outcome=Outcome.FORELAGGANDE, **values):
    return DecisionFactory(
        facility=facility, diarienummer=dnr, decision_date=on, outcome=outcome, **values
    )


def deficiency(dec, area=ReviewArea.LOKALER, *, due=None, requirement="", **values):
    values.setdefault("assessment", Assessment.BRIST)
    return FindingFactory(
        decision=dec,
        area=area,
        requirement=requirement,
        due_date=due,
        observation=values.pop("observation", "Brandlarmet saknades i två sovrum."),
        **values,
    )


def no_deficiency(dec, area):
    return FindingFactory(
        decision=dec, area=area, assessment=Assessment.INGEN_BRIST, observation="Inget att anmärka."
    )


def with_open_requirement(name="Tallgården"):
    facility = home(name)
    injunction = decision(facility, "3.2.2-101/2026", days(-60), inspection_reason="klagomal")
    deficiency(
        injunction,
        requirement="Installera brandlarm i alla sovrum.",
        due=days(30),
    )
    no_deficiency(injunction, ReviewArea.TRYGGHET_SAKERHET)
    return facility


def with_overdue_requirement():
    facility = home("Granbacken")
    injunction = decision(facility, "3.2.2-102/2026", days(-90))
    deficiency(
        injunction,
        ReviewArea.KOMPETENS_BEMANNING,
        requirement="Se till att minst två anställda är i tjänst nattetid.",
        due=days(-10),
    )
    return facility


def with_met_requirement():
    facility = home("Lärkbacken")
    injunction = decision(facility, "3.2.2-103/2025", days(-300))
    deficiency(injunction, requirement="Installera brandlarm i alla sovrum.", due=days(-200))
    follow_up = decision(
        facility,
        "3.2.2-104/2026",
        days(-20),
        Outcome.INGA_BRISTER,
        follows_up=injunction,
        inspection_reason="uppfoljning",
    )
    no_deficiency(follow_up, ReviewArea.LOKALER)
    return facility


def with_unmet_requirement():
    """The follow-up finds the deficiency again: not met, and recurring."""
    facility = home("Svalbacken")
    injunction = decision(facility, "3.2.2-105/2025", days(-300))
    deficiency(injunction, requirement="Installera brandlarm i alla sovrum.", due=days(-200))
    follow_up = decision(facility, "3.2.2-106/2026", days(-20), follows_up=injunction)
    deficiency(
        follow_up,
        requirement="Installera brandlarm i alla sovrum, nu med vite.",
        due=days(40),
    )
    return facility


def with_temporary_prohibition(*, ended: bool = False, appealed: bool = False):
    facility = home("Björnbärsgården")
    start, until = (days(-200), days(-30)) if ended else (days(-10), days(60))
    decision(
        facility,
        "3.2.2-107/2026",
        start,
        Outcome.TILLFALLIGT_FORBUD,
        prohibition_until=until,
        appeal_status=AppealStatus.OVERKLAGAT if appealed else AppealStatus.EJ_OVERKLAGAT,
    )
    return facility


def with_overturned_injunction():
    facility = home("Hallonbacken")
    injunction = decision(facility, "3.2.2-108/2026", days(-60), appeal_status=AppealStatus.UPPHAVT)
    deficiency(injunction, requirement="Anställ en föreståndare med rätt utbildning.", due=days(30))
    return facility


def aquarellen():
    """The seed format's real decision (register-import.md): four areas reviewed, no
    deficiency, the yearly inspection, four children talked with."""
    facility = FacilityFactory(
        facility_id="K0880-001",
        name="Aquarellen",
        municipality=Municipality.objects.get(code="0880"),
    )
    dec = decision(
        facility,
        "3.2.2-13748/2022",
        datetime.date(2022, 6, 16),
        Outcome.INGA_BRISTER,
        review_areas=[
            "trygghet_sakerhet",
            "forestandare",
            "inskrivna",
            "uppfoljning_tidigare_beslut",
        ],
        inspection_reason="frekvenstillsyn",
        children_talked_with=4,
        legal_reference="3 kap. 3 § socialtjänstlagen (2001:453)",
    )
    for area in dec.review_areas:
        no_deficiency(dec, area)
    return facility


# The verdict, state by state ------------------------------------------------------------------


def test_verdict__open_requirement__what_by_when_and_where(client):
    facility = with_open_requirement()

    verdict = page_parts(client, facility)["verdict"]

    assert f"Föreläggande {days(-60):%Y-%m-%d}" in verdict
    assert "Brister ! Brist Lokaler Inga brister i 1 annat granskat område." in verdict
    assert (
        f"○ Ska vara åtgärdat senast {days(30):%Y-%m-%d} · Lokaler: Installera brandlarm i alla "
        f"sovrum. (beslut {days(-60):%Y-%m-%d})"
    ) in verdict
    assert "Anledning: Klagomål" in verdict
    assert "Försenat" not in verdict


def test_verdict__overdue_requirement__says_overdue_with_its_day(client):
    facility = with_overdue_requirement()

    verdict = page_parts(client, facility)["verdict"]

    assert (
        f"! Försenat senast {days(-10):%Y-%m-%d} · Kompetens och bemanning: Se till att minst "
        "två anställda är i tjänst nattetid."
    ) in verdict


def test_verdict__met_requirement__nothing_left_to_do_and_the_timeline_says_met(client):
    facility = with_met_requirement()

    parts = page_parts(client, facility)

    assert "Krav att åtgärda Inga krav som ska åtgärdas eller är försenade." in parts["verdict"]
    assert "✓ Inga brister i det granskade området: Lokaler." in parts["verdict"]
    assert "Anledning: Uppföljning av ett tidigare beslut" in parts["verdict"]
    assert f"✓ Åtgärdat enligt beslut {days(-20):%Y-%m-%d}" in parts["history"]
    assert f"följer upp beslut {days(-300):%Y-%m-%d} (3.2.2-103/2025)" in parts["history"]


def test_verdict__unmet_requirement__new_requirement_open_and_deficiency_recurring(client):
    facility = with_unmet_requirement()

    parts = page_parts(client, facility)

    assert (
        f"Återkommande brister ↻ Lokaler brist i beslut {days(-300):%Y-%m-%d} och "
        f"{days(-20):%Y-%m-%d}"
    ) in parts["verdict"]
    assert f"Ska vara åtgärdat senast {days(40):%Y-%m-%d}" in parts["verdict"]
    assert f"✕ Inte åtgärdat enligt beslut {days(-20):%Y-%m-%d}" in parts["history"]


def test_verdict__temporary_prohibition_in_force__status_and_its_last_day(client):
    facility = with_temporary_prohibition()

    verdict = page_parts(client, facility)["verdict"]

    assert verdict.startswith(
        f"Läget i dag ✕ Tillfälligt förbud till och med {days(60):%Y-%m-%d} "
        f"(beslut {days(-10):%Y-%m-%d})."
    )
    assert "Förbudet är överklagat" not in verdict


def test_verdict__temporary_prohibition_ended__status_active_and_the_end_said(client):
    facility = with_temporary_prohibition(ended=True)

    parts = page_parts(client, facility)

    assert "✕ Tillfälligt förbud till och med" not in parts["verdict"]
    assert (
        f"Tillfälligt förbud Ett tillfälligt förbud gällde {days(-200):%Y-%m-%d} till och med "
        f"{days(-30):%Y-%m-%d}. Det har upphört."
    ) in parts["verdict"]
    assert "Status i dag Aktiv" in parts["page"]


def test_verdict__appealed_prohibition__applies_until_the_court_has_ruled(client):
    facility = with_temporary_prohibition(appealed=True)

    verdict = page_parts(client, facility)["verdict"]

    assert "Tillfälligt förbud (överklagat)" in verdict
    assert "Förbudet är överklagat och gäller tills domstolen har prövat det." in verdict


def test_verdict__overturned_injunction__says_so_and_its_requirement_is_not_outstanding(client):
    facility = with_overturned_injunction()

    parts = page_parts(client, facility)

    assert "Föreläggande – upphävt av domstol" in parts["verdict"]
    assert (
        "Domstolen har upphävt beslutet. Det gäller inte och påverkar inte verksamhetens status."
    ) in parts["verdict"]
    assert "Brister Beslutet är upphävt; dess brister gäller inte." in parts["verdict"]
    assert "Inga krav som ska åtgärdas eller är försenade." in parts["verdict"]
    assert "Anställ en föreståndare" not in parts["verdict"]


def test_verdict__no_decision__says_none_registered(client):
    facility = home("Nybygget")

    verdict = page_parts(client, facility)["verdict"]

    assert "Senaste beslut Inget beslut registrerat" in verdict
    assert "Inga krav registrerade." in verdict
    assert "Ingen inspektion registrerad" in verdict


def test_verdict__status_is_the_status_today_not_the_stored_one(client):
    facility = with_temporary_prohibition()
    facility.refresh_from_db()

    assert facility.status == FacilityStatus.AKTIV  # stored: what it returns to
    assert "Status i dag Tillfälligt förbud" in page_parts(client, facility)["page"]


def test_aquarellen__no_deficiency_in_each_area_four_children_and_the_reason(client):
    facility = aquarellen()

    parts = page_parts(client, facility)

    assert (
        "✓ Inga brister i alla 4 granskade områden: Trygghet och säkerhet, Föreståndare, "
        "Inskrivna barn och unga, Uppföljning av tidigare beslut."
    ) in parts["verdict"]
    assert "Anledning: Årlig tillsyn (frekvenstillsyn)" in parts["verdict"]
    assert "IVO talade med 4 barn och unga." in parts["verdict"]
    assert (
        "✓ Inga brister Trygghet och säkerhet, Föreståndare, Inskrivna barn och unga, "
        "Uppföljning av tidigare beslut"
    ) in parts["history"]
    assert "Lagrum: 3 kap. 3 § socialtjänstlagen (2001:453)" in parts["history"]


def test_verdict__latest_inspection_date_with_the_reason_of_its_decision(client):
    facility = aquarellen()
    InspectionFactory(
        facility=facility,
        diarienummer="3.2.2-13748/2022",
        start_date=datetime.date(2022, 5, 3),
        announced=False,
    )

    parts = page_parts(client, facility)

    assert (
        "Senaste inspektion 2022-05-03 (oanmäld) · Anledning: Årlig tillsyn (frekvenstillsyn) · "
        "IVO talade med 4 barn och unga."
    ) in parts["verdict"]
    # The inspection is told with its decision, not as an entry of its own.
    assert parts["history"].count("2022-05-03") == 1


def test_facility_page__the_header_is_not_repeated_in_a_summary_sentence(client):
    facility = with_open_requirement()

    page = page_parts(client, facility)["page"]

    assert "är ett HVB för barn och unga med" not in page
    assert "Tallgården HVB för barn och unga · Kalmar, Kalmar län 13–17 år Flickor" in page
    assert page.count("Tallgården") == 3  # title, breadcrumbs, heading


def test_facility_page__verdict_before_the_timeline_before_the_facts(client):
    facility = with_open_requirement()

    page = page_parts(client, facility)["page"]

    assert page.index("Läget i dag") < page.index("Beslut och inspektioner")
    assert page.index("Beslut och inspektioner") < page.index("Om verksamheten")
    assert page.index("Om verksamheten") < page.index("Organisationsnummer")


def test_legend__explains_every_marking_assessment_and_requirement_state(client):
    facility = with_open_requirement()

    page = page_parts(client, facility)["page"]
    legend = page.split("Så läser du markeringarna", 1)[1]

    for label in (
        "Inga brister",
        "Brister konstaterade",
        "Föreläggande med vite",
        "Tillstånd beviljat",
        "Upphävt av domstol",
        "✓ Inga brister",
        "! Brist",
        "✕ Allvarlig brist",
        "↻ Återkommande brist",
        "○ Ska vara åtgärdat",
        "! Försenat",
        "✓ Åtgärdat",
        "✕ Inte åtgärdat",
        "Tillfälligt förbud",
        "Överklagat",
        "Ingen inspektion på över 12 månader",
    ):
        assert label in legend, label


# Queries ---------------------------------------------------------------------------------------


def reads(captured) -> int:
    return sum(
        1
        for query in captured.captured_queries
        if "access_accessevent" not in query["sql"]
        and not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    )


def test_facility_page__queries__fixed_whatever_the_decisions_findings_and_follow_ups(client):
    facility = with_unmet_requirement()
    url = reverse("portal:facility", args=[facility.facility_id])
    client.get(url)  # the session's first request stores its login time: one write, once
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    earlier = None
    for year in range(2012, 2024):
        dec = decision(
            facility,
            f"3.2.2-88/{year}",
            datetime.date(year, 5, 1),
            follows_up=earlier,
            inspection_reason="frekvenstillsyn",
            children_talked_with=3,
        )
        InspectionFactory(
            facility=facility, diarienummer=f"3.2.2-88/{year}", start_date=datetime.date(year, 4, 1)
        )
        deficiency(dec, requirement="Rätta till det.", due=datetime.date(year, 9, 1))
        deficiency(dec, ReviewArea.DOKUMENTATION, requirement="Dokumentera.")
        no_deficiency(dec, ReviewArea.TRYGGHET_SAKERHET)
        earlier = dec

    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert response.content.decode().count('class="timeline__entry') == 14
    assert len(many) == len(few)
    # 6 for the page (decisions and findings prefetched), 2 for the documents beside the
    # decisions, 4 for the session and the signed-in user, 2 for watches (the header's unread
    # count, the button)
    assert reads(many) <= 14


def test_facility_page__finding_texts_are_escaped(client):
    facility = home()
    dec = decision(facility, "3.2.2-109/2026", days(-5))
    deficiency(dec, requirement="<script>alert(1)</script>", observation="<b>fet</b>")

    html = client.get(reverse("portal:facility", args=[facility.facility_id])).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>fet</b>" not in html


def test_facility_page__fine_in_kronor(client):
    facility = home()
    dec = decision(facility, "3.2.2-110/2026", days(-5), Outcome.FORELAGGANDE_VITE)
    deficiency(dec, requirement="Anställ nattpersonal.", due=days(60), fine_amount=250000)

    parts = page_parts(client, facility)

    assert "Vite 250 000 kronor." in parts["verdict"]
    assert "Vite 250 000 kronor." in parts["history"]


def test_facility_page__fine_in_english__grouped_the_english_way(client):
    facility = home()
    dec = decision(facility, "3.2.2-111/2026", days(-5), Outcome.FORELAGGANDE_VITE)
    deficiency(dec, requirement="Anställ nattpersonal.", due=days(60), fine_amount=250000)
    client.cookies["sprak"] = "en"

    parts = page_parts(client, facility)

    assert "Fine of SEK 250,000." in parts["verdict"]
    assert "Fine of SEK 250,000." in parts["history"]


def test_decision_delete__its_requirement_leaves_the_verdict(client):
    facility = with_open_requirement()
    services.register_object_delete(instance=facility.decisions.get())

    verdict = page_parts(client, facility)["verdict"]

    assert "Installera brandlarm" not in verdict
    assert "Inget beslut registrerat" in verdict
