"""The access log's pages in Chromium: the municipal extract, IVO's log search and the review
report, with entries of every kind, long addresses and long search strings, at a desktop width
and at 320 CSS px: no sideways scrolling of the page and axe-core at zero violations.

``SHOTS_DIR=/some/dir`` also saves a screenshot of each page and width there."""

import datetime
import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from access.log_generator import log_user
from access.models import AccessEvent
from access.roles import Role
from register.codes import TargetGroup
from tests.factories import DecisionFactory, FacilityFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

Action = AccessEvent.Action


@pytest.fixture
def log_data(db):
    home = FacilityFactory(facility_id="F-MALLID", name="Behandlingshemmet Mållid")
    FacilityFactory(facility_id="S-GOMD", name="Gömstället", target_groups=[TargetGroup.SKYDD])
    DecisionFactory(facility=home, diarienummer="3.2.2-13748/2022")
    worker = log_user(
        make_user(
            Role.MUNICIPAL_USER,
            municipality="0880",
            email="en.mycket.lang.adress.till.en.socialsekreterare@socialforvaltningen.kalmar.se",
        )
    )
    entries = [
        (Action.LOGIN, {"detail": "sätt=engångslänk"}),
        (
            Action.SEARCH,
            {
                "detail": "q=Mållid&typ=hvb&lan=08&grannlan=on&alder=15&kon=flickor"
                "&malgrupp=missbruk&malgrupp=npf&utfall=forelaggande_vite&utfall=forbud"
                "&okand_parameter_med_ett_mycket_langt_varde=abcdefghijklmnopqrstuvwxyz0123456789"
            },
        ),
        (Action.FACILITY_VIEW, {"object_type": "facility", "object_id": "F-MALLID"}),
        (Action.FACILITY_VIEW, {"object_type": "facility", "object_id": "S-GOMD"}),
        (
            Action.PROVIDER_VIEW,
            {"object_type": "provider", "object_id": str(home.provider.public_id)},
        ),
        (
            Action.PERSONAL_DATA_VIEW,
            {
                "object_type": "facility",
                "object_id": "F-MALLID",
                "fields": "manager.name,manager.email,manager.phone",
            },
        ),
        (Action.DOCUMENT_DOWNLOAD, {"object_type": "decision", "object_id": "3.2.2-13748/2022"}),
        (Action.LOGOUT, {}),
    ]
    now = timezone.now()
    events = [
        AccessEvent(
            at=now - datetime.timedelta(minutes=n),
            user_id=worker.user_id,
            username=worker.username,
            role=worker.role,
            municipality_code="0880",
            ip="2001:db8:1234:5678:9abc:def0:1234:5678",
            action=action,
            **values,
        )
        for n, (action, values) in enumerate(entries)
    ]
    # Night look-ups, so the review report has a finding with examples.
    night = timezone.localtime(now - datetime.timedelta(days=2)).replace(hour=23, minute=0)
    events += [
        AccessEvent(
            at=night + datetime.timedelta(minutes=n),
            user_id=worker.user_id,
            username=worker.username,
            role=worker.role,
            municipality_code="0880",
            action=Action.FACILITY_VIEW,
            object_type="facility",
            object_id="F-MALLID",
        )
        for n in range(12)
    ]
    AccessEvent.objects.bulk_create(events)


def _signed_in(anonymous_page, live_site, role):
    from django.conf import settings
    from django.test import Client

    from tests.factories import sign_in

    client = Client()
    sign_in(client, make_user(role, municipality="0880"))
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


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.MUNICIPAL_ADMIN, "/kommun/logg/"),
        (Role.IVO_ADMIN, "/ivo/logg/"),
        (Role.IVO_ADMIN, "/ivo/logg/granskning/"),
    ],
    ids=["municipal-extract", "ivo-search", "review"],
)
@pytest.mark.parametrize("width", [1366, 390, 320])
def test_log_page__fits_the_width_and_no_axe_violations(
    anonymous_page, live_site, log_data, role, path, width
):
    page = _signed_in(anonymous_page, live_site, role)
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(path)

    assert page.get_by_text("Behandlingshemmet Mållid").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if os.environ.get("SHOTS_DIR"):
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=f"{os.environ['SHOTS_DIR']}/{name}-{width}.png", full_page=True)
        page.locator("table").first.evaluate("table => table.scrollIntoView()")
        page.screenshot(path=f"{os.environ['SHOTS_DIR']}/{name}-{width}-table.png")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_municipal_extract__the_home_in_a_log_line_leads_to_its_page(
    anonymous_page, live_site, log_data
):
    page = _signed_in(anonymous_page, live_site, Role.MUNICIPAL_ADMIN)
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto("/kommun/logg/?handelse=facility_view")

    page.get_by_role("link", name="Behandlingshemmet Mållid").first.click()

    assert page.url.endswith("/verksamhet/F-MALLID/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Behandlingshemmet Mållid")
