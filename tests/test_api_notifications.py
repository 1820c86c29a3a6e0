"""Watches through the API and the notifications feed: a municipality's system reads the events
that reach its municipality's watches (its users' and its own), in order, through a cursor that
never skips or repeats; it manages its own watches; it learns nothing of another municipality's
watches, nothing personal and nothing about a child.

The feed lists, on PostgreSQL, only transactions older than every one still running (as the
changes feed, api/changes.py). So there every write is made by a writer with a connection of its
own that commits (tests/conftest.py ``writers``), the test's own transaction never writes before
it reads (the access log is off unless a test reads it), and a read waits for the feed to get
there (another test suite on the same server holds it back while its transactions last). On
SQLite the writes are made in the test's transaction.
"""

import datetime
import json
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.models import AccessEvent, Account, AllowlistEntry
from access.roles import Role
from alerts.delivery import watches_for
from alerts.models import Watch
from alerts.services import watch_add
from api.models import ApiClient, ApiToken
from register import services
from register.codes import Assessment, Outcome, ReviewArea, TargetGroup
from register.models import County, Facility, RegisterEvent
from tests.api_support import api_client_with_token, bearer, on_writer
from tests.factories import (
    DecisionFactory,
    FacilityFactory,
    FindingFactory,
    ProviderFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reads_only(settings):
    # A log entry written before a read would give the test's transaction a transaction id and,
    # on PostgreSQL, hold back everything the writers commit after it. A test that reads the
    # log turns it on after its last write.
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    settings.ACCESS_LOG_ENABLED = False


@pytest.fixture
def do(writers):
    """Runs a write where the feed can see it once it has ended: on a writer that commits
    (PostgreSQL) or in the test (SQLite). Removes the users and API clients it made afterwards
    (the writers fixture removes the register, its events and the watches)."""
    writer = writers[0] if writers else None
    users_before = get_user_model().objects.aggregate(last=Max("id"))["last"] or 0
    entries_before = AllowlistEntry.objects.aggregate(last=Max("id"))["last"] or 0
    yield on_writer(writer)
    if writer is not None:
        writer.call(lambda: _remove_users_after(users_before, entries_before))


def _remove_users_after(user_id: int, entry_id: int) -> None:
    Watch.objects.all().delete()
    made = get_user_model().objects.filter(id__gt=user_id)
    ApiToken.objects.filter(client__account_user__in=made).delete()
    ApiToken.objects.filter(created_by__in=made).delete()
    ApiClient.objects.filter(account_user__in=made).delete()
    Account.objects.filter(user__in=made).delete()
    AllowlistEntry.objects.filter(id__gt=entry_id).delete()
    made.delete()


# The world: two municipalities with a key each, a user each, homes in two län ------------------


# For the tests of the watches alone, which write through the API in the test's transaction:
# the world made there too (a writer's committed rows, removed before the test's transaction
# ends, would fail its constraint check; a watch it deletes would lock out the cleanup).
@pytest.fixture
def writes_in_test_transaction():
    """Asks ``world`` to make its rows in the test's transaction."""


in_test_transaction = pytest.mark.usefixtures("writes_in_test_transaction")


@pytest.fixture
def world(request):
    if "writes_in_test_transaction" in request.fixturenames:
        do = on_writer(None)
    else:
        do = request.getfixturevalue("do")

    def build():
        provider = ProviderFactory(name="Omsorg Norr AB")
        return {
            "kalmar_user": make_user(Role.MUNICIPAL_USER, municipality="0880"),
            "stockholm_user": make_user(Role.MUNICIPAL_USER, municipality="0180"),
            "kalmar": api_client_with_token("0880", name="Kalmars ärendesystem"),
            "stockholm": api_client_with_token("0180", name="Stockholms ärendesystem"),
            "provider": provider,
            "home": FacilityFactory(facility_id="K0880-001", name="Solgården", provider=provider),
            "neighbour": FacilityFactory(
                facility_id="K0860-001", name="Granbacken", municipality_id="0860"
            ),
            "stockholm_home": FacilityFactory(
                facility_id="K0180-001",
                name="Ekudden",
                municipality_id="0180",
                provider=provider,
            ),
            "protected": FacilityFactory(
                facility_id="K0880-009",
                name="Skyddsgården",
                provider=provider,
                target_groups=[TargetGroup.SKYDD],
            ),
        }

    found = do(build)
    found["do"] = do
    return found


def token_of(world, municipality: str) -> str:
    return world[municipality][1]


def watch(world, who: str, target, *, municipality: str = "0880"):
    """A watch of a municipal user (``who``: a user key of the world) or of a municipality's
    own client (``who``: "kalmar" or "stockholm")."""
    user = world[who][0].account_user if who in ("kalmar", "stockholm") else world[who]
    return world["do"](lambda: watch_add(user=user, owner_municipality=municipality, target=target))


def decision(world, home: str, diarienummer: str, outcome=Outcome.BRISTER, **kwargs):
    facility = world[home]
    return world["do"](
        lambda: DecisionFactory(
            facility=Facility.objects.get(pk=facility.pk),
            diarienummer=diarienummer,
            outcome=outcome,
            decision_date=datetime.date(2026, 3, 2),
            **kwargs,
        )
    )


def page(http, token: str, since: str = "", limit: int = 100) -> dict:
    response = http.get(f"/api/v1/notifications?since={since}&limit={limit}", **bearer(token))
    assert response.status_code == 200, response.content[:500]
    return response.json()


def follow(http, token: str, *, count: int, limit: int = 100, since: str = "", seconds=60):
    """Reads the feed page by page from ``since`` until ``count`` items have come, waiting for
    the feed where the database holds it back; returns the items and the pages read."""
    items, pages = [], []
    deadline = time.monotonic() + seconds
    while True:
        read = page(http, token, since, limit)
        pages.append(read)
        items += read["items"]
        since = read["next_cursor"]
        if read["has_more"]:
            continue
        if len(items) >= count:
            return items, pages
        assert time.monotonic() < deadline, f"the feed gave {len(items)} of {count} items"
        time.sleep(0.2)


def diarienummer_of(items) -> list[str]:
    return [item["details"]["diarienummer"] for item in items]


# The feed: who is reached --------------------------------------------------------------------


def test_notifications__reach_the_watching_municipality_and_no_other(client, world):
    watch(world, "kalmar_user", world["home"])
    watch(world, "stockholm_user", world["stockholm_home"], municipality="0180")
    decision(world, "home", "3.2.2-1/2026")
    decision(world, "stockholm_home", "3.2.2-2/2026")
    decision(world, "neighbour", "3.2.2-3/2026")  # no one watches it

    kalmar, _pages = follow(client, token_of(world, "kalmar"), count=1)
    stockholm, _pages = follow(client, token_of(world, "stockholm"), count=1)

    assert diarienummer_of(kalmar) == ["3.2.2-1/2026"]
    assert diarienummer_of(stockholm) == ["3.2.2-2/2026"]


def test_notifications__another_municipality_s_key_sees_none_of_it(client, world):
    watch(world, "kalmar_user", world["home"])
    watch(world, "kalmar", world["provider"])
    decision(world, "home", "3.2.2-1/2026", Outcome.FORBUD)
    decision(world, "stockholm_home", "3.2.2-2/2026", Outcome.FORBUD)  # Kalmar's provider watch
    follow(client, token_of(world, "kalmar"), count=2)  # the feed has got past both

    stockholm = page(client, token_of(world, "stockholm"))

    assert stockholm["items"] == []
    assert stockholm["has_more"] is False


def test_notifications__reach_follows_the_rules_of_the_alerts(client, world):
    watch(world, "kalmar_user", world["provider"])
    watch(world, "kalmar", County.objects.get(code="08"))
    decision(world, "stockholm_home", "3.2.2-1/2026")  # the provider's home elsewhere: told
    decision(world, "neighbour", "3.2.2-2/2026")  # in the län, not serious: not told
    decision(world, "neighbour", "3.2.2-3/2026", Outcome.FORBUD)  # in the län, serious: told
    decision(world, "protected", "3.2.2-4/2026", Outcome.FORBUD)  # protected: only its own
    world["do"](  # a new home in the län: told
        lambda: FacilityFactory(facility_id="K0860-002", name="Nya hemmet", municipality_id="0860")
    )
    decision(world, "home", "3.2.2-5/2026")  # before the home's own watch is made
    watch(world, "kalmar_user", world["home"])
    decision(world, "home", "3.2.2-6/2026")

    items, _pages = follow(client, token_of(world, "kalmar"), count=5)

    assert [
        (item["kind"], item["facility_id"], item["details"]["diarienummer"]) for item in items
    ] == [
        ("decision", "K0180-001", "3.2.2-1/2026"),
        ("decision", "K0860-001", "3.2.2-3/2026"),
        ("facility_created", "K0860-002", None),
        # The provider's watch reaches the home's decision made before the home's own watch.
        ("decision", "K0880-001", "3.2.2-5/2026"),
        ("decision", "K0880-001", "3.2.2-6/2026"),
    ]
    # The same events the alerts app tells the municipality's watchers of.
    told = [
        event.pk
        for event in RegisterEvent.objects.order_by("transaction_id", "id")
        if watches_for(event).filter(owner_municipality_id="0880").exists()
    ]
    assert [int(item["cursor"].split("-")[1]) for item in items] == told


def test_notifications__a_watch_made_after_an_event_is_not_reached_by_it(client, world):
    decision(world, "home", "3.2.2-1/2026", Outcome.FORBUD)
    watch(world, "kalmar_user", world["home"])
    decision(world, "home", "3.2.2-2/2026")

    items, _pages = follow(client, token_of(world, "kalmar"), count=1)

    assert diarienummer_of(items) == ["3.2.2-2/2026"]


# The feed: the cursor ------------------------------------------------------------------------


def test_notifications__pages_of_two__never_skip_or_repeat_while_events_are_written(client, world):
    watch(world, "kalmar_user", world["home"])
    watch(world, "kalmar", world["provider"])
    token = token_of(world, "kalmar")
    written, read, cursor = [], [], ""
    for batch in range(3):
        for number in range(3):
            diarienummer = f"3.2.2-{batch * 10 + number}/2026"
            home = "home" if number != 1 else "stockholm_home"
            decision(world, home, diarienummer)
            written.append(diarienummer)
        decision(world, "neighbour", f"3.2.2-{batch * 10 + 9}/2026")  # reaches no watch
        items, pages = follow(client, token, count=3, limit=2, since=cursor)
        read += items
        cursor = pages[-1]["next_cursor"]
        assert all(len(p["items"]) <= 2 for p in pages)

    keys = [tuple(int(part) for part in item["cursor"].split("-")) for item in read]
    assert diarienummer_of(read) == written
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    # Caught up: the same cursor gives nothing more.
    again = page(client, token, cursor, 2)
    assert (again["items"], again["next_cursor"], again["has_more"]) == ([], cursor, False)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql__an_event_committing_late_is_not_skipped(client, world, writers):
    """T1 records its event first (the lower transaction id), T2 later and commits first. The
    feed holds T2's event, and its next cursor, back until T1 ends: read then, both come, T1's
    first."""
    first, second = writers
    watch(world, "kalmar_user", world["provider"])
    decision(world, "home", "3.2.2-1/2026")
    token = token_of(world, "kalmar")
    _items, pages = follow(client, token, count=1)
    cursor = pages[-1]["next_cursor"]
    # Two homes: a decision writes its home's latest decision, and the second would wait for
    # the first's lock on the row.
    home = Facility.objects.get(facility_id="K0880-001")
    other_home = Facility.objects.get(facility_id="K0180-001")

    first.begin()
    first.call(lambda: DecisionFactory(facility=home, diarienummer="3.2.2-2/2026"))
    second.call(lambda: DecisionFactory(facility=other_home, diarienummer="3.2.2-3/2026"))
    held = page(client, token, cursor)
    first.commit()
    items, _pages = follow(client, token, count=2, since=held["next_cursor"])

    assert (held["items"], held["next_cursor"]) == ([], cursor)
    assert diarienummer_of(items) == ["3.2.2-2/2026", "3.2.2-3/2026"]


def test_notifications__quiet_watches__the_cursor_moves_past_what_reached_none(client, world):
    watch(world, "kalmar_user", world["home"])
    decision(world, "home", "3.2.2-1/2026")
    unwatched = decision(world, "neighbour", "3.2.2-2/2026")
    follow(client, token_of(world, "kalmar"), count=1)
    last = RegisterEvent.objects.filter(decision=unwatched).get()

    first = page(client, token_of(world, "kalmar"))

    assert first["next_cursor"] == f"{last.transaction_id}-{last.pk}"
    assert first["has_more"] is False


@pytest.mark.parametrize(
    ("since", "detail"),
    [
        ("abc", "since: Värdet har fel form."),
        ("1-", "since: Värdet har fel form."),
        ("-1-2", "since: Värdet har fel form."),
        ("1-2-3", "since: Värdet har fel form."),
        ("1234567890123456789-1", "since: Värdet har fel form."),
    ],
)
def test_notifications__bad_cursor__422_with_the_exact_problem(client, world, since, detail):
    response = client.get(
        f"/api/v1/notifications?since={since}", **bearer(token_of(world, "kalmar"))
    )

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "ogiltig-parameter"
    assert response.json()["detail"] == detail
    assert response.json()["errors"] == [{"parameter": "since", "detail": "Värdet har fel form."}]


# The feed: what an item says ------------------------------------------------------------------


def test_notifications__a_decision__marking_deficient_areas_details_and_url(client, world):
    watch(world, "kalmar_user", world["home"])

    def decided():
        made = DecisionFactory(
            facility=Facility.objects.get(facility_id="K0880-001"),
            diarienummer="3.2.2-77/2026",
            outcome=Outcome.FORELAGGANDE_VITE,
            decision_date=datetime.date(2026, 3, 2),
        )
        FindingFactory(decision=made, area=ReviewArea.LOKALER, assessment=Assessment.BRIST)
        FindingFactory(
            decision=made,
            area=ReviewArea.TRYGGHET_SAKERHET,
            assessment=Assessment.ALLVARLIG_BRIST,
        )
        FindingFactory(decision=made, area=ReviewArea.DELAKTIGHET)  # no deficiency
        return made

    world["do"](decided)

    items, _pages = follow(client, token_of(world, "kalmar"), count=1)

    item = items[0]
    assert {key: item[key] for key in item if key not in ("cursor", "recorded_at")} == {
        "kind": "decision",
        "kind_label": "Nytt beslut",
        "serious": True,
        "occurred_on": "2026-03-02",
        "facility_id": "K0880-001",
        "facility_name": "Solgården",
        "protected": False,
        "marking": {
            "severity": "serious",
            "symbol": "✕",
            "colour": "red",
            "label": "Föreläggande med vite",
        },
        # In the code list's order.
        "deficient_areas": ["trygghet_sakerhet", "lokaler"],
        "details": {
            "diarienummer": "3.2.2-77/2026",
            "outcome": "forelaggande_vite",
            "appeal_status": "ej_overklagat",
            "status_before": None,
            "status": None,
            "area": None,
            "due_date": None,
            "last_inspection": None,
        },
        "provider": None,
        "url": "/api/v1/facilities/K0880-001",
    }


def test_notifications__appeal_and_status_change__their_details_and_marking(client, world):
    watch(world, "kalmar_user", world["home"])
    made = decision(world, "home", "3.2.2-1/2026", Outcome.FORELAGGANDE_VITE)

    def overturned_then_closed():
        found = type(made).objects.get(pk=made.pk)
        found.appeal_status = "upphavt"
        services.decision_save(decision=found)
        home = Facility.objects.get(facility_id="K0880-001")
        home.status = "nedlagd"
        home.status_date = home.end_date = datetime.date(2026, 4, 1)
        services.facility_save(facility=home)

    world["do"](overturned_then_closed)

    items, _pages = follow(client, token_of(world, "kalmar"), count=3)

    assert [item["kind"] for item in items] == ["decision", "appeal_decided", "status_changed"]
    appeal, status = items[1], items[2]
    assert appeal["kind_label"] == "Överklagande avgjort"
    assert appeal["details"]["appeal_status"] == "upphavt"
    assert appeal["details"]["diarienummer"] == "3.2.2-1/2026"
    assert appeal["marking"]["label"] == "Föreläggande med vite – upphävt av domstol"
    assert appeal["deficient_areas"] == []
    assert status["kind_label"] == "Ändrad status"
    assert (status["details"]["status_before"], status["details"]["status"]) == (
        "aktiv",
        "nedlagd",
    )
    assert status["occurred_on"] == "2026-04-01"
    assert status["marking"] is None


def test_notifications__new_manager__the_fact_only_never_the_name(client, world, settings):
    settings.PERSONAL_DATA_DISCLOSURE = True  # even where the policy would give the name
    watch(world, "kalmar_user", world["home"])
    world["do"](
        lambda: services.manager_set_current(
            facility=Facility.objects.get(facility_id="K0880-001"),
            values={
                "name": "Anna Föreståndarsson",
                "personal_identity_number": "19811218-9876",
                "email": "anna@example.com",
                "phone": "070-1234567",
            },
        )
    )

    items, _pages = follow(client, token_of(world, "kalmar"), count=1)
    body = json.dumps(items, ensure_ascii=False)

    assert [(item["kind"], item["kind_label"]) for item in items] == [
        ("manager_changed", "Ny föreståndare")
    ]
    for secret in ("Anna", "Föreståndarsson", "19811218", "811218", "anna@", "070-1234567"):
        assert secret not in body


@pytest.fixture
def sole_trader_takes_over(world):
    watch(world, "kalmar_user", world["home"])

    def handed_over():
        owner = ProviderFactory(
            organisation_number="700101-9905",
            name="Gunilla Privatperson",
            ownership="enskild",
            is_sole_trader=True,
        )
        home = Facility.objects.get(facility_id="K0880-001")
        home.provider = owner
        services.facility_save(facility=home)
        return owner

    return world["do"](handed_over)


def test_notifications__new_provider_a_sole_trader__withheld_by_the_policy(
    client, world, sole_trader_takes_over
):
    items, _pages = follow(client, token_of(world, "kalmar"), count=1)
    body = json.dumps(items, ensure_ascii=False)

    assert items[0]["kind"] == "provider_changed"
    assert items[0]["provider"] == {
        "provider_id": str(sole_trader_takes_over.public_id),
        "name": "Enskild näringsidkare",
        "organisation_number": None,
        "ownership": "enskild",
        "is_sole_trader": True,
        "withheld": True,
    }
    for secret in ("Gunilla", "Privatperson", "700101", "7001019905"):
        assert secret not in body


def test_notifications__new_provider_a_sole_trader__given_and_logged_when_the_policy_allows(
    client, world, sole_trader_takes_over, settings
):
    settings.PERSONAL_DATA_DISCLOSURE = True
    follow(client, token_of(world, "kalmar"), count=1)  # the feed has got there
    settings.ACCESS_LOG_ENABLED = True

    items = page(client, token_of(world, "kalmar"))["items"]

    assert items[0]["provider"]["name"] == "Gunilla Privatperson"
    assert items[0]["provider"]["organisation_number"] == "700101-9905"
    assert list(
        AccessEvent.objects.filter(action=AccessEvent.Action.PERSONAL_DATA_VIEW).values_list(
            "role", "municipality_code", "object_id", "fields"
        )
    ) == [
        (
            Role.MUNICIPAL_SYSTEM,
            "0880",
            str(sole_trader_takes_over.public_id),
            "provider.name,provider.organisation_number",
        )
    ]


# The feed: protected homes --------------------------------------------------------------------


def test_notifications__protected_home__only_its_own_watchers__and_each_read_logged(
    client, world, settings
):
    watch(world, "kalmar_user", world["protected"])
    watch(world, "stockholm_user", world["provider"], municipality="0180")
    watch(world, "stockholm", County.objects.get(code="08"), municipality="0180")
    decision(world, "protected", "3.2.2-1/2026", Outcome.FORBUD)
    decision(world, "protected", "3.2.2-2/2026")
    follow(client, token_of(world, "kalmar"), count=2)
    settings.ACCESS_LOG_ENABLED = True

    items = page(client, token_of(world, "kalmar"))["items"]
    stockholm = page(client, token_of(world, "stockholm"))["items"]

    assert [(item["facility_id"], item["protected"]) for item in items] == [
        ("K0880-009", True),
        ("K0880-009", True),
    ]
    assert stockholm == []  # a provider's and a län's watchers are never told
    assert list(
        AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW).values_list(
            "municipality_code", "object_type", "object_id"
        )
    ) == [("0880", "facility", "K0880-009")]  # one entry for the home, not one per event


def test_notifications__a_home_protected_since__its_events_leave_the_area_and_provider_feed(
    client, world
):
    watch(world, "kalmar", world["provider"])
    watch(world, "kalmar_user", County.objects.get(code="08"))
    decision(world, "home", "3.2.2-1/2026", Outcome.FORBUD)

    def protect():
        home = Facility.objects.get(facility_id="K0880-001")
        home.protected_by_ivo = True
        services.facility_save(facility=home)

    world["do"](protect)
    decision(world, "stockholm_home", "3.2.2-2/2026")  # the provider's other home: still told

    items, _pages = follow(client, token_of(world, "kalmar"), count=1)

    assert diarienummer_of(items) == ["3.2.2-2/2026"]


# The feed: one query for the page and a fixed number more --------------------------------------


def test_notifications__a_page_takes_the_same_few_queries_however_long(
    client, world, django_assert_max_num_queries
):
    watch(world, "kalmar_user", world["home"])
    watch(world, "kalmar", world["provider"])
    decision(world, "home", "3.2.2-1/2026")
    decision(world, "stockholm_home", "3.2.2-2/2026")
    token = token_of(world, "kalmar")
    follow(client, token, count=2)

    def many():
        home = Facility.objects.get(facility_id="K0880-001")
        for number in range(10):
            made = DecisionFactory(facility=home, diarienummer=f"3.2.2-{100 + number}/2026")
            FindingFactory(decision=made, assessment=Assessment.BRIST)
        home.provider = ProviderFactory(name="Ny Omsorg AB")
        services.facility_save(facility=home)
        services.manager_set_current(facility=home, values={"name": "Föreståndare"})

    world["do"](many)
    follow(client, token, count=14)

    with CaptureQueriesContext(connection) as two:
        assert len(page(client, token, limit=2)["items"]) == 2
    with django_assert_max_num_queries(len(two.captured_queries)):
        assert len(page(client, token, limit=14)["items"]) == 14
    assert len(two.captured_queries) <= 7  # the key, the timeout, the last event, the page,
    # the findings (and on PostgreSQL the timeout's reset)


# Keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/notifications", "/api/v1/watches"])
def test_keyless__401(client, world, path):
    response = client.get(path)

    assert response.status_code == 401
    assert response.json()["code"] == "token-saknas"


@pytest.mark.parametrize("path", ["/api/v1/notifications", "/api/v1/watches"])
@pytest.mark.parametrize(
    ("ended", "code", "detail"),
    [
        ("revoked", "token-aterkallad", "Nyckeln är återkallad. Be IVO om en ny."),
        ("client_revoked", "token-aterkallad", "Nyckeln är återkallad. Be IVO om en ny."),
        ("expired", "token-har-gatt-ut", "Nyckeln gällde till {date}. Be IVO om en ny."),
    ],
)
def test_ended_key__401_and_nothing_read_or_written(client, world, path, ended, code, detail):
    watch(world, "kalmar_user", world["home"])
    decision(world, "home", "3.2.2-1/2026")
    kalmar, token = world["kalmar"]
    yesterday = timezone.now() - datetime.timedelta(days=1)
    changes = {
        "revoked": lambda: ApiToken.objects.filter(client=kalmar).update(revoked_at=yesterday),
        "client_revoked": lambda: ApiClient.objects.filter(pk=kalmar.pk).update(
            revoked_at=yesterday
        ),
        "expired": lambda: ApiToken.objects.filter(client=kalmar).update(expires_at=yesterday),
    }
    world["do"](changes[ended])
    watches_before = Watch.objects.count()

    got = client.get(path, **bearer(token))
    posted = client.post(
        "/api/v1/watches",
        {"kind": "facility", "target": "K0880-009"},
        content_type="application/json",
        **bearer(token),
    )

    date = timezone.localtime(yesterday).date().isoformat()
    for response in (got, posted):
        assert response.status_code == 401
        assert response.json()["code"] == code
        assert response.json()["detail"] == detail.format(date=date)
        assert "items" not in response.json()
    assert Watch.objects.count() == watches_before


# Watches through the API --------------------------------------------------------------------


def post_watch(http, token: str, body) -> "object":
    return http.post(
        "/api/v1/watches",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        **bearer(token),
    )


@in_test_transaction
def test_watches__add_list_and_add_again(client, world):
    token = token_of(world, "kalmar")

    made = post_watch(client, token, {"kind": "facility", "target": "k0880-001"})
    again = post_watch(client, token, {"kind": "facility", "target": "K0880-001"})
    listed = client.get("/api/v1/watches", **bearer(token))

    assert made.status_code == 201
    assert again.status_code == 200
    assert again.json() == made.json()
    assert made.json()["kind"] == "facility"
    assert made.json()["target"] == "K0880-001"
    assert listed.json()["total"] == 1
    assert listed.json()["items"] == [made.json()]
    stored = Watch.objects.get()
    assert (stored.user, stored.owner_municipality_id, stored.facility.facility_id) == (
        world["kalmar"][0].account_user,
        "0880",
        "K0880-001",
    )
    assert str(stored.public_id) == made.json()["id"]


@in_test_transaction
@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("facility", lambda world: "K0880-001"),
        ("provider", lambda world: str(world["provider"].public_id)),
        ("municipality", lambda world: "0860"),
        ("county", lambda world: "08"),
    ],
)
def test_watches__each_kind(client, world, kind, target):
    response = post_watch(
        client, token_of(world, "kalmar"), {"kind": kind, "target": target(world)}
    )

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["target"]) == (kind, target(world))
    assert Watch.objects.get().kind == kind


@in_test_transaction
def test_watches__a_protected_home_may_be_watched_by_a_key__logged(client, world, settings):
    settings.ACCESS_LOG_ENABLED = True

    response = post_watch(
        client, token_of(world, "kalmar"), {"kind": "facility", "target": "K0880-009"}
    )

    assert response.status_code == 201
    assert list(
        AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW).values_list(
            "role", "object_id"
        )
    ) == [(Role.MUNICIPAL_SYSTEM, "K0880-009")]


@in_test_transaction
def test_watches__only_the_client_s_own_are_listed(client, world):
    watch(world, "kalmar_user", world["home"])  # a user's of the same municipality
    watch(world, "stockholm", world["home"], municipality="0180")
    own = watch(world, "kalmar", world["neighbour"])

    listed = client.get("/api/v1/watches", **bearer(token_of(world, "kalmar"))).json()

    assert [item["id"] for item in listed["items"]] == [str(own.public_id)]


@in_test_transaction
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"kind": "facility", "target": "K0880-404"},
            "Det finns ingen verksamhet med id K0880-404 i registret.",
        ),
        (
            {"kind": "facility", "target": "K0880-001-a-bit-more-than-32-chars"},
            "Det finns ingen verksamhet med id K0880-001-a-bit-more-than-32-chars i registret.",
        ),
        (
            {"kind": "provider", "target": "3f1c2b9e-8d7a-4c1b-9e2f-0a1b2c3d4e5f"},
            "Det finns ingen huvudman med id 3f1c2b9e-8d7a-4c1b-9e2f-0a1b2c3d4e5f i registret.",
        ),
        (
            {"kind": "provider", "target": "K0880-001"},
            "Det finns ingen huvudman med id K0880-001 i registret.",
        ),
        ({"kind": "municipality", "target": "9999"}, "Det finns ingen kommun med koden 9999."),
        ({"kind": "municipality", "target": "08"}, "Det finns ingen kommun med koden 08."),
        ({"kind": "county", "target": "0880"}, "Det finns inget län med koden 0880."),
    ],
)
def test_watches__unknown_target__404_exact_problem_and_nothing_written(
    client, world, body, detail
):
    response = post_watch(client, token_of(world, "kalmar"), body)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "finns-inte"
    assert response.json()["detail"] == detail
    assert response.json()["errors"] == [{"parameter": "target", "detail": detail}]
    assert Watch.objects.count() == 0


@in_test_transaction
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"kind": "region", "target": "08"},
            "kind: Okänt värde. Tillåtna värden: 'facility', 'provider', 'municipality' or "
            "'county'.",
        ),
        ({"kind": "facility"}, "target: Värdet saknas."),
        ({"target": "K0880-001"}, "kind: Värdet saknas."),
        ({"kind": "facility", "target": ""}, "target: Värdet måste vara minst 1 tecken."),
        ({"kind": "facility", "target": "K0880 001"}, "target: Värdet har fel form."),
        ({"kind": "facility", "target": "K0880-001\u0000"}, "target: Värdet har fel form."),
        ({"kind": "facility", "target": "K" * 37}, "target: Värdet får vara högst 36 tecken."),
        ({"kind": "facility", "target": 880}, "target: Ogiltigt värde."),
        ("{not json", "body: Ange ett JSON-objekt."),
        ("[]", "body: Ogiltigt värde."),
        ("", "body: Värdet saknas."),
    ],
)
def test_watches__bad_input__422_exact_problem_and_nothing_written(client, world, body, detail):
    response = post_watch(client, token_of(world, "kalmar"), body)

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "ogiltig-parameter"
    assert response.json()["detail"] == detail
    parameter, _colon, text = detail.partition(": ")
    assert response.json()["errors"] == [{"parameter": parameter, "detail": text}]
    assert Watch.objects.count() == 0


@in_test_transaction
def test_watches__delete_own__204_and_gone(client, world):
    own = watch(world, "kalmar", world["home"])
    kept = watch(world, "kalmar", world["neighbour"])

    response = client.delete(
        f"/api/v1/watches/{own.public_id}", **bearer(token_of(world, "kalmar"))
    )

    assert response.status_code == 204
    assert list(Watch.objects.values_list("pk", flat=True)) == [kept.pk]


@in_test_transaction
@pytest.mark.parametrize("whose", ["stockholm", "kalmar_user", "unknown"])
def test_watches__delete_another_s_or_unknown__404_and_nothing_deleted(client, world, whose):
    if whose == "unknown":
        public_id = uuid.uuid4()
    else:
        municipality = "0180" if whose == "stockholm" else "0880"
        public_id = watch(world, whose, world["home"], municipality=municipality).public_id
    before = list(Watch.objects.order_by("pk").values_list("pk", flat=True))

    response = client.delete(f"/api/v1/watches/{public_id}", **bearer(token_of(world, "kalmar")))

    assert response.status_code == 404
    assert response.json()["code"] == "finns-inte"
    assert response.json()["detail"] == "Bevakningen finns inte."
    assert list(Watch.objects.order_by("pk").values_list("pk", flat=True)) == before


@in_test_transaction
def test_watches__delete_without_a_key__401_and_nothing_deleted(client, world):
    own = watch(world, "kalmar", world["home"])

    response = client.delete(f"/api/v1/watches/{own.public_id}")

    assert response.status_code == 401
    assert Watch.objects.filter(pk=own.pk).exists()


def test_watches__a_watch_made_through_the_api_brings_its_home_s_events(client, world):
    token = token_of(world, "kalmar")
    # Through the API on the writer's connection: committed before the events it is to see.
    made = world["do"](
        lambda: post_watch(
            Client(), token, {"kind": "provider", "target": str(world["provider"].public_id)}
        )
    )
    assert made.status_code == 201
    decision(world, "stockholm_home", "3.2.2-1/2026")

    items, _pages = follow(client, token, count=1)

    assert diarienummer_of(items) == ["3.2.2-1/2026"]
