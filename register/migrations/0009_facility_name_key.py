"""The search matches and sorts names on a column the application writes (issue 15, point 8).

The indexes on Lower("name") held whatever lower() the database had when it built them: SQLite's
own folds ASCII only, so a database rebuilt from a dump or reindexed by a tool without the
application's function found "ÄNGSBO" under "Ängsbo", and PostgreSQL's follows LC_CTYPE ("C"
folds ASCII only too). ``name_key`` is ``register.models.name_key_of(name)``, computed in Python;
this migration writes it for the rows already there, in Python for the same reason (never the
database's lower()), before the indexes are built on it.

The columns are nullable so that SQLite adds them without rebuilding the tables, which would drop
the API's change triggers (api/0002). Filling them writes every facility and provider once, so
the changes feed lists each as changed once.
"""

import register.models
from django.db import migrations, models

BATCH = 1000


def _name_key(name: str) -> str:
    # register.models.name_key_of as this migration was written; a later change of the rule
    # writes a migration of its own.
    return name.lower()


def write_name_keys(apps, schema_editor):
    for model_name in ("Provider", "Facility"):
        model = apps.get_model("register", model_name)
        rows = model.objects.using(schema_editor.connection.alias).only("pk", "name")
        batch = []
        for row in rows.order_by("pk").iterator(chunk_size=BATCH):
            row.name_key = _name_key(row.name)
            batch.append(row)
            if len(batch) == BATCH:
                model.objects.using(schema_editor.connection.alias).bulk_update(
                    batch, ["name_key"]
                )
                batch = []
        if batch:
            model.objects.using(schema_editor.connection.alias).bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("register", "0008_facility_protected_by_ivo"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="facility",
            name="facility_status_name_idx",
        ),
        migrations.RemoveIndex(
            model_name="facility",
            name="facility_status_latest_idx",
        ),
        migrations.AddField(
            model_name="facility",
            name="name_key",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=400,
                null=True,
                verbose_name="namn för sökning",
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="name_key",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=400,
                null=True,
                verbose_name="namn för sökning",
            ),
        ),
        migrations.RunPython(write_name_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="facility",
            index=models.Index(
                fields=["status", "name_key", "facility_id"], name="facility_status_name_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="facility",
            index=models.Index(
                models.F("status"),
                models.OrderBy(
                    register.models.DecisionDateOrNever("latest_decision_date"), descending=True
                ),
                models.F("name_key"),
                models.F("facility_id"),
                name="facility_status_latest_idx",
            ),
        ),
    ]
