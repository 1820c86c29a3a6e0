"""The access log's hash chain (access/chain.py): two columns on every entry, the chain's anchor,
the entries already there chained in id order from the genesis (64 zeros), and on PostgreSQL the
function the INSERT takes its place in the chain through.

The columns are nullable and have no default so that SQLite adds them with ALTER TABLE ADD COLUMN:
a rebuilt table would lose the append-only triggers of 0002. Those triggers refuse the UPDATE that
chains the existing entries, so they are lifted for it, inside this migration's transaction, and
put back as they were."""

import importlib

from django.db import migrations, models

from access import chain

append_only = importlib.import_module("access.migrations.0002_access_log_append_only")

POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION access_log_chain_next(
    body_digest text, OUT next_id bigint, OUT prev_hash text, OUT hash text
) AS $$
BEGIN
    -- Every writer of the log takes this lock before it reads the chain's newest entry and
    -- keeps it until its transaction ends, so no two entries get the same predecessor. The
    -- SELECT below runs in a snapshot taken after the lock (a volatile function in READ
    -- COMMITTED): it sees the previous holder's committed entry.
    PERFORM pg_advisory_xact_lock({chain.ADVISORY_LOCK_KEY});
    SELECT entry.id, coalesce(entry.hash, '') INTO next_id, prev_hash
        FROM access_accessevent AS entry ORDER BY entry.id DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT anchor.anchor_id, anchor.anchor_hash INTO STRICT next_id, prev_hash
            FROM access_accesslogchain AS anchor WHERE anchor.id = 1;
    END IF;
    next_id := next_id + 1;
    -- access.chain.link_hash
    hash := encode(sha256(convert_to(prev_hash || ':' || next_id || ':' || body_digest, 'UTF8')),
                   'hex');
END
$$ LANGUAGE plpgsql VOLATILE;
"""


def chain_existing_entries(apps, schema_editor):
    connection = schema_editor.connection
    AccessEvent = apps.get_model("access", "AccessEvent")
    AccessLogChain = apps.get_model("access", "AccessLogChain")
    using = connection.alias
    AccessLogChain.objects.using(using).create(pk=1, anchor_id=0, anchor_hash=chain.GENESIS_HASH)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_FUNCTION)
            cursor.execute("ALTER TABLE access_accessevent DISABLE TRIGGER access_event_no_update")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS access_event_no_update")
        previous_hash = chain.GENESIS_HASH
        rows = (
            AccessEvent.objects.using(using)
            .order_by("id")
            .values_list("id", *chain.BODY_COLUMNS)
            .iterator(chunk_size=5000)
        )
        batch = []
        for entry_id, *body in rows:
            entry_hash = chain.link_hash(previous_hash, entry_id, chain.body_digest(body))
            batch.append((previous_hash, entry_hash, entry_id))
            previous_hash = entry_hash
            if len(batch) == 5000:
                cursor.executemany(
                    "UPDATE access_accessevent SET prev_hash = %s, hash = %s WHERE id = %s", batch
                )
                batch = []
        if batch:
            cursor.executemany(
                "UPDATE access_accessevent SET prev_hash = %s, hash = %s WHERE id = %s", batch
            )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_accessevent ENABLE TRIGGER access_event_no_update")
        else:
            cursor.execute(append_only.SQLITE[0])


def unchain(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION IF EXISTS access_log_chain_next(text)")


class Migration(migrations.Migration):
    dependencies = [("access", "0005_protected_view_action")]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="prev_hash",
            field=models.CharField(
                editable=False, max_length=64, null=True, verbose_name="föregående posts hash"
            ),
        ),
        migrations.AddField(
            model_name="accessevent",
            name="hash",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="hash"),
        ),
        migrations.CreateModel(
            name="AccessLogChain",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("anchor_id", models.BigIntegerField(default=0, verbose_name="ankarets id")),
                (
                    "anchor_hash",
                    models.CharField(
                        default="0" * 64, max_length=64, verbose_name="ankarets hash"
                    ),
                ),
                (
                    "anchor_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="ankarets tid"),
                ),
            ],
            options={
                "verbose_name": "åtkomstloggens kedja",
                "verbose_name_plural": "åtkomstloggens kedja",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="accesslogchain_one_row"
                    )
                ],
            },
        ),
        # hints: runs on the database that holds the access log (access/routers.py).
        migrations.RunPython(
            chain_existing_entries, unchain, hints={"model_name": "accessevent"}
        ),
    ]
