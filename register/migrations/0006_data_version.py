"""The register's data version: triggers on every register table change a stamp, in the writing
transaction, so a read kept between requests is keyed on the data it was read from
(register.models.DataVersion, register.selectors.KeptReads).

PostgreSQL: one statement-level trigger per table (a bulk write changes a stamp once), on TRUNCATE
too. It changes the first stamp row no other transaction holds (SKIP LOCKED never waits) and adds a
row when every one is held: concurrent writers never wait for each other on the version, and a
late-committing transaction still changes it when it commits. SQLite has one writer at a time and
only row triggers: one per row and operation, on one row, written with an upsert so a flushed table
(Django's test flush) gets its row back at the next write. The statements live in
register/data_version.py, which also puts SQLite's back after every migrate."""

from django.db import migrations, models

from register import data_version


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = data_version.postgresql_statements()
    elif vendor == "sqlite":
        statements = [
            *data_version.sqlite_statements(data_version.TABLES_0006),
            data_version.sqlite_seed_statement(),
        ]
    else:
        raise NotImplementedError(f"The data version has no triggers for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in data_version.TABLES_0006:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table};")
        else:
            for operation in data_version.SQLITE_OPERATIONS:
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
