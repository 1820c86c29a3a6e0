"""The API's documentation page and the open-data page in Chromium, under the site's strict
content security policy: Swagger UI from django-ninja's own static files (no CDN), nothing
blocked, the operations listed; the open-data page passes axe."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.factories import FacilityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_api_docs__render_under_the_csp_from_our_own_files(anonymous_page, live_site):
    page = anonymous_page
    violations, requests = [], []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("request", lambda request: requests.append(request.url))

    response = page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=15000)

    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert violations == []
    assert all(url.startswith(live_site.url) for url in requests), requests
    assert page.locator(".opblock").count() >= 12


def test_open_data_page__links_licence_and_no_axe_violations(anonymous_page, live_site):
    FacilityFactory()
    page = anonymous_page

    page.goto("/oppna-data/")

    assert page.get_by_role("link", name="CC BY 4.0").get_attribute("href") == (
        "http://creativecommons.org/licenses/by/4.0/"
    )
    # Four datasets (homes, decisions, findings, inspections), each in three formats.
    assert page.locator("a[download]").count() == 12
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
