"""name_key: what the search matches and sorts names on (register.models.name_key_of).

No database constraint can hold it (a CHECK cannot call Python, and SQLite's generated column would
use its ASCII-only lower()), so these tests hold it: every path that writes a facility's or a
provider's name writes its name_key too. The admin, the imports and the demo data have theirs in
tests/test_admin.py, tests/test_imports.py and tests/test_seed_demo.py.
"""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from register import services
from register.codes import Ownership
from register.models import Facility, Municipality, Provider, name_key_of
from register.selectors import FacilitySearch, facility_search
from tests.assertions import assert_name_keys_written
from tests.factories import FacilityFactory, ProviderFactory, build_valid_organisation_number

pytestmark = pytest.mark.django_db


def test_name_key_of__python_lower__not_casefold():
    assert name_key_of("ÄNGSBO Östra Åby") == "ängsbo östra åby"
    assert name_key_of("Straße") == "straße"  # casefold would give "strasse" and move it
    assert name_key_of("İ") == "i̇"  # two characters: the column has room for that


def test_facility_and_provider_save__create_and_rename__name_key_follows():
    facility = FacilityFactory(name="ÄNGSBO", provider=ProviderFactory(name="ÅSBO VÅRD AB"))
    assert (facility.name_key, facility.provider.name_key) == ("ängsbo", "åsbo vård ab")

    facility.name = "Östra Ängsbo"
    services.facility_save(facility=facility)
    facility.provider.name = "Öjaby Omsorg AB"
    services.provider_save(provider=facility.provider)

    assert Facility.objects.get(pk=facility.pk).name_key == "östra ängsbo"
    assert Provider.objects.get(pk=facility.provider.pk).name_key == "öjaby omsorg ab"
    assert_name_keys_written()


def test_upsert__renamed__name_key_follows():
    facility = FacilityFactory(name="Ängen")
    services.facility_upsert(facility_id=facility.facility_id, values={"name": "ÄNGEN GÅRD"})
    services.provider_upsert(
        organisation_number=facility.provider.organisation_number, values={"name": "ÖVIK AB"}
    )

    assert Facility.objects.get(pk=facility.pk).name_key == "ängen gård"
    assert Provider.objects.get(pk=facility.provider.pk).name_key == "övik ab"


def test_facility_save__longest_name_whose_key_is_longer__saved():
    facility = FacilityFactory(name="İ" * 200)
    assert Facility.objects.get(pk=facility.pk).name_key == "i̇" * 200


def test_register_bulk_create__name_keys_written():
    provider = services.register_bulk_create(
        Provider,
        [
            Provider(
                organisation_number=build_valid_organisation_number("559900001"),
                name="ÅSBO VÅRD AB",
                ownership=Ownership.ENSKILD,
            )
        ],
    )[0]
    services.register_bulk_create(
        Facility,
        [
            Facility(
                facility_id=f"B-{n}",
                name=name,
                facility_type="hvb",
                provider=provider,
                municipality=Municipality.objects.get(code="0880"),
                places=4,
            )
            for n, name in enumerate(["ÄNGSBO", "Östra ängsbo"])
        ],
    )

    assert_name_keys_written()
    assert [f.facility_id for f in facility_search(FacilitySearch(text="ÄNGSBO"))] == [
        "B-0",
        "B-1",
    ]


def test_migration_0009__writes_the_name_key_of_every_row_already_there():
    FacilityFactory(name="ÄNGSBO", provider=ProviderFactory(name="ÅSBO VÅRD AB"))
    FacilityFactory(name="Östra ängsbo")
    # As the rows were before the migration: no name_key (written around the services on purpose).
    Facility.objects.update(name_key=None)
    Provider.objects.update(name_key=None)
    migration = importlib.import_module("register.migrations.0009_facility_name_key")

    migration.write_name_keys(apps, SimpleNamespace(connection=connection))

    assert_name_keys_written()


def test_search__reads_name_key__not_the_databases_lower():
    """The search's match and order are name_key's, whatever the name: a key written around the
    services on purpose shows that nothing else is read."""
    first = FacilityFactory(facility_id="K1", name="Ängsbo")
    second = FacilityFactory(facility_id="K2", name="Björken")
    Facility.objects.filter(pk=first.pk).update(name_key="zzz")
    Facility.objects.filter(pk=second.pk).update(name_key="aaa ängsbo")

    assert [f.facility_id for f in facility_search(FacilitySearch())] == ["K2", "K1"]
    assert [f.facility_id for f in facility_search(FacilitySearch(text="ängsbo"))] == ["K2"]


def test_no_index_on_the_databases_lower_or_upper():
    """An index on lower(name) holds what the database's lower() gave when it was built, not
    what the application's gives: a restore or a REINDEX made the search miss Å, Ä and Ö. Index
    name_key (name_key_of) instead."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        indexes = cursor.fetchall()

    assert indexes
    assert [
        name
        for name, sql in indexes
        if "lower(" in (sql or "").lower() or "upper(" in (sql or "").lower()
    ] == []
