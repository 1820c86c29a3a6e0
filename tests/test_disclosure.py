"""The disclosure policy on seeded data: personal data never on a page for anyone outside IVO
while PERSONAL_DATA_DISCLOSURE is off; shown, and logged, when it is on."""

import io

import pytest
from django.core.management import call_command

from access.models import AccessEvent
from access.roles import Role
from register import services
from register.models import Facility, Manager, Provider
from tests.factories import FacilityFactory, make_user, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--facilities", "60", stdout=io.StringIO())
    # A sole trader's home with a manager, whatever the small demo set happens to hold.
    owner = services.provider_save(
        provider=Provider(
            organisation_number="700101-9905",
            name="Gunilla Privatperson",
            ownership="enskild",
            is_sole_trader=True,
        )
    )
    facility = FacilityFactory(facility_id="DEMO-9999", name="Familjehemmet Tallen", provider=owner)
    services.manager_set_current(
        facility=facility,
        values={
            "name": "Test Föreståndarsson",
            "personal_identity_number": "19811218-9876",
            "email": "test.forestandarsson@example.com",
            "phone": "070-174 06 77",
        },
    )


def secrets_of_the_register() -> set[str]:
    """Every manager's name, personnummer (both forms), e-mail and phone, and every sole
    trader's name and number."""
    secrets = set()
    for manager in Manager.objects.all():
        secrets |= {manager.name, manager.email, manager.phone}
        if manager.personal_identity_number:
            secrets |= {manager.personal_identity_number, manager.personal_identity_number[2:]}
    for provider in Provider.objects.filter(is_sole_trader=True):
        secrets |= {provider.name, provider.organisation_number}
    return {secret for secret in secrets if secret}


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
def test_disclosure_off__no_page_shows_personal_data_to_anyone_outside_ivo(client, seeded, role):
    if role:
        client.force_login(make_user(role))
    secrets = secrets_of_the_register()
    assert len(secrets) > 100  # the seeded register has managers and sole traders

    for url, html in every_page(client).items():
        found = [secret for secret in secrets if secret in html]
        assert not found, f"{url} shows {found[:3]}"
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.PERSONAL_DATA_VIEW).exists()


def manager_and_sole_trader_home() -> Facility:
    return (
        Facility.objects.filter(provider__is_sole_trader=True, managers__end_date__isnull=True)
        .select_related("provider")
        .first()
    )


def test_disclosure_on__municipal_user_sees_manager_contact_and_sole_trader_and_it_is_logged(
    client, seeded, settings
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


def test_disclosure_on__anonymous_still_sees_nothing(client, seeded, settings):
    settings.PERSONAL_DATA_DISCLOSURE = True
    facility = manager_and_sole_trader_home()

    response = client.get(f"/verksamhet/{facility.facility_id}/")

    assert response.status_code == 302
    assert facility.provider.name not in response.content.decode()


def test_disclosure_off__ivo_staff_see_the_manager_and_it_is_logged(client, seeded):
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
