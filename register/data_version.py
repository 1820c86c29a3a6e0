"""The triggers that change the register's data version (register.models.DataVersion) with every
write to a register table. Installed by migration 0006; on SQLite put back after every migrate
(register.apps), because SQLite drops a table's triggers when Django rebuilds the table (an
AlterField, most AddFields and AddConstraints do), and a write to a table without its trigger
would go unseen by an import that planned before it (register.services.decisions_bulk_write
plans again only when the version moved)."""

from contextlib import contextmanager

# The tables migration 0006 gave triggers; later migrations add theirs (0010: findings).
TABLES_0006 = (
    "register_county",
    "register_municipality",
    "register_provider",
    "register_facility",
    "register_permit",
    "register_registration",
    "register_manager",
    "register_inspection",
    "register_decision",
)
TABLES = (*TABLES_0006, "register_finding")
SQLITE_OPERATIONS = ("insert", "update", "delete")

_POSTGRESQL_STAMP = "md5(random()::text || clock_timestamp()::text)"

POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION register_bump_data_version() RETURNS trigger AS $$
DECLARE
    free_slot integer;
    new_stamp text := {_POSTGRESQL_STAMP};
BEGIN
    SELECT id INTO free_slot FROM register_dataversion ORDER BY id LIMIT 1
    FOR UPDATE SKIP LOCKED;
    IF free_slot IS NULL THEN
        INSERT INTO register_dataversion (id, stamp)
        VALUES (nextval('register_dataversion_slot'), new_stamp);
    ELSE
        UPDATE register_dataversion SET stamp = new_stamp WHERE id = free_slot;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

_SQLITE_BUMP = (
    "INSERT INTO register_dataversion (id, stamp) VALUES (1, lower(hex(randomblob(16)))) "
    "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;"
)


def trigger_names(vendor: str) -> set[str]:
    if vendor == "postgresql":
        return {f"{table}_data_version" for table in TABLES}
    return {f"{table}_data_version_{op}" for table in TABLES for op in SQLITE_OPERATIONS}


def postgresql_statements() -> list[str]:
    """The function, a trigger per table of migration 0006, and the first stamp."""
    statements = ["CREATE SEQUENCE register_dataversion_slot START 2;", POSTGRESQL_FUNCTION]
    statements.extend(postgresql_triggers(TABLES_0006))
    statements.append(
        f"INSERT INTO register_dataversion (id, stamp) VALUES (1, {_POSTGRESQL_STAMP});"
    )
    return statements


def postgresql_triggers(tables) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION register_bump_data_version();"
        for table in tables
    ]


def sqlite_statements(tables=TABLES) -> list[str]:
    """Row triggers, one per table and operation (SQLite has no statement-level ones). ``IF NOT
    EXISTS``: the same statements put back whatever a table rebuild dropped."""
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_data_version_{op} AFTER {op.upper()} ON {table} "
        f"BEGIN {_SQLITE_BUMP} END;"
        for table in tables
        for op in SQLITE_OPERATIONS
    ]


def sqlite_seed_statement() -> str:
    """The first stamp (the same upsert the triggers run)."""
    return _SQLITE_BUMP


def restore_sqlite_triggers(sender=None, using="default", **kwargs) -> None:
    """Connected to ``post_migrate``: every data-version trigger present on an SQLite register."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'register_dataversion'"
        )
        if cursor.fetchone() is None:  # not migrated that far (or the access-log database)
            return
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        present = {row[0] for row in cursor.fetchall()}
        for statement in sqlite_statements([table for table in TABLES if table in present]):
            cursor.execute(statement)


@contextmanager
def bumped_once_sqlite(connection, tables):
    """Inside a write transaction on SQLite: the data-version row triggers of ``tables`` dropped,
    and on leaving without an error one bump and the triggers put back, before the commit. SQLite
    has only row triggers, so a bulk write of 190,000 rows upserted the version row 190,000
    times (about 10 s of an import's write lock, bench/imports.py). DDL is transactional in
    SQLite and the writer holds the only write lock: no other connection ever sees the triggers
    missing, and a rollback puts them back. Elsewhere (PostgreSQL's triggers are per statement)
    it does nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    assert connection.in_atomic_block, "only inside the write transaction"
    with connection.cursor() as cursor:
        for table in tables:
            for operation in SQLITE_OPERATIONS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{operation}")
    yield  # an error propagates; the rollback puts the triggers back
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_BUMP)
        for statement in sqlite_statements():
            cursor.execute(statement)
