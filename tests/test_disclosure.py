"""The disclosure policy on seeded data: personal data never on a page for anyone outside IVO
while PERSONAL_DATA_DISCLOSURE is off; shown, and logged, when it is on."""

import html
import re

import pytest

from access.models import AccessEvent
from access.roles import Role
from register.models import Facility
from tests.assertions import assert_none_shown, assert_shows
from tests.disclosure_support import (
    every_form,
    manager_and_sole_trader_home,
    secrets_of_the_register,
)
from tests.factories import make_user, sign_in

pytestmark = pytest.mark.django_db


ALL_STATUSES = (
    "status=aktiv&status=nedlagd&status=aterkallad&status=forbud&status=tillfalligt_forbud"
)
RESULT_PAGES = 4  # of 20 hits: room for the demo's 60 facilities and the sole trader's home


def every_page(client) -> dict[str, str]:
    """The HTML of every page a viewer can reach: each search result page, each facility and
    each provider; each page seen to answer with what it is there to show."""
    total = Facility.objects.count()
    assert 60 < total <= 20 * RESULT_PAGES
    pages, hits = {}, []
    for number in range(1, RESULT_PAGES + 1):
        url = f"/?{ALL_STATUSES}&sida={number}"
        pages[url] = assert_shows(client.get(url), f"{total} verksamheter")
        hits += re.findall(r'<h3 class="result__name"><a href="([^"]+)">', pages[url])
    assert len(set(hits)) == len(hits) == total  # every hit seen, on one page each
    for facility in Facility.objects.select_related("provider"):
        name = html.escape(facility.name)
        for url in (
            f"/verksamhet/{facility.facility_id}/",
            f"/huvudman/{facility.provider.public_id}/",  # its homes, this one among them
        ):
            if url not in pages:
                pages[url] = assert_shows(client.get(url), name)
    return pages


@pytest.mark.parametrize("role", [Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN])
def test_disclosure_off__no_page_shows_personal_data_to_anyone_outside_ivo(
    client, seeded_register, role
):
    client.force_login(make_user(role))
    secrets = secrets_of_the_register()
    assert len(secrets) > 100  # the seeded register has managers and sole traders

    pages = every_page(client)

    assert len(pages) > Facility.objects.count()  # the result pages, each home, its provider
    for url, text in pages.items():
        assert_none_shown(text, secrets, url)
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.PERSONAL_DATA_VIEW).exists()


def test_disclosure_off__anonymous_is_sent_to_login_from_every_page(client, seeded_register):
    facility = manager_and_sole_trader_home()

    for url in (
        f"/?{ALL_STATUSES}",
        f"/verksamhet/{facility.facility_id}/",
        f"/huvudman/{facility.provider.public_id}/",
    ):
        response = client.get(url)

        assert response.status_code == 302, url
        assert response["Location"].startswith("/logga-in/?next="), url
        assert response.content == b""


def test_disclosure_on__municipal_user_sees_manager_contact_and_sole_trader_and_it_is_logged(
    client, seeded_register, settings
):
    settings.PERSONAL_DATA_DISCLOSURE = True
    user = make_user(Role.MUNICIPAL_USER)
    client.force_login(user)
    facility = manager_and_sole_trader_home()
    manager = facility.managers.get(end_date__isnull=True)

    page = assert_shows(
        client.get(f"/verksamhet/{facility.facility_id}/"),
        manager.name,
        manager.email,
        facility.provider.name,
    )

    # No placement needs the manager's personnummer.
    assert_none_shown(page, every_form(manager.personal_identity_number))
    events = AccessEvent.objects.filter(
        action=AccessEvent.Action.PERSONAL_DATA_VIEW, user_id=user.pk
    ).order_by("id")
    assert [(e.object_type, e.fields) for e in events] == [
        ("provider", "provider.name,provider.organisation_number"),
        ("facility", "manager.name,manager.email,manager.phone"),
    ]
    assert events[1].object_id == facility.facility_id
    assert events[1].municipality_code == "0880"


def test_disclosure_on__anonymous_still_sees_nothing(client, seeded_register, settings):
    settings.PERSONAL_DATA_DISCLOSURE = True
    facility = manager_and_sole_trader_home()

    response = client.get(f"/verksamhet/{facility.facility_id}/")

    assert response.status_code == 302
    assert response["Location"] == f"/logga-in/?next=/verksamhet/{facility.facility_id}/"
    assert response.content == b""


def test_disclosure_off__ivo_staff_see_the_manager_and_it_is_logged(client, seeded_register):
    user = make_user(Role.IVO_REGISTRATOR)
    sign_in(client, user)
    facility = manager_and_sole_trader_home()
    manager = facility.managers.get(end_date__isnull=True)

    assert_shows(client.get(f"/verksamhet/{facility.facility_id}/"), manager.name)
    assert (
        AccessEvent.objects.filter(
            action=AccessEvent.Action.PERSONAL_DATA_VIEW, user_id=user.pk
        ).count()
        == 2
    )
