"""The register's data version: triggers on every register table change a stamp, in the writing
transaction, so a read kept between requests is keyed on the data it was read from
(register.models.DataVersion, register.selectors.KeptReads).

PostgreSQL: one statement-level trigger per table (a bulk write changes a stamp once), on TRUNCATE
too. It changes the first stamp row no other transaction holds (SKIP LOCKED never waits) and adds a
row when every one is held: concurrent writers never wait for each other on the version, and a
late-committing transaction still changes it when it commits. SQLite has one writer at a time and
only row triggers: one per row and operation, on one row, written with an upsert so a flushed table
(Django's test flush) gets its row back at the next write."""

from django.db import migrations, models

TABLES = [
    "register_county",
    "register_municipality",
    "register_provider",
    "register_facility",
    "register_permit",
    "register_registration",
    "register_manager",
    "register_inspection",
    "register_decision",
]

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION register_bump_data_version() RETURNS trigger AS $$
DECLARE
    free_slot integer;
    new_stamp text := md5(random()::text || clock_timestamp()::text);
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

SQLITE_BUMP = (
    "INSERT INTO register_dataversion (id, stamp) VALUES (1, lower(hex(randomblob(16)))) "
    "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;"
)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = []
    if vendor == "postgresql":
        statements.append("CREATE SEQUENCE register_dataversion_slot START 2;")
        statements.append(POSTGRESQL_FUNCTION)
        for table in TABLES:
            statements.append(
                f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION register_bump_data_version();"
            )
        statements.append(
            "INSERT INTO register_dataversion (id, stamp) "
            "VALUES (1, md5(random()::text || clock_timestamp()::text));"
        )
    elif vendor == "sqlite":
        for table in TABLES:
            for operation in ("insert", "update", "delete"):
                statements.append(
                    f"CREATE TRIGGER {table}_data_version_{operation} AFTER {operation.upper()} "
                    f"ON {table} BEGIN {SQLITE_BUMP} END;"
                )
        statements.append(
            "INSERT INTO register_dataversion (id, stamp) VALUES (1, lower(hex(randomblob(16))));"
        )
    else:
        raise NotImplementedError(f"The data version has no triggers for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table};")
        else:
            for operation in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{operation};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS register_bump_data_version();")
        schema_editor.execute("DROP SEQUENCE IF EXISTS register_dataversion_slot;")


class Migration(migrations.Migration):
    dependencies = [("register", "0005_facility_search_indexes")]

    operations = [
        migrations.CreateModel(
            name="DataVersion",
            fields=[
                ("id", models.PositiveIntegerField(primary_key=True, serialize=False)),
                ("stamp", models.CharField(max_length=32)),
            ],
            options={"verbose_name": "dataversion"},
        ),
        migrations.RunPython(install, uninstall),
    ]
