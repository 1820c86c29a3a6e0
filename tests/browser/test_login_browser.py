"""Login by one-time link, end to end in Chromium, the mail read from a real SMTP server."""

import re

import pytest
from playwright.sync_api import expect

from access.models import AccessEvent
from tests.login_support import ADDRESS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_login_by_link__from_the_mail_to_the_search_page(
    anonymous_page, listed, smtp_server, django_capture_on_commit_callbacks
):
    page = anonymous_page
    page.goto("/?alder=15")
    expect(page).to_have_url(re.compile(r"/logga-in/\?next="))

    page.get_by_label("Din e-postadress i tjänsten").fill(ADDRESS)
    # The mail goes at the commit; the live server answers in the test's transaction, which
    # never commits, so its callbacks are run when the page has answered.
    with django_capture_on_commit_callbacks(execute=True):
        page.get_by_role("button", name="Skicka inloggningslänk").click()
        expect(page.get_by_role("heading", name="Kolla din e-post")).to_be_visible()
    assert len(smtp_server.messages) == 1
    link = re.search(r"http://\S+/logga-in/lank/\S+/", smtp_server.bodies()[0]).group(0)

    page.goto(link)
    page.get_by_role("button", name="Logga in").click()

    expect(page.get_by_role("heading", name="Hitta ett hem för barnet")).to_be_visible()
    assert page.url.endswith("/?alder=15")
    expect(page.get_by_role("button", name=f"Logga ut {ADDRESS}")).to_be_visible()
    assert AccessEvent.objects.filter(action="login", username=ADDRESS).count() == 1

    # The same link a second time (a forwarded mail, say) logs no one in.
    page.get_by_role("button", name=f"Logga ut {ADDRESS}").click()
    page.goto(link)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", name="Länken gäller inte längre")).to_be_visible()


def test_login_by_code__typed_on_the_page(
    anonymous_page, listed, smtp_server, django_capture_on_commit_callbacks
):
    page = anonymous_page
    page.goto("/logga-in/")
    page.get_by_label("Din e-postadress i tjänsten").fill(ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        page.get_by_role("button", name="Skicka inloggningslänk").click()
        expect(page.get_by_role("heading", name="Kolla din e-post")).to_be_visible()
    code = re.search(r"koden (\d{6})", smtp_server.bodies()[0]).group(1)

    page.get_by_label("Kod från e-postmeddelandet").fill(code)
    page.get_by_role("button", name="Logga in").click()

    expect(page.get_by_role("heading", name="Hitta ett hem för barnet")).to_be_visible()


@pytest.mark.parametrize("path", ["/logga-in/", "/personal/logga-in/"])
def test_axe__login_pages__no_violations(anonymous_page, path):
    from axe_playwright_python.sync_playwright import Axe

    anonymous_page.goto(path)
    results = Axe().run(anonymous_page)

    assert results.violations_count == 0, results.generate_report()


def test_axe__allowlist_page__no_violations(anonymous_page, live_site, listed):
    from axe_playwright_python.sync_playwright import Axe
    from django.conf import settings
    from django.test import Client

    from access.roles import Role
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user(Role.MUNICIPAL_ADMIN, municipality="0880"))
    anonymous_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_site.url,
            }
        ]
    )
    anonymous_page.goto("/kommun/frilistning/")
    expect(anonymous_page.get_by_role("heading", level=1)).to_have_text("Frilistning för Kalmar")
    results = Axe().run(anonymous_page)

    assert results.violations_count == 0, results.generate_report()
