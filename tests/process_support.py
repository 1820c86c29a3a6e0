"""A database of their own for the processes a test starts (a support module, not a test module).

The in-memory SQLite test database is out of another process's reach, and what such processes
commit on PostgreSQL must not stay behind for other tests: they get a migrated database of their
own on the test run's engine, dropped afterwards.
"""

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def database_of_their_own(
    database: dict, vendor: str, *, folder: Path, name: str, environment: dict
) -> Iterator[dict]:
    """``environment`` pointed at a new, migrated database named after ``name`` (a file in
    ``folder`` on SQLite); ``database`` is the test run's connection settings."""
    environment = dict(environment)
    environment.pop("TEST_DATABASE_NAME", None)
    environment.pop("TEST_ACCESS_LOG_DATABASE_NAME", None)
    server = None
    if vendor == "sqlite":
        environment["DATABASE_URL"] = f"sqlite:///{folder / 'register.sqlite3'}"
        environment["ACCESS_LOG_DATABASE_URL"] = f"sqlite:///{folder / 'accesslog.sqlite3'}"
    else:
        import psycopg

        name = f"{database['NAME']}_{name}"
        server = psycopg.connect(
            host=database["HOST"],
            port=database["PORT"] or 5432,
            user=database["USER"],
            password=database["PASSWORD"],
            dbname="postgres",
            autocommit=True,
        )
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
        environment["DATABASE_URL"] = (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT'] or 5432}/{name}"
        )
        environment.pop("ACCESS_LOG_DATABASE_URL", None)
    try:
        subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), "migrate_all", "-v", "0"],
            env=environment,
            cwd=BASE_DIR,
            check=True,
        )
        yield environment
    finally:
        if server is not None:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            server.close()
