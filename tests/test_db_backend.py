"""config/db: the statements every request runs, prepared on PostgreSQL (execute_prepared), and
the PostgreSQL backend's health check (postgresql/base.py): a connection kept between requests
is reused without a round trip while it is idle, and dropped once the server has ended it."""

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.backends.postgresql import base as django_postgresql

from config.db import execute_prepared

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's backend"
)


@pytest.fixture
def kept():
    """A second connection to the test database, as a worker keeps one between requests."""
    default = connections["default"]
    other = type(default)(default.settings_dict.copy())
    other.ensure_connection()
    yield other
    other.close()


@postgresql_only
def test_health_check__an_idle_connection_is_usable_without_asking_the_server(kept, monkeypatch):
    def asks_the_server(self):
        raise AssertionError("SELECT 1 sent")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", asks_the_server)

    assert kept.is_usable() is True


@postgresql_only
def test_health_check__a_connection_the_server_ended_is_not_usable(kept):
    with connection.cursor() as cursor:
        # With a timeout, pg_terminate_backend returns once the server process has ended (it
        # has said so to the client and closed the socket), not just asked it to.
        cursor.execute("SELECT pg_terminate_backend(%s, 60000)", [kept.connection.info.backend_pid])
        assert cursor.fetchone()[0] is True

    assert kept.is_usable() is False


@postgresql_only
def test_health_check__a_connection_in_a_failed_transaction_is_not_usable(kept):
    """As Django's own check (its SELECT 1 fails there): a request never gets it."""
    kept.set_autocommit(False)
    with pytest.raises(DatabaseError), kept.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")

    assert kept.is_usable() is False


def test_execute_prepared__rows_and_on_postgresql_each_statement_prepared_once(settings):
    connection = connections["default"]
    assert execute_prepared(connection, "SELECT %s + 1", [41]) == [(42,)]
    assert execute_prepared(connection, "SELECT %s + 1", [1]) == [(2,)]
    settings.DATABASE_PREPARED_STATEMENTS = False
    assert execute_prepared(connection, "SELECT %s + 2", [1]) == [(3,)]

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY statement")
            prepared = [statement for (statement,) in cursor.fetchall()]
        assert prepared.count("SELECT $1 + 1") == 1
        assert "SELECT $1 + 2" not in prepared


def test_execute_prepared__a_failing_statement_raises_djangos_error_and_is_noted():
    connection = connections["default"]
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        execute_prepared(connection, "SELECT * FROM no_such_table WHERE id = %s", [1])
    assert type(raised.value).__module__ == "django.db.utils"
