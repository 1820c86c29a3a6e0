"""The statistics pages in Chromium: every topic page, the index and the municipal view, with axe
at zero violations at desktop and phone width, each figure's chart in a <figure> with its summary
as the caption and its table beside it, and no sideways scrolling of the page at 320 px.

``STATS_SHOTS=/some/folder`` saves a full-page screenshot of each page at each width."""

import datetime
import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from access.roles import Role
from alerts.services import watch_add
from register.codes import Assessment, Outcome, ReviewArea
from stats import figures
from tests.factories import FindingFactory, make_user
from tests.stats_support import ALL_CLEAR, DEFICIENT, homes_with_decisions

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE = Axe()
AXE_WIDTHS = (1366, 390)
WIDTHS = (1366, 390, 320)
SHOTS = os.environ.get("STATS_SHOTS")
PERIOD = "?fran=2021&till=2025"


@pytest.fixture
def register(db):
    """Homes in two län with decisions over the period, findings in two areas."""
    kalmar = []
    for year in range(2021, 2026):
        kalmar += homes_with_decisions("0880", [DEFICIENT] * 3 + [ALL_CLEAR] * 3, year=year)
        homes_with_decisions("0180", [ALL_CLEAR] * 4 + [Outcome.FORELAGGANDE_VITE] * 2, year=year)
    for home in kalmar[:6]:
        decision = home.decisions.first()
        FindingFactory(
            decision=decision,
            area=ReviewArea.TRYGGHET_SAKERHET,
            assessment=Assessment.BRIST,
            requirement="Rutiner för larm.",
            due_date=datetime.date(2022, 1, 1),
        )
        FindingFactory(decision=decision, area=ReviewArea.DELAKTIGHET)
    return kalmar


def _open(browser, live_site, user=None):
    context = browser.new_context(base_url=live_site.url, locale="sv-SE")
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_site.url,
                }
            ]
        )
    return context.new_page()


def check_page(page, path: str, name: str, *, status: int = 200) -> list[str]:
    """What is wrong with the page at ``path``: axe's violations, a figure without its table or
    caption, sideways scrolling."""
    problems = []
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    response = page.goto(path)
    assert response.status == status, path
    sections = page.locator("section.stat-figure")
    for index in range(sections.count()):
        section = sections.nth(index)
        title = section.locator("h2").inner_text()
        if section.locator("figure figcaption").count() != 1:
            problems.append(f"{path} {title}: no caption")
        elif not section.locator("figure figcaption").inner_text().strip():
            problems.append(f"{path} {title}: empty caption")
        if section.locator("table caption").count() != 1:
            problems.append(f"{path} {title}: no table with a caption")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"{path} at {width} px scrolls sideways by {overflow} px")
        if width in AXE_WIDTHS:
            results = AXE.run(page)
            if results.violations_count:
                problems.append(f"{path} at {width} px: {results.generate_report()}")
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    return problems


def test_public_pages__axe_clean_tables_captions_no_sideways_scroll(browser, live_site, register):
    page = _open(browser, live_site)
    problems = check_page(page, f"/statistik/{PERIOD}", "index")
    for topic in figures.TOPICS:
        problems += check_page(page, f"/statistik/{topic.slug}/{PERIOD}", topic.slug)
        assert page.locator("section.stat-figure").count() == len(topic.figures)
    # A bad filter: the form with its errors.
    problems += check_page(page, "/statistik/beslut/?fran=1999&till=tjugo", "fel", status=400)

    assert problems == []


def test_bad_filter__answers_400_and_the_summary_links_to_the_field(browser, live_site):
    page = _open(browser, live_site)

    response = page.goto("/statistik/beslut/?fran=2025&till=2024")

    assert response.status == 400
    page.locator("#error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_fran"


def test_municipal_page__axe_clean_tables_captions_no_sideways_scroll(browser, live_site, register):
    user = make_user(Role.MUNICIPAL_USER, municipality="0880")
    for home in register[:6]:
        watch_add(user=user, owner_municipality=user.account.municipality, target=home)
    page = _open(browser, live_site, user)

    problems = check_page(page, f"/statistik/kommun/{PERIOD}", "kommun")

    assert page.locator("section.stat-figure").count() >= 5
    assert problems == []
