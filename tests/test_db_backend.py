"""The PostgreSQL backend's health check (config/db/postgresql/base.py): a connection kept
between requests is reused without a round trip while it is idle, and dropped once the server
has ended it."""

import time

import pytest
from django.db import DatabaseError, connection, connections
from django.db.backends.postgresql import base as django_postgresql

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


@pytest.fixture
def kept():
    """A second connection to the test database, as a worker keeps one between requests."""
    default = connections["default"]
    other = type(default)(default.settings_dict.copy())
    other.ensure_connection()
    yield other
    other.close()


def test_health_check__an_idle_connection_is_usable_without_asking_the_server(kept, monkeypatch):
    def asks_the_server(self):
        raise AssertionError("SELECT 1 sent")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", asks_the_server)

    assert kept.is_usable() is True


def test_health_check__a_connection_the_server_ended_is_not_usable(kept):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [kept.connection.info.backend_pid])

    deadline = time.monotonic() + 5
    while kept.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kept.is_usable() is False


def test_health_check__a_connection_in_a_failed_transaction_is_not_usable(kept):
    """As Django's own check (its SELECT 1 fails there): a request never gets it."""
    kept.set_autocommit(False)
    with pytest.raises(DatabaseError), kept.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")

    assert kept.is_usable() is False
