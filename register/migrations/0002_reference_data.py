"""Loads the 21 län and 290 kommuner with their SCB codes from register/data/*.csv."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def load(apps, schema_editor):
    County = apps.get_model("register", "County")
    Municipality = apps.get_model("register", "Municipality")
    with open(DATA / "lan.csv", encoding="utf-8") as file:
        counties = [
            County(code=row["lanskod"], name=row["lan"], letter=row["lansbokstav"])
            for row in csv.DictReader(file)
        ]
    County.objects.bulk_create(counties)
    with open(DATA / "kommuner.csv", encoding="utf-8") as file:
        municipalities = [
            Municipality(code=row["kommunkod"], name=row["kommun"], county_id=row["lanskod"])
            for row in csv.DictReader(file)
        ]
    Municipality.objects.bulk_create(municipalities)


def unload(apps, schema_editor):
    apps.get_model("register", "Municipality").objects.all().delete()
    apps.get_model("register", "County").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
