"""Reads spread over a read replica (config/replicas.py, config/routers.py), on a real hot standby:
cluster ``replica`` on 127.0.0.1:5433 streaming from the test run's PostgreSQL
(.ci/postgres-replica), named by ``TEST_DATABASE_REPLICA_URL``. Physical replication brings the
test database (test_<name>) to the replica by itself; the alias ``replica_1`` is added here with
its name, on the replica's server.

Why not ``DATABASE_REPLICA_URLS`` for the whole PostgreSQL leg: the processes other tests start
get a database of their own (tests/process_support.py) but would keep a replica URL naming
another one. Why the requests run on a thread of their own (tests.api_support.Writer): a replica
sees only what was committed, and the test's own transaction never commits; the thread commits,
and what it wrote is removed at the end (the ``writers`` fixture). The access log is off for these
requests: its entries can be neither removed (append-only) nor left for other tests; that its
reads go to the primary is asserted on the router.

On SQLite, and on a developer's PostgreSQL without a replica, the module is skipped; in CI
(CI=true) the PostgreSQL leg without a replica fails.
"""

import os
import re
import time

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, router, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory

from access.models import AccessEvent
from access.roles import Role
from config.replicas import (
    PIN_COOKIE,
    ReplicaMiddleware,
    replica_databases,
    writes_replica_table,
)
from register.models import DataVersion, Facility
from register.selectors import data_version


def on_replica(test):
    """A test on the real standby: runs in CI's PostgreSQL leg. Every alias, the replica's
    included (Django lets a test's threads use only those it names)."""
    return pytest.mark.postgresql(pytest.mark.django_db(databases="__all__")(test))


REPLICA = "replica_1"
DOWN = "replica_2"  # the replica too, until a test stops it (its port moved to a closed one)
ROUTERS = [*django_settings.DATABASE_ROUTERS]
if "config.routers.ReplicaRouter" not in ROUTERS:
    ROUTERS.append("config.routers.ReplicaRouter")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _add_alias(alias: str, url: str) -> None:
    """An alias on ``url``'s server for the test database (as Django's test set-up points a
    test mirror: config/replicas.py replica_databases)."""
    database = replica_databases([url], connection.settings_dict)["replica_1"]
    database["NAME"] = connection.settings_dict["NAME"]
    connections.settings[alias] = connections.configure_settings(
        {DEFAULT_DB_ALIAS: connection.settings_dict, alias: database}
    )[alias]


def _remove_alias(alias: str) -> None:
    if alias in connections:
        connections[alias].close()
        del connections[alias]
    connections.settings.pop(alias, None)


@pytest.fixture(scope="module")
def replica_server(django_db_setup):
    """``replica_1`` on the replica's server, for the test database. Added before any test's
    database set-up: Django lets a test's threads use only the aliases known then."""
    if connection.vendor != "postgresql":
        pytest.skip("a read replica is a PostgreSQL standby (the PostgreSQL leg tests it)")
    url = os.environ.get("TEST_DATABASE_REPLICA_URL", "")
    if not url:
        reason = "TEST_DATABASE_REPLICA_URL is not set: start one with .ci/postgres-replica"
        if _in_ci():
            pytest.fail(reason + " (CI's PostgreSQL leg must test the replica)")
        pytest.skip(reason)
    _add_alias(REPLICA, url)
    _add_alias(DOWN, url)
    yield
    _remove_alias(DOWN)
    _remove_alias(REPLICA)


@pytest.fixture
def replica(replica_server, settings):
    """The router and middleware on, and a writer thread (committing for real) that makes the
    requests; what it committed removed at the end."""
    from api.models import ChangeEvent
    from tests.api_support import Writer, remove_committed

    settings.DATABASE_REPLICAS = [REPLICA]
    settings.DATABASE_ROUTERS = ROUTERS
    if "config.replicas.ReplicaMiddleware" not in settings.MIDDLEWARE:
        after = settings.MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1
        settings.MIDDLEWARE = [
            *settings.MIDDLEWARE[:after],
            "config.replicas.ReplicaMiddleware",
            *settings.MIDDLEWARE[after:],
        ]
    settings.ACCESS_LOG_ENABLED = False
    first_event_id = (
        ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    writer = Writer()
    yield writer
    writer.call(connections.close_all)
    writer.stop()
    cleaner = Writer()
    cleaner.call(lambda: remove_committed(first_event_id))
    cleaner.call(_remove_users)
    cleaner.stop()


class Servers:
    """Which database alias ran each statement on the writer's thread."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, str]] = []

    def wrapper(self, alias: str):
        def record(execute, sql, params, many, context):
            self.statements.append((alias, str(sql)))
            return execute(sql, params, many, context)

        return record

    def of(self, table: str) -> set[str]:
        """The aliases that read from ``table`` (not only joined it: a watch's facility is read
        with the watch, on the primary)."""
        name = re.compile(rf'FROM\s+"?{table}"?(?![A-Za-z0-9_])')
        return {alias for alias, sql in self.statements if name.search(sql)}

    def run(self, function):
        """``function`` with every alias's statements recorded."""
        from contextlib import ExitStack

        with ExitStack() as stack:
            for alias in (DEFAULT_DB_ALIAS, REPLICA, DOWN):
                stack.enter_context(connections[alias].execute_wrapper(self.wrapper(alias)))
            return function()


def _server(alias: str) -> tuple[int, bool]:
    """The port of the server behind ``alias``'s connection, and whether it is a standby."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT inet_server_port(), pg_is_in_recovery()")
        return cursor.fetchone()


def _through_the_middleware(view):
    """What ``view`` returns, called as the view of a GET request through ReplicaMiddleware."""
    seen = []

    def respond(request):
        seen.append(view(request))
        return HttpResponse()

    ReplicaMiddleware(respond)(RequestFactory().get("/"))
    return seen[0]


def _port(alias: str) -> int:
    return int(connections.settings[alias]["PORT"] or 5432)


def _replicated() -> None:
    """Waits until the replica has replayed everything the primary has written so far."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (written,) = cursor.fetchone()
    deadline = time.monotonic() + 10
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the replica did not replay the write in 10 s"
            time.sleep(0.01)


def _signed_in(role: str) -> Client:
    from tests.factories import make_user, sign_in

    # A server answers a request whose view failed and was answered again: the client must not
    # raise the first failure.
    client = Client(raise_request_exception=False)
    sign_in(client, make_user(role))
    return client


def _remove_users() -> None:
    """The users the tests made, with what refers to them (remove_committed removes the
    register's rows). No other test commits a user, session or login record."""
    by_user = "user_id IN (SELECT id FROM auth_user)"
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("DELETE FROM api_apitoken")
        cursor.execute("DELETE FROM api_apiclient")
        cursor.execute(
            "DELETE FROM axes_accesslog WHERE username IN (SELECT username FROM auth_user)"
        )
        for table in ("django_admin_log", "otp_totp_totpdevice", "access_account"):
            cursor.execute(f"DELETE FROM {table} WHERE {by_user}")
        cursor.execute(
            "DELETE FROM access_allowlistentry WHERE email IN (SELECT email FROM auth_user)"
        )
        cursor.execute("DELETE FROM django_session")
        cursor.execute("DELETE FROM auth_user")


@on_replica
def test_replica__a_real_standby_of_the_test_database(replica):
    def servers():
        return _server(DEFAULT_DB_ALIAS), _server(REPLICA)

    primary, standby = replica.call(servers)

    assert primary == (_port(DEFAULT_DB_ALIAS), False)
    assert standby == (_port(REPLICA), True)


@on_replica
def test_read_after_write__same_client_reads_the_primary_other_client_the_replica(replica):
    from tests.admin_support import form_data
    from tests.factories import FacilityFactory

    facility = replica.call(lambda: FacilityFactory(name="Replikagården", places=6))
    url = f"/admin/register/facility/{facility.pk}/change/"
    page = f"/verksamhet/{facility.facility_id}/"

    def write_then_read():
        client = _signed_in(Role.IVO_REGISTRATOR)
        data = form_data(client.get(url))
        data["name"] = "Replikagården Norra"
        written = client.post(url, data)
        servers = Servers()
        read = servers.run(lambda: client.get(page))
        return written, client.cookies.get(PIN_COOKIE), read, servers.of("register_facility")

    written, pin, read, read_on = replica.call(write_then_read)

    assert written.status_code == 302
    assert pin is not None  # the write pinned the client to the primary
    assert "Replikagården Norra" in read.content.decode()
    assert read_on == {DEFAULT_DB_ALIAS}

    def another_client_reads():
        _replicated()
        reader = _signed_in(Role.MUNICIPAL_USER)
        servers = Servers()
        read = servers.run(lambda: reader.get(page))
        (alias,) = servers.of("register_facility")
        return read, alias, _server(alias)

    read, alias, (port, standby) = replica.call(another_client_reads)

    assert read.status_code == 200
    assert "Replikagården Norra" in read.content.decode()
    assert alias == REPLICA
    assert standby is True
    assert port == _port(REPLICA) != _port(DEFAULT_DB_ALIAS)


@on_replica
def test_api_client_that_wrote__pinned_by_its_key_without_cookies(replica):
    from tests.api_support import api_client_with_token, bearer
    from tests.factories import FacilityFactory

    def write_then_read():
        _api_client, token = api_client_with_token()
        facility = FacilityFactory()
        http = Client(raise_request_exception=False)
        written = http.post(
            "/api/v1/watches",
            {"kind": "facility", "target": facility.facility_id},
            content_type="application/json",
            **bearer(token),
        )
        http.cookies.clear()  # a machine client keeps no cookies
        _replicated()
        servers = Servers()
        servers.run(lambda: http.get("/api/v1/facilities", **bearer(token)))
        pinned_on = servers.of("register_facility")
        servers = Servers()
        servers.run(lambda: Client().get("/api/v1/facilities"))
        return written, pinned_on, servers.of("register_facility")

    written, pinned_on, anonymous_on = replica.call(write_then_read)

    assert written.status_code == 201
    assert pinned_on == {DEFAULT_DB_ALIAS}
    assert anonymous_on == {REPLICA}


@on_replica
def test_transaction__reads_inside_stay_on_the_primary(replica):
    def in_a_request():
        def view(request):
            outside = router.db_for_read(Facility)
            with transaction.atomic():
                inside = router.db_for_read(Facility)
            return outside, inside

        return _through_the_middleware(view)

    outside, inside = replica.call(in_a_request)

    assert outside == REPLICA
    assert inside == DEFAULT_DB_ALIAS


@on_replica
def test_access_log_and_version__log_on_the_primary_version_where_the_register_is_read(replica):
    def in_a_request():
        def view(request):
            servers = Servers()
            servers.run(lambda: (AccessEvent.objects.exists(), data_version()))
            return (
                servers.of(AccessEvent._meta.db_table),
                servers.of(DataVersion._meta.db_table),
                router.db_for_read(Facility),
            )

        return _through_the_middleware(view)

    log_on, version_on, register_on = replica.call(in_a_request)

    assert log_on == {DEFAULT_DB_ALIAS}
    # The statistics' tallies are kept under the version: both from one server.
    assert version_on == {register_on} == {REPLICA}


@on_replica
def test_api__register_reads_on_the_replica_changes_feed_on_the_primary(replica):
    def read_api():
        servers = Servers()
        facilities = servers.run(lambda: Client().get("/api/v1/facilities"))
        changes = servers.run(lambda: Client().get("/api/v1/changes"))
        return facilities, changes, servers

    facilities, changes, servers = replica.call(read_api)

    assert facilities.status_code == changes.status_code == 200
    assert servers.of("register_facility") == {REPLICA}
    assert servers.of("api_changeevent") == {DEFAULT_DB_ALIAS}


@on_replica
def test_replica_down__reads_fall_back_to_the_primary(replica, settings):
    settings.DATABASE_REPLICAS = [DOWN]
    settings.DATABASE_REPLICA_RETRY_SECONDS = 0  # tried again by the next test
    down = connections.settings[DOWN]
    # Nothing listens on port 1 of loopback: a new connection is refused at once, as a stopped
    # replica's would be (the writer's thread has none open yet).
    port, down["PORT"] = down["PORT"], 1
    try:

        def read():
            servers = Servers()
            response = servers.run(lambda: Client().get("/api/v1/facilities"))
            return response, servers.of("register_facility")

        response, read_on = replica.call(read)
    finally:
        down["PORT"] = port

    assert response.status_code == 200
    assert read_on == {DEFAULT_DB_ALIAS}


@on_replica
def test_replica_stops_during_a_request__answered_again_from_the_primary(replica, settings):
    settings.DATABASE_REPLICA_RETRY_SECONDS = 0  # tried again by the next test
    from tests.factories import FacilityFactory

    facility = replica.call(lambda: FacilityFactory(name="Omstartsgården"))
    page = f"/verksamhet/{facility.facility_id}/"

    def stop_then_read():
        reader = _signed_in(Role.MUNICIPAL_USER)
        _replicated()
        stopped = []

        def terminate_first(execute, sql, params, many, context):
            # What a restart of the replica does to the connections it has open.
            if not stopped:
                stopped.append(sql)
                execute("SELECT pg_terminate_backend(pg_backend_pid())", None, False, context)
            return execute(sql, params, many, context)

        servers = Servers()
        with connections[REPLICA].execute_wrapper(terminate_first):
            response = servers.run(lambda: reader.get(page))
        return response, stopped, servers.of("register_facility")

    response, stopped, read_on = replica.call(stop_then_read)

    assert stopped  # the replica was read, and went away under the request
    assert response.status_code == 200
    assert "Omstartsgården" in response.content.decode()
    assert read_on == {DEFAULT_DB_ALIAS}


# Without a replica (both legs) -----------------------------------------------------------------


def test_replica_databases__one_alias_each_kept_open_as_the_primary_a_test_mirror():
    primary = {
        "ENGINE": "django.db.backends.postgresql",
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
    }

    replicas = replica_databases(
        ["postgres://hvb:x@10.0.0.2:5432/hvb", "postgres://hvb:x@10.0.0.3:5432/hvb"], primary
    )

    assert list(replicas) == ["replica_1", "replica_2"]
    assert replicas["replica_2"]["HOST"] == "10.0.0.3"
    assert replicas["replica_1"]["CONN_MAX_AGE"] == 600
    assert replicas["replica_1"]["CONN_HEALTH_CHECKS"] is True
    assert replicas["replica_1"]["TEST"] == {"MIRROR": "default"}
    assert replicas["replica_1"]["ENGINE"] == primary["ENGINE"]


def test_replica_databases__a_wrapped_primary_backend__the_replicas_wrapped_alike():
    primary = {"ENGINE": "django_prometheus.db.backends.postgresql"}

    replicas = replica_databases(["postgres://hvb:x@10.0.0.2:5432/hvb"], primary)

    assert replicas["replica_1"]["ENGINE"] == "django_prometheus.db.backends.postgresql"


def test_replica_databases__on_sqlite__refused_by_name():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URLS"):
        replica_databases(
            ["postgres://hvb:x@10.0.0.2/hvb"], {"ENGINE": "django.db.backends.sqlite3"}
        )


def test_replica_databases__none_by_default__no_router_no_middleware():
    if os.environ.get("DATABASE_REPLICA_URLS"):
        pytest.skip("this run has replicas of its own")

    assert django_settings.DATABASE_REPLICAS == []
    assert "config.routers.ReplicaRouter" not in django_settings.DATABASE_ROUTERS
    assert "config.replicas.ReplicaMiddleware" not in django_settings.MIDDLEWARE


@pytest.mark.parametrize(
    ("sql", "pins"),
    [
        ('INSERT INTO "register_facility" ("name") VALUES (%s)', True),
        ('UPDATE "register_historicalfacility" SET "x" = 1', True),
        ('DELETE FROM "linking_candidate" WHERE id = 1', True),
        ("WITH moved AS (DELETE FROM register_permit RETURNING *) SELECT 1", True),
        ('TRUNCATE "register_decision"', True),
        ('INSERT INTO "access_accessevent" ("at") VALUES (%s)', False),
        ('UPDATE "django_session" SET "expire_date" = %s', False),
        ('INSERT INTO "django_cache" VALUES (%s)', False),
        ('INSERT INTO "register_registerevent" ("kind") VALUES (%s)', False),
        ('SELECT "register_facility"."id" FROM "register_facility" FOR UPDATE', False),
        ('SAVEPOINT "s1"', False),
    ],
)
def test_writes_replica_table__register_writes_pin_the_primarys_own_do_not(sql, pins):
    assert writes_replica_table(sql) is pins
