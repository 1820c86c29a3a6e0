"""The staff workplace's header in Chromium (issue 19): the IVO administrator's menu on one line at
1366 px, a closed "Meny" at 390 px that opens from the keyboard, on a staff page and in the back
office, with axe-core at zero violations at both widths."""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from access.roles import Role
from tests.factories import make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots19/s1"))
PAGES = {"staff": "/ivo/logg/granskning/", "admin": "/admin/"}


def signed_in_as(page, live_site, role: str):
    """``page`` signed in with ``role``, an IVO role's second factor verified (the session made
    by the test client; the logins themselves are tested in test_login_browser.py)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    sign_in(client, make_user(role))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_site.url,
            }
        ]
    )
    return page


@pytest.fixture
def ivo_admin_page(anonymous_page, live_site):
    return signed_in_as(anonymous_page, live_site, Role.IVO_ADMIN)


def axe_clean(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("where", ["staff", "admin"])
def test_desktop__the_ivo_administrators_menu_is_one_line(ivo_admin_page, where):
    page = ivo_admin_page
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(PAGES[where])

    menu = page.get_by_role("navigation", name="Huvudmeny")
    links = menu.get_by_role("link")
    expect(links).to_have_count(9)
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(9)}
    assert len(tops) == 1, tops
    expect(page.locator(".site-menu__toggle")).to_be_hidden()
    expect(page.locator(".language-switch")).to_be_visible()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    current = menu.locator("[aria-current]")
    expect(current).to_have_text("Logg" if where == "staff" else "Register")
    axe_clean(page)
    shot(page, f"{where}-1366")


def test_desktop__the_municipal_administrators_menu_is_one_line_too(anonymous_page, live_site):
    page = signed_in_as(anonymous_page, live_site, Role.MUNICIPAL_ADMIN)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/")

    links = page.get_by_role("navigation", name="Huvudmeny").get_by_role("link")
    expect(links).to_have_count(8)
    assert len({round(links.nth(i).bounding_box()["y"]) for i in range(8)}) == 1
    shot(page, "municipal-admin-1366")


@pytest.mark.parametrize("where", ["staff", "admin"])
def test_phone__the_menu_is_closed_and_opens_from_the_keyboard(ivo_admin_page, where):
    page = ivo_admin_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(PAGES[where])

    toggle = page.locator("summary", has_text="Meny")
    expect(toggle).to_be_visible()
    expect(page.locator(".site-nav a", has_text="Kommuner")).to_be_hidden()
    expect(page.locator(".language-switch")).to_be_visible()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_clean(page)
    shot(page, f"{where}-390")

    toggle.focus()
    page.keyboard.press("Enter")

    menu = page.get_by_role("navigation", name="Huvudmeny")
    expect(menu.get_by_role("link", name="Kommuner")).to_be_visible()
    expect(menu.get_by_role("link")).to_have_count(9)
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Sök")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_clean(page)
    shot(page, f"{where}-390-open")

    page.set_viewport_size({"width": 320, "height": 700})
    header = page.locator("header").first
    assert header.evaluate("element => element.scrollWidth <= element.clientWidth")
    assert header.bounding_box()["width"] <= 320
