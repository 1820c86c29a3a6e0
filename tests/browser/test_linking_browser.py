"""An IVO registrator in Chromium: the review queue, confirming a suggestion and undoing it,
choosing another facility by typing and picking a suggestion with the keyboard; axe on the queue,
the case page and the quality report at desktop, phone and 320 px, none of them scrolling
sideways (screenshots kept in /tmp/shots19/s5/ to look at)."""

import datetime
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from access.roles import Role
from linking.matching import match_case_records
from linking.models import CaseRecord, CaseStatus, LinkAction
from register.models import Decision, Facility
from tests.factories import CaseRecordFactory, FacilityFactory, ProviderFactory, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def registrator_page(anonymous_page, live_site):
    """Signed in as an IVO registrator, the second factor verified (the session made by the test
    client; the staff login itself is tested elsewhere)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    sign_in(client, make_user(Role.IVO_REGISTRATOR))
    anonymous_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_site.url,
            }
        ]
    )
    return anonymous_page


@pytest.fixture
def waiting(db):
    """A record in the queue: the right home first, its sibling close behind."""
    provider = ProviderFactory(name="Ekbacken Omsorg AB")
    FacilityFactory(facility_id="E-1", name="Ekbackens HVB", provider=provider)
    FacilityFactory(facility_id="E-2", name="Ekbackens stödboende", provider=provider)
    case = CaseRecordFactory(
        diarienummer="8.5-3001/2024",
        decision_date=datetime.date(2024, 9, 2),
        outcome="brister",
        facility_name="Ekbackens HVB",
        organisation_number=provider.organisation_number,
        municipality_id="0880",
    )
    match_case_records([case])
    return case


def test_registrator__confirms_a_suggestion_then_undoes_it(registrator_page, waiting):
    page = registrator_page
    page.goto("/")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Koppling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Koppling av ärenden")

    page.get_by_role("link", name="8.5-3001/2024").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärende 8.5-3001/2024")
    expect(page.get_by_text("organisationsnumret är huvudmannens (+35)").first).to_be_visible()
    page.get_by_role("button", name="Bekräfta till Ekbackens HVB").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Ärendet 8.5-3001/2024 är kopplat till Ekbackens HVB (E-1)"
    )
    assert Decision.objects.get(diarienummer="8.5-3001/2024").facility.facility_id == "E-1"

    page.get_by_role("button", name="Ångra förslaget bekräftat").click()

    expect(page.get_by_role("status")).to_contain_text("Ångrat: förslaget bekräftat.")
    assert not Decision.objects.exists()
    assert CaseRecord.objects.get().status == CaseStatus.REVIEW
    assert list(LinkAction.objects.order_by("id").values_list("kind", flat=True)) == [
        "bekraftad",
        "angrad",
    ]
    assert Facility.objects.count() == 2


def test_registrator__types_part_of_a_name_picks_a_suggestion_with_the_keyboard_and_links_it(
    registrator_page, waiting
):
    FacilityFactory(facility_id="L-7", name="Lindbackens HVB")
    page = registrator_page
    page.goto(f"/ivo/koppling/{waiting.public_id}/")
    search = page.get_by_role("combobox", name="Sök verksamhet")

    search.press_sequentially("backens")
    suggestions = page.get_by_role("listbox")
    expect(suggestions.get_by_role("option")).to_have_text(
        [
            "Ekbackens HVB (E-1), Kalmar",
            "Ekbackens stödboende (E-2), Kalmar",
            "Lindbackens HVB (L-7), Kalmar",
        ]
    )
    expect(page.locator("#sok-status")).to_have_text(
        "Förslag finns under sökrutan. Välj med pil ned och Enter."
    )
    search.press("ArrowDown")
    search.press("ArrowDown")
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "sok-forslag-2")
    expect(page.get_by_role("option", selected=True)).to_have_text("Lindbackens HVB (L-7), Kalmar")
    search.press("Enter")

    expect(page.get_by_role("radio", name="Lindbackens HVB (L-7)")).to_be_checked()
    expect(page.locator("#search-results")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("radio", name="Lindbackens HVB (L-7)")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Koppla", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text(
        "Ärendet 8.5-3001/2024 är kopplat till Lindbackens HVB (L-7)"
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.facility.facility_id) == (CaseStatus.LINKED, "L-7")
    assert LinkAction.objects.get().kind == LinkAction.Kind.OTHER


def test_suggestions__escape_closes_them_and_enter_then_searches_without_them(
    registrator_page, waiting
):
    page = registrator_page
    page.goto(f"/ivo/koppling/{waiting.public_id}/")
    search = page.get_by_role("combobox", name="Sök verksamhet")
    search.press_sequentially("Ekback")
    expect(page.get_by_role("option")).to_have_count(2)

    search.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(search).to_have_attribute("aria-expanded", "false")
    search.press("Enter")

    expect(page.get_by_role("radio")).to_have_count(2)
    assert "sok=Ekback" in page.url


SHOTS = Path("/tmp/shots19/s5")
WIDTHS = {"desktop": 1366, "phone": 390, "narrow": 320}


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("path", ["/ivo/koppling/", "case", "search", "linked", "/ivo/kvalitet/"])
def test_axe__linking_pages__no_violations_and_no_sideways_scrolling(
    registrator_page, waiting, path, width
):
    name = path.strip("/").replace("/", "-")
    if path in ("case", "linked"):
        path = f"/ivo/koppling/{waiting.public_id}/"
    elif path == "search":
        path = f"/ivo/koppling/{waiting.public_id}/?sok=Ekbackens"
    page = registrator_page
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if name == "linked":
        # The actions' table, with its undo button, too.
        page.get_by_role("button", name="Bekräfta till Ekbackens HVB").click()
        expect(page.get_by_role("button", name="Ångra förslaget bekräftat")).to_be_visible()
    if name == "search":
        # The suggestions open too, so that axe sees the listbox.
        page.get_by_role("combobox", name="Sök verksamhet").fill("Ekback")
        expect(page.get_by_role("option")).to_have_count(2)

    results = Axe().run(page)

    assert results.violations_count == 0, results.generate_report()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{WIDTHS[width]}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]
    if name == "case":
        # The suggestions stack on a phone: the button that decides is on screen, not off to the
        # right in the table's own scroll region.
        box = page.get_by_role("button", name="Bekräfta till Ekbackens HVB").bounding_box()
        assert box["x"] + box["width"] <= WIDTHS[width]
    if name == "linked":
        box = page.get_by_role("button", name="Ångra förslaget bekräftat").bounding_box()
        assert box["x"] + box["width"] <= WIDTHS[width]
