"""Watching a home, end to end in Chromium: a social worker watches a home from its page, an IVO
registrator signs in with password and TOTP code and registers a prohibition in the back office,
the worker (django-tasks-db's, in-process) tells the watcher, whose "Notiser" page and header show
it, and the mail arrives at a real SMTP server on loopback. Then axe on every new page, at
desktop and phone width, with screenshots kept in /tmp/shots18/ to look at."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from access.models import AllowlistEntry
from access.roles import Role
from alerts import services
from alerts.models import Notice, Watch
from register.codes import Outcome
from register.models import Decision, Municipality
from tests.factories import DecisionFactory, FacilityFactory, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SHOTS = Path("/tmp/shots18")
PASSWORD = "ett-långt-lösenord-för-tester"
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def home(db):
    home = FacilityFactory(name="Lönngården", facility_id="K0880-LONN")
    DecisionFactory(facility=home, diarienummer="3.2.2-100/2024", outcome=Outcome.BRISTER)
    return home


def signed_in(browser, live_site, user):
    client = Client()
    sign_in(client, user)
    context = browser.new_context(base_url=live_site.url, locale="sv-SE")
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


def axe_clean(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def run_worker(monkeypatch) -> None:
    """django-tasks-db's worker, in this process, until its queue is empty. Its check for stale
    connections would close the test's own, which holds the test's transaction (the live
    server's request signals are unhooked for the same reason in conftest.py)."""
    import django_tasks_db.management.commands.db_worker as db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("run_worker", batch=True, no_sweep=True, interval=0, startup_delay=False)


def test_watch_prohibition_notice_and_mail(browser, live_site, home, smtp_server, monkeypatch):
    social_worker = make_user(Role.MUNICIPAL_USER, email="anna@kalmar.example")
    worker = signed_in(browser, live_site, social_worker)

    # The social worker watches the home from its page.
    worker.goto(f"/verksamhet/{home.facility_id}/")
    worker.get_by_role("button", name="Bevaka", exact=True).click()
    expect(worker.get_by_role("status")).to_contain_text("Du bevakar nu Lönngården.")
    expect(worker.locator(".watch-form")).to_contain_text("Du bevakar verksamheten")
    assert Watch.objects.filter(user=social_worker, facility=home).exists()

    # An IVO registrator signs in with password and code and registers a prohibition.
    registrator = make_user(Role.IVO_REGISTRATOR, password=PASSWORD)
    device = TOTPDevice.objects.create(user=registrator, name="Telefon", confirmed=True)
    staff = browser.new_context(base_url=live_site.url, locale="sv-SE").new_page()
    staff.goto("/personal/logga-in/")
    staff.get_by_label("Användarnamn").fill(registrator.username)
    staff.get_by_label("Lösenord").fill(PASSWORD)
    staff.get_by_label("Kod från autentiseringsappen").fill(code_for(device))
    staff.get_by_role("button", name="Logga in").click()
    expect(staff).to_have_url(re.compile(r"/admin/$"))
    staff.goto(f"/admin/register/decision/add/?facility={home.pk}")
    staff.locator("#id_diarienummer").fill("3.2.2-777/2025")
    staff.locator("#id_kind").select_option("tillsyn")
    staff.locator("#id_decision_date").fill(timezone.localdate().isoformat())
    staff.locator("#id_outcome").select_option("forbud")
    staff.locator("input[name='_save']").click()
    expect(staff.locator(".messagelist")).to_contain_text("3.2.2-777/2025")
    assert Decision.objects.filter(diarienummer="3.2.2-777/2025", facility=home).exists()

    # The worker tells the watcher: in the service, and by mail.
    run_worker(monkeypatch)
    notice = Notice.objects.get(user=social_worker)
    assert notice.serious and notice.mail == Notice.Mail.SENT

    worker.goto("/")
    notices_link = worker.get_by_role("link", name=re.compile(r"^Notiser"))
    expect(notices_link).to_have_text("Notiser (1)")
    expect(notices_link).to_have_accessible_name("Notiser, 1 oläst notis")
    notices_link.click()
    item = worker.locator(".notice-item").first
    expect(item).to_contain_text("Allvarligt")
    expect(item.get_by_role("heading")).to_have_text("Nytt beslut: Förbud")
    expect(item.locator(".marking--serious")).to_have_text("✕ Förbud")
    expect(item).to_contain_text("Beslut 3.2.2-777/2025")
    axe_clean(worker)
    worker.get_by_role("button", name="Markera alla som lästa").click()
    expect(worker.get_by_role("link", name=re.compile(r"^Notiser"))).to_have_text("Notiser")

    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["To"] == "anna@kalmar.example"
    assert mail["Subject"].strip() == "Allvarligt: Nytt beslut: Förbud – Lönngården"
    body = smtp_server.bodies()[0]
    assert "Beslut 3.2.2-777/2025" in body
    assert f"/verksamhet/{home.facility_id}/" in body


@pytest.fixture
def watched(home):
    """A watcher with notices, a departed colleague with watches, an area and a provider."""
    owner = make_user(Role.MUNICIPAL_USER, email="anna@kalmar.example")
    gone = make_user(Role.MUNICIPAL_USER, email="bertil@kalmar.example")
    sister = FacilityFactory(name="Ekgården med ett mycket långt namn som ska radbrytas")
    for user in (owner, gone):
        services.watch_add(user=user, owner_municipality="0880", target=home)
    services.watch_add(user=owner, owner_municipality="0880", target=sister)
    services.watch_add(user=owner, owner_municipality="0880", target=home.provider)
    services.watch_add(
        user=owner, owner_municipality="0880", target=Municipality.objects.get(code="0881")
    )
    DecisionFactory(facility=sister, diarienummer="3.2.2-200/2025", outcome=Outcome.FORBUD)
    DecisionFactory(facility=home, diarienummer="3.2.2-201/2025", outcome=Outcome.FORELAGGANDE)
    from alerts import delivery
    from register.models import RegisterEvent

    delivery.fan_out(
        list(RegisterEvent.objects.filter(fan_out__isnull=True).values_list("pk", flat=True))
    )
    AllowlistEntry.objects.filter(email=gone.email).update(revoked_at=timezone.now())
    return owner


PAGES = {
    "facility": (Role.MUNICIPAL_USER, "/verksamhet/K0880-LONN/"),
    "search": (Role.MUNICIPAL_USER, "/?lan=08"),
    "provider": (Role.MUNICIPAL_USER, "provider"),
    "watches": (Role.MUNICIPAL_USER, "/bevakningar/"),
    "watches-error": (Role.MUNICIPAL_USER, "area-error"),
    "notices": (Role.MUNICIPAL_USER, "/notiser/"),
    "municipal": (Role.MUNICIPAL_ADMIN, "/kommun/bevakningar/"),
    "numbers": (Role.IVO_ADMIN, "/ivo/bevakningar/"),
}


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_axe__new_pages__no_violations_and_no_sideways_scrolling(
    browser, live_site, watched, home, name, width
):
    role, path = PAGES[name]
    user = watched if role == Role.MUNICIPAL_USER else make_user(role)
    page = signed_in(browser, live_site, user)
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    if path == "provider":
        page.goto(f"/huvudman/{home.provider.public_id}/")
    elif path == "area-error":
        page.goto("/bevakningar/")
        page.get_by_role("button", name="Bevaka kommunen").click()
        expect(page.locator(".error-summary")).to_contain_text("Välj en kommun.")
    else:
        page.goto(path)

    axe_clean(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}-first-screen.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]
    page.set_viewport_size({"width": 320, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_watch_button__keyboard_only(browser, live_site, watched, home):
    page = signed_in(browser, live_site, make_user(Role.MUNICIPAL_USER))
    page.goto(f"/verksamhet/{home.facility_id}/")
    button = page.get_by_role("button", name="Bevaka", exact=True)
    for _ in range(60):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("button", name="Sluta bevaka")).to_be_visible()
