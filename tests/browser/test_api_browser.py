"""The API's documentation page and the open-data page in Chromium, under the site's strict
content security policy: the documentation is our own page drawn from the OpenAPI document (no
Swagger UI, no script of its own), in Swedish and English, axe-clean at desktop and phone width
and reflowing at 320 px; the open-data page passes axe."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from stats import figures
from tests.factories import FacilityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _in_language(page, live_site, language):
    if language == "en":
        page.context.add_cookies([{"name": "sprak", "value": "en", "url": live_site.url}])


@pytest.mark.parametrize("language", ["sv", "en"])
def test_api_docs__every_operation_from_our_own_files_without_axe_violations(
    anonymous_page, live_site, language
):
    page = anonymous_page
    _in_language(page, live_site, language)
    violations, requests = [], []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("request", lambda request: requests.append(request.url))

    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto("/api/v1/docs")

        assert page.locator("html").get_attribute("lang") == language
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert (
            page.get_by_role("heading", level=4, name="GET /api/v1/facilities", exact=True).count()
            == 1
        )
        assert page.locator(".api-op").count() >= 18
        assert page.get_by_role("link", name="/api/v1/openapi.json").count() == 1
        results = Axe().run(page)
        assert results.violations_count == 0, (width, results.generate_report())
    assert violations == []
    assert all(url.startswith(live_site.url) for url in requests), requests


@pytest.mark.parametrize("language", ["sv", "en"])
def test_api_docs__no_sideways_scrolling_at_320_px(anonymous_page, live_site, language):
    page = anonymous_page
    _in_language(page, live_site, language)
    page.set_viewport_size({"width": 320, "height": 900})

    page.goto("/api/v1/docs")

    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_api_docs__table_of_contents_leads_to_an_operation_and_its_schema(anonymous_page):
    page = anonymous_page
    page.goto("/api/v1/docs")

    page.get_by_role("navigation", name="Innehåll").get_by_role(
        "link", name="POST /api/v1/watches", exact=True
    ).click()
    operation = page.locator("section.api-op", has=page.locator("#api_endpoints_watch_create"))
    operation.get_by_role("link", name="WatchIn").click()

    assert page.url.endswith("#schema-WatchIn")
    assert page.locator("#schema-WatchIn").is_visible()


def test_open_data_page__links_licence_and_no_axe_violations(anonymous_page, live_site):
    FacilityFactory()
    page = anonymous_page

    page.goto("/oppna-data/")

    assert page.get_by_role("link", name="CC BY 4.0").get_attribute("href") == (
        "http://creativecommons.org/licenses/by/4.0/"
    )
    # Four datasets (homes, decisions, findings, inspections), each in three formats, and the
    # statistics: a CSV and a JSON file per figure, each link named by its figure's title.
    assert page.locator("a[download]").count() == 12 + 2 * len(figures.FIGURE_KEYS)
    statistics = page.locator('section[aria-labelledby="statistik"]')
    assert statistics.get_by_role("link", name="CSV (Allvarliga beslut)").get_attribute("href") == (
        "/oppna-data/statistik-serious-decisions.csv"
    )
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
