"""The access log's hash chain (access/chain.py): an untouched log verifies clean — after pruning,
after the migration chained an existing log, under concurrent writers — and every way an
attacker with the database file or superuser rights could tamper with it is caught, with the
append-only triggers dropped first as such an attacker would."""

import datetime
import importlib
import io
import threading
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import RequestFactory
from django.utils import timezone

from access import chain, log
from access.models import AccessEvent, AccessLogChain

pytestmark = pytest.mark.django_db

append_only = importlib.import_module("access.migrations.0002_access_log_append_only")
chain_migration = importlib.import_module("access.migrations.0006_access_log_chain")


def log_connection():
    return connections[settings.ACCESS_LOG_DATABASE]


def write(count: int, **values) -> list[AccessEvent]:
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    return [
        log.record(request, AccessEvent.Action.SEARCH, detail=f"q=Åsa {n}", **values)
        for n in range(count)
    ]


def verify(*args: str) -> tuple[bool, str]:
    """(clean, output) of verify_access_log."""
    out = io.StringIO()
    try:
        call_command("verify_access_log", *args, stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def export_head(tmp_path, *args: str):
    out = io.StringIO()
    call_command("export_access_log_head", *args, stdout=out)
    heads = tmp_path / "heads.txt"
    with heads.open("a", encoding="utf-8") as file:
        file.write(out.getvalue())
    return heads


@contextmanager
def attacker():
    """Raw SQL on the log with the append-only triggers out of the way (undone with the test's
    transaction)."""
    connection = log_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_accessevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER access_event_no_update")
            cursor.execute("DROP TRIGGER access_event_no_delete")
        yield cursor


# Outside the body on purpose (access/chain.py's docstring): the request id came after the chain,
# and old entries must still verify under the published definition.
OUTSIDE_THE_BODY = {"id", "prev_hash", "hash", "request_id"}


def test_chain__covers_every_column_of_the_entry_but_those_outside_on_purpose():
    columns = {field.column for field in AccessEvent._meta.concrete_fields}

    assert set(chain.BODY_COLUMNS) == columns - OUTSIDE_THE_BODY
    assert columns >= OUTSIDE_THE_BODY


def test_record__each_entry_links_to_the_one_before():
    first, second = write(2)

    assert second.pk == first.pk + 1
    assert second.prev_hash == first.hash
    stored = AccessEvent.objects.get(pk=second.pk)
    assert (stored.prev_hash, stored.hash) == (second.prev_hash, second.hash)
    body = [getattr(stored, column) for column in chain.BODY_COLUMNS]
    assert stored.hash == chain.link_hash(first.hash, stored.pk, chain.body_digest(body))


def test_verify__untouched_log__clean():
    write(3)
    write(2, user=SimpleNamespace(is_authenticated=False))
    log.record(None, AccessEvent.Action.LOGIN_FAILED, detail="adress=a@b.se\r\n=1+1")
    AccessEvent.objects.bulk_create([AccessEvent(action="search", detail="i klump")])
    AccessEvent.objects.create(action="search", detail="genom ORM:en")

    clean, output = verify()

    assert clean, output
    assert "Åtkomstloggen är intakt: 8 poster" in output


def test_verify__field_changed__caught_with_id_and_time():
    events = write(5)
    target = events[2]
    with attacker() as cursor:
        cursor.execute(
            "UPDATE access_accessevent SET username = 'någon annan' WHERE id = %s", [target.pk]
        )

    clean, output = verify()

    assert not clean
    assert (
        f"post {target.pk} ({target.at.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC)" in output
    )
    assert "postens innehåll stämmer inte med dess hash" in output
    assert "1 fel" in output


def test_verify__entry_deleted_in_the_middle__caught():
    events = write(5)
    with attacker() as cursor:
        cursor.execute("DELETE FROM access_accessevent WHERE id = %s", [events[2].pk])

    clean, output = verify()

    assert not clean
    assert f"post {events[3].pk}" in output
    assert f"post {events[2].pk} saknas före denna post" in output


def test_verify__forged_entry_inserted_in_the_middle__caught():
    """The forger makes room by moving the later entries up one id and computes the forged
    entry's hashes correctly: the moved entry's own hash covers its old id."""
    events = write(4)
    place = events[2].pk
    with attacker() as cursor:
        cursor.execute("UPDATE access_accessevent SET id = -(id + 1) WHERE id >= %s", [place])
        cursor.execute("UPDATE access_accessevent SET id = -id WHERE id < 0")
        at = events[1].at + datetime.timedelta(milliseconds=1)
        body = [at, None, "", "", "", "search", "", "", "", None, "förfalskad"]
        forged_hash = chain.link_hash(events[1].hash, place, chain.body_digest(body))
        cursor.execute(
            "INSERT INTO access_accessevent (id, prev_hash, hash, at, user_id, username, role, "
            "municipality_code, action, object_type, object_id, fields, ip, detail) "
            "VALUES (%s, %s, %s, %s, NULL, '', '', '', 'search', '', '', '', NULL, 'förfalskad')",
            [place, events[1].hash, forged_hash, at],
        )

    clean, output = verify()

    assert not clean
    assert f"post {place + 1}" in output
    assert f"länken till föregående post ({place}) stämmer inte" in output


def test_verify__forged_entry_appended_with_an_earlier_time__caught():
    events = write(3)
    at = events[-1].at - datetime.timedelta(days=3)
    body = [at, 7, "falsk@kommun.se", "kommun_anvandare", "0880", "search", "", "", "", None, ""]
    forged_id = events[-1].pk + 1
    with attacker() as cursor:
        cursor.execute(
            "INSERT INTO access_accessevent (id, prev_hash, hash, at, user_id, username, role, "
            "municipality_code, action, object_type, object_id, fields, ip, detail) "
            "VALUES (%s, %s, %s, %s, 7, 'falsk@kommun.se', 'kommun_anvandare', '0880', "
            "'search', '', '', '', NULL, '')",
            [
                forged_id,
                events[-1].hash,
                chain.link_hash(events[-1].hash, forged_id, chain.body_digest(body)),
                at,
            ],
        )

    clean, output = verify()

    assert not clean
    assert f"post {forged_id}" in output
    assert "tiden ligger före föregående posts" in output


def test_verify__entry_backdated__caught():
    events = write(4)
    with attacker() as cursor:
        cursor.execute(
            "UPDATE access_accessevent SET at = %s WHERE id = %s",
            [events[2].at - datetime.timedelta(days=2), events[2].pk],
        )

    clean, output = verify()

    assert not clean
    assert f"post {events[2].pk}" in output
    assert "postens innehåll stämmer inte med dess hash" in output
    assert "tiden ligger före föregående posts" in output


def _rewrite_chain_from(cursor, start_id: int) -> None:
    """What a careful attacker does after a change: recompute every later entry's hashes."""
    rows = list(
        AccessEvent.objects.filter(id__gte=start_id)
        .order_by("id")
        .values_list("id", *chain.BODY_COLUMNS)
    )
    previous = AccessEvent.objects.filter(id__lt=start_id).order_by("-id").values("hash").first()
    previous_hash = previous["hash"] if previous else chain.GENESIS_HASH
    for entry_id, *body in rows:
        entry_hash = chain.link_hash(previous_hash, entry_id, chain.body_digest(body))
        cursor.execute(
            "UPDATE access_accessevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [previous_hash, entry_hash, entry_id],
        )
        previous_hash = entry_hash


def test_verify__backdated_and_chain_rewritten__caught_by_time_and_by_the_kept_head(tmp_path):
    events = write(4)
    heads = export_head(tmp_path)
    with attacker() as cursor:
        cursor.execute(
            "UPDATE access_accessevent SET at = %s WHERE id = %s",
            [events[2].at - datetime.timedelta(days=2), events[2].pk],
        )
        _rewrite_chain_from(cursor, events[2].pk)

    clean, output = verify("--heads", str(heads))

    assert not clean
    assert "tiden ligger före föregående posts" in output
    assert f"post {events[-1].pk}" in output
    assert "hashen skiljer sig från den exporterade kedjetoppen" in output


def test_verify__newest_entries_deleted__caught_by_the_kept_head(tmp_path):
    events = write(5)
    heads = export_head(tmp_path)
    with attacker() as cursor:
        cursor.execute("DELETE FROM access_accessevent WHERE id >= %s", [events[3].pk])

    clean, output = verify("--heads", str(heads))

    assert not clean
    assert f"post {events[-1].pk}: kedjetoppen för {timezone.localdate()} saknas" in output
    assert f"loggen har kortats (den sista posten är nu {events[2].pk})" in output
    # Without a head kept elsewhere a cut end cannot be told from a quiet night.
    assert verify()[0]


def test_verify__kept_heads_of_an_untouched_log__clean(tmp_path):
    write(2)
    export_head(tmp_path)
    write(2)
    heads = export_head(tmp_path)

    clean, output = verify("--heads", str(heads))

    assert clean, output
    assert "2 exporterade kedjetoppar kontrollerade" in output


def test_export_access_log_head__date__the_last_entry_of_that_day():
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    noon = timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time(12)))
    old = AccessEvent.objects.bulk_create([AccessEvent(at=noon, action="search")])[0]
    write(1)
    out = io.StringIO()

    call_command("export_access_log_head", "--date", yesterday.isoformat(), stdout=out)

    assert out.getvalue().strip() == f"{yesterday.isoformat()} {old.pk} {old.hash}"


def test_verify__heads_file_malformed__refused(tmp_path):
    heads = tmp_path / "heads.txt"
    heads.write_text("2026-01-01 12\n")

    with pytest.raises(CommandError, match="rad 1"):
        call_command("verify_access_log", "--heads", str(heads))


# -- pruning ------------------------------------------------------------------------------------


def _old_entries(days_ago: int, count: int) -> list[AccessEvent]:
    at = timezone.now() - datetime.timedelta(days=days_ago)
    return AccessEvent.objects.bulk_create(
        [
            AccessEvent(at=at + datetime.timedelta(seconds=n), action="search", detail="gammal")
            for n in range(count)
        ]
    )


def test_prune__the_rest_still_verifies_and_links_to_the_anchor(settings, tmp_path):
    settings.ACCESS_LOG_RETENTION_DAYS = 400
    old = _old_entries(500, 3)
    heads = export_head(tmp_path, "--date", timezone.localdate(old[-1].at).isoformat())
    young = write(3)

    call_command("prune_access_log", stdout=io.StringIO())

    assert list(AccessEvent.objects.order_by("id").values_list("id", flat=True)) == [
        event.pk for event in young
    ]
    anchor = AccessLogChain.objects.get()
    assert (anchor.anchor_id, anchor.anchor_hash) == (old[-1].pk, old[-1].hash)
    clean, output = verify("--heads", str(heads))
    assert clean, output
    assert f"kedjan efter post {old[-1].pk} (rensad)" in output


def test_prune__everything_old__new_entries_link_to_the_anchor(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 400
    old = _old_entries(500, 2)

    call_command("prune_access_log", stdout=io.StringIO())
    (new,) = write(1)

    assert (new.pk, new.prev_hash) == (old[-1].pk + 1, old[-1].hash)
    clean, output = verify()
    assert clean, output


def test_verify__young_beginning_deleted_and_anchor_forged__caught_by_the_kept_head(tmp_path):
    events = write(4)
    heads = export_head(tmp_path)
    with attacker() as cursor:
        cursor.execute("DELETE FROM access_accessevent WHERE id <= %s", [events[-1].pk])
        AccessLogChain.objects.update(
            anchor_id=events[-1].pk, anchor_hash=events[-1].hash, anchor_at=events[-1].at
        )

    clean, output = verify("--heads", str(heads))

    assert not clean
    assert "kedjans ankare (den senast rensade posten) är yngre än ett år" in output
    assert "så unga poster tar rensningen aldrig bort" in output


# -- the migration --------------------------------------------------------------------------------


def test_migration__existing_entries_chained__verifies_clean():
    """An upgraded database: entries written before the chain have no hashes until 0006."""
    write(3)
    with attacker() as cursor:
        cursor.execute("UPDATE access_accessevent SET prev_hash = NULL, hash = NULL")
    AccessLogChain.objects.all()._raw_delete(settings.ACCESS_LOG_DATABASE)
    assert not verify()[0]

    chain_migration.chain_existing_entries(apps, SimpleNamespace(connection=log_connection()))

    clean, output = verify()
    assert clean, output
    assert write(1)[0].prev_hash == AccessEvent.objects.order_by("-id")[1].hash
    with pytest.raises(Exception, match="kan inte ändras"), log_connection().cursor() as cursor:
        cursor.execute("UPDATE access_accessevent SET detail = 'x'")


# -- concurrent writers -------------------------------------------------------------------------

WRITERS = 6
ENTRIES_PER_WRITER = 40
OLD = timezone.now() - datetime.timedelta(days=400)  # removable after the test (the trigger)


def _write_concurrently(using: str) -> list[int]:
    """WRITERS threads, each on a connection of its own (Django's are per thread), append
    ENTRIES_PER_WRITER entries each as fast as they can."""
    start = threading.Barrier(WRITERS)
    written: list[int] = []
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            if connections[using].connection is None:
                # Opened directly: a test refuses threads' connections to an alias it was not
                # set up with (the file log's), and this one needs no test isolation.
                connections[using].connect()
            start.wait()
            for n in range(ENTRIES_PER_WRITER):
                event = AccessEvent(at=OLD, action="search", detail=f"skrivare {number} post {n}")
                log._insert(event, using)
                written.append(event.pk)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections[using].close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return written


on_sqlite = pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="SQLite's file locking"
)
on_postgresql = pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="PostgreSQL's advisory lock"
)


@pytest.fixture
def sqlite_file_log(tmp_path):
    """A log of its own in a file, as a deployment's: an in-memory test database would share one
    connection's cache between threads, not lock as a file does."""
    alias = "chain_file"
    connections.settings[alias] = {
        **connections[settings.ACCESS_LOG_DATABASE].settings_dict,
        "NAME": str(tmp_path / "accesslog.sqlite3"),
    }
    connection = connections[alias]
    try:
        connection.connect()  # directly: see _write_concurrently
        with connection.schema_editor() as editor:
            editor.create_model(AccessEvent)
            editor.create_model(AccessLogChain)
        AccessLogChain.objects.using(alias).create(pk=1)
        with connection.cursor() as cursor:
            for statement in append_only.SQLITE:
                cursor.execute(statement)
        yield alias
    finally:
        connection.close()
        del connections.settings[alias]


@on_sqlite
def test_concurrent_writers__sqlite_file__one_chain_without_forks(sqlite_file_log):
    written = _write_concurrently(sqlite_file_log)

    assert sorted(written) == list(range(1, WRITERS * ENTRIES_PER_WRITER + 1))
    clean, output = verify("--database", sqlite_file_log)
    assert clean, output
    assert f"{WRITERS * ENTRIES_PER_WRITER} poster" in output


@on_postgresql
def test_concurrent_writers__postgresql__one_chain_without_forks():
    using = settings.ACCESS_LOG_DATABASE
    written = []
    try:
        # Each thread's connection commits its own entries (autocommit); the test's connection
        # sees them (READ COMMITTED) and writes nothing, so holds no lock of the chain.
        written = _write_concurrently(using)

        assert len(set(written)) == WRITERS * ENTRIES_PER_WRITER
        assert sorted(written) == list(range(min(written), max(written) + 1))
        clean, output = verify()
        assert clean, output
    finally:
        cleaner = type(log_connection())(log_connection().settings_dict.copy())
        with cleaner.cursor() as cursor:
            cursor.execute("DELETE FROM access_accessevent WHERE id = ANY(%s)", [written])
        cleaner.close()
