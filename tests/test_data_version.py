"""The register's data version changes with every committed write, whatever wrote it (imports plan
outside their write transaction and plan again when it changed: register.services), and the API
never answers from before a write, nor with a key's state from before it changed: the policy's
answer is built, and logged, on every request."""

import datetime

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, transaction

from access.models import AccessEvent
from access.roles import Role
from api import services as api_services
from register import data_version, selectors, services
from register.codes import Outcome
from register.models import Facility, RegisterEvent
from tests.api_support import Writer, api_client_with_token, bearer, get_json
from tests.disclosure_support import manager_and_sole_trader_home
from tests.factories import DecisionFactory, FacilityFactory, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]

SEARCH = "/api/v1/facilities?municipality=0880&sort=latest_decision"


@pytest.fixture
def home(db):
    facility = FacilityFactory(facility_id="K0880-001", name="Ängsgården")
    DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-100/2024",
        decision_date=datetime.date(2024, 3, 1),
        outcome=Outcome.INGA_BRISTER,
    )
    return facility


@pytest.fixture(params=["open data", "key"])
def caller(request, db) -> dict:
    """A caller without a key (open data) and one with a key: headers for the client."""
    if request.param == "open data":
        return {}
    _api_client, token = api_client_with_token()
    return bearer(token)


def _names(page: dict) -> list[str]:
    return [item["name"] for item in page["items"]]


def test_data_version__every_register_table_changes_it_even_by_raw_sql(home):
    # The home's events point at its decision, which raw SQL deletes below without the ORM's
    # cascade; they are the watchers' news, not data the search reads (no version of their own).
    RegisterEvent.objects.all().delete()
    before = selectors.data_version()
    for statement in (
        "UPDATE register_facility SET places = places + 1",
        "UPDATE register_provider SET name = name || ' AB'",
        "UPDATE register_decision SET summary = 'Ändrad'",
        "UPDATE register_municipality SET name = name WHERE code = '0880'",
        "DELETE FROM register_decision",
    ):
        with connection.cursor() as cursor:
            cursor.execute(statement)
        after = selectors.data_version()
        assert after not in (None, before), statement
        before = after


def _installed_triggers() -> set[str]:
    sql = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        if connection.vendor == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {row[0] for row in cursor.fetchall()}


def test_data_version__every_register_table_has_its_triggers_and_migrate_puts_lost_ones_back(db):
    """SQLite drops a table's triggers when a migration rebuilds the table; every migrate puts
    them back (post_migrate), or an import would not see writes to it made after its plan."""
    expected = data_version.trigger_names(connection.vendor)
    assert len(expected) in (10, 30)
    assert expected <= _installed_triggers()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER register_permit_data_version_update")
        assert "register_permit_data_version_update" not in _installed_triggers()

        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

        assert expected <= _installed_triggers()


def test_data_version__a_rolled_back_write_leaves_no_stamp_a_later_write_takes(home):
    start = selectors.data_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        Facility.objects.filter(pk=home.pk).update(places=1)
        rolled_back = selectors.data_version()
        raise RuntimeError
    assert selectors.data_version() == start
    Facility.objects.filter(pk=home.pk).update(places=2)
    assert selectors.data_version() not in (start, rolled_back)


def _touch_county(code: str):
    def touch():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE register_county SET name = name WHERE code = %s", [code])

    return touch


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql__writers_do_not_wait_for_each_other_and_each_commit_changes_the_version():
    """Two transactions write and stay open: the second is not held up by the first's version
    stamp (Writer.call fails after 30 s), and each commit, in either order, changes the version."""
    first, second = Writer(), Writer()
    try:
        start = selectors.data_version()
        first.begin()
        second.begin()
        first.call(_touch_county("01"))
        second.call(_touch_county("03"))
        assert selectors.data_version() == start  # nothing committed yet
        second.commit()
        after_second = selectors.data_version()
        assert after_second not in (None, start)
        first.commit()
        assert selectors.data_version() not in (None, start, after_second)
    finally:
        second.stop()
        first.stop()


def test_search__a_new_decision_shows_at_once(client, home, caller):
    first = get_json(client, SEARCH, **caller)
    assert first["items"][0]["latest_decision"]["outcome"] == Outcome.INGA_BRISTER
    assert get_json(client, SEARCH, **caller) == first

    DecisionFactory(  # through the services, as the factories save
        facility=home,
        diarienummer="3.2.2-200/2025",
        decision_date=datetime.date(2025, 6, 1),
        outcome=Outcome.FORELAGGANDE,
    )

    item = get_json(client, SEARCH, **caller)["items"][0]
    assert item["latest_decision"]["diarienummer"] == "3.2.2-200/2025"
    assert item["latest_decision"]["outcome"] == Outcome.FORELAGGANDE
    assert item["marking"]["label"] == str(Outcome.FORELAGGANDE.label)


def test_search_and_facility__a_write_past_the_services_shows_at_once(client, home, caller):
    FacilityFactory(facility_id="K0880-002", name="Björkudden")
    assert _names(get_json(client, SEARCH + "&sort=name", **caller)) == ["Björkudden", "Ängsgården"]
    assert get_json(client, "/api/v1/facilities/K0880-001", **caller)["places"] == home.places

    with connection.cursor() as cursor:
        # A write past the application writes the name's key too (register.models.name_key_of).
        cursor.execute(
            "UPDATE register_facility SET name = 'Aspen', name_key = 'aspen', places = 99 "
            "WHERE id = %s",
            [home.pk],
        )
        cursor.execute(
            "UPDATE register_municipality SET name = 'Kalmar kommun' WHERE code = '0880'"
        )

    page = get_json(client, SEARCH + "&sort=name", **caller)
    assert _names(page) == ["Aspen", "Björkudden"]
    assert page["items"][0]["municipality"]["name"] == "Kalmar kommun"
    detail = get_json(client, "/api/v1/facilities/K0880-001", **caller)
    assert (detail["name"], detail["places"]) == ("Aspen", 99)


def test_facility__a_removed_decision_leaves_the_history_at_once(client, home, caller):
    assert len(get_json(client, "/api/v1/facilities/K0880-001", **caller)["decisions"]) == 1

    services.register_object_delete(instance=home.decisions.get(), reason="test")

    detail = get_json(client, "/api/v1/facilities/K0880-001", **caller)
    assert detail["decisions"] == []
    assert detail["latest_decision"] is None


def test_answers__personal_data_follows_the_setting_and_is_logged_every_time(
    client, seeded_register, settings
):
    api_client, token = api_client_with_token()
    facility = manager_and_sole_trader_home()
    url = f"/api/v1/facilities/{facility.facility_id}"
    search = f"/api/v1/facilities?municipality={facility.municipality_id}&limit=1000"

    def sole_trader_items(page):
        return [i for i in page["items"] if i["facility_id"] == facility.facility_id]

    settings.PERSONAL_DATA_DISCLOSURE = True
    for _ in range(2):  # every answer built, and logged, again
        detail = get_json(client, url, **bearer(token))
        assert detail["manager"]["withheld"] is False
        assert detail["provider"]["name"] == facility.provider.name
        (item,) = sole_trader_items(get_json(client, search, **bearer(token)))
        assert item["provider"]["name"] == facility.provider.name
    views = AccessEvent.objects.filter(
        action=AccessEvent.Action.PERSONAL_DATA_VIEW, user_id=api_client.account_user_id
    )
    # Each round: the detail's provider and manager, the search's provider.
    assert views.count() == 6

    settings.PERSONAL_DATA_DISCLOSURE = False
    detail = get_json(client, url, **bearer(token))
    (item,) = sole_trader_items(get_json(client, search, **bearer(token)))
    assert detail["manager"] == {"withheld": True, "name": "", "email": "", "phone": ""}
    assert detail["provider"]["withheld"] is True
    assert item["provider"]["withheld"] is True
    assert facility.provider.name not in str(detail) + str(item)
    assert views.count() == 6


def test_key_used_then_revoked__refused_at_the_next_call(client, home):
    api_client, token = api_client_with_token()
    assert client.get(SEARCH, **bearer(token)).status_code == 200

    api_services.api_token_revoke(token=api_client.tokens.get(), actor=make_user(Role.IVO_ADMIN))

    response = client.get(SEARCH, **bearer(token))
    assert (response.status_code, response.json()["code"]) == (401, "token-aterkallad")


def test_key_used_then_expired__refused_at_the_next_call(client, home):
    api_client, token = api_client_with_token()
    assert client.get(SEARCH, **bearer(token)).status_code == 200

    api_client.tokens.update(expires_at=datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC))

    response = client.get(SEARCH, **bearer(token))
    assert (response.status_code, response.json()["code"]) == (401, "token-har-gatt-ut")


def test_key_used_then_client_moved_to_another_municipality__its_reads_follow(client, home):
    api_client, token = api_client_with_token("0880")
    events = "/api/v1/municipalities/0880/access-events"
    assert client.get(events, **bearer(token)).status_code == 200

    type(api_client).objects.filter(pk=api_client.pk).update(municipality_id="1480")
    api_client.account_user.account.__class__.objects.filter(
        user_id=api_client.account_user_id
    ).update(municipality_id="1480")

    response = client.get(events, **bearer(token))
    assert (response.status_code, response.json()["code"]) == (403, "fel-kommun")
