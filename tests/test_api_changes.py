"""The changes feed: a municipal system that follows it ends with exactly the server's data, also
when transactions commit out of the order they wrote in.

On PostgreSQL the writes are made by writer threads with connections of their own that commit for
real (the test's own transaction never ends, so nothing it wrote would ever pass the feed's
horizon); the test reads through the API only, with the access log off so that its transaction
takes no transaction id of its own. What the writers committed is removed at the end. On SQLite
writers are serialised by the database, and the writes are made in the test's transaction.
"""

import datetime
import queue
import threading

import pytest
from django.db import connection, transaction

from api.models import ChangeEvent
from register import services
from register.codes import Outcome
from register.models import Decision, Facility, Inspection, Provider
from tests.api_support import Mirror, server_state
from tests.factories import DecisionFactory, FacilityFactory, InspectionFactory, ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reads_only(settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    # A log entry would give the test's transaction a transaction id and hold the feed back.
    settings.ACCESS_LOG_ENABLED = False


class Writer(threading.Thread):
    """A connection of its own, in autocommit: what it writes is committed at once, or when the
    transaction it opened with ``begin`` ends with ``commit``."""

    def __init__(self):
        super().__init__(daemon=True)
        self.jobs: queue.Queue = queue.Queue()
        self.atomic = None
        self.start()

    def run(self):
        while (job := self.jobs.get()) is not None:
            function, done, result = job
            try:
                result.append(function())
            except BaseException as error:  # handed to the test's thread
                result.append(error)
            done.set()
        connection.close()

    def call(self, function):
        done, result = threading.Event(), []
        self.jobs.put((function, done, result))
        assert done.wait(30), "the writer did not answer"
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

    def begin(self):
        def enter():
            self.atomic = transaction.atomic()
            self.atomic.__enter__()

        self.call(enter)

    def commit(self):
        self.call(lambda: self.atomic.__exit__(None, None, None))

    def stop(self):
        self.jobs.put(None)
        self.join(10)


def _remove_committed(first_event_id: int) -> None:
    """Deletes what the writers committed, history and feed included (raw SQL: the register's
    services would write more history)."""
    with connection.cursor() as cursor:
        for table in ("decision", "inspection", "manager", "permit", "registration", "facility"):
            cursor.execute(f"DELETE FROM register_historical{table}")
            cursor.execute(f"DELETE FROM register_{table}")
        cursor.execute("DELETE FROM register_historicalprovider")
        cursor.execute("DELETE FROM register_provider")
        cursor.execute("DELETE FROM api_changeevent WHERE id >= %s", [first_event_id])


@pytest.fixture
def writers():
    if connection.vendor != "postgresql":
        yield None
        return
    first_event_id = (
        ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    started = [Writer(), Writer()]
    yield started
    # The second first: its open transaction rolls back and lets a write of the first that
    # waits on it finish, even when the test failed half-way; then a fresh connection cleans up.
    for writer in reversed(started):
        writer.stop()
    cleaner = Writer()
    cleaner.call(lambda: _remove_committed(first_event_id))
    cleaner.stop()


def _on(writer):
    """Runs a write on the writer's connection (PostgreSQL) or in the test (SQLite)."""
    return writer.call if writer is not None else (lambda function: function())


def assert_in_order_and_once(mirror: Mirror) -> None:
    keys = [tuple(int(part) for part in cursor.split("-")) for cursor in mirror.seen]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_follower_ends_with_exactly_the_server_data_through_creates_changes_and_removals(
    client, writers
):
    do = _on(writers[0] if writers else None)
    mirror = Mirror(client)

    facility = do(lambda: FacilityFactory(facility_id="FEED-1", name="Första hemmet"))
    do(lambda: DecisionFactory(facility=facility, diarienummer="3.2.2-501/2025"))
    do(lambda: InspectionFactory(facility=facility, diarienummer="3.2.2-601/2025"))
    mirror.poll_until(lambda resources: ("inspection", "3.2.2-601/2025") in resources)
    assert ("facility", "FEED-1") in mirror.resources

    def changes():
        renamed = Facility.objects.get(facility_id="FEED-1")
        renamed.name = "Första hemmet, nytt namn"
        renamed.facility_id = "FEED-1B"  # a corrected verksamhetsid: the old one goes away
        services.facility_save(facility=renamed)
        decision = Decision.objects.get(diarienummer="3.2.2-501/2025")
        decision.outcome = Outcome.FORBUD  # also sets the facility's status (services)
        services.decision_save(decision=decision)
        services.register_object_delete(
            instance=Inspection.objects.get(diarienummer="3.2.2-601/2025")
        )
        provider = Provider.objects.get(pk=renamed.provider_id)
        provider.name = "Omdöpt omsorg AB"
        services.provider_save(provider=provider)
        FacilityFactory(facility_id="FEED-2", provider=ProviderFactory(name="Ny huvudman AB"))

    do(changes)
    before = len(mirror.changes)
    mirror.poll_until(lambda resources: ("facility", "FEED-2") in resources)
    read = mirror.changes[before:]

    assert ("facility", "FEED-1") not in mirror.resources
    assert mirror.resources[("facility", "FEED-1B")]["status"] == "forbud"
    assert mirror.resources[("facility", "FEED-1B")]["provider"]["name"] == "Omdöpt omsorg AB"
    assert ("inspection", "3.2.2-601/2025") not in mirror.resources
    assert {"resource": "facility", "resource_id": "FEED-1", "operation": "removed"} in [
        {key: change[key] for key in ("resource", "resource_id", "operation")} for change in read
    ]
    assert mirror.poll() == []  # nothing twice
    assert mirror.resources == server_state(client)
    assert_in_order_and_once(mirror)


def test_invalid_cursor__422_problem_naming_the_parameter(client):
    for cursor in ("abc", "1-", "-1-2", "9999999999999999999-1"):
        response = client.get(f"/api/v1/changes?since={cursor}")

        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"parameter": "since", "detail": "Värdet har fel form."}
        ]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql__a_transaction_committing_late_is_not_skipped(client, writers):
    """T1 writes first (lower ids), T2 writes later and commits first. A cursor over ids would
    deliver T2, move past T1's ids and never deliver T1. The feed holds T2 back until T1 ends."""
    first, second = writers
    mirror = Mirror(client)
    mirror.poll()

    first.begin()
    first.call(lambda: FacilityFactory(facility_id="FEED-T1", name="Skrivs först"))
    second.call(lambda: FacilityFactory(facility_id="FEED-T2", name="Bekräftas först"))
    assert Facility.objects.filter(facility_id="FEED-T2").exists()  # committed and visible

    mirror.poll()
    assert ("facility", "FEED-T2") not in mirror.resources  # held back behind T1

    first.call(
        lambda: DecisionFactory(
            facility=Facility.objects.get(facility_id="FEED-T1"),
            diarienummer="3.2.2-701/2025",
            decision_date=datetime.date(2025, 1, 1),
        )
    )
    first.commit()
    mirror.poll_until(lambda resources: ("facility", "FEED-T2") in resources)
    assert {
        ("facility", "FEED-T1"),
        ("facility", "FEED-T2"),
        ("decision", "3.2.2-701/2025"),
    } <= set(mirror.resources)

    # Round two: a change and a removal cross each other the other way round. (Not the same
    # facility: removing FEED-T1's decision also writes FEED-T1's latest decision, and would
    # wait for the second's lock on that row.)
    second.begin()
    second.call(lambda: _set_places("FEED-T2", 11))
    first.call(
        lambda: services.register_object_delete(
            instance=Decision.objects.get(diarienummer="3.2.2-701/2025")
        )
    )
    mirror.poll()
    assert mirror.resources[("facility", "FEED-T2")]["places"] == 6  # the change is not out yet
    second.commit()
    mirror.poll_until(lambda resources: resources[("facility", "FEED-T2")]["places"] == 11)

    assert mirror.resources[("facility", "FEED-T2")]["places"] == 11
    assert ("decision", "3.2.2-701/2025") not in mirror.resources
    assert mirror.resources == server_state(client)
    assert_in_order_and_once(mirror)


def _set_places(facility_id: str, places: int) -> None:
    facility = Facility.objects.get(facility_id=facility_id)
    facility.places = places
    services.facility_save(facility=facility)
