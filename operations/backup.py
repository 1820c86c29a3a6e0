"""Backup and restore of everything the service needs to run again (docs/operations.md, "Backups
and restore"): the register's database, the access log's (a file of its own on SQLite), and the
decision documents in the storage called "documents".

A backup is a folder:

    manifest.json          what is in it: when, the engines, the migrations, row counts per
                           table, and every file's size and SHA-256
    databases/<alias>.sqlite3 or databases/<alias>.dump (pg_dump --format=custom)
    documents/<name>       each stored document under its name in the storage

Order, and what is consistent with what: the register first, in one snapshot (SQLite's online
backup API copies the file inside one read transaction; pg_dump runs in a REPEATABLE READ snapshot
exported by the transaction that also counts the rows and reads the migrations, so the manifest
describes exactly the dump). Then the access log, so the copy of the log holds at least every
entry written before the register's snapshot. Then the documents: stored files are never
overwritten or removed once a row names them (documents/models.py stored_name: a new UUID each
time), so every file a document row of the snapshot names exists when the copy is made.

Left out on purpose, their tables kept but emptied: the sessions (a session key is a bearer
credential, and a backup is read by more people than the database) and Django's database cache
(rate-limit counts of the last minute). After a restore everyone signs in again.

A restore checks the manifest and every file's SHA-256 before it changes anything, so a damaged
or incomplete backup changes nothing.
"""

import datetime
import hashlib
import json
import os
import posixpath
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import connections, transaction

MANIFEST = "manifest.json"
FORMAT = 1
SESSION_TABLE = "django_session"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator and holds no
    secret."""


# --- The databases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """One database to back up: the aliases it serves (the access log's alias names the register's
    database on PostgreSQL unless ACCESS_LOG_DATABASE_URL names another)."""

    alias: str
    aliases: tuple[str, ...]
    vendor: str

    @property
    def file_name(self) -> str:
        return f"{self.alias}.sqlite3" if self.vendor == "sqlite" else f"{self.alias}.dump"

    def describe(self) -> str:
        """Where it is, without user or password."""
        settings_dict = connections[self.alias].settings_dict
        if self.vendor == "sqlite":
            return f"SQLite-filen {settings_dict['NAME']}"
        host = settings_dict.get("HOST") or "localhost"
        port = settings_dict.get("PORT") or 5432
        return f"PostgreSQL-databasen {settings_dict['NAME']} på {host}:{port}"


def _identity(alias: str) -> tuple:
    settings_dict = connections[alias].settings_dict
    return (
        settings_dict["ENGINE"],
        settings_dict.get("HOST") or "",
        str(settings_dict.get("PORT") or ""),
        str(settings_dict["NAME"]),
    )


def databases() -> list[Database]:
    """The register's database and the access log's, each distinct one once. Read replicas are
    copies of the register's and are not backed up."""
    found: dict[tuple, Database] = {}
    for alias in dict.fromkeys(["default", settings.ACCESS_LOG_DATABASE]):
        key = _identity(alias)
        if key in found:
            found[key] = Database(found[key].alias, (*found[key].aliases, alias), found[key].vendor)
        else:
            vendor = connections[alias].vendor
            if vendor not in ("sqlite", "postgresql"):
                raise BackupError(f"Databasen {alias} ({vendor}) kan inte säkerhetskopieras.")
            found[key] = Database(alias, (alias,), vendor)
    return list(found.values())


def _left_out_tables() -> list[str]:
    """Tables whose rows a backup leaves out: the sessions, and the database cache's table."""
    tables = [SESSION_TABLE]
    cache = settings.CACHES.get("default", {})
    if cache.get("BACKEND") == "django.core.cache.backends.db.DatabaseCache":
        tables.append(cache["LOCATION"])
    return tables


def _postgresql_environment(alias: str) -> tuple[list[str], dict[str, str]]:
    """The connection arguments for pg_dump and pg_restore, and their environment: the password
    in PGPASSWORD, never on a command line (which every local user can read in ps)."""
    settings_dict = connections[alias].settings_dict
    arguments = ["--dbname", str(settings_dict["NAME"])]
    if settings_dict.get("HOST"):
        arguments += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        arguments += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        arguments += ["--username", str(settings_dict["USER"])]
    environment = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(option):
            environment[variable] = str(options[option])
    return arguments, environment


def _without_secrets(text: str, alias: str) -> str:
    password = connections[alias].settings_dict.get("PASSWORD")
    return text.replace(str(password), "***") if password else text


def _run_client(command: list[str], alias: str) -> None:
    arguments, environment = _postgresql_environment(alias)
    try:
        finished = subprocess.run(
            [*command, *arguments], env=environment, capture_output=True, text=True
        )
    except FileNotFoundError as error:
        raise BackupError(
            f"{command[0]} saknas: installera PostgreSQL-klienten (Debian: postgresql-client)."
        ) from error
    if finished.returncode != 0:
        output = _without_secrets(finished.stderr.strip() or finished.stdout.strip(), alias)
        raise BackupError(f"{command[0]} misslyckades (kod {finished.returncode}): {output}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]


def _latest_migrations(rows: list[tuple[str, str]]) -> dict[str, str]:
    """Per app, the migration applied last (rows in the order they were applied)."""
    latest: dict[str, str] = {}
    for app, name in rows:
        latest[app] = name
    return dict(sorted(latest.items()))


def _describe_sqlite_copy(path: Path) -> dict:
    connection = sqlite3.connect(path)
    try:
        tables = _sqlite_tables(connection)
        counts = {
            table: connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
            for table in tables
        }
        migrations = (
            connection.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
            if "django_migrations" in tables
            else []
        )
    finally:
        connection.close()
    return {"tables": counts, "migrations": _latest_migrations(migrations)}


def _backup_sqlite(database: Database, target: Path) -> dict:
    connection = connections[database.alias]
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        # All pages in one step, inside one read transaction of the source: a consistent
        # snapshot, and in WAL mode the site's writers go on meanwhile.
        connection.connection.backup(copy)
        # One self-contained file (no -wal beside it), openable read-only at restore.
        copy.execute("PRAGMA journal_mode=DELETE")
        # The left-out rows overwritten, not only unlinked, so no session key stays in a free page.
        copy.execute("PRAGMA secure_delete=ON")
        present = set(_sqlite_tables(copy))
        for table in _left_out_tables():
            if table in present:
                copy.execute(f"DELETE FROM {_quote(table)}")
        copy.commit()
    finally:
        copy.close()
    return _describe_sqlite_copy(target)


def _backup_postgresql(database: Database, target: Path) -> dict:
    connection = connections[database.alias]
    left_out = _left_out_tables()
    # pg_dump takes this transaction's snapshot (--snapshot), so the counts and migrations read
    # here describe exactly what it dumps.
    with transaction.atomic(using=database.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        _run_client(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                *(f"--exclude-table-data={_quote(table)}" for table in left_out),
            ],
            database.alias,
        )
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema = current_schema() ORDER BY table_name"
        )
        tables = [name for (name,) in cursor.fetchall()]
        counts = {}
        for table in tables:
            if table in left_out:
                counts[table] = 0
                continue
            cursor.execute(f"SELECT count(*) FROM {_quote(table)}")
            counts[table] = cursor.fetchone()[0]
        migrations = []
        if "django_migrations" in tables:
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
            migrations = cursor.fetchall()
    return {"tables": counts, "migrations": _latest_migrations(migrations)}


def _counts_now(database: Database) -> dict[str, int]:
    connection = connections[database.alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {_quote(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


# --- The documents ----------------------------------------------------------------------------


def _documents():
    return storages["documents"]


def stored_names(storage) -> Iterator[str]:
    """Every file in the storage, in every folder, through the storage API (a local folder or
    S3 alike)."""
    yield from _walk(storage, "")


# The readiness check's own folder (django-health-check's storage check writes a file there and
# deletes it at once, operations/health.py): none of the service's data, and a file that vanishes
# while it is read would fail the night's backup. A restore leaves it as it finds it.
READINESS_FOLDER = "health_check_storage_test"


def _walk(storage, folder: str) -> Iterator[str]:
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return  # a local storage whose folder was never made holds nothing
    for name in sorted(files):
        yield posixpath.join(folder, name) if folder else name
    for directory in sorted(directories):
        if not folder and directory == READINESS_FOLDER:
            continue
        yield from _walk(storage, posixpath.join(folder, directory) if folder else directory)


def _safe_relative(name: str) -> str:
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise BackupError(f"Filnamnet {name!r} kan inte säkerhetskopieras.")
    return name


def _copy_hashing(source, target) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        target.write(chunk)
    return size, digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stored_sha256(storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _backup_documents(folder: Path) -> list[dict]:
    storage = _documents()
    files = []
    for name in stored_names(storage):
        target = folder / _safe_relative(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(name, "rb") as source, open(target, "wb") as copy:
            size, sha256 = _copy_hashing(source, copy)
        files.append({"path": name, "size": size, "sha256": sha256})
    return files


# --- Backup -----------------------------------------------------------------------------------


def backup(folder: Path, *, say: Callable[[str], None] = lambda line: None) -> dict:
    """Back up into ``folder`` (made if missing; refused unless empty). The manifest is written
    last: a folder without one is no backup."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} finns redan och är inte en tom mapp; välj en ny mapp.")
    # Readable by the service's user alone, whoever runs it with whatever umask: a backup holds
    # personal data, the access log and the second factors' keys (the folders 0700, every file
    # written in them, pg_dump's too, 0600).
    previous_umask = os.umask(0o077)
    try:
        return _backup(folder, say)
    finally:
        os.umask(previous_umask)


def _backup(folder: Path, say: Callable[[str], None]) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    (folder / "databases").mkdir()
    (folder / "documents").mkdir()
    started = datetime.datetime.now(datetime.UTC)
    entries = []
    for database in databases():  # the register first, then the access log
        target = folder / "databases" / database.file_name
        say(f"Säkerhetskopierar {database.describe()} …")
        copier = _backup_sqlite if database.vendor == "sqlite" else _backup_postgresql
        try:
            described = copier(database, target)
        except sqlite3.Error as error:
            raise BackupError(f"SQLite: {error}") from error
        entries.append(
            {
                "alias": database.alias,
                "aliases": list(database.aliases),
                "engine": database.vendor,
                "file": f"databases/{database.file_name}",
                "size": target.stat().st_size,
                "sha256": file_sha256(target),
                "data_left_out": _left_out_tables(),
                **described,
            }
        )
    say("Kopierar beslutshandlingarna …")
    documents = _backup_documents(folder / "documents")
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "finished_at": datetime.datetime.now(datetime.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "databases": entries,
        "documents": {
            "storage": settings.STORAGES["documents"]["BACKEND"],
            "files": documents,
        },
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


# --- Restore ----------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict:
    """The manifest, after every file it names has been found with its size and SHA-256, and the
    backup's databases matched with this configuration's. Changes nothing."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(
            f"{path} saknas: mappen är ingen (fullständig) säkerhetskopia."
        ) from error
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} kan inte läsas: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: okänt format (väntade format {FORMAT}).")
    try:
        listed = [
            (_database_file(entry["file"]), entry["size"], entry["sha256"])
            for entry in manifest["databases"]
        ]
        listed += [
            (f"documents/{_safe_relative(entry['path'])}", entry["size"], entry["sha256"])
            for entry in manifest["documents"]["files"]
        ]
    except (KeyError, TypeError) as error:
        raise BackupError(f"{path}: ofullständigt manifest ({error}).") from error
    damaged = []
    for name, size, sha256 in listed:
        file = folder / name
        if not file.is_file():
            damaged.append(f"{name} saknas")
        elif file.stat().st_size != size or file_sha256(file) != sha256:
            damaged.append(f"{name} har ändrats (kontrollsumman stämmer inte)")
    if damaged:
        shown = "; ".join(damaged[:10]) + (
            f" och {len(damaged) - 10} till" if len(damaged) > 10 else ""
        )
        raise BackupError(f"Säkerhetskopian är skadad, inget har ändrats: {shown}.")
    _match_databases(manifest)
    return manifest


def _database_file(name: str) -> str:
    """A database's file as the manifest names it: inside the backup's databases/ folder, never
    a path that leads out of the backup (an absolute one, or one with ..)."""
    parts = name.split("/")
    if len(parts) != 2 or parts[0] != "databases" or parts[1] in ("", ".", ".."):
        raise BackupError(
            f"Manifestet pekar på {name!r}, som inte ligger i säkerhetskopians mapp databases/."
        )
    return name


def _match_databases(manifest: dict) -> None:
    current = {tuple(database.aliases): database.vendor for database in databases()}
    backed_up = {tuple(entry["aliases"]): entry["engine"] for entry in manifest["databases"]}
    if current != backed_up:
        raise BackupError(
            "Säkerhetskopians databaser passar inte den här konfigurationen, inget har ändrats: "
            f"kopian har {_listing(backed_up)}, konfigurationen {_listing(current)}."
        )


def _listing(databases_by_aliases: dict) -> str:
    return ", ".join(
        f"{'+'.join(aliases)} ({engine})" for aliases, engine in databases_by_aliases.items()
    )


def what_restore_replaces(manifest: dict) -> list[str]:
    lines = [f"{database.describe()} ({', '.join(database.aliases)})" for database in databases()]
    storage = _documents()
    where = getattr(storage, "location", None) or getattr(storage, "bucket_name", None) or ""
    lines.append(
        f"beslutshandlingarna i lagringen {settings.STORAGES['documents']['BACKEND']} {where}"
        f" ({len(manifest['documents']['files'])} filer i kopian)".replace("  ", " ")
    )
    return lines


def _restore_sqlite(database: Database, source_path: Path) -> None:
    connection = connections[database.alias]
    connection.close()
    connection.ensure_connection()
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        # Every page of the live file replaced in one write transaction: an interrupted restore
        # leaves the file as it was.
        source.backup(connection.connection)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite: {error}") from error
    finally:
        source.close()
    connection.close()


def _restore_postgresql(database: Database, source_path: Path) -> None:
    connections[database.alias].close()
    # One transaction: a restore that fails half-way leaves the database as it was.
    _run_client(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            str(source_path),
        ],
        database.alias,
    )


def _restore_documents(folder: Path, files: list[dict]) -> dict[str, int]:
    storage = _documents()
    wanted = {entry["path"]: entry for entry in files}
    present = set(stored_names(storage))
    put_back = kept = 0
    for name, entry in wanted.items():
        if name in present and _stored_sha256(storage, name) == entry["sha256"]:
            kept += 1
            continue
        if name in present:
            storage.delete(name)
        with open(folder / "documents" / name, "rb") as source:
            saved = storage.save(name, File(source, name=posixpath.basename(name)))
        if saved != name:
            raise BackupError(f"Lagringen sparade {name} som {saved}.")
        put_back += 1
    removed = 0
    for name in sorted(present - wanted.keys()):
        storage.delete(name)
        removed += 1
    return {"kept": kept, "put_back": put_back, "removed": removed}


def restore(folder: Path, manifest: dict, *, say: Callable[[str], None] = lambda line: None):
    """Replace the databases and the documents with the backup's (``read_manifest`` first). Run
    with the site and the worker stopped."""
    by_alias = {entry["alias"]: entry for entry in manifest["databases"]}
    for database in databases():
        entry = by_alias[database.alias]
        say(f"Återställer {database.describe()} …")
        if database.vendor == "sqlite":
            _restore_sqlite(database, folder / entry["file"])
        else:
            _restore_postgresql(database, folder / entry["file"])
        counts = _counts_now(database)
        differing = sorted(
            table for table, count in entry["tables"].items() if counts.get(table) != count
        )
        if differing:
            raise BackupError(
                f"Efter återställningen stämmer antalet rader inte med manifestet i: "
                f"{', '.join(differing[:10])}."
            )
    say("Återställer beslutshandlingarna …")
    return _restore_documents(folder, manifest["documents"]["files"])
