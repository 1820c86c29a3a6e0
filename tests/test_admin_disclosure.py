"""Personal data in the back office (issue 15, point 2): every page of the admin that shows a
manager's name, personnummer or contact details, or a sole trader's name and organisationsnummer
(the owner's personnummer), writes an access-log entry through ``access.disclosure``; lists show
the personnummer masked, the record's own page in full."""

import datetime

import pytest
from stdnum import luhn

from access.models import AccessEvent
from access.roles import Role
from register import services
from register.models import Manager, Provider
from tests.assertions import assert_none_shown, assert_shows
from tests.disclosure_support import every_form
from tests.factories import (
    FacilityFactory,
    ProviderFactory,
    build_valid_organisation_number,
    make_user,
    sign_in,
)

pytestmark = pytest.mark.django_db


def personnummer(birth_date: str, serial: str) -> str:
    """A Luhn-valid personnummer ``YYYYMMDD-NNNN``."""
    core = birth_date[2:] + serial
    return f"{birth_date}-{serial}{luhn.calc_check_digit(core)}"


def without_echoes(body: str, term: str) -> str:
    """The page without the places the admin repeats a search term back to the searcher."""
    for echo in (f'value="{term}"', f"q%3D{term}", f"q={term}"):
        body = body.replace(echo, "")
    return body


def assert_no_full_number(body: str, numbers) -> None:
    for number in numbers:
        for form in every_form(number):
            assert form not in body, form


@pytest.fixture
def registrator_client(client):
    user = make_user(Role.IVO_REGISTRATOR)
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def managers():
    """Two facilities, each with a current manager, and an earlier manager of the first."""
    first, second = FacilityFactory(), FacilityFactory()
    people = [
        (
            first,
            "Greta Föreståndarsson",
            personnummer("19800101", "123"),
            datetime.date(2020, 1, 1),
        ),
        (second, "Olle Ledarsson", personnummer("19750303", "345"), datetime.date(2019, 1, 1)),
        (first, "Tidigare Chefsdotter", personnummer("19650505", "456"), datetime.date(2010, 1, 1)),
    ]
    created = []
    for facility, name, number, start in people:
        manager = Manager(
            facility=facility,
            name=name,
            personal_identity_number=number,
            email=f"{name.split()[0].lower()}@example.com",
            phone="070-123 45 67",
            start_date=start,
            end_date=datetime.date(2019, 12, 31) if start.year == 2010 else None,
        )
        created.append(services.manager_save(manager=manager))
    return created


@pytest.fixture
def sole_trader():
    return ProviderFactory(
        name="Anna Enskildsson",
        organisation_number="800202-2344",
        is_sole_trader=True,
    )


def disclosures() -> list[tuple]:
    return list(
        AccessEvent.objects.filter(action=AccessEvent.Action.PERSONAL_DATA_VIEW)
        .order_by("id")
        .values_list("username", "role", "object_type", "object_id", "fields")
    )


MANAGER_RECORD_FIELDS = "manager.name,manager.personal_identity_number,manager.email,manager.phone"
MANAGER_LIST_FIELDS = "manager.name,manager.personal_identity_number.masked"
PROVIDER_RECORD_FIELDS = "provider.name,provider.organisation_number"
PROVIDER_LIST_FIELDS = "provider.name,provider.organisation_number.masked"


# Managers ------------------------------------------------------------------------------------


def test_manager_change_page__shows_everything_and_logs_it(registrator_client, managers):
    manager = managers[0]
    response = registrator_client.get(f"/admin/register/manager/{manager.pk}/change/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Greta Föreståndarsson" in body
    assert manager.personal_identity_number in body
    assert "greta@example.com" in body
    user = registrator_client.user
    assert disclosures() == [
        (user.username, Role.IVO_REGISTRATOR, "manager", str(manager.pk), MANAGER_RECORD_FIELDS)
    ]


def test_manager_list__personnummer_masked_everywhere__each_row_logged(
    registrator_client, managers
):
    response = registrator_client.get("/admin/register/manager/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Greta Föreståndarsson" in body
    assert "19800101-XXXX" in body
    assert_no_full_number(body, [manager.personal_identity_number for manager in managers])
    user = registrator_client.user
    assert sorted(disclosures()) == sorted(
        (user.username, Role.IVO_REGISTRATOR, "manager", str(manager.pk), MANAGER_LIST_FIELDS)
        for manager in managers
    )


def test_manager_list__search__only_the_rows_shown_logged(registrator_client, managers):
    response = registrator_client.get("/admin/register/manager/", {"q": "Ledarsson"})

    body = assert_shows(response, "Olle Ledarsson")
    assert_none_shown(body, ["Greta"])
    assert [row[3] for row in disclosures()] == [str(managers[1].pk)]


def test_manager_list__show_all__every_row_logged_and_masked(registrator_client, managers):
    response = registrator_client.get("/admin/register/manager/", {"all": ""})

    body = assert_shows(
        response, "Greta Föreståndarsson", "Olle Ledarsson", "19800101-XXXX", "19750303-XXXX"
    )
    assert_no_full_number(body, [manager.personal_identity_number for manager in managers])
    assert len(disclosures()) == len(managers)


def _change_manager(manager: Manager, **values) -> Manager:
    for field, value in values.items():
        setattr(manager, field, value)
    return services.manager_save(manager=manager, reason="Rättad")


def test_manager_history_list__changes_masked__logged_with_the_fields_shown(
    registrator_client, managers
):
    manager = managers[0]
    old_number = manager.personal_identity_number
    _change_manager(manager, personal_identity_number=personnummer("19800101", "987"))
    _change_manager(manager, phone="070-765 43 21")

    response = registrator_client.get(f"/admin/register/manager/{manager.pk}/history/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "070-765 43 21" in body
    assert "19800101-XXXX" in body
    assert_no_full_number(body, [old_number, manager.personal_identity_number])
    user = registrator_client.user
    assert disclosures() == [
        (
            user.username,
            Role.IVO_REGISTRATOR,
            "manager",
            str(manager.pk),
            "manager.personal_identity_number.masked,manager.phone",
        )
    ]


def test_manager_history_list__no_personal_data_changed__nothing_logged(
    registrator_client, managers
):
    manager = managers[0]
    _change_manager(manager, start_date=datetime.date(2020, 2, 1))

    response = registrator_client.get(f"/admin/register/manager/{manager.pk}/history/")

    body = assert_shows(response, "Rättad", "2020-02-01")  # the change it lists
    assert_none_shown(body, ["Greta"])
    assert disclosures() == []


def test_manager_history_record__shows_the_old_values_in_full_and_logs_them(
    registrator_client, managers
):
    manager = managers[0]
    old_number = manager.personal_identity_number
    first = manager.history.earliest()
    _change_manager(manager, personal_identity_number=personnummer("19800101", "987"))

    response = registrator_client.get(
        f"/admin/register/manager/{manager.pk}/history/{first.history_id}/"
    )

    assert response.status_code == 200
    assert old_number in response.content.decode()
    user = registrator_client.user
    assert disclosures() == [
        (user.username, Role.IVO_REGISTRATOR, "manager", str(manager.pk), MANAGER_RECORD_FIELDS)
    ]


def test_manager_delete_page__no_personal_data__nothing_logged(registrator_client, managers):
    """The registrator has no delete permission; an IVO administrator sees the summary."""
    administrator = make_user(Role.IVO_ADMIN)
    sign_in(registrator_client, administrator)
    manager = managers[0]

    response = registrator_client.get(f"/admin/register/manager/{manager.pk}/delete/")

    body = assert_shows(response, "Är du säker på att du vill ta bort föreståndare", str(manager))
    assert_none_shown(body, ["Greta"])
    assert_no_full_number(body, [manager.personal_identity_number])
    assert disclosures() == []


# Sole traders --------------------------------------------------------------------------------


def test_sole_trader_change_page__shows_name_and_number__logged(registrator_client, sole_trader):
    response = registrator_client.get(f"/admin/register/provider/{sole_trader.pk}/change/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Anna Enskildsson" in body
    assert "800202-2344" in body
    user = registrator_client.user
    assert disclosures() == [
        (
            user.username,
            Role.IVO_REGISTRATOR,
            "provider",
            str(sole_trader.public_id),
            PROVIDER_RECORD_FIELDS,
        )
    ]


def test_legal_person_change_page__nothing_logged(registrator_client):
    provider = ProviderFactory(name="Omsorg AB")

    response = registrator_client.get(f"/admin/register/provider/{provider.pk}/change/")

    assert response.status_code == 200
    assert disclosures() == []


def test_provider_list__sole_trader_number_masked__logged(registrator_client, sole_trader):
    legal_person = ProviderFactory(name="Omsorg AB")

    response = registrator_client.get("/admin/register/provider/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Anna Enskildsson" in body
    assert "800202-XXXX" in body
    assert legal_person.organisation_number in body  # a legal person's number is public
    assert_no_full_number(body, [sole_trader.organisation_number])
    user = registrator_client.user
    assert disclosures() == [
        (
            user.username,
            Role.IVO_REGISTRATOR,
            "provider",
            str(sole_trader.public_id),
            PROVIDER_LIST_FIELDS,
        )
    ]


@pytest.mark.parametrize(
    "term", ["800202-2344", "8002022344", "19800202-2344", "198002022344", "Enskildsson"]
)
def test_provider_list__search_by_personnummer_or_name_still_finds_the_sole_trader(
    registrator_client, sole_trader, term
):
    ProviderFactory(name="Omsorg AB")

    response = registrator_client.get("/admin/register/provider/", {"q": term})

    body = assert_shows(response, "Anna Enskildsson")
    assert_none_shown(body, ["Omsorg AB"])
    # What was typed is echoed (the search box, the links that keep the search); the list
    # itself prints the number masked.
    assert_no_full_number(without_echoes(body, term), [sole_trader.organisation_number])
    assert [row[3] for row in disclosures()] == [str(sole_trader.public_id)]


def test_sole_trader_history__list_masked_and_record_in_full__both_logged(
    registrator_client, sole_trader
):
    first = sole_trader.history.earliest()
    sole_trader.name = "Anna Enskildsson Berg"
    services.provider_save(provider=sole_trader, reason="Namnbyte")

    listing = registrator_client.get(f"/admin/register/provider/{sole_trader.pk}/history/")
    record = registrator_client.get(
        f"/admin/register/provider/{sole_trader.pk}/history/{first.history_id}/"
    )

    assert listing.status_code == record.status_code == 200
    assert "Anna Enskildsson Berg" in listing.content.decode()
    assert_no_full_number(listing.content.decode(), [sole_trader.organisation_number])
    assert "800202-2344" in record.content.decode()
    public_id = str(sole_trader.public_id)
    assert [row[2:] for row in disclosures()] == [
        ("provider", public_id, "provider.name"),
        ("provider", public_id, PROVIDER_RECORD_FIELDS),
    ]


def test_facility_list__found_by_a_sole_traders_name__the_match_logged(
    registrator_client, sole_trader
):
    facility = FacilityFactory(provider=sole_trader, name="Solgården")
    FacilityFactory(name="Annat hem")

    response = registrator_client.get("/admin/register/facility/", {"q": "Enskildsson"})

    body = assert_shows(response, "Solgården")
    assert_none_shown(body, ["Annat hem"])
    assert_none_shown(without_echoes(body, "Enskildsson"), ["Anna Enskildsson"])
    assert [row[2:4] for row in disclosures()] == [("provider", str(sole_trader.public_id))]
    assert facility.facility_id in AccessEvent.objects.get().detail


def test_facility_list__found_by_its_own_name__nothing_logged(registrator_client, sole_trader):
    FacilityFactory(provider=sole_trader, name="Solgården")

    response = registrator_client.get("/admin/register/facility/", {"q": "Solgården"})

    body = assert_shows(response, "Solgården")
    assert_none_shown(body, ["Anna Enskildsson"])
    assert disclosures() == []


def test_facility_pages__sole_trader_and_managers_not_shown__nothing_logged(
    registrator_client, sole_trader, managers
):
    facility = FacilityFactory(provider=sole_trader)
    managed = managers[0].facility

    pages = [
        assert_shows(registrator_client.get(path), *names)
        for path, names in (
            ("/admin/register/facility/", (facility.name, managed.name)),
            (f"/admin/register/facility/{facility.pk}/change/", (facility.name,)),
            (f"/admin/register/facility/{facility.pk}/history/", (facility.name,)),
            (f"/admin/register/facility/{managed.pk}/change/", (managed.name,)),
        )
    ]

    for body in pages:
        assert_none_shown(body, ["Anna Enskildsson", "Greta"])
        assert_no_full_number(
            body,
            [sole_trader.organisation_number]
            + [manager.personal_identity_number for manager in managers],
        )
    assert disclosures() == []


def test_provider_autocomplete__sole_trader_matched_by_name__logged_never_shown(
    registrator_client, sole_trader
):
    ProviderFactory(name="Omsorg AB")

    response = registrator_client.get(
        "/admin/autocomplete/",
        {
            "term": "Enskildsson",
            "app_label": "register",
            "model_name": "facility",
            "field_name": "provider",
        },
    )

    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["id"] for result in results] == [str(sole_trader.pk)]
    assert "Enskildsson" not in response.content.decode()
    assert [row[2:4] for row in disclosures()] == [("provider", str(sole_trader.public_id))]


def test_facility_autocomplete__found_by_a_sole_traders_number__logged_never_shown(
    registrator_client, sole_trader
):
    """A decision's form looks up its facility; a facility found by its sole trader's number
    links the person to the home."""
    facility = FacilityFactory(provider=sole_trader, name="Solgården")
    FacilityFactory(name="Annat hem")

    response = registrator_client.get(
        "/admin/autocomplete/",
        {
            "term": "8002022344",
            "app_label": "register",
            "model_name": "decision",
            "field_name": "facility",
        },
    )

    assert [result["id"] for result in response.json()["results"]] == [str(facility.pk)]
    assert "Enskildsson" not in response.content.decode()
    entry = AccessEvent.objects.get()
    assert (entry.object_type, entry.object_id, entry.fields) == (
        "provider",
        str(sole_trader.public_id),
        "provider.organisation_number",
    )
    assert facility.facility_id in entry.detail


def test_sole_trader_became_a_company__old_history_record_still_logged(
    registrator_client, sole_trader
):
    first = sole_trader.history.earliest()
    provider = Provider.objects.get(pk=sole_trader.pk)
    provider.is_sole_trader = False
    provider.organisation_number = build_valid_organisation_number("559000000")
    provider.name = "Enskildsson Omsorg AB"
    services.provider_save(provider=provider)

    response = registrator_client.get(
        f"/admin/register/provider/{provider.pk}/history/{first.history_id}/"
    )

    assert "800202-2344" in response.content.decode()
    assert [row[2:] for row in disclosures()] == [
        ("provider", str(sole_trader.public_id), PROVIDER_RECORD_FIELDS)
    ]
