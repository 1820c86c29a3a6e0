"""The changes feed: a municipal system that follows it ends with exactly the server's data, also
when transactions commit out of the order they wrote in.

On PostgreSQL the writes are made by writer threads with connections of their own that commit for
real (the test's own transaction never ends, so nothing it wrote would ever pass the feed's
horizon); the test reads through the API only, with the access log off so that its transaction
takes no transaction id of its own. What the writers committed is removed at the end. On SQLite
writers are serialised by the database, and the writes are made in the test's transaction.
"""

import datetime

import pytest
from django.db import connection

from api.models import ChangeEvent
from register import services
from register.codes import Outcome
from register.models import Decision, Facility, Inspection, Provider
from tests.api_support import Mirror, on_writer, server_state
from tests.factories import (
    DecisionFactory,
    FacilityFactory,
    FindingFactory,
    InspectionFactory,
    ProviderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reads_only(settings):
    # A log entry, or the rate limit's count in the database cache, would give the test's
    # transaction a transaction id and hold the feed back: the count is kept in memory here.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    settings.ACCESS_LOG_ENABLED = False


def assert_in_order_and_once(mirror: Mirror) -> None:
    keys = [tuple(int(part) for part in cursor.split("-")) for cursor in mirror.seen]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_follower_ends_with_exactly_the_server_data_through_creates_changes_and_removals(
    client, writers
):
    do = on_writer(writers[0] if writers else None)
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


# Findings (migration 0004): a finding's write marks its decision changed, and its facility and
# provider as a decision's does, protected as its decision's facility is.


def _events_after(last: int) -> list[tuple]:
    return list(
        ChangeEvent.objects.filter(id__gt=last)
        .order_by("id")
        .values_list("resource", "resource_id", "operation", "protected")
    )


def _last_event() -> int:
    return ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize("protected", [False, True], ids=["offentligt", "skyddat"])
def test_finding_written_by_raw_sql__its_decision_facility_and_provider_changed(protected):
    """Raw SQL, around the services (which also refresh the facility): the triggers alone."""
    home = FacilityFactory(facility_id="FEED-F", target_groups=["skydd"] if protected else ["npf"])
    FacilityFactory(provider=home.provider)  # the provider has a public home either way
    decision = DecisionFactory(facility=home, diarienummer="3.2.2-801/2025")
    finding = FindingFactory(decision=decision, observation="Före.")
    provider = str(home.provider.public_id)
    # A protected home's change marks no provider (it would tell an outsider of the home).
    expected = [
        ("decision", "3.2.2-801/2025", "changed", protected),
        ("facility", "FEED-F", "changed", protected),
        *([] if protected else [("provider", provider, "changed", False)]),
    ]

    for statement, values in (
        (
            "INSERT INTO register_finding (decision_id, area, assessment, observation, "
            "requirement, due_date, fine_amount, created_at, updated_at) "
            "VALUES (%s, 'lokaler', 'ingen_brist', '', '', NULL, NULL, %s, %s)",
            [decision.pk, decision.created_at, decision.created_at],
        ),
        ("UPDATE register_finding SET observation = 'Efter.' WHERE id = %s", [finding.pk]),
        ("DELETE FROM register_finding WHERE id = %s", [finding.pk]),
    ):
        last = _last_event()
        with connection.cursor() as cursor:
            cursor.execute(statement, values)
        assert _events_after(last) == expected, statement


def test_finding_moved_to_another_decision__both_decisions_changed():
    first = DecisionFactory(diarienummer="3.2.2-811/2025")
    second = DecisionFactory(diarienummer="3.2.2-812/2025")
    finding = FindingFactory(decision=first)
    last = _last_event()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE register_finding SET decision_id = %s WHERE id = %s", [second.pk, finding.pk]
        )
    decisions = [e[1] for e in _events_after(last) if e[0] == "decision"]
    assert decisions == ["3.2.2-811/2025", "3.2.2-812/2025"]


def test_follower__a_finding_changed_or_removed_reaches_its_decision_and_facility(client, writers):
    do = on_writer(writers[0] if writers else None)
    mirror = Mirror(client)

    def build():
        home = FacilityFactory(facility_id="FEED-G")
        decision = DecisionFactory(
            facility=home, diarienummer="3.2.2-821/2025", outcome=Outcome.FORELAGGANDE
        )
        FindingFactory(
            decision=decision,
            assessment="brist",
            requirement="Ta fram rutiner.",
            due_date=datetime.date(2099, 1, 1),
        )
        FindingFactory(decision=decision, area="lokaler")

    do(build)
    mirror.poll_until(lambda resources: ("decision", "3.2.2-821/2025") in resources)
    assert len(mirror.resources[("decision", "3.2.2-821/2025")]["findings"]) == 2

    def change():
        # Around the services: nothing but the findings' triggers tells the feed.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE register_finding SET requirement = 'Ta fram nya rutiner.' "
                "WHERE area = 'trygghet_sakerhet' AND decision_id = "
                "(SELECT id FROM register_decision WHERE diarienummer = '3.2.2-821/2025')"
            )
            cursor.execute(
                "DELETE FROM register_finding WHERE area = 'lokaler' AND decision_id = "
                "(SELECT id FROM register_decision WHERE diarienummer = '3.2.2-821/2025')"
            )

    do(change)
    mirror.poll_until(
        lambda resources: len(resources[("decision", "3.2.2-821/2025")]["findings"]) == 1
    )

    decision = mirror.resources[("decision", "3.2.2-821/2025")]
    assert [f["requirement"] for f in decision["findings"]] == ["Ta fram nya rutiner."]
    facility = mirror.resources[("facility", "FEED-G")]
    assert facility["decisions"][0]["findings"] == decision["findings"]
    assert mirror.resources == server_state(client)
    assert_in_order_and_once(mirror)


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite__migrate_puts_the_findings_triggers_back(db):
    from django.core.management.sql import emit_post_migrate_signal

    def installed() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {row[0] for row in cursor.fetchall()}

    names = {f"api_change_finding_{operation}" for operation in ("insert", "update", "delete")}
    assert names <= installed()
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER api_change_finding_update")
    assert "api_change_finding_update" not in installed()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert names <= installed()
