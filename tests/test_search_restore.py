"""Search survives a restore (issue 15, point 8).

An index on lower(name) holds whatever lower() the database had when it built the index: SQLite's
own folds ASCII only, and a database rebuilt from a dump (``sqlite3 db .dump | sqlite3 new``) or
reindexed by a tool without the application's function holds "Ängsbo" under "Ängsbo". PostgreSQL's
lower() follows the database's LC_CTYPE, and under "C" it too folds ASCII only. The search reads
``name_key``, which the application writes (register.text.name_key), so a restore changes nothing.

Each test builds its own database in another process, restores it with the database's own tools
(no application code), and searches the copy in another process: it runs in both CI legs.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# The register the restore must keep searchable: three names with "ängsbo" in every case, others
# whose first letter is Å, Ä or Ö, and a provider whose name only has non-ASCII capitals.
BUILD = """
import datetime
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from register.codes import Ownership
from register.models import Municipality
from tests.factories import DecisionFactory, FacilityFactory, ProviderFactory

provider = ProviderFactory(name="ÅSBO VÅRD AB", ownership=Ownership.ENSKILD)
other = ProviderFactory(name="Omsorg AB", ownership=Ownership.ENSKILD)
decided = {
    "R1": datetime.date(2024, 3, 1),
    "R3": datetime.date(2025, 3, 1),
    "R5": datetime.date(2023, 3, 1),
}
for facility_id, name in [
    ("R1", "ÄNGSBO"),
    ("R2", "Ängsbo HVB"),
    ("R3", "Östra ängsbo"),
    ("R4", "Almen"),
    ("R5", "ÅSEN"),
    ("R6", "Öjaby gård"),
    ("R7", "Zorngården"),
    ("R8", "äppelgården"),
]:
    facility = FacilityFactory(
        facility_id=facility_id, name=name, provider=provider if facility_id == "R4" else other
    )
    if facility_id in decided:
        DecisionFactory(facility=facility, decision_date=decided[facility_id])
"""

SEARCH = """
import json
import django
django.setup()
from register import selectors
from register.models import Provider
from register.selectors import FacilitySearch, SearchResults, facility_search, provider_facilities


def ids(facilities):
    return [facility.facility_id for facility in facilities]


def pages(search):
    results = SearchResults(search)
    return [ids(results[start : start + 2]) for start in range(0, results.count(), 2)]


found = {
    f"{text} by {ordering}": ids(facility_search(FacilitySearch(text=text, ordering=ordering)))
    for text in ("ängsbo", "ÄNGSBO", "Ängsbo", "åsbo vård", "ÅSEN", "öjaby")
    for ordering in ("name", "latest_decision")
}
for ordering in ("name", "latest_decision", "municipality"):
    found[f"pages by {ordering}"] = pages(FacilitySearch(ordering=ordering))
found["provider's facilities"] = ids(provider_facilities(Provider.objects.get(name="Omsorg AB")))
print(json.dumps(found))
"""

# Every active home in order of name_key (Python's lower(); code points, as C collations and
# SQLite's BINARY compare): "ängsbo" < "ängsbo hvb" < "äppelgården" < "åsen" < "öjaby gård" <
# "östra ängsbo", after the ASCII names.
BY_NAME = ["R4", "R7", "R1", "R2", "R8", "R5", "R6", "R3"]
# Newest decision first, the homes never decided on last, by name.
BY_LATEST_DECISION = ["R3", "R1", "R5", "R4", "R7", "R2", "R8", "R6"]
EXPECTED = {
    **{
        f"{text} by name": ["R1", "R2", "R3"]
        for text in ("ängsbo", "ÄNGSBO", "Ängsbo")  # 3 of 3, in every case
    },
    **{f"{text} by latest_decision": ["R3", "R1", "R2"] for text in ("ängsbo", "ÄNGSBO", "Ängsbo")},
    "åsbo vård by name": ["R4"],  # the provider's name
    "åsbo vård by latest_decision": ["R4"],
    "ÅSEN by name": ["R5"],
    "ÅSEN by latest_decision": ["R5"],
    "öjaby by name": ["R6"],
    "öjaby by latest_decision": ["R6"],
    "pages by name": [BY_NAME[n : n + 2] for n in range(0, 8, 2)],
    "pages by latest_decision": [BY_LATEST_DECISION[n : n + 2] for n in range(0, 8, 2)],
    "pages by municipality": [BY_NAME[n : n + 2] for n in range(0, 8, 2)],  # one kommun
    "provider's facilities": [n for n in BY_NAME if n != "R4"],
}


def _environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
    }
    if database_url.startswith("sqlite"):
        environment["ACCESS_LOG_DATABASE_URL"] = f"sqlite:///{tmp_path / 'accesslog.sqlite3'}"
    else:
        environment.pop("ACCESS_LOG_DATABASE_URL", None)
    environment.pop("TEST_DATABASE_NAME", None)
    return environment


def _run(script: str, database_url: str, tmp_path: Path) -> str:
    process = subprocess.run(
        [sys.executable, "-c", script],
        env=_environment(database_url, tmp_path),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr
    return process.stdout


def _search(database_url: str, tmp_path: Path) -> dict:
    return json.loads(_run(SEARCH, database_url, tmp_path).splitlines()[-1])


def test_search__sqlite_database_dumped_and_reloaded_without_the_application__finds_the_same(
    tmp_path,
):
    original = tmp_path / "original.sqlite3"
    restored = tmp_path / "restored.sqlite3"
    _run(BUILD, f"sqlite:///{original}", tmp_path)
    assert _search(f"sqlite:///{original}", tmp_path) == EXPECTED

    # As `sqlite3 original .dump | sqlite3 restored` would: plain connections with SQLite's own
    # lower(), which rebuild every index on an expression; then REINDEX as a tool would.
    source = sqlite3.connect(original)
    target = sqlite3.connect(restored)
    target.executescript("\n".join(source.iterdump()))
    target.execute("REINDEX")
    target.commit()
    # The copy is what the test says it is: its index holds SQLite's ASCII-only lower().
    folded = target.execute("SELECT lower(name) FROM register_facility WHERE facility_id = 'R1'")
    assert folded.fetchone() == ("Ängsbo",)
    source.close()
    target.close()

    assert _search(f"sqlite:///{restored}", tmp_path) == EXPECTED


def _postgresql_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


@pytest.mark.skipif(
    not _postgresql_url() or not shutil.which("pg_dump") or not shutil.which("psql"),
    reason="PostgreSQL with pg_dump and psql",
)
def test_search__postgresql_database_dumped_into_a_c_locale_database__finds_the_same(tmp_path):
    """pg_dump, then psql into a database whose LC_CTYPE is "C" (where lower('Ä') is 'Ä'), and
    REINDEX: the restored search must find and order as the original's."""
    import psycopg

    url = urlsplit(_postgresql_url())
    base = url.path.lstrip("/") or "hvb"
    names = {"original": f"{base}_restore_original", "restored": f"{base}_restore_c"}

    def url_of(name: str) -> str:
        return urlunsplit(url._replace(path=f"/{name}"))

    server = psycopg.connect(url_of("postgres"), autocommit=True)
    try:
        for name in names.values():
            server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{names["original"]}"')
        locale = "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        server.execute(f'CREATE DATABASE "{names["restored"]}" {locale}')
        _run(BUILD, url_of(names["original"]), tmp_path)
        assert _search(url_of(names["original"]), tmp_path) == EXPECTED

        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--dbname", url_of(names["original"])],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", url_of(names["restored"])],
            input=dump,
            capture_output=True,
            check=True,
        )
        with psycopg.connect(url_of(names["restored"]), autocommit=True) as restored:
            restored.execute("REINDEX SCHEMA public")
            # The copy is what the test says it is: its lower() folds ASCII only.
            assert restored.execute("SELECT lower('ÄNGSBO')").fetchone() == ("Ängsbo",)

        assert _search(url_of(names["restored"]), tmp_path) == EXPECTED
    finally:
        for name in names.values():
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()
