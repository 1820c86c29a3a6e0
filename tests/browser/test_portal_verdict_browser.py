"""The worker's question in Chromium: find a home for a 15-year-old girl in Kalmar län or a
neighbouring län with no serious decision, open one with an open requirement and read what must
be done by when — at desktop and phone width, with axe-core at zero violations; and the verdict
within the first screen."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from register.codes import AppealStatus, Assessment, Outcome, ReviewArea
from register.models import Municipality
from tests.factories import DecisionFactory, FacilityFactory, FindingFactory, InspectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def _home(name: str, municipality: str, **facts):
    facility = FacilityFactory(
        name=name,
        municipality=Municipality.objects.get(code=municipality),
        start_date=datetime.date(2015, 1, 1),
        **facts,
    )
    InspectionFactory(facility=facility, start_date=days(-40), announced=False)
    return facility


@pytest.fixture
def homes():
    """In Kalmar län and its neighbours: a home with an open requirement, one with a recent
    vite, one for boys; and one in Stockholm, which is not a neighbour."""
    girls = {"age_from": 13, "age_to": 17, "gender": "flickor", "target_groups": ["npf"]}
    open_requirement = _home("Tallgården", "0880", **girls)
    injunction = DecisionFactory(
        facility=open_requirement,
        decision_date=days(-60),
        outcome=Outcome.FORELAGGANDE,
        inspection_reason="klagomal",
        children_talked_with=3,
    )
    FindingFactory(
        decision=injunction,
        area=ReviewArea.LOKALER,
        assessment=Assessment.BRIST,
        observation="Brandlarm saknades i två sovrum.",
        requirement="Installera brandlarm i alla sovrum.",
        due_date=days(30),
    )
    FindingFactory(decision=injunction, area=ReviewArea.TRYGGHET_SAKERHET)
    serious = _home("Granbacken", "0780", **girls)  # Kronobergs län
    DecisionFactory(facility=serious, decision_date=days(-200), outcome=Outcome.FORELAGGANDE_VITE)
    _home("Ekbacken", "1080", age_from=13, age_to=17, gender="pojkar")  # Blekinge, boys
    _home("Lindbacken", "0180", **girls)  # Stockholm
    return open_requirement


def _assert_no_axe_violations(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@WIDTHS
def test_worker_path__kalmar_and_neighbours_girl_15_no_serious_decision(page, homes, viewport):
    page.set_viewport_size(viewport)
    page.goto("/")
    _assert_no_axe_violations(page)
    page.get_by_label("Län", exact=True).select_option(label="Kalmar län")
    page.get_by_label("Ta med grannlän").check()
    page.get_by_label("Barnets ålder").fill("15")
    page.get_by_label("Barnets kön").select_option(label="Flicka")
    page.get_by_label("Inget allvarligt beslut").select_option(label="de senaste 3 åren")
    page.get_by_role("button", name="Sök").click()

    expect(page.get_by_role("heading", name="1 verksamhet", exact=True)).to_be_visible()
    assert "lan=08" in page.url and "grannlan=on" in page.url and "utan_allvarligt=3" in page.url
    hit = page.locator(".result", has_text="Tallgården")
    expect(hit).to_contain_text("13–17 år")
    expect(hit).to_contain_text("Flickor")
    expect(hit).to_contain_text(f"Ska vara åtgärdat 1 krav, senast {days(30):%Y-%m-%d}")
    _assert_no_axe_violations(page)

    hit.get_by_role("link", name="Tallgården").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tallgården")
    requirement = page.locator(".verdict .requirement")
    expect(requirement).to_have_text(
        f"○ Ska vara åtgärdat senast {days(30):%Y-%m-%d} · Lokaler: Installera brandlarm i alla "
        f"sovrum. (beslut {days(-60):%Y-%m-%d})"
    )
    expect(requirement).to_be_in_viewport()
    # What IVO saw is one click away in the timeline.
    page.get_by_text("Vad IVO såg och beslutade").first.click()
    expect(page.locator(".observations")).to_contain_text("Brandlarm saknades i två sovrum.")
    _assert_no_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@WIDTHS
def test_search__more_lan_by_keyboard_and_the_kommun_list_follows(page, homes, viewport):
    page.set_viewport_size(viewport)
    page.goto("/")
    page.get_by_label("Län", exact=True).select_option(label="Kalmar län")
    page.get_by_text("Välj fler län").click()
    page.get_by_role("group", name="Fler län").get_by_label("Stockholms län").check()

    options = page.locator("#id_kommun optgroup:not([disabled]) option").all_inner_texts()
    assert "Kalmar" in options and "Stockholm" in options and "Växjö" not in options
    page.get_by_label("Ta med grannlän").check()
    options = page.locator("#id_kommun optgroup:not([disabled]) option").all_inner_texts()
    assert "Växjö" in options and "Uppsala" in options  # Uppsala län borders Stockholms
    page.get_by_label("Barnets ålder").press("Enter")

    expect(page.get_by_role("heading", name="4 verksamheter", exact=True)).to_be_visible()
    expect(page.locator("#id_lan_fler_01")).to_be_checked()
    expect(page.locator("details.more-counties")).to_have_attribute("open", "")
    _assert_no_axe_violations(page)


# Two requirements of about 150 characters each, as IVO writes them.
STAFFING = (
    "Se till att det alltid finns minst två anställda med adekvat utbildning i tjänst nattetid, "
    "och att bemanningen dokumenteras i ett schema som kan följas upp."
)
DOCUMENTATION = (
    "Dokumentera varje begränsningsåtgärd samma dag med skäl, varaktighet och vem som beslutade, "
    "och anmäl åtgärden till IVO inom den tid som föreskrifterna anger."
)


@pytest.fixture
def heavy_home():
    """A home with as much in its verdict as a real one has: a long name, every fact of what it
    takes, a latest decision (appealed) with two deficient areas and two open or overdue
    requirements with long texts, one of them recurring, and an inspection with its reason and
    the children IVO talked with."""
    facility = FacilityFactory(
        name="Stiftelsen Solbackens behandlingshem för flickor och pojkar",
        municipality=Municipality.objects.get(code="0880"),
        age_from=13,
        age_to=20,
        gender="alla",
        target_groups=["hedersrelaterat", "psykisk_ohalsa", "skydd"],
        places=16,
        start_date=datetime.date(2012, 3, 1),
    )
    InspectionFactory(
        facility=facility, diarienummer="3.2.2-202/2026", start_date=days(-95), announced=False
    )
    earlier = DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-201/2025",
        decision_date=days(-400),
        outcome=Outcome.FORELAGGANDE,
    )
    FindingFactory(
        decision=earlier,
        area=ReviewArea.KOMPETENS_BEMANNING,
        assessment=Assessment.BRIST,
        requirement="Se till att minst två anställda är i tjänst nattetid.",
        due_date=days(-300),
    )
    latest = DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-202/2026",
        decision_date=days(-80),
        outcome=Outcome.FORELAGGANDE_VITE,
        appeal_status=AppealStatus.OVERKLAGAT,
        follows_up=earlier,
        inspection_reason="klagomal",
        children_talked_with=4,
    )
    FindingFactory(
        decision=latest,
        area=ReviewArea.KOMPETENS_BEMANNING,
        assessment=Assessment.ALLVARLIG_BRIST,
        requirement=STAFFING,
        due_date=days(-10),
        fine_amount=500_000,
    )
    FindingFactory(
        decision=latest,
        area=ReviewArea.BEGRANSNINGSATGARDER,
        assessment=Assessment.BRIST,
        requirement=DOCUMENTATION,
        due_date=days(45),
    )
    for area in (ReviewArea.TRYGGHET_SAKERHET, ReviewArea.LOKALER, ReviewArea.DELAKTIGHET):
        FindingFactory(decision=latest, area=area, assessment=Assessment.INGEN_BRIST)
    return facility


@WIDTHS
def test_verdict__within_the_first_viewport(page, homes, viewport):
    page.set_viewport_size(viewport)
    page.goto(f"/verksamhet/{homes.facility_id}/")

    verdict = page.locator(".verdict")
    box = verdict.bounding_box()
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= viewport["height"], box
    expect(verdict).to_contain_text("Senaste beslut")
    expect(verdict).to_contain_text("Installera brandlarm i alla sovrum.")
    expect(verdict).to_contain_text("Senaste inspektion")


@WIDTHS
def test_verdict__a_heavy_home_still_within_the_first_viewport(page, heavy_home, viewport):
    page.set_viewport_size(viewport)
    page.goto(f"/verksamhet/{heavy_home.facility_id}/")

    verdict = page.locator(".verdict")
    expect(verdict).to_contain_text("överklagat")
    expect(verdict.locator(".requirement")).to_have_count(2)
    expect(verdict).to_contain_text("Återkommande brister")
    expect(verdict).to_contain_text("IVO talade med 4 barn och unga.")
    box = verdict.bounding_box()
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= viewport["height"], box
    # Each requirement's whole text is on the page: in the verdict on a wide screen, and in the
    # timeline right below it on every screen.
    timeline = page.locator(".history")
    for requirement in (STAFFING, DOCUMENTATION):
        expect(timeline.get_by_text(requirement, exact=False)).to_be_visible()
    if viewport is DESKTOP:
        expect(verdict.get_by_text(STAFFING, exact=False)).to_be_visible()
    # Nothing is lost from the page, and it reflows without sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _assert_no_axe_violations(page)
