"""An IVO registrator in Chromium: the review queue, confirming a suggestion and undoing it; axe
on the queue, the case page and the quality report."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from access.roles import Role
from linking.matching import match_case_records
from linking.models import CaseRecord, CaseStatus, LinkAction
from register.models import Decision, Facility
from tests.factories import CaseRecordFactory, FacilityFactory, ProviderFactory, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def registrator_page(anonymous_page, live_site):
    """Signed in as an IVO registrator, the second factor verified (the session made by the test
    client; the staff login itself is tested elsewhere)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    sign_in(client, make_user(Role.IVO_REGISTRATOR))
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


@pytest.fixture
def waiting(db):
    """A record in the queue: the right home first, its sibling close behind."""
    provider = ProviderFactory(name="Ekbacken Omsorg AB")
    FacilityFactory(facility_id="E-1", name="Ekbackens HVB", provider=provider)
    FacilityFactory(facility_id="E-2", name="Ekbackens stödboende", provider=provider)
    case = CaseRecordFactory(
        diarienummer="8.5-3001/2024",
        decision_date=datetime.date(2024, 9, 2),
        outcome="brister",
        facility_name="Ekbackens HVB",
        organisation_number=provider.organisation_number,
        municipality_id="0880",
    )
    match_case_records([case])
    return case


def test_registrator__confirms_a_suggestion_then_undoes_it(registrator_page, waiting):
    page = registrator_page
    page.goto("/")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Koppling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Koppling av ärenden")

    page.get_by_role("link", name="8.5-3001/2024").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärende 8.5-3001/2024")
    expect(page.get_by_text("organisationsnumret är huvudmannens (+35)").first).to_be_visible()
    page.get_by_role("button", name="Bekräfta till Ekbackens HVB").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Ärendet 8.5-3001/2024 är kopplat till Ekbackens HVB (E-1)"
    )
    assert Decision.objects.get(diarienummer="8.5-3001/2024").facility.facility_id == "E-1"

    page.get_by_role("button", name="Ångra förslaget bekräftat").click()

    expect(page.get_by_role("status")).to_contain_text("Ångrat: förslaget bekräftat.")
    assert not Decision.objects.exists()
    assert CaseRecord.objects.get().status == CaseStatus.REVIEW
    assert list(LinkAction.objects.order_by("id").values_list("kind", flat=True)) == [
        "bekraftad",
        "angrad",
    ]
    assert Facility.objects.count() == 2


@pytest.mark.parametrize("path", ["/ivo/koppling/", "case", "/ivo/kvalitet/"])
def test_axe__linking_pages__no_violations(registrator_page, waiting, path):
    if path == "case":
        path = f"/ivo/koppling/{waiting.public_id}/"
    registrator_page.goto(path)
    expect(registrator_page.get_by_role("heading", level=1)).to_be_visible()

    results = Axe().run(registrator_page)

    assert results.violations_count == 0, results.generate_report()
