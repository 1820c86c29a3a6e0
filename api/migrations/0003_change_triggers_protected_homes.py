"""The changes feed and protected homes (api/change_triggers.py): each event is marked protected
when it is written, outsiders are shown the other events numbered in a sequence of their own, and
the triggers write what an outsider's follower needs when a home turns protected or back.

The columns are added by ALTER TABLE: Django would rebuild the table on SQLite for a NOT NULL
column. Events already written are marked from the register as it is now, and numbered in order."""

from django.db import migrations, models

from api import change_triggers


def add_columns(apps, schema_editor):
    false = "false" if schema_editor.connection.vendor == "postgresql" else "0"
    schema_editor.execute(
        f"ALTER TABLE api_changeevent ADD COLUMN protected boolean NOT NULL DEFAULT {false}"
    )
    schema_editor.execute(
        f"ALTER TABLE api_changeevent ADD COLUMN outsiders_only boolean NOT NULL DEFAULT {false}"
    )
    schema_editor.execute("ALTER TABLE api_changeevent ADD COLUMN public_position bigint NULL")


def drop_columns(apps, schema_editor):
    schema_editor.execute("ALTER TABLE api_changeevent DROP COLUMN public_position")
    schema_editor.execute("ALTER TABLE api_changeevent DROP COLUMN outsiders_only")
    schema_editor.execute("ALTER TABLE api_changeevent DROP COLUMN protected")


def mark_and_number(apps, schema_editor):
    """What the triggers would have written: the events of protected homes (and their decisions
    and inspections, and of providers with no home an outsider is shown) marked, the others
    numbered in feed order."""
    connection = schema_editor.connection
    protected = change_triggers.sql_protected("f")
    # The provider's key as its events name it (a UUID is 32 hex digits on SQLite).
    provider_key = (
        "p.public_id::text"
        if connection.vendor == "postgresql"
        else change_triggers.sqlite_key("p", "provider", "public_id")
    )
    hidden = (
        f"(e.resource = 'facility' AND e.resource_id IN "
        f"(SELECT f.facility_id FROM register_facility f WHERE {protected}))"
        f" OR (e.resource = 'decision' AND e.resource_id IN (SELECT d.diarienummer "
        f"FROM register_decision d JOIN register_facility f ON f.id = d.facility_id "
        f"WHERE {protected}))"
        f" OR (e.resource = 'inspection' AND e.resource_id IN (SELECT i.diarienummer "
        f"FROM register_inspection i JOIN register_facility f ON f.id = i.facility_id "
        f"WHERE {protected}))"
        f" OR (e.resource = 'provider' AND e.resource_id IN (SELECT {provider_key} "
        f"FROM register_provider p WHERE {change_triggers.sql_provider_hidden('p.id')}))"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE api_changeevent SET protected = true WHERE id IN "
                       f"(SELECT e.id FROM api_changeevent e WHERE {hidden})", None)
        cursor.execute(
            "UPDATE api_changeevent SET public_position = ("
            "SELECT numbered.position FROM (SELECT id, row_number() OVER "
            "(ORDER BY transaction_id, id) AS position FROM api_changeevent "
            "WHERE NOT protected) numbered WHERE numbered.id = api_changeevent.id) "
            "WHERE NOT protected",
            None,
        )
        if connection.vendor == "postgresql":
            cursor.execute("CREATE SEQUENCE IF NOT EXISTS api_changeevent_public_position", None)
            cursor.execute(
                "SELECT setval('api_changeevent_public_position', "
                "COALESCE((SELECT MAX(public_position) FROM api_changeevent), 0) + 1, false)",
                None,
            )


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [
        *change_triggers.drop_statements(vendor),
        *change_triggers.trigger_statements(vendor),
    ]:
        schema_editor.execute(statement, None)  # no parameters: the % of LIKE stays as it is


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_change_triggers"),
        ("register", "0008_facility_protected_by_ivo"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="changeevent",
                    name="protected",
                    field=models.BooleanField(default=False),
                ),
                migrations.AddField(
                    model_name="changeevent",
                    name="outsiders_only",
                    field=models.BooleanField(default=False),
                ),
                migrations.AddField(
                    model_name="changeevent",
                    name="public_position",
                    field=models.BigIntegerField(blank=True, null=True),
                ),
            ],
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
        ),
        migrations.AddIndex(
            model_name="changeevent",
            index=models.Index(
                fields=["transaction_id", "public_position"], name="changeevent_public_feed_idx"
            ),
        ),
        migrations.RunPython(mark_and_number, migrations.RunPython.noop),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
