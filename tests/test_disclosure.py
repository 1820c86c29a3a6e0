"""The disclosure policy on seeded data: personal data never on a page for anyone outside IVO
while PERSONAL_DATA_DISCLOSURE is off; shown, and logged, when it is on."""

import pytest

from access.models import AccessEvent
from access.roles import Role
from register.models import Facility
from tests.disclosure_support import manager_and_sole_trader_home, secrets_of_the_register
from tests.factories import make_user, sign_in

pytestmark = pytest.mark.django_db


def every_page(client) -> dict[str, str]:
    """The HTML of every page a viewer can reach: each search result page, each facility and
    each provider."""
    pages = {}
    for number in range(1, 5):
        url = f"/?status=aktiv&status=nedlagd&status=aterkallad&status=forbud&sida={number}"
        pages[url] = client.get(url).content.decode()
    for facility in Facility.objects.select_related("provider"):
        for url in (
            f"/verksamhet/{facility.facility_id}/",
            f"/huvudman/{facility.provider.public_id}/",
        ):
            if url not in pages:
                pages[url] = client.get(url).content.decode()
    return pages


@pytest.mark.parametrize("role", [None, Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN])
def test_disclosure_off__no_page_shows_personal_data_to_anyone_outside_ivo(
    client, seeded_register, role
):
    if role:
        client.force_login(make_user(role))
    secrets = secrets_of_the_register()
    assert len(secrets) > 100  # the seeded register has managers and sole traders

    for url, html in every_page(client).items():
        found = [secret for secret in secrets if secret in html]
        assert not found, f"{url} shows {found[:3]}"
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.PERSONAL_DATA_VIEW).exists()


def test_disclosure_on__municipal_user_sees_manager_contact_and_sole_trader_and_it_is_logged(
    client, seeded_register, settings
):
    settings.PERSONAL_DATA_DISCLOSURE = True
    user = make_user(Role.MUNICIPAL_USER)
    client.force_login(user)
    facility = manager_and_sole_trader_home()
    manager = facility.managers.get(end_date__isnull=True)

    html = client.get(f"/verksamhet/{facility.facility_id}/").content.decode()

    assert manager.name in html
    assert manager.email in html
    assert facility.provider.name in html
    assert manager.personal_identity_number not in html  # no placement needs it
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
    assert facility.provider.name not in response.content.decode()


def test_disclosure_off__ivo_staff_see_the_manager_and_it_is_logged(client, seeded_register):
    user = make_user(Role.IVO_REGISTRATOR)
    sign_in(client, user)
    facility = manager_and_sole_trader_home()
    manager = facility.managers.get(end_date__isnull=True)

    html = client.get(f"/verksamhet/{facility.facility_id}/").content.decode()

    assert manager.name in html
    assert (
        AccessEvent.objects.filter(
            action=AccessEvent.Action.PERSONAL_DATA_VIEW, user_id=user.pk
        ).count()
        == 2
    )
