"""The changes feed's triggers (api/changes.py), installed by migrations 0002 and 0003 and put
back after every migrate on SQLite, which drops a table's triggers when a migration rebuilds it.

A trigger on each register table records every created, changed or removed row in
api_changeevent, in the writing transaction, whatever wrote it (services, admin, bulk loads, raw
SQL). A decision or inspection also marks its facility changed (the facility carries its marking
and the frekvenstillsyn flag), and a provider's change marks its facilities changed (they carry
its name); a facility, a decision or an inspection marks its provider changed, unless the home is
protected (skyddat boende) before and after the change: the provider event would be shown to
outsiders and tell them that something happened at one of its homes that they cannot see. The
feed hides the protected home's own events at read time (api/changes.py).
"""

# The SQL form of register.models.protected_condition, for a row of register_facility.
PROTECTED_TARGET_GROUP = "%|skydd|%"


def sql_protected(row: str) -> str:
    return f"({row}.protected_by_ivo OR {row}.target_groups LIKE '{PROTECTED_TARGET_GROUP}')"


# (table, resource, key column, what else changes with it): a provider's facilities carry its name;
# a provider carries its facilities; a facility carries its decisions and inspections.
TABLES = [
    ("register_provider", "provider", "public_id", "facilities"),
    ("register_facility", "facility", "facility_id", "provider"),
    ("register_decision", "decision", "diarienummer", "facility"),
    ("register_inspection", "inspection", "diarienummer", "facility"),
]

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION api_record_change() RETURNS trigger AS $$
DECLARE
    resource text := TG_ARGV[0];
    key_column text := TG_ARGV[1];
    also text := TG_ARGV[2];
    old_key text;
    new_key text;
    txid bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_key := to_jsonb(OLD) ->> key_column; END IF;
    IF TG_OP <> 'DELETE' THEN new_key := to_jsonb(NEW) ->> key_column; END IF;
    IF old_key IS NOT NULL AND old_key IS DISTINCT FROM new_key THEN
        INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at)
        VALUES (txid, resource, old_key, 'removed', clock_timestamp());
    END IF;
    IF new_key IS NOT NULL THEN
        INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at)
        VALUES (txid, resource, new_key,
                CASE WHEN old_key IS NULL OR old_key <> new_key THEN 'created' ELSE 'changed' END,
                clock_timestamp());
    END IF;
    IF also = 'facility' THEN
        INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at)
        SELECT txid, 'facility', f.facility_id, 'changed', clock_timestamp()
        FROM register_facility f
        WHERE f.id IN ((to_jsonb(OLD) ->> 'facility_id')::bigint,
                       (to_jsonb(NEW) ->> 'facility_id')::bigint)
        ORDER BY f.id;
        INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at)
        SELECT txid, 'provider', p.public_id::text, 'changed', clock_timestamp()
        FROM register_provider p
        WHERE p.id IN (SELECT f.provider_id FROM register_facility f
                       WHERE f.id IN ((to_jsonb(OLD) ->> 'facility_id')::bigint,
                                      (to_jsonb(NEW) ->> 'facility_id')::bigint)
                       AND NOT (f.protected_by_ivo OR f.target_groups LIKE '%|skydd|%'))
        ORDER BY p.id;
    ELSIF also = 'provider' THEN
        IF (TG_OP <> 'INSERT' AND NOT ((to_jsonb(OLD) ->> 'protected_by_ivo')::boolean
                                       OR (to_jsonb(OLD) ->> 'target_groups') LIKE '%|skydd|%'))
           OR (TG_OP <> 'DELETE' AND NOT ((to_jsonb(NEW) ->> 'protected_by_ivo')::boolean
                                          OR (to_jsonb(NEW) ->> 'target_groups') LIKE '%|skydd|%'))
        THEN
            INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at)
            SELECT txid, 'provider', p.public_id::text, 'changed', clock_timestamp()
            FROM register_provider p
            WHERE p.id IN ((to_jsonb(OLD) ->> 'provider_id')::bigint,
                           (to_jsonb(NEW) ->> 'provider_id')::bigint)
            ORDER BY p.id;
        END IF;
    ELSIF also = 'facilities' AND TG_OP = 'UPDATE' THEN
        INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at)
        SELECT txid, 'facility', f.facility_id, 'changed', clock_timestamp()
        FROM register_facility f WHERE f.provider_id = NEW.id ORDER BY f.id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _sqlite_key(row: str, resource: str, key: str) -> str:
    if resource == "provider":  # a UUID is stored as 32 hex digits on SQLite
        value = f"{row}.{key}"
        return (
            f"lower(substr({value},1,8)||'-'||substr({value},9,4)||'-'||substr({value},13,4)"
            f"||'-'||substr({value},17,4)||'-'||substr({value},21,12))"
        )
    return f"{row}.{key}"


def _sqlite_insert(resource: str, key_sql: str, operation_sql: str, where: str = "") -> str:
    return (
        "INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at) "
        f"SELECT 0, '{resource}', {key_sql}, {operation_sql}, {SQLITE_NOW} {where};"
    )


def _sqlite_related(also: str, rows: list[str]) -> str:
    provider_key = _sqlite_key("p", "provider", "public_id")
    if also == "facility":
        ids = ", ".join(f"{row}.facility_id" for row in rows)
        return _sqlite_insert(
            "facility",
            "f.facility_id",
            "'changed'",
            f"FROM register_facility f WHERE f.id IN ({ids})",
        ) + _sqlite_insert(
            "provider",
            provider_key,
            "'changed'",
            "FROM register_provider p WHERE p.id IN "
            f"(SELECT f.provider_id FROM register_facility f WHERE f.id IN ({ids}) "
            f"AND NOT {sql_protected('f')})",
        )
    if also == "provider":
        ids = ", ".join(f"{row}.provider_id" for row in rows)
        shown = " OR ".join(f"NOT {sql_protected(row)}" for row in rows)
        return _sqlite_insert(
            "provider",
            provider_key,
            "'changed'",
            f"FROM register_provider p WHERE p.id IN ({ids}) AND ({shown})",
        )
    if also == "facilities" and rows == ["OLD", "NEW"]:
        return _sqlite_insert(
            "facility",
            "f.facility_id",
            "'changed'",
            "FROM register_facility f WHERE f.provider_id = NEW.id",
        )
    return ""


def sqlite_triggers() -> list[str]:
    statements = []
    for table, resource, key, also in TABLES:
        new_key, old_key = _sqlite_key("NEW", resource, key), _sqlite_key("OLD", resource, key)
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS api_change_{resource}_insert "
            f"AFTER INSERT ON {table} BEGIN "
            + _sqlite_insert(resource, new_key, "'created'")
            + _sqlite_related(also, ["NEW"])
            + " END;"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS api_change_{resource}_update "
            f"AFTER UPDATE ON {table} BEGIN "
            + _sqlite_insert(resource, old_key, "'removed'", f"WHERE {old_key} <> {new_key}")
            + _sqlite_insert(
                resource,
                new_key,
                f"CASE WHEN {old_key} <> {new_key} THEN 'created' ELSE 'changed' END",
            )
            + _sqlite_related(also, ["OLD", "NEW"])
            + " END;"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS api_change_{resource}_delete "
            f"AFTER DELETE ON {table} BEGIN "
            + _sqlite_insert(resource, old_key, "'removed'")
            + _sqlite_related(also, ["OLD"])
            + " END;"
        )
    return statements


def trigger_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [POSTGRESQL_FUNCTION]
        for table, resource, key, also in TABLES:
            statements.append(
                f"CREATE OR REPLACE TRIGGER api_change_{resource} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION api_record_change('{resource}', '{key}', '{also}');"
            )
        return statements
    if vendor == "sqlite":
        return sqlite_triggers()
    raise NotImplementedError(f"The changes feed has no triggers for {vendor}.")


def drop_statements(vendor: str) -> list[str]:
    statements = []
    for table, resource, _key, _also in TABLES:
        if vendor == "postgresql":
            statements.append(f"DROP TRIGGER IF EXISTS api_change_{resource} ON {table};")
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS api_change_{resource}_{operation};"
                for operation in ("insert", "update", "delete")
            ]
    return statements


def restore_sqlite_triggers(sender=None, using="default", **kwargs) -> None:
    """Connected to ``post_migrate``: every trigger of the feed present on an SQLite register
    whose feed is installed (migration api 0003 applied)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        # Installed by migration 0003 on the register's database (not the access log's).
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' "
            "AND name = 'api_change_facility_insert'"
        )
        if cursor.fetchone() is None:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            )
            applied = (
                cursor.fetchone() is not None
                and cursor.execute(
                    "SELECT 1 FROM django_migrations WHERE app = 'api' "
                    "AND name = '0003_change_triggers_protected_homes'"
                ).fetchone()
            )
            tables = cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'register_facility'"
            ).fetchone()
            if not (applied and tables):
                return
        for statement in sqlite_triggers():
            cursor.execute(statement)
