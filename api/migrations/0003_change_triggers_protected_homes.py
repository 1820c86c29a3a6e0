"""The changes feed's triggers write no provider event for a change of a protected home
(api/change_triggers.py): the provider event would tell an outsider that something happened at one
of its homes that the outsider is not shown."""

from django.db import migrations

from api import change_triggers


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

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
