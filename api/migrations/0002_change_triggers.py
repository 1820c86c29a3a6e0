"""The changes feed is written by the database: a trigger on each register table records every
created, changed or removed row in api_changeevent, in the writing transaction, whatever wrote it
(services, admin, bulk loads, raw SQL). A decision or inspection also marks its facility changed
(the facility carries its marking and the frekvenstillsyn flag), and a provider's change marks its
facilities changed (they carry its name). Existing rows are entered as created, so a client that
starts from the beginning of the feed gets the whole register."""

from django.db import migrations

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
                                      (to_jsonb(NEW) ->> 'facility_id')::bigint))
        ORDER BY p.id;
    ELSIF also = 'provider' THEN
        INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at)
        SELECT txid, 'provider', p.public_id::text, 'changed', clock_timestamp()
        FROM register_provider p
        WHERE p.id IN ((to_jsonb(OLD) ->> 'provider_id')::bigint,
                       (to_jsonb(NEW) ->> 'provider_id')::bigint)
        ORDER BY p.id;
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
            "facility", "f.facility_id", "'changed'", f"FROM register_facility f WHERE f.id IN ({ids})"
        ) + _sqlite_insert(
            "provider",
            provider_key,
            "'changed'",
            "FROM register_provider p WHERE p.id IN "
            f"(SELECT f.provider_id FROM register_facility f WHERE f.id IN ({ids}))",
        )
    if also == "provider":
        ids = ", ".join(f"{row}.provider_id" for row in rows)
        return _sqlite_insert(
            "provider", provider_key, "'changed'", f"FROM register_provider p WHERE p.id IN ({ids})"
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
            f"CREATE TRIGGER api_change_{resource}_insert AFTER INSERT ON {table} BEGIN "
            + _sqlite_insert(resource, new_key, "'created'")
            + _sqlite_related(also, ["NEW"])
            + " END;"
        )
        statements.append(
            f"CREATE TRIGGER api_change_{resource}_update AFTER UPDATE ON {table} BEGIN "
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
            f"CREATE TRIGGER api_change_{resource}_delete AFTER DELETE ON {table} BEGIN "
            + _sqlite_insert(resource, old_key, "'removed'")
            + _sqlite_related(also, ["OLD"])
            + " END;"
        )
    return statements


def backfill(vendor: str) -> list[str]:
    txid = "pg_current_xact_id()::text::bigint" if vendor == "postgresql" else "0"
    now = "clock_timestamp()" if vendor == "postgresql" else SQLITE_NOW
    statements = []
    for table, resource, key, _also in TABLES:
        key_sql = (
            f"{key}::text" if vendor == "postgresql" else _sqlite_key(table, resource, key)
        )
        statements.append(
            "INSERT INTO api_changeevent (transaction_id, resource, resource_id, operation, at) "
            f"SELECT {txid}, '{resource}', {key_sql}, 'created', {now} FROM {table} ORDER BY id;"
        )
    return statements


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [POSTGRESQL_FUNCTION]
        for table, resource, key, also in TABLES:
            statements.append(
                f"CREATE TRIGGER api_change_{resource} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION api_record_change('{resource}', '{key}', '{also}');"
            )
    elif vendor == "sqlite":
        statements = sqlite_triggers()
    else:
        raise NotImplementedError(f"The changes feed has no triggers for {vendor}.")
    for statement in [*backfill(vendor), *statements]:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for _table, resource, _key, _also in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS api_change_{resource} ON {_table};"
            )
        else:
            for operation in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS api_change_{resource}_{operation};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS api_record_change();")
    schema_editor.execute("DELETE FROM api_changeevent;")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("register", "0003_provider_public_id"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
