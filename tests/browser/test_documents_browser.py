"""Full decisions on request, end to end in Chromium: a social worker requests, an IVO case
officer takes the request, uploads the redacted copy and releases it, the worker reads the mail
(from a real SMTP server on loopback) and downloads the file; another municipality gets 404."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from access.roles import Role
from tests.documents_helpers import pdf_bytes
from tests.factories import DecisionFactory, FacilityFactory, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def decision(db):
    facility = FacilityFactory(name="Lönngården", facility_id="K0880-LONN")
    return DecisionFactory(facility=facility, diarienummer="3.2.2-555/2025")


def signed_in(browser, live_site, user):
    client = Client()
    sign_in(client, user)
    context = browser.new_context(base_url=live_site.url, locale="sv-SE", accept_downloads=True)
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
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_request_release_mail_download(
    browser, live_site, decision, smtp_server, tmp_path, django_capture_on_commit_callbacks
):
    worker = signed_in(
        browser, live_site, make_user(Role.MUNICIPAL_USER, email="anna@kalmar.example")
    )
    officer = signed_in(browser, live_site, make_user(Role.IVO_CASE_OFFICER))
    copy = tmp_path / "maskerad-kopia.pdf"
    copy.write_bytes(pdf_bytes(pages=2))

    # The worker requests the decision from the facility page.
    worker.goto("/verksamhet/K0880-LONN/")
    worker.get_by_role("link", name="Begär ut beslut 3.2.2-555/2025").click()
    expect(worker.get_by_role("heading", level=1)).to_have_text("Begär ut beslut 3.2.2-555/2025")
    axe_clean(worker)
    worker.get_by_label("Skäl (frivilligt)").fill("Inför en placering.")
    worker.get_by_role("button", name="Skicka begäran").click()
    expect(worker.get_by_role("status")).to_contain_text("Begäran är skickad till IVO.")
    expect(worker.locator(".facts")).to_contain_text("Inkommen")
    axe_clean(worker)

    # The officer takes it from the queue, uploads the redacted copy and releases it.
    officer.goto("/ivo/utlamnande/")
    axe_clean(officer)
    officer.get_by_role("button", name="Ta 3.2.2-555/2025 Kalmar").click()
    expect(officer.get_by_role("status")).to_contain_text("Du har tagit begäran.")
    axe_clean(officer)
    officer.get_by_label(
        "Lämna ut delvis: uppgifter som omfattas av sekretess är maskerade"
    ).check()
    officer.get_by_label("Sekretessprövad kopia (PDF)").set_input_files(str(copy))
    officer.get_by_label("Vad som har maskerats och varför").fill(
        "Uppgifter om enskilda barn, 26 kap. 1 § OSL."
    )
    # The mail goes at the commit; the live server answers in the test's transaction, which
    # never commits, so its callbacks are run when the page has answered.
    with django_capture_on_commit_callbacks(execute=True):
        officer.get_by_role("button", name="Lämna ut", exact=True).click()
        expect(officer.get_by_role("status")).to_contain_text("Beslutet är utlämnat")

    # The mail, read from the SMTP server, leads the worker to the file.
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "anna@kalmar.example"
    link = re.search(r"http://\S+/beslut/begaranden/\S+/", smtp_server.bodies()[0]).group(0)
    worker.goto(link)
    expect(worker.locator(".facts")).to_contain_text("Delvis utlämnad")
    expect(worker.get_by_text("Uppgifter om enskilda barn, 26 kap. 1 § OSL.")).to_be_visible()
    axe_clean(worker)
    with worker.expect_download() as download_info:
        worker.get_by_role("link", name="Hämta beslutet (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "beslut-322-555-2025.pdf"
    assert Path(download.path()).read_bytes() == copy.read_bytes()

    # A user of another municipality: the same file does not exist for them.
    stranger = signed_in(browser, live_site, make_user(Role.MUNICIPAL_USER, municipality="0180"))
    file_url = link + "hamta/"
    assert stranger.request.get(file_url).status == 404
    assert stranger.request.get(link).status == 404
    assert worker.request.get(file_url).status == 200


def test_axe__officer_pages__no_violations(browser, live_site, decision):
    officer = signed_in(browser, live_site, make_user(Role.IVO_CASE_OFFICER))
    for path in ("/ivo/utlamnande/siffror/", f"/ivo/beslut/{decision.pk}/dokument/"):
        officer.goto(path)
        axe_clean(officer)
    officer.get_by_role("button", name="Bifoga").click()  # no file chosen
    expect(officer.locator("#error-summary")).to_contain_text("Välj en PDF-fil.")
    axe_clean(officer)
