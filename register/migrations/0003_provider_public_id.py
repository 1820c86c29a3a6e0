import uuid

from django.db import migrations, models


def give_each_provider_its_own_id(apps, schema_editor):
    """AddField gives every existing row the same default; each provider needs its own."""
    Provider = apps.get_model("register", "Provider")
    HistoricalProvider = apps.get_model("register", "HistoricalProvider")
    for provider in Provider.objects.only("pk"):
        public_id = uuid.uuid4()
        Provider.objects.filter(pk=provider.pk).update(public_id=public_id)
        HistoricalProvider.objects.filter(id=provider.pk).update(public_id=public_id)


class Migration(migrations.Migration):
    dependencies = [
        ("register", "0002_reference_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalprovider",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="publikt id"),
        ),
        migrations.AddField(
            model_name="provider",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="publikt id"),
        ),
        migrations.RunPython(give_each_provider_its_own_id, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="provider",
            constraint=models.UniqueConstraint(
                fields=("public_id",), name="provider_unique_public_id"
            ),
        ),
    ]
