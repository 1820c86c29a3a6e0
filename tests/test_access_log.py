"""The access log: append-only in the application and in the database, encoded, pruned only past
its retention."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django.test import RequestFactory
from django.utils import timezone

from access import log
from access.models import AccessEvent, AppendOnlyError

pytestmark = pytest.mark.django_db


def entry(**values) -> AccessEvent:
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    return log.record(request, AccessEvent.Action.SEARCH, **values)


def log_cursor():
    return connections[settings.ACCESS_LOG_DATABASE].cursor()


def test_record__user_text__control_characters_encoded():
    event = entry(detail="q=Björk\r\nFAKE 2026-01-01 login ok\x1b[2J")

    stored = AccessEvent.objects.get(pk=event.pk)
    assert stored.detail == "q=Björk\\x0d\\x0aFAKE 2026-01-01 login ok\\x1b[2J"
    assert stored.ip == "192.0.2.7"


def test_record__forged_forwarded_for__ignored_without_our_proxy():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.99"
    )

    assert log.record(request, AccessEvent.Action.SEARCH).ip == "192.0.2.7"


def test_access_log__application_cannot_change_or_delete():
    event = entry(detail="original")

    event.detail = "ändrad"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.filter(pk=event.pk).update(detail="ändrad")
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()

    assert AccessEvent.objects.get(pk=event.pk).detail == "original"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_accessevent SET detail = 'ändrad'",
        "DELETE FROM access_accessevent",
    ],
)
def test_access_log__raw_sql_by_the_application_user__refused_by_the_database(statement):
    event = entry(detail="original")

    with (
        pytest.raises(DatabaseError),
        transaction.atomic(using=settings.ACCESS_LOG_DATABASE),
        log_cursor() as cursor,
    ):
        cursor.execute(statement)

    assert AccessEvent.objects.get(pk=event.pk).detail == "original"


def test_prune_access_log__removes_only_entries_past_retention(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 400
    now = timezone.now()
    # Entries are written with the time of writing; an old one is made by inserting it as such,
    # before the others as the log's order (its hash chain) has it.
    AccessEvent.objects.using(settings.ACCESS_LOG_DATABASE).bulk_create(
        [AccessEvent(at=now - datetime.timedelta(days=500), action="search", detail="forntida")]
    )
    old = entry(detail="gammal")
    young = entry(detail="ung")
    out = io.StringIO()

    call_command("prune_access_log", stdout=out)

    assert set(AccessEvent.objects.values_list("detail", flat=True)) == {
        old.detail,
        young.detail,
    }
    assert out.getvalue().startswith("1 poster äldre än")


def test_prune_access_log__retention_below_a_year__refused(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30

    with pytest.raises(Exception, match="loggen sparas minst 365 dagar"):
        call_command("prune_access_log")


class RegisterWriteFailed(Exception):
    """A later step of the register's transaction failed: the transaction rolls back."""


def test_record__the_registers_transaction_rolls_back__an_entry_on_the_logs_own_database_stays():
    """access/log.py: on a database of its own (SQLite's file; ACCESS_LOG_DATABASE_URL) the
    entry is committed at once on its own connection and stays; in the register's database
    (PostgreSQL's default) it is part of the register's transaction and goes with it."""
    if connections["default"].vendor == "sqlite":
        assert settings.ACCESS_LOG_DATABASE == "accesslog"  # settings.py: a file of its own

    with pytest.raises(RegisterWriteFailed), transaction.atomic():
        entry(detail="inne i registrets transaktion")
        raise RegisterWriteFailed

    kept = AccessEvent.objects.filter(detail="inne i registrets transaktion").exists()
    assert kept is (settings.ACCESS_LOG_DATABASE != "default")


postgresql_only = pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="PostgreSQL's synchronous_commit"
)
OLD = timezone.now() - datetime.timedelta(days=400)  # removable after the test (the trigger)


def _synchronous_commit(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.fixture
def worker(monkeypatch):
    """The log's connection as a worker has it between requests: a connection of its own in
    autocommit (the test's own connection is inside the test's transaction). Its entries are
    committed, and dated past a year so that they can be removed afterwards."""
    default = connections["default"]
    connection = type(default)(default.settings_dict.copy())
    monkeypatch.setattr(log, "connections", {settings.ACCESS_LOG_DATABASE: connection})
    written = []

    def write() -> None:
        event = AccessEvent(at=OLD, action=AccessEvent.Action.SEARCH, detail="worker")
        log._insert(event, settings.ACCESS_LOG_DATABASE)
        written.append(event.pk)

    yield connection, write
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM access_accessevent WHERE id = ANY(%s)", [written])
    connection.close()


@pytest.fixture
def at_commit(worker):
    """The synchronous_commit each entry's transaction commits with, as the server saw it: a
    deferred constraint trigger runs at COMMIT, before the commit record is written, and notes
    the setting in a variable of the worker's session. (Whether the WAL had reached the disk
    when the commit returned cannot be watched without a race with the WAL writer and every
    other session's flushes; the setting decides it, so the setting is what is read.)"""
    connection, _write = worker
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_note_synchronous_commit() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "PERFORM set_config('hvb_test.at_commit', current_setting('synchronous_commit'), "
            "false); RETURN NULL; END $$"
        )
        cursor.execute(
            "CREATE CONSTRAINT TRIGGER test_note_synchronous_commit "
            "AFTER INSERT ON access_accessevent DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION test_note_synchronous_commit()"
        )

    def seen() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('hvb_test.at_commit', true)")
            return cursor.fetchone()[0]

    yield seen
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_note_synchronous_commit ON access_accessevent")
        cursor.execute("DROP FUNCTION test_note_synchronous_commit()")


def _entries_on_disk_when_committed(worker, count: int) -> int:
    """How many of ``count`` entries had their commit on disk when the statement returned: the
    WAL flushed past where it ended before the entry (other sessions' WAL cannot move that)."""
    connection, write = worker
    flushed = 0
    for _ in range(count):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()")
            (before,) = cursor.fetchone()
            write()
            cursor.execute("SELECT pg_current_wal_flush_lsn() > %s::pg_lsn", [before])
            flushed += cursor.fetchone()[0]
    return flushed


@postgresql_only
def test_record__postgresql__the_entrys_commit_does_not_wait_for_the_disk(worker, at_commit):
    connection, write = worker
    assert _synchronous_commit(connection) == "on"  # the server's, as the register's writes

    write()

    assert at_commit() == "off"
    assert _synchronous_commit(connection) == "on"  # for that commit alone


@postgresql_only
def test_record__postgresql_synchronous_commit_on__each_entry_on_disk_before_the_response(
    worker, at_commit, settings
):
    settings.ACCESS_LOG_POSTGRESQL_SYNCHRONOUS_COMMIT = "on"

    # A commit with synchronous_commit on returns once its WAL is flushed: no race to lose.
    assert _entries_on_disk_when_committed(worker, 20) == 20
    assert at_commit() == "on"


@postgresql_only
def test_record__postgresql__later_writes_of_the_register_still_wait_for_the_disk(worker):
    connection, write = worker
    write()

    assert _synchronous_commit(connection) == "on"


@postgresql_only
def test_record__postgresql_inside_a_transaction_of_the_register__its_commit_still_waits():
    with transaction.atomic():
        entry()
        assert _synchronous_commit(connections[settings.ACCESS_LOG_DATABASE]) == "on"


@postgresql_only
def test_record__postgresql_autocommit_turned_off__the_open_transaction_still_waits(worker):
    connection, write = worker
    connection.set_autocommit(False)
    write()

    assert _synchronous_commit(connection) == "on"
    connection.commit()
    connection.set_autocommit(True)
