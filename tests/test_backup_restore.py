"""The restore drill (docs/operations.md, "Backups and restore"): seed the register, the access log
and the decision documents; back up; change, delete and add rows, documents and log entries;
restore; and find every table row by row and every document byte by byte as they were backed up.
On the test run's engine: SQLite in one CI leg, PostgreSQL in the other.

The commands run as an operator runs them, in processes of their own, on a database of the drill's
own (a copy of the migrated test database: a migration in a subprocess costs 10 s) and a documents
folder of its own. The tables and files are read here straight from the database and the folder,
not through the code under test.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connections

# The mark makes pytest-django set the test databases up: the drill starts from a copy of them.
pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
# Their rows are left out of a backup on purpose (operations/backup.py): after a restore they are
# empty.
LEFT_OUT = {"django_session", "django_cache"}

SEED = """
import django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
from access import log
from access.models import AccessEvent
from access.roles import Role
from documents import services
from register.models import Decision
from tests.documents_helpers import pdf_bytes, pdf_upload
from tests.factories import build_public_register, make_user

build_public_register()
officer = make_user(Role.IVO_REGISTRATOR)
reader = make_user(Role.MUNICIPAL_USER)
for number, decision in enumerate(Decision.objects.order_by("id")[:3]):
    services.attach_full_decision(
        decision=decision, upload=pdf_upload(content=pdf_bytes(padding=100 + number)), user=officer
    )
for number in range(5):
    log.record(None, AccessEvent.Action.FACILITY_VIEW, user=reader, object_type="facility",
               object_id=f"P-{number}")
session = SessionStore()
session["secret"] = "a bearer credential"
session.create()
"""

CHANGE = """
import django
django.setup()
from access import log
from access.models import AccessEvent
from access.roles import Role
from documents import services
from documents.models import DecisionDocument
from register.models import Decision, Facility, Finding, Provider
from tests.documents_helpers import pdf_bytes, pdf_upload
from tests.factories import FacilityFactory, make_user

Facility.objects.filter(facility_id="P-1").update(name="Ändrad efter kopian")
Finding.objects.filter(id=Finding.objects.order_by("id").values("id")[:1]).delete()
FacilityFactory(facility_id="P-9", name="Ny efter kopian", provider=Provider.objects.first())
newcomer = make_user(Role.MUNICIPAL_USER, email="ny.efter.kopian@example.com")
documents = list(DecisionDocument.objects.order_by("id"))
changed = documents[0].full_file
with open(changed.path, "r+b") as stored:
    stored.write(b"%PDF-9.9")
documents[1].full_file.storage.delete(documents[1].full_file.name)
services.attach_full_decision(
    decision=Decision.objects.exclude(document__isnull=False).order_by("id").first(),
    upload=pdf_upload(content=pdf_bytes(padding=999)),
    user=newcomer,
)
for number in range(3):
    log.record(None, AccessEvent.Action.SEARCH, user=newcomer, detail={"q": number})
"""

AFTER_RESTORE = """
import django
django.setup()
from django.core.management import call_command
from access import log
from access.models import AccessEvent

log.record(None, AccessEvent.Action.SEARCH, detail="efter återställningen")
call_command("verify_access_log")
"""


@dataclass
class Drill:
    environment: dict
    vendor: str
    database_name: str  # a file's path on SQLite
    access_log_name: str
    documents: Path
    backup: Path
    backed_up: subprocess.CompletedProcess | None = None
    at_backup: dict = field(default_factory=dict)
    after_changes: dict = field(default_factory=dict)
    without_yes: subprocess.CompletedProcess | None = None
    after_refused_restore: dict = field(default_factory=dict)
    restored: subprocess.CompletedProcess | None = None
    after_restore: dict = field(default_factory=dict)
    seconds: float = 0.0


def manage(drill: Drill, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *arguments],
        env=drill.environment,
        cwd=BASE_DIR,
        stdin=subprocess.DEVNULL,  # no terminal: restore must not wait for an answer
        capture_output=True,
        text=True,
        timeout=120,
    )


def python(drill: Drill, script: str) -> None:
    subprocess.run(
        [sys.executable, "-c", script], env=drill.environment, cwd=BASE_DIR, check=True, timeout=120
    )


# --- Reading the service's state directly -----------------------------------------------------


def _sqlite_tables(path: str) -> dict[str, list[tuple]]:
    database = sqlite3.connect(path)
    try:
        names = [
            name
            for (name,) in database.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        tables = {}
        for name in names:
            width = len(database.execute(f'SELECT * FROM "{name}" LIMIT 0').description)
            order = ", ".join(str(position) for position in range(1, width + 1))
            tables[name] = database.execute(f'SELECT * FROM "{name}" ORDER BY {order}').fetchall()
        return tables
    finally:
        database.close()


def _postgresql_connection(name: str):
    import psycopg

    settings_dict = connections["default"].settings_dict
    return psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        dbname=name,
        autocommit=True,
    )


def _postgresql_tables(name: str) -> dict[str, list[tuple]]:
    with _postgresql_connection(name) as database:
        names = [
            row[0]
            for row in database.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                "AND table_schema = 'public'"
            )
        ]
        tables = {}
        for table in names:
            cursor = database.execute(f'SELECT * FROM "{table}" LIMIT 0')
            order = ", ".join(str(position) for position in range(1, len(cursor.description) + 1))
            tables[table] = database.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
        return tables


def snapshot(drill: Drill) -> dict:
    """Every table of every database, row by row in a fixed order, and every stored document's
    bytes by its name."""
    if drill.vendor == "sqlite":
        tables = {
            "default": _sqlite_tables(drill.database_name),
            "accesslog": _sqlite_tables(drill.access_log_name),
        }
    else:
        tables = {"default": _postgresql_tables(drill.database_name)}
    documents = {
        path.relative_to(drill.documents).as_posix(): path.read_bytes()
        for path in sorted(drill.documents.rglob("*"))
        if path.is_file()
    }
    return {"tables": tables, "documents": documents}


def without_left_out(state: dict) -> dict:
    return {
        database: {name: rows for name, rows in tables.items() if name not in LEFT_OUT}
        for database, tables in state["tables"].items()
    }


# --- The drill --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drill(tmp_path_factory, django_db_setup, django_db_blocker):
    folder = tmp_path_factory.mktemp("drill")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(BASE_DIR),
        "DOCUMENTS_STORAGE": "local",
        "DOCUMENTS_ROOT": str(folder / "documents"),
        "DEBUG": "false",
    }
    environment.pop("TEST_DATABASE_NAME", None)
    environment.pop("TEST_ACCESS_LOG_DATABASE_NAME", None)
    with django_db_blocker.unblock():
        vendor = connections["default"].vendor
        if vendor == "sqlite":
            # The migrated test databases copied to files the subprocesses open.
            for alias, file_name in (("default", "register"), ("accesslog", "accesslog")):
                connections[alias].ensure_connection()
                copy = sqlite3.connect(folder / f"{file_name}.sqlite3")
                connections[alias].connection.backup(copy)
                copy.close()
            environment["DATABASE_URL"] = f"sqlite:///{folder / 'register.sqlite3'}"
            environment["ACCESS_LOG_DATABASE_URL"] = f"sqlite:///{folder / 'accesslog.sqlite3'}"
            names = (str(folder / "register.sqlite3"), str(folder / "accesslog.sqlite3"))
        else:
            settings_dict = dict(connections["default"].settings_dict)
            name = f"{settings_dict['NAME']}_drill"
            # A copy of the migrated test database (nobody may be connected to a template).
            connections.close_all()
            with _postgresql_connection("postgres") as server:
                server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{settings_dict["NAME"]}"')
            environment["DATABASE_URL"] = (
                f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD']}@"
                f"{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}/{name}"
            )
            environment.pop("ACCESS_LOG_DATABASE_URL", None)
            names = (name, name)
    drill = Drill(
        environment=environment,
        vendor=vendor,
        database_name=names[0],
        access_log_name=names[1],
        documents=folder / "documents",
        backup=folder / "backup",
    )
    started = time.monotonic()
    try:
        python(drill, SEED)
        drill.backed_up = manage(drill, "backup", str(drill.backup))
        assert drill.backed_up.returncode == 0, drill.backed_up.stderr
        drill.at_backup = snapshot(drill)
        python(drill, CHANGE)
        drill.after_changes = snapshot(drill)
        drill.without_yes = manage(drill, "restore", str(drill.backup))
        drill.after_refused_restore = snapshot(drill)
        drill.restored = manage(drill, "restore", str(drill.backup), "--yes")
        drill.after_restore = snapshot(drill)
        drill.seconds = time.monotonic() - started
        yield drill
    finally:
        if vendor == "postgresql":
            with (
                django_db_blocker.unblock(),
                _postgresql_connection("postgres") as server,
            ):
                server.execute(f'DROP DATABASE IF EXISTS "{names[0]}" WITH (FORCE)')


def test_restore_drill__every_table_and_every_document_as_backed_up(drill):
    print(f"The drill took {drill.seconds:.1f} s on {drill.vendor}.")
    assert drill.restored.returncode == 0, drill.restored.stderr
    # The changes reached rows, documents and the access log: the drill restores something.
    before, after = without_left_out(drill.at_backup), without_left_out(drill.after_changes)
    changed = {
        (database, name)
        for database in before
        for name in before[database]
        if before[database][name] != after[database].get(name)
    }
    assert {
        ("default", "register_facility"),
        ("default", "register_finding"),
        ("default", "auth_user"),
        ("default", "documents_decisiondocument"),
        ("accesslog" if drill.vendor == "sqlite" else "default", "access_accessevent"),
    } <= changed
    assert drill.after_changes["documents"] != drill.at_backup["documents"]
    assert len(drill.at_backup["documents"]) == 3

    assert without_left_out(drill.after_restore) == without_left_out(drill.at_backup)
    assert drill.after_restore["documents"] == drill.at_backup["documents"]


def test_restore_drill__sessions_and_cache_not_in_the_backup(drill):
    assert drill.at_backup["tables"]["default"]["django_session"]  # the seed's session
    for tables in drill.after_restore["tables"].values():
        for name in LEFT_OUT & tables.keys():
            assert tables[name] == [], name


def test_restore_drill__access_log_append_only_and_its_chain_intact_after_restore(drill):
    # A new entry continues the restored chain, and the whole chain verifies.
    python(drill, AFTER_RESTORE)
    statements = [
        "UPDATE access_accessevent SET detail = 'ändrad'",
        "DELETE FROM access_accessevent",
    ]
    for statement in statements:
        if drill.vendor == "sqlite":
            database = sqlite3.connect(drill.access_log_name)
            with pytest.raises(sqlite3.DatabaseError, match="Åtkomstloggen kan inte ändras"):
                database.execute(statement)
            database.close()
        else:
            import psycopg

            with (
                _postgresql_connection(drill.access_log_name) as database,
                pytest.raises(psycopg.Error, match="Åtkomstloggen kan inte ändras"),
            ):
                database.execute(statement)


def test_backup_and_restore__print_no_password(drill):
    password = connections["default"].settings_dict.get("PASSWORD")
    if not password:
        assert drill.vendor == "sqlite"
        return
    for finished in (drill.backed_up, drill.restored):
        assert password not in finished.stdout + finished.stderr


@pytest.mark.postgresql
def test_backup__postgresql_refuses_the_login__fails_naming_it_without_the_password(
    drill, tmp_path
):
    if drill.vendor != "postgresql":
        pytest.skip("PostgreSQL's login (the PostgreSQL leg of CI)")
    wrong = "fel-lösenord-" + "x" * 8
    settings_dict = connections["default"].settings_dict
    environment = {
        **drill.environment,
        "DATABASE_URL": drill.environment["DATABASE_URL"].replace(
            f":{settings_dict['PASSWORD']}@", f":{wrong}@"
        ),
    }

    failed = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "backup", str(tmp_path / "backup")],
        env=environment,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert failed.returncode != 0
    assert "Säkerhetskopieringen misslyckades" in failed.stderr
    assert "password authentication failed" in failed.stderr
    assert wrong not in failed.stdout + failed.stderr
    assert settings_dict["PASSWORD"] not in failed.stdout + failed.stderr


def test_restore__without_yes__refused_saying_what_it_would_replace(drill):
    assert drill.without_yes.returncode != 0
    assert "--yes" in drill.without_yes.stderr
    assert "beslutshandlingarna" in drill.without_yes.stdout
    assert drill.after_refused_restore == drill.after_changes


def change_directly(drill: Drill) -> None:
    """A row changed and a document added, by hand, without the code under test."""
    statement = "UPDATE register_facility SET name = name || '!'"
    if drill.vendor == "sqlite":
        database = sqlite3.connect(drill.database_name)
        database.execute(statement)
        database.commit()
        database.close()
    else:
        with _postgresql_connection(drill.database_name) as database:
            database.execute(statement)
    (drill.documents / f"added-{time.monotonic_ns()}.pdf").write_bytes(b"%PDF-1.4 tillagd")


def _damaged_copy(drill: Drill, tmp_path: Path, name: str) -> Path:
    damaged = tmp_path / "damaged"
    shutil.copytree(drill.backup, damaged)
    file = damaged / name
    content = bytearray(file.read_bytes())
    content[len(content) // 2] ^= 0x01
    file.write_bytes(bytes(content))
    return damaged


@pytest.mark.parametrize("part", ["document", "register database"])
def test_restore__one_byte_changed_in_the_backup__refused_and_nothing_changed(
    drill, tmp_path, part
):
    if part == "document":
        name = "documents/" + next(iter(drill.at_backup["documents"]))
    else:
        name = "databases/default." + ("sqlite3" if drill.vendor == "sqlite" else "dump")
    damaged = _damaged_copy(drill, tmp_path, name)
    change_directly(drill)  # so that a restore would have something to change
    before = snapshot(drill)

    refused = manage(drill, "restore", str(damaged), "--yes")

    assert refused.returncode != 0
    assert f"Säkerhetskopian är skadad, inget har ändrats: {name} har ändrats" in refused.stderr
    assert snapshot(drill) == before


def test_backup__into_a_folder_that_is_not_empty__refused(drill, tmp_path):
    (tmp_path / "kept.txt").write_text("annat")

    refused = manage(drill, "backup", str(tmp_path))

    assert refused.returncode != 0
    assert "inte en tom mapp" in refused.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept.txt"]


def test_backup__readable_by_its_owner_alone(drill):
    # The drill's backup ran in a process with the test run's umask (022 as a rule).
    folders = [drill.backup, *(path for path in drill.backup.rglob("*") if path.is_dir())]
    files = [path for path in drill.backup.rglob("*") if path.is_file()]

    assert files
    assert {oct(path.stat().st_mode & 0o777) for path in folders} == {"0o700"}
    assert {oct(path.stat().st_mode & 0o777) for path in files} == {"0o600"}


def test_restore__manifest_naming_a_file_outside_the_backup__refused(drill, tmp_path):
    forged = tmp_path / "forged"
    shutil.copytree(drill.backup, forged)
    manifest = json.loads((forged / "manifest.json").read_text())
    manifest["databases"][0]["file"] = "../../register.sqlite3"
    (forged / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(drill)

    refused = manage(drill, "restore", str(forged), "--yes")

    assert refused.returncode != 0
    assert (
        "Manifestet pekar på '../../register.sqlite3', som inte ligger i säkerhetskopians mapp "
        "databases/." in refused.stderr
    )
    assert snapshot(drill) == before
