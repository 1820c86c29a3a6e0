"""A social worker's whole path through the portal in Chromium, and axe-core on every page."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from register.codes import Outcome, Ownership
from register.models import Municipality
from tests.factories import DecisionFactory, FacilityFactory, InspectionFactory, ProviderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def register_data():
    """Two homes of one provider in Kalmar län (one revoked), and one elsewhere."""
    provider = ProviderFactory(name="Björkens Omsorg AB", ownership=Ownership.ENSKILD)
    kalmar = Municipality.objects.get(code="0880")
    home = FacilityFactory(
        name="Björkgården",
        provider=provider,
        municipality=kalmar,
        age_from=13,
        age_to=17,
        target_groups=["npf"],
        summary="HVB för flickor och pojkar med neuropsykiatriska funktionsnedsättningar.",
    )
    InspectionFactory(
        facility=home, diarienummer="3.2.2-13748/2022", start_date=datetime.date(2022, 9, 14)
    )
    DecisionFactory(
        facility=home,
        diarienummer="3.2.2-13748/2022",
        decision_date=datetime.date(2022, 11, 3),
        outcome=Outcome.FORELAGGANDE,
        review_areas=["trygghet_sakerhet"],
        summary="IVO förelägger hemmet att ta fram rutiner för larm.",
    )
    sister = FacilityFactory(
        name="Ekgården", provider=provider, municipality=Municipality.objects.get(code="0881")
    )
    DecisionFactory(
        facility=sister,
        diarienummer="3.2.2-500/2024",
        decision_date=datetime.date(2024, 2, 1),
        outcome=Outcome.ATERKALLELSE,
    )
    FacilityFactory(name="Lindgården", municipality=Municipality.objects.get(code="0180"))
    return home


def test_worker_path__filter_open_facility_read_decision_go_to_provider(page, register_data):
    page.goto("/")
    page.get_by_label("Län", exact=True).select_option(label="Kalmar län")
    page.get_by_role("group", name="Typ av verksamhet").get_by_label(
        "HVB för barn och unga"
    ).check()
    page.get_by_label("Barnets ålder").fill("15")
    page.get_by_role("button", name="Sök").click()

    expect(page.get_by_role("heading", name="1 verksamhet", exact=True)).to_be_visible()
    assert "lan=08" in page.url and "alder=15" in page.url and "typ=hvb" in page.url
    page.get_by_role("link", name="Björkgården").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Björkgården")
    expect(page.locator(".verdict")).to_contain_text("Föreläggande 2022-11-03")
    latest = page.locator(".timeline__entry").first
    expect(latest.get_by_role("heading", level=3)).to_have_text(
        "2022-11-03 · ! Föreläggande Beslut (tillsyn)"
    )
    expect(latest).to_contain_text("IVO förelägger hemmet att ta fram rutiner för larm.")
    expect(latest.get_by_role("link", name="Begär ut beslut 3.2.2-13748/2022")).to_be_visible()

    page.get_by_role("link", name="Alla verksamheter hos huvudmannen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Björkens Omsorg AB")
    sister = page.locator(".result", has_text="Ekgården")
    expect(sister).to_contain_text("Tillståndet återkallat")
    expect(sister).to_contain_text("Återkallelse av tillstånd 2024-02-01")


def test_search__kommun_list_follows_the_chosen_lan(page, register_data):
    page.goto("/")
    page.get_by_label("Län", exact=True).select_option(label="Kalmar län")

    options = page.locator("#id_kommun optgroup:not([disabled]) option").all_inner_texts()

    assert "Kalmar" in options and "Nybro" in options
    assert "Stockholm" not in options


def test_search__keyboard_only__skip_link_and_visible_focus(page, register_data):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till huvudinnehållet")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")

    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def _assert_no_axe_violations(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?lan=08&alder=15&typ=hvb",
        "/?alder=femton",
        "/verksamhet/{facility_id}/",
        "/huvudman/{provider}/",
    ],
    ids=["search", "results", "bad-input", "facility", "provider"],
)
@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_axe__no_violations(page, register_data, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(
        path.format(
            facility_id=register_data.facility_id, provider=register_data.provider.public_id
        )
    )

    _assert_no_axe_violations(page)


def test_content_security_policy__no_violation_on_any_portal_page(page, register_data):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for path in (
        "/",
        "/?lan=08&alder=femton",
        f"/verksamhet/{register_data.facility_id}/",
        f"/huvudman/{register_data.provider.public_id}/",
    ):
        response = page.goto(path)  # returns after the load event: every resource asked for
        assert "default-src 'none'" in response.headers["content-security-policy"]
        # A message of the test's own, logged now: once it has arrived, so has every message
        # the browser logged before it (one channel, in order), a refused resource's included.
        with page.expect_console_message(lambda message: message.text == "csp-checked"):
            page.evaluate("console.log('csp-checked')")

    assert violations == []
    # The error summary got focus from site.js: the script ran under the policy.
    page.goto("/?alder=femton")
    expect(page.locator("#error-summary")).to_be_focused()


@pytest.fixture
def protected_home(register_data):
    """A protected home with its visiting address, beside the worker's search."""
    return FacilityFactory(
        facility_id="S-1",
        name="Skyddsgården",
        municipality=Municipality.objects.get(code="0880"),
        target_groups=["skydd", "hedersrelaterat"],
        gender="flickor",
        street_address="Hemliga vägen 1",
        postal_code="39231",
        postal_town="Kalmar",
    )


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_protected_home__marked_in_search_and_page_with_address_no_axe_violations(
    page, protected_home, settings, width
):
    settings.PERSONAL_DATA_DISCLOSURE = True
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/?malgrupp=skydd")
    hit = page.locator(".result", has_text="Skyddsgården")
    expect(hit).to_contain_text("Skyddat boende – sprid inte uppgifterna")
    _assert_no_axe_violations(page)

    hit.get_by_role("link", name="Skyddsgården").click()
    expect(page.locator(".notice--protected")).to_contain_text("varje visning loggas")
    expect(page.locator(".facts")).to_contain_text("Hemliga vägen 1")
    _assert_no_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
