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


def _server_thread_class():
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class KeepConnectionsServer(ThreadedWSGIServer):
        # Django closes every connection when a request thread ends, which is when Chromium
        # drops its keep-alive socket: often after the test, sometimes in the middle of the
        # next one, whose transaction then dies with "the connection is closed". The
        # connections here are the test's own; the test closes them.
        def _close_connections(self):
            pass

    class Thread(LiveServerThread):
        server_class = KeepConnectionsServer

    return Thread


class SharedConnectionLiveServer:
    """A live server that answers on the test's own database connections.

    The test's data then need no commit: the test runs in a transaction that is rolled back, as
    every other test does, instead of ending by emptying every table — which the access log's
    append-only trigger rightly refuses. Django does the same for in-memory SQLite; here it is
    done for PostgreSQL too. Pages are loaded one at a time, so the connection is never used by
    two requests at once (static files are served without touching the database)."""

    def __init__(self):
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.db import connections

        self.connections = {alias: connections[alias] for alias in connections}
        for connection in self.connections.values():
            connection.inc_thread_sharing()
        self.thread = _server_thread_class()(
            "127.0.0.1",
            static_handler=StaticFilesHandler,
            connections_override=self.connections,
        )
        self.thread.daemon = True
        self.thread.start()
        self.thread.is_ready.wait()
        if self.thread.error:
            raise self.thread.error
        self.url = f"http://127.0.0.1:{self.thread.port}"

    def stop(self):
        self.thread.terminate()
        for connection in self.connections.values():
            connection.dec_thread_sharing()


@pytest.fixture
def live_site(db, settings):
    # Plain HTTP: no HTTPS redirect and no HSTS for Chromium to remember. SecurityMiddleware reads
    # these when the server's handler is built, so they are set before it starts.
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    # Django closes a connection it finds inside a transaction at the start and end of each
    # request; the shared one is inside the test's transaction on purpose.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    server = SharedConnectionLiveServer()
    yield server
    server.stop()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def anonymous_page(browser, live_site):
    context = browser.new_context(base_url=live_site.url, locale="sv-SE")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(anonymous_page, live_site):
    """A page signed in as a social worker of Kalmar kommun (the session made by the test
    client; the login itself is tested in test_login_browser.py)."""
    from django.conf import settings
    from django.test import Client

    from access.roles import Role
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user(Role.MUNICIPAL_USER, municipality="0880"))
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
