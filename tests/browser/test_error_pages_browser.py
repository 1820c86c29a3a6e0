"""The error pages in Chromium with DEBUG off: axe-clean at desktop and phone width in Swedish
and English, and no sideways scrolling at 320 px."""

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("url", ["/finns-inte/", "/test-fel/500/", "/test-fel/403/"])
def test_error_page__no_axe_violations_and_no_sideways_scrolling(
    anonymous_page, live_site, settings, language, url
):
    settings.DEBUG = False
    page = anonymous_page
    if language == "en":
        page.context.add_cookies([{"name": "sprak", "value": "en", "url": live_site.url}])

    for width in (1366, 390, 320):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(url)

        assert page.locator("html").get_attribute("lang") == language
        assert page.get_by_role("heading", level=1).count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        results = Axe().run(page)
        assert results.violations_count == 0, (width, results.generate_report())
