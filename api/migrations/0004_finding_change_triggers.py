"""The changes feed and findings (api/change_triggers.py): a finding created, changed or removed
marks its decision changed, and with it, as a decision's change does, its facility and provider,
each event marked protected from the decision's facility. Installed as 0003 installed the
others; SQLite's post_migrate puts them back after a migration rebuilds the table.

No events are written for findings already there: the table is new in register 0010, and its
rows came with their decisions, whose events the feed holds."""

from django.db import migrations

from api import change_triggers


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [
        *change_triggers.finding_drop_statements(vendor),
        *change_triggers.finding_trigger_statements(vendor),
    ]:
        schema_editor.execute(statement, None)  # no parameters: the % of LIKE stays as it is


def uninstall(apps, schema_editor):
    for statement in change_triggers.finding_drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, None)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_change_triggers_protected_homes"),
        ("register", "0010_findings_and_decision_facts"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
