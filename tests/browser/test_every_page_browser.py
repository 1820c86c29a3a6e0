"""Every page of every role, in Swedish and in English, at 1366, 390 and 320 px in Chromium:
axe-core finds nothing, and the page never scrolls sideways, there nor at 683 px (WCAG 1.4.10
Reflow: 320 px is what a 1280 px screen shows at 400 % zoom, 683 px what 1366 px shows at 200 %).

The pages are those the role matrix (tests/test_access_matrix.py) says the role opens with a 200,
with real objects behind their URL parameters, plus the register administration's front page and
one of its lists for IVO's staff. A URL added to the matrix is tested here without another line.
One test per role and language loads each page once and measures it at each width, so that one
run lists every page that fails instead of stopping at the first.

``EVERY_PAGE_SHOTS=/some/folder`` saves a full-page screenshot of each page at each width.
"""

import datetime
import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.urls import reverse

from access.models import AllowlistEntry
from access.roles import Role
from alerts.services import watch_add
from documents.models import DecisionRequest
from linking.models import CaseStatus
from register.codes import Assessment, Outcome, ReviewArea
from register.models import Municipality
from tests.factories import (
    CaseRecordFactory,
    DecisionFactory,
    FacilityFactory,
    FindingFactory,
    InspectionFactory,
    ProviderFactory,
    make_user,
    sign_in,
)
from tests.test_access_matrix import COLUMNS, EXPECTED, sample_kwargs

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE = Axe()
# A desktop, a phone, and the narrowest a page must reflow to; at 683 px (1366 px at 200 % zoom)
# the page is only measured, as axe finds there what it finds at the widths beside it.
WIDTHS = (1366, 683, 390, 320)
AXE_WIDTHS = (1366, 390, 320)
LANGUAGES = ("sv", "en")
ROLES = (
    None,
    Role.MUNICIPAL_USER,
    Role.MUNICIPAL_ADMIN,
    Role.IVO_REGISTRATOR,
    Role.IVO_CASE_OFFICER,
    Role.IVO_ADMIN,
)
# Answers that are not pages: files, JSON, the API's own 404, the operators' endpoints.
NOT_PAGES = {
    "operations:healthz",
    "operations:readyz",
    "operations:metrics",
    "open_data_download",
    "dcat",
    "api_not_found",
    "linking:facility_suggestions",
    "stats:figure_csv",
}
# The register administration (Django admin), for IVO's staff.
BACK_OFFICE_PAGES = ("/admin/", "/admin/register/facility/")

# Long words the layout has to break rather than widen the page for.
LONG_EMAIL = "forvaltningsgemensamma.socialtjansten.barn.och.unga@kalmar-kommun.example.se"
LONG_NAME = "Behandlingshemmet Stödboendeverksamhetsgården för ensamkommande ungdomar"


# Public pages whose content is the same for everyone, heavy with charts: walked by the anonymous
# visitor only, which keeps CI's time (tests/browser/test_stats_browser.py walks every topic page,
# and the signed-in header and menu on the municipal comparison).
PUBLIC_ONLY_ONCE = {"stats:index", "stats:topic"}


def pages_of(role) -> list[str]:
    column = COLUMNS.index(role)
    return sorted(
        name
        for name, row in EXPECTED.items()
        if row[column] == 200
        and name not in NOT_PAGES
        and (not name.startswith("api:") or name == "api:openapi-view")
        and (role is None or name not in PUBLIC_ONLY_ONCE)
    )


@pytest.fixture
def objects(db):
    """The objects behind the URL parameters, with enough in each list that its table shows."""
    kalmar = Municipality.objects.get(code="0880")
    provider = ProviderFactory(name="Stiftelsen Långa Namnens Omsorgsverksamheter i Småland")
    facility = FacilityFactory(
        facility_id="K0880-001",
        name=LONG_NAME,
        provider=provider,
        municipality=kalmar,
        age_from=13,
        age_to=17,
        summary="HVB för ungdomar med psykosocial problematik.",
    )
    FacilityFactory(name="Ekgården", provider=provider, municipality=kalmar)
    InspectionFactory(facility=facility, diarienummer="3.2.2-13748/2024")
    decision = DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-1/2024",
        decision_date=datetime.date(2024, 11, 3),
        outcome=Outcome.FORELAGGANDE_VITE,
    )
    FindingFactory(
        decision=decision,
        area=ReviewArea.TRYGGHET_SAKERHET,
        assessment=Assessment.ALLVARLIG_BRIST,
        observation="Hemmet saknar rutiner för larm.",
        requirement="Ta fram rutiner för larm och se till att personalen känner till dem.",
        due_date=datetime.date(2099, 1, 1),
        fine_amount=250_000,
    )
    requester = make_user(Role.MUNICIPAL_USER, municipality="0880", email=LONG_EMAIL)
    request = DecisionRequest.objects.create(
        decision=decision,
        municipality_id="0880",
        requester_email=requester.email,
        state=DecisionRequest.State.RECEIVED,
    )
    watch_add(user=requester, owner_municipality=kalmar, target=facility)
    case_record = CaseRecordFactory(status=CaseStatus.REVIEW, facility_name=LONG_NAME)
    CaseRecordFactory(status=CaseStatus.REVIEW)
    return {
        "case_id": str(case_record.public_id),
        "decision_pk": decision.pk,
        "request_public_id": str(request.public_id),
        "facility_id": facility.facility_id,
        "provider_public_id": str(provider.public_id),
        "entry_public_id": str(AllowlistEntry.objects.get(email=requester.email).public_id),
    }


def paths_of(role, objects) -> list[str]:
    paths = [reverse(name, kwargs=sample_kwargs(name, objects)) for name in pages_of(role)]
    if role in (Role.IVO_REGISTRATOR, Role.IVO_CASE_OFFICER, Role.IVO_ADMIN):
        paths += BACK_OFFICE_PAGES
    return paths


def signed_in_context(browser, live_site, role, language):
    context = browser.new_context(base_url=live_site.url, locale="sv-SE")
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_site.url}]
    if role is not None:
        client = Client()
        sign_in(client, make_user(role, municipality="0880"))
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append(
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_site.url}
        )
    context.add_cookies(cookies)
    return context


# What sticks out: the outermost elements whose box reaches beyond the window, or else the
# innermost whose text does (a long word in a box of the right width), as "tag.class".
WIDEST = """() => {
  const beyond = (element) => element.getBoundingClientRect().width > 1
    && element.getBoundingClientRect().right > window.innerWidth + 0.5;
  const spills = (element) => element.getBoundingClientRect().width > 1
    && element.getBoundingClientRect().left + element.scrollWidth > window.innerWidth + 0.5;
  const name = (element) => element.tagName.toLowerCase()
    + (element.className && typeof element.className === "string"
       ? "." + element.className.trim().split(/\\s+/).join(".") : "");
  const all = [...document.body.querySelectorAll("*")];
  let found = all.filter((e) => beyond(e) && !beyond(e.parentElement));
  if (found.length === 0) {
    found = all.filter((e) => spills(e) && ![...e.children].some(spills));
  }
  return found.slice(0, 3).map(name).join(", ");
}"""


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now. The script (half a megabyte) is put into
    the page once per load, not at each width as axe-playwright-python's run() does."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.axe_script)
    return page.evaluate(
        'axe.run(document, {resultTypes: ["violations"]}).then(results => results.violations)'
    )


def problems_of(page, path: str, width: int) -> list[str]:
    problems = []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"scrolls sideways: {scroll_width} px wide, from {page.evaluate(WIDEST)}")
    if width not in AXE_WIDTHS:
        return [f"{width:>4} px {path}: {problem}" for problem in problems]
    for violation in axe_violations(page):
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        problems.append(f"axe {violation['id']} ({len(violation['nodes'])}×: {targets})")
    return [f"{width:>4} px {path}: {problem}" for problem in problems]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_every_page__axe_finds_nothing_and_nothing_scrolls_sideways(
    browser, live_site, objects, role, language
):
    context = signed_in_context(browser, live_site, role, language)
    page = context.new_page()
    shots = os.environ.get("EVERY_PAGE_SHOTS")
    failures = []
    visited = 0
    for path in paths_of(role, objects):
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        response = page.goto(path)
        if response.status != 200:
            failures.append(f"{path}: answered {response.status}")
            continue
        visited += 1
        lang = page.evaluate("document.documentElement.lang")
        if lang != language:
            failures.append(f"{path}: <html lang={lang!r}>")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            failures += problems_of(page, path, width)
            if shots:
                name = path.strip("/").replace("/", "_") or "start"
                folder = Path(shots) / f"{role or 'anonym'}-{language}"
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    context.close()

    assert visited >= 3
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def test_allowlist_on_a_phone__a_card_per_address_each_value_under_its_column_name(
    browser, live_site, objects
):
    page = signed_in_context(browser, live_site, Role.MUNICIPAL_ADMIN, "sv").new_page()
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto("/kommun/frilistning/")

    table = page.get_by_role("table", name="Frilistade adresser")
    row = table.get_by_role("row").filter(has_text=LONG_EMAIL)
    role = row.get_by_role("cell", name="Kommunal användare")
    before = "cell => getComputedStyle(cell, '::before').content"
    assert role.evaluate(before) == '"Roll: "'
    assert page.get_by_role("columnheader", name="Roll").bounding_box()["width"] <= 1
    assert row.bounding_box()["width"] <= 320 - 2 * 16
    page.set_viewport_size({"width": 1366, "height": 900})
    assert page.get_by_role("columnheader", name="Roll").bounding_box()["width"] > 20
    assert role.evaluate(before) == "none"
