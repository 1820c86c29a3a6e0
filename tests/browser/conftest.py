"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser).

Where Chromium is missing they are skipped on a developer's machine and fail in CI (CI=true), so CI
never passes without them.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    message = f"Chromium saknas ({CHROMIUM}); installera Debians paket chromium."
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test's thread; the Django calls the tests
    # make there (building data) are still synchronous and safe. Set only for the browser tests.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="session")
def _plain_http_live_server():
    """The live server speaks plain HTTP: no HTTPS redirect, no HSTS for Chromium to remember.

    Session-scoped and requested before ``live_server``, because SecurityMiddleware reads these
    settings once, when the server thread builds its handler."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0


@pytest.fixture
def page(_plain_http_live_server, browser, live_server, settings):
    settings.PORTAL_OPEN = True
    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    page = context.new_page()
    yield page
    context.close()
