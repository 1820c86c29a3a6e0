"""IVO's own mark of a protected home (skyddat boende, DESIGN.md).

On the facility table the column is added by ALTER TABLE: Django would rebuild the table on SQLite
for a NOT NULL column, and a rebuild drops the table's triggers (the changes feed's and the data
version's)."""

from django.db import migrations, models

HELP_TEXT = (
    "IVO:s egen markering. Ett boende med målgruppen Skyddat boende är alltid skyddat. "
    "Skyddade boenden visas aldrig i öppna data eller för den som inte är inloggad, och "
    "varje visning loggas."
)


def add_column(apps, schema_editor):
    false = "false" if schema_editor.connection.vendor == "postgresql" else "0"
    schema_editor.execute(
        "ALTER TABLE register_facility ADD COLUMN protected_by_ivo boolean NOT NULL "
        f"DEFAULT {false}"
    )


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE register_facility DROP COLUMN protected_by_ivo")


class Migration(migrations.Migration):
    dependencies = [
        ("register", "0007_facility_latest_order_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="facility",
                    name="protected_by_ivo",
                    field=models.BooleanField(
                        default=False, help_text=HELP_TEXT, verbose_name="markerat som skyddat av IVO"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.AddField(
            model_name="historicalfacility",
            name="protected_by_ivo",
            field=models.BooleanField(
                default=False, help_text=HELP_TEXT, verbose_name="markerat som skyddat av IVO"
            ),
        ),
    ]
