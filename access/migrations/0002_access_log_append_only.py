"""The access log is append-only in the database itself, not only in the application: a trigger
refuses UPDATE, and DELETE of any entry younger than a year (prune_access_log removes entries past
the retention setting, which is at least that). On PostgreSQL also TRUNCATE."""

from django.db import migrations

POSTGRESQL = """
CREATE OR REPLACE FUNCTION access_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '365 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Åtkomstloggen kan inte ändras (%).', TG_OP;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_event_no_update BEFORE UPDATE OR DELETE ON access_accessevent
    FOR EACH ROW EXECUTE FUNCTION access_event_append_only();
CREATE TRIGGER access_event_no_truncate BEFORE TRUNCATE ON access_accessevent
    FOR EACH STATEMENT EXECUTE FUNCTION access_event_append_only();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS access_event_no_truncate ON access_accessevent;
DROP TRIGGER IF EXISTS access_event_no_update ON access_accessevent;
DROP FUNCTION IF EXISTS access_event_append_only();
"""
SQLITE = [
    """
    CREATE TRIGGER access_event_no_update BEFORE UPDATE ON access_accessevent
    BEGIN SELECT RAISE(ABORT, 'Åtkomstloggen kan inte ändras (UPDATE).'); END;
    """,
    """
    CREATE TRIGGER access_event_no_delete BEFORE DELETE ON access_accessevent
    WHEN OLD.at >= datetime('now', '-365 days')
    BEGIN SELECT RAISE(ABORT, 'Åtkomstloggen kan inte ändras (DELETE).'); END;
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS access_event_no_update;",
    "DROP TRIGGER IF EXISTS access_event_no_delete;",
]


def create_triggers(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL)
        elif schema_editor.connection.vendor == "sqlite":
            for statement in SQLITE:
                cursor.execute(statement)


def drop_triggers(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_REVERSE)
        elif schema_editor.connection.vendor == "sqlite":
            for statement in SQLITE_REVERSE:
                cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = [
        # hints: runs on the database that holds the access log (access/routers.py).
        migrations.RunPython(create_triggers, drop_triggers, hints={"model_name": "accessevent"}),
    ]
