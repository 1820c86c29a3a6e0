"""The request id on every access-log entry (config/request_id.py).

Nullable and without a default so that SQLite adds it with ALTER TABLE ADD COLUMN: a rebuilt
table would lose the append-only triggers of 0002 (as 0006 explains). Outside the hash chain's
body (access/chain.py), so the entries already there still verify."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0009_log_view_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="request_id",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, verbose_name="anrops-id"
            ),
        ),
    ]
