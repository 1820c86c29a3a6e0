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

import hashlib
import os
import re
import subprocess
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
    lag_watch,
    parse_lsn,
    replayed_in_time,
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
    writer.call(_lag_measured_from_now)
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


def _lag_measured_from_now() -> None:
    """This process's measure of the replica's lag started afresh, from a position of the
    primary the replica has replayed, so that the next two seconds' requests may read it. Called
    just before the reads a test expects on the replica: the cluster's other databases (another
    test process's) keep the primary writing, and after a pause of more than two seconds in a
    process's requests the replica must have replayed the primary's newest position
    (config/replicas.py replayed_in_time), which it seldom has to the millisecond."""
    lag_watch.reset()
    lag_watch.sample_primary()
    _replicated()


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
        _lag_measured_from_now()
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
def test_changes_feed__pins_its_api_client_to_the_primary_by_key_without_cookies(replica):
    from tests.api_support import api_client_with_token, bearer

    def feed_then_read():
        _api_client, token = api_client_with_token()
        http = Client(raise_request_exception=False)
        feed = http.get("/api/v1/changes", **bearer(token))
        pin = http.cookies.get(PIN_COOKIE)
        http.cookies.clear()  # a machine client keeps no cookies
        servers = Servers()
        servers.run(lambda: http.get("/api/v1/facilities", **bearer(token)))
        pinned_on = servers.of("register_facility")
        _lag_measured_from_now()
        servers = Servers()
        servers.run(lambda: Client().get("/api/v1/facilities"))
        return feed, pin, pinned_on, servers.of("register_facility")

    feed, pin, pinned_on, anonymous_on = replica.call(feed_then_read)

    assert feed.status_code == 200
    assert pin is not None  # and a client that keeps cookies, by its cookie
    # The feed was read on the primary: what it lists is read there next, replayed or not.
    assert pinned_on == {DEFAULT_DB_ALIAS}
    assert anonymous_on == {REPLICA}


def _pin_mark(header: str) -> str:
    return "replica-pin:" + hashlib.sha256(header.encode()).hexdigest()


@on_replica
def test_unsafe_request_that_writes_no_replica_table__no_pin_mark_in_the_cache(replica):
    from django.core.cache import cache

    from tests.api_support import api_client_with_token, bearer
    from tests.factories import FacilityFactory

    unknown = "Bearer hvb_" + "A" * 43

    def posts():
        _api_client, token = api_client_with_token()
        facility = FacilityFactory()
        http = Client(raise_request_exception=False)
        answers = [
            http.post("/api/v1/watches", {}, HTTP_AUTHORIZATION=unknown).status_code,
            http.post("/api/v1/no-such-thing", {}, **bearer(token)).status_code,
            # A watch is the primary's own: nothing a replica serves changed.
            http.post(
                "/api/v1/watches",
                {"kind": "facility", "target": facility.facility_id},
                content_type="application/json",
                **bearer(token),
            ).status_code,
        ]
        marks = [cache.get(_pin_mark(header)) for header in (unknown, f"Bearer {token}")]
        return answers, marks, http.cookies.get(PIN_COOKIE)

    answers, marks, pin = replica.call(posts)

    assert answers == [401, 404, 201]
    assert marks == [None, None]
    assert pin is not None  # the cookie costs the server nothing


@on_replica
def test_reads_of_keys_and_feeds_only__never_connect_to_a_replica(replica):
    from tests.api_support import api_client_with_token, bearer

    def read_the_feed():
        _api_client, token = api_client_with_token()
        connections[REPLICA].close()  # the fixture's, that measured the lag
        servers = Servers()
        feed = servers.run(lambda: Client().get("/api/v1/changes", **bearer(token)))
        return feed, connections[REPLICA].connection, servers.statements

    feed, replica_connection, statements = replica.call(read_the_feed)

    assert feed.status_code == 200
    assert replica_connection is None  # the key, the account, the feed: the primary's
    assert [sql for alias, sql in statements if alias == REPLICA] == []


def _statement_timeout(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


class TimeoutWhenRead:
    """The replica's ``statement_timeout`` at its first read of the register's facilities."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if "register_facility" in str(sql):
            execute("SHOW statement_timeout", None, False, context)
            self.seen.append(context["cursor"].fetchone()[0])
        return execute(sql, params, many, context)


@on_replica
def test_api_deadline__on_the_replica_it_reads__gone_for_the_portal_page_after(replica, settings):
    settings.API_QUERY_TIMEOUT_MS = 4321
    from tests.factories import FacilityFactory

    facility = replica.call(lambda: FacilityFactory(name="Tidsgränsgården"))
    page = f"/verksamhet/{facility.facility_id}/"

    def api_then_portal():
        reader = _signed_in(Role.MUNICIPAL_USER)
        _lag_measured_from_now()
        seen = []
        for get in (lambda: Client().get("/api/v1/facilities"), lambda: reader.get(page)):
            timeout = TimeoutWhenRead()
            with connections[REPLICA].execute_wrapper(timeout):
                response = get()
            seen.append((response.status_code, timeout.seen[:1]))
        return seen

    api, portal = replica.call(api_then_portal)

    assert api == (200, ["4321ms"])  # the API's register read, on the replica, under its limit
    assert portal == (200, ["0"])  # the same connection, kept open, for a portal page


@on_replica
def test_api_deadline_lifted__on_the_replica_too_and_back_after(replica, settings):
    settings.API_QUERY_TIMEOUT_MS = 4321
    from api.auth import query_deadline, query_deadline_lifted

    def in_a_request():
        def view(request):
            with query_deadline():
                with query_deadline_lifted():
                    Facility.objects.exists()  # the replica chosen here, under both
                    lifted = _statement_timeout(REPLICA)
                after = _statement_timeout(REPLICA)
            return router.db_for_read(Facility), lifted, after

        return _through_the_middleware(view)

    read_on, lifted, after = replica.call(in_a_request)

    assert read_on == REPLICA
    assert (lifted, after) == ("0", "4321ms")


def _on_the_standby(sql: str) -> None:
    """``sql`` run by the standby's superuser (pausing replay needs one; CI runs as root)."""
    subprocess.run(
        ["su", "postgres", "-c", f"psql -X -q -p {_port(REPLICA)} -c '{sql}'"],
        check=True,
        capture_output=True,
        timeout=30,
    )


@on_replica
def test_replica_replay_paused__reads_go_to_the_primary_until_it_catches_up(replica):
    if os.geteuid() != 0:
        pytest.skip("pausing the standby's replay needs its superuser: run as root (CI does)")
    from tests.factories import FacilityFactory

    def read_on():
        servers = Servers()
        response = servers.run(lambda: Client().get("/api/v1/facilities"))
        assert response.status_code == 200
        return servers.of("register_facility")

    _on_the_standby("SELECT pg_wal_replay_pause()")
    try:
        # Written after the pause: the standby receives it and does not replay it.
        replica.call(lambda: FacilityFactory(name="Pausgården"))
        lag_watch.reset()  # a process that starts now, with the primary's position past it
        while_paused = replica.call(read_on)
    finally:
        _on_the_standby("SELECT pg_wal_replay_resume()")
    replica.call(_lag_measured_from_now)
    caught_up = replica.call(read_on)

    assert while_paused == {DEFAULT_DB_ALIAS}
    assert caught_up == {REPLICA}


@on_replica
def test_migrate_all__never_touches_a_replica(replica, settings):
    from django.core.management import call_command

    settings.DATABASE_REPLICAS = [REPLICA, DOWN]  # both standbys, as in DATABASES
    servers = Servers()
    servers.run(lambda: call_command("migrate_all", verbosity=0))

    assert {alias for alias, _sql in servers.statements} == {DEFAULT_DB_ALIAS}


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
        _lag_measured_from_now()
        stopped = []

        def terminate_first(execute, sql, params, many, context):
            # What a restart of the replica does to the connections it has open.
            if not stopped and "register_" in str(sql):
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


def test_parse_lsn__both_halves_hexadecimal():
    assert parse_lsn("0/0") == 0
    assert parse_lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert parse_lsn("1/0") > parse_lsn("0/FFFFFFFF")


# The primary's WAL positions sampled at these times (seconds), as LagWatch keeps them.
SAMPLES = [(10.0, 1000), (10.5, 1500), (11.0, 2000), (12.5, 3000), (13.0, 3500)]


@pytest.mark.parametrize(
    ("replayed", "samples", "now", "caught_up"),
    [
        # 2 s ago was 11.0 (the newest sample at most half a second before): position 2000.
        (2000, SAMPLES, 13.0, True),
        (1999, SAMPLES, 13.0, False),
        # 2 s ago was 10.9: 10.5 bounds it from below.
        (1500, SAMPLES, 12.9, True),
        (1499, SAMPLES, 12.9, False),
        # 2 s ago was 11.4: the newest sample before it is 0.4 s older (11.0).
        (2000, SAMPLES, 13.4, True),
        # 2 s ago was 12.2: no sample in the half second before (idle from 11.0 to 12.5), so the
        # first one after it (12.5) is what the replica must have replayed; 11.0's is not enough.
        (2000, SAMPLES, 14.2, False),
        (3000, SAMPLES, 14.2, True),
        # A process that has sampled for less than 2 s: its oldest sample.
        (999, SAMPLES, 11.5, False),
        (1000, SAMPLES, 11.5, True),
        (None, [(20.0, 5000)], 20.0, False),  # not a standby: it replays nothing
        (4999, [(20.0, 5000)], 20.0, False),
        (5000, [(20.0, 5000)], 20.0, True),
        # No sample since the moment: nothing known.
        (9999, [(10.0, 1000)], 13.0, False),
        (9999, [], 13.0, False),
    ],
)
def test_replayed_in_time__against_the_primarys_position_max_lag_ago(
    replayed, samples, now, caught_up
):
    assert replayed_in_time(replayed, samples, now, max_lag=2) is caught_up


def test_settings__max_lag_not_below_the_pin__start_up_stops_naming_both():
    from tests.test_settings import run_manage

    result = run_manage(
        "check", DATABASE_REPLICA_MAX_LAG_SECONDS="5", DATABASE_REPLICA_PIN_SECONDS="5"
    )

    assert result.returncode != 0
    assert result.stderr.splitlines()[-1].endswith(
        "DATABASE_REPLICA_MAX_LAG_SECONDS must be at least 1 and below "
        "DATABASE_REPLICA_PIN_SECONDS (5), not 5"
    )


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
