"""The API under load, against Datasette and two floors, in the same run on the same data, with
the requests cycling through what users ask: thousands of different searches, many facilities.

    make bench                      # runs this after the other benchmarks
    .venv/bin/python bench/api_load.py   # on its own (needs the bench extra: datasette)

    BENCH_API_SECONDS=10             # measured seconds per server and request kind
    BENCH_API_STEPS=load,scaling,memory
    BENCH_API_LEGS=sqlite,postgresql
    BENCH_API_VARIANTS=full,count-per-process,...   # the API's configurations (API_VARIANTS)

1. Builds bench/api.sqlite3: seed_demo with 10,000 facilities, then decisions (through
   services.register_bulk_create, with history) up to 150,000; and the same in the PostgreSQL
   database hvb_bench. Reused when they already have them. Only what the steps and legs asked
   for is built.
2. The mix (search_mix): SEARCH_MIX different searches of /api/v1/facilities from
   random.Random(17), drawn as municipal users search: a facility type, a child's age, one or
   more län (sometimes with their neighbours) or a kommun, ownership, places, gender, target
   groups, now and then free text, a status, a latest outcome or the supervision filters
   (no_serious_decision_years, no_open_requirement, no_overdue_inspection); every sort order;
   10, 20 or 50 a page; mostly the first page, some deeper. Written to
   bench/results/api-search-mix.txt. And FACILITY_MIX facilities drawn from the register with
   the same seed.
3. Preparation, on each database, in a process of its own: every search of the mix asked of
   the API in-process (Django's test client, the bench's key, the whole stack), and the SQL
   the endpoint's selector ran for it captured with its parameters (the statement that read
   the page, and the count where the API counted: a first page that is not full holds every
   match, and the API does not count it).
   Every parameter name of the mix must be one the endpoint takes (it ignores others). A search
   that does not answer 200 is dropped and the next candidate taken; the run says how many.
   For every tenth search the stored SQL is run again and must give the API's total and page
   size, and each server, once started, must give them for six searches. Stored in
   bench/results/api-search-sql-<database>.json for the floors.
4. Serves, each with gunicorn on 127.0.0.1 (one sync worker per core), one at a time, and drives
   each with wrk (32 connections, every server the same paths in the same order, the two wrk
   threads each from its own place in the list) for BENCH_API_SECONDS, after 2 s of warm-up
   that starts halfway through the list (so what the warm-up left in a worker is not what the
   measured run asks first):
   - the API in every configuration of API_VARIANTS, the first (full) with the whole stack on:
     a bearer key, the disclosure policy, the access log (its own SQLite file beside SQLite, in
     the same database on PostgreSQL), the rate limit (set high: one client makes every
     request). The others turn one piece of speed machinery off each; unknown settings are
     ignored by the app, so a variant whose setting is gone measures the same as full;
   - Datasette on the SQLite file (facet suggestions off; SQLite only), one query per search
     doing the search's work: its page's SQL, and where the API counts, its count SQL in the same
     statement, as a one-row table the page is LEFT JOINed to (read once, also when the page is
     empty);
   - a minimal Django JSON view running each search's SQL and count through Django's connection
     (the framework's floor), and a hand-written WSGI view running them through sqlite3 or
     psycopg (the floor): bench/floors.py, /search?i=N.
   Request kinds: "search" (the mix), "facility" (the facilities, the API with its decisions and
   inspections and the manager through the policy, the others the facility row with its
   marking), and for the full API and the hand-written floor "one search repeated" (the single
   SEARCH_QUERY, what a cache answers: not what users do).
   Printed and stored: each server's requests/s and p50/p95/p99; each variant's gain
   (full / variant - 1); the full API's ratios to Datasette and the floors, with the targets
   (>= 4x Datasette, >= 0.5x the hand-written floor, p99 <= 50 ms).
5. Search time in-process (Django test client, the whole API stack) at 1,000 and 100,000
   facilities (the 100,000 are the 10,000 copied ten times, with their decisions), on SQLite
   and on PostgreSQL, over SCALING_SEARCHES searches of the mix; both sizes in one process, in
   alternating rounds.
6. Peak memory (max RSS of a fresh process) of the 150,000-row decision export as CSV, JSON
   and XLSX, against the same process before the export (on the SQLite file).

The load driver runs on the same two cores as the servers: absolute figures are low, the ratios
in the same run are what to compare. Results go to bench/results/api.json and stdout.
"""

import csv
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
PYTHON = sys.executable
BIN = Path(PYTHON).parent
RESULTS = BENCH / "results"
DB = BENCH / "api.sqlite3"
LOG_DB = BENCH / "api-accesslog.sqlite3"
SMALL = BENCH / "api-1000.sqlite3"
LARGE = BENCH / "api-100000.sqlite3"
DURATION = float(os.environ.get("BENCH_API_SECONDS", "10"))
STEPS = os.environ.get("BENCH_API_STEPS", "load,scaling,memory").split(",")
LEGS = os.environ.get("BENCH_API_LEGS", "sqlite,postgresql").split(",")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
# The venv's own (the bench extra), else one on the PATH.
DATASETTE = (
    str(BIN / "datasette") if (BIN / "datasette").exists() else shutil.which("datasette") or ""
)
CONNECTIONS = 32
WRK_THREADS = 2
# One sync worker per core: on this 2-core machine 4 workers gave the API 666 req/s and a p99 of
# 91 ms, 2 workers 880 req/s and 51 ms (fewer switches between processes). Every server the same.
WORKERS = os.cpu_count() or 2
FACILITIES, DECISIONS = 10_000, 150_000
# The PostgreSQL leg's database (make bench starts the server with .ci/postgres hvb_bench).
POSTGRESQL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://hvb:hvb-ci-password@127.0.0.1:5432/hvb_bench"
)


def _postgresql_database(name: str) -> str:
    return urlsplit(POSTGRESQL)._replace(path=f"/{name}").geturl()


# The scaling step's PostgreSQL databases, as SMALL and LARGE on SQLite.
POSTGRESQL_SMALL = _postgresql_database("hvb_bench_1000")
POSTGRESQL_LARGE = _postgresql_database("hvb_bench_100000")

# The API's configurations, each measured in the same run: (short name for BENCH_API_VARIANTS,
# label, its environment, the databases where it applies). Each but the first turns off one
# piece of speed machinery; its gain is full / variant - 1.
SQLITE_LEG, POSTGRESQL_LEG = "SQLite", "PostgreSQL"
BOTH = (SQLITE_LEG, POSTGRESQL_LEG)
API_VARIANTS = [
    ("full", "API, whole stack (key, disclosure, access log)", {}, BOTH),
    (
        "count-per-process",
        "API, rate count in each process (locmem)",
        {"CACHE_URL": "locmem://"},
        BOTH,
    ),
    # The whole stack again, last: how much the order alone moves a figure (on SQLite the first
    # server after the preparation ran slowest in every run). Gains are against the mean of the
    # two whole-stack runs.
    ("full-again", "API, whole stack, again (last)", {}, BOTH),
]


def chosen_variants() -> list[tuple]:
    """The variants BENCH_API_VARIANTS names (all by default); full always, as the gains and
    ratios are against it."""
    known = [variant[0] for variant in API_VARIANTS]
    asked = os.environ.get("BENCH_API_VARIANTS", ",".join(known)).split(",")
    unknown = set(asked) - set(known)
    if unknown:
        raise SystemExit(f"BENCH_API_VARIANTS: unknown {sorted(unknown)}; known: {known}")
    return [variant for variant in API_VARIANTS if variant[0] in {"full", *asked}]


# The single search of earlier runs, now only the "one search repeated" line.
SEARCH_QUERY = (
    "facility_type=hvb&child_age=15&county=01&ownership=enskild&ownership=kommunal"
    "&min_places=4&sort=latest_decision&limit=20"
)
SEED = 17
SEARCH_MIX = 2000
# Candidates drawn beyond the mix, for any search the API refuses (none did when written).
SEARCH_CANDIDATES = 2200
FACILITY_MIX = 2000
SCALING_SEARCHES = 8

# Free text in one search of eight. It is the costly part of the mix: on the benchmark's data
# these searches took half the database's time for the mix on SQLite, 60 % on PostgreSQL.
TEXT_SHARE = 0.12
# What users type into the free text: parts of homes' and companies' names (seed_demo's words),
# a diarienummer or a part of one, an organisationsnummer.
TEXTS = (
    "gården",
    "hemmet",
    "HVB",
    "stödboende",
    "ungdomsboende",
    "Behandlingshemmet",
    "Ekbacka",
    "Solvik",
    "Lind",
    "Björk",
    "Sjö",
    "Berga",
    "Omsorg",
    "Vård",
    "Behandling",
    "Familjestöd",
    "Resurs",
    "SiS",
    "3.9.9-1",
    "/2019",
    "8.5",
    "556",
    "5560000000",
)
SORTS = ("name", "municipality", "latest_decision")
SORT_WEIGHTS = (5, 2, 3)
LIMITS = (10, 20, 50)
LIMIT_WEIGHTS = (3, 5, 2)


def _codes(file: str, column: str) -> list[str]:
    with (ROOT / "register" / "data" / file).open(encoding="utf-8") as rows:
        return sorted(row[column] for row in csv.DictReader(rows))


def one_search(rng: random.Random, counties: list[str], municipalities: list[str]) -> str:
    """A search as a municipality's case worker asks it: a query string of /api/v1/facilities."""
    from register.codes import FacilityStatus, FacilityType, Outcome, Ownership, TargetGroup

    query: list[tuple[str, object]] = []
    if rng.random() < TEXT_SHARE:
        query.append(("text", rng.choice(TEXTS)))
    kinds = rng.random()
    if kinds < 0.55:
        query.append(("facility_type", FacilityType.HVB))
    elif kinds < 0.65:
        query.append(("facility_type", FacilityType.STODBOENDE))
    elif kinds < 0.68:
        query.append(("facility_type", FacilityType.SARSKILT_UNGDOMSHEM))
    elif kinds < 0.75:
        query += [("facility_type", FacilityType.HVB), ("facility_type", FacilityType.STODBOENDE)]
    if rng.random() < 0.6:  # mostly teenagers
        query.append(("child_age", rng.choice([*range(4, 21), *range(12, 18), *range(13, 17)])))
    if rng.random() < 0.25:
        query.append(("gender", rng.choice(("flickor", "pojkar"))))
    if rng.random() < 0.25:
        for group in rng.sample(list(TargetGroup), rng.choice((1, 1, 1, 2))):
            query.append(("target_group", group))
    place = rng.random()
    if place < 0.10:
        query.append(("municipality", rng.choice(municipalities)))
    elif place < 0.85:
        for county in rng.sample(counties, rng.choice((1, 1, 1, 1, 2, 3))):
            query.append(("county", county))
        if rng.random() < 0.3:
            query.append(("include_neighbours", "true"))
    if rng.random() < 0.3:
        for ownership in rng.sample(list(Ownership), rng.choice((1, 1, 2))):
            query.append(("ownership", ownership))
    if rng.random() < 0.05:
        for status in rng.sample(list(FacilityStatus), rng.choice((1, 2))):
            query.append(("status", status))
    if rng.random() < 0.25:
        query.append(("min_places", rng.choice((2, 3, 4, 5, 6, 8, 10))))
    if rng.random() < 0.05:
        query.append(("latest_outcome", rng.choice(list(Outcome))))
    if rng.random() < 0.08:
        query.append(("no_serious_decision_years", rng.choice((1, 2, 3, 5))))
    if rng.random() < 0.08:
        query.append(("no_open_requirement", "true"))
    if rng.random() < 0.08:
        query.append(("no_overdue_inspection", "true"))
    query.append(("sort", rng.choices(SORTS, SORT_WEIGHTS)[0]))
    limit = rng.choices(LIMITS, LIMIT_WEIGHTS)[0]
    query.append(("limit", limit))
    pages = rng.random()
    page = 1 if pages < 0.7 else rng.randint(2, 3) if pages < 0.9 else rng.randint(4, 20)
    if page > 1:
        query.append(("offset", (page - 1) * limit))
    return urlencode([(name, str(value)) for name, value in query])


def search_mix(count: int = SEARCH_CANDIDATES) -> list[str]:
    """``count`` different searches from random.Random(SEED): the same list on every run."""
    rng = random.Random(SEED)
    counties = _codes("lan.csv", "lanskod")
    municipalities = _codes("kommuner.csv", "kommunkod")
    found: dict[str, None] = {}
    while len(found) < count:
        found.setdefault(one_search(rng, counties, municipalities))
    return list(found)


def environment(database: Path | str, **extra) -> dict:
    """The app's environment on an SQLite file (the access log in its own file) or on a
    PostgreSQL URL (the access log in the same database, as in production)."""
    on_postgresql = isinstance(database, str)
    env = {
        **os.environ,
        "DATABASE_URL": database if on_postgresql else f"sqlite:///{database}",
        "ACCESS_LOG_DATABASE_URL": "" if on_postgresql else f"sqlite:///{LOG_DB}",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_RATE_LIMIT_PER_MINUTE": "100000000",
        "PYTHONPATH": f"{ROOT}:{BENCH}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }
    return env


def manage(database: Path | str, *arguments: str) -> None:
    subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *arguments],
        env=environment(database),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def counts(database: Path | str) -> tuple[int, int]:
    """Facilities and decisions in an SQLite file or a PostgreSQL database; (0, 0) if none."""
    if isinstance(database, str):
        import psycopg

        connect, error = (lambda: psycopg.connect(database)), psycopg.Error
    elif database.exists():
        connect, error = (lambda: sqlite3.connect(database)), sqlite3.Error
    else:
        return 0, 0
    try:
        with connect() as db:
            facilities, decisions = (
                db.execute(f"SELECT count(*) FROM register_{table}").fetchone()[0]
                for table in ("facility", "decision")
            )
            return facilities, decisions
    except error:
        return 0, 0


def recreate_postgresql_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


TOP_UP = """
import datetime, random
import django
django.setup()
from register import services
from register.codes import DecisionKind, Outcome
from register.models import Decision, Facility
target = int(__import__("sys").argv[1])
missing = target - Decision.objects.count()
ids = list(Facility.objects.values_list("pk", flat=True))
rng = random.Random(6)
outcomes = [Outcome.INGA_BRISTER, Outcome.BRISTER, Outcome.FORELAGGANDE, Outcome.INGA_BRISTER]
batch = []
for number in range(missing):
    batch.append(Decision(
        diarienummer=f"3.9.9-{number + 1}/2019", facility_id=rng.choice(ids),
        kind=DecisionKind.TILLSYN, decision_date=datetime.date(2010, 1, 1)
        + datetime.timedelta(days=rng.randrange(3300)), outcome=rng.choice(outcomes)))
    if len(batch) == 10000:
        services.register_bulk_create(Decision, batch, reason="bench"); batch = []
if batch:
    services.register_bulk_create(Decision, batch, reason="bench")
services.update_query_statistics()
"""


def build() -> float:
    """The SQLite files the steps asked for: the load and the memory step's, the scaling
    step's two sizes."""
    started = time.perf_counter()
    built = []
    if "load" in STEPS or "memory" in STEPS:
        if counts(DB) != (FACILITIES, DECISIONS):
            for path in (DB, LOG_DB):
                path.unlink(missing_ok=True)
            manage(DB, "migrate_all", "-v", "0")
            manage(DB, "seed_demo", "--facilities", str(FACILITIES))
            subprocess.run(
                [PYTHON, "-c", TOP_UP, str(DECISIONS)], env=environment(DB), cwd=ROOT, check=True
            )
        built.append(DB)
    if "scaling" in STEPS:
        if counts(SMALL)[0] != 1000:
            SMALL.unlink(missing_ok=True)
            manage(SMALL, "migrate_all", "-v", "0")
            manage(SMALL, "seed_demo", "--facilities", "1000")
        if counts(LARGE)[0] != 100_000:
            copy_tenfold()
        built += [SMALL, LARGE]
    for database in built:  # data built by an earlier version of the code
        manage(database, "migrate_all", "-v", "0")
    return time.perf_counter() - started


def build_postgresql() -> float:
    """The same data sets on PostgreSQL, built the same way (seed_demo, then decisions through
    the services), as the steps ask for them."""
    started = time.perf_counter()
    if "load" in STEPS:
        if counts(POSTGRESQL) != (FACILITIES, DECISIONS):
            recreate_postgresql_database(POSTGRESQL)
            manage(POSTGRESQL, "migrate_all", "-v", "0")
            manage(POSTGRESQL, "seed_demo", "--facilities", str(FACILITIES))
            subprocess.run(
                [PYTHON, "-c", TOP_UP, str(DECISIONS)],
                env=environment(POSTGRESQL),
                cwd=ROOT,
                check=True,
            )
        manage(POSTGRESQL, "migrate_all", "-v", "0")
    if "scaling" in STEPS:
        if counts(POSTGRESQL_SMALL)[0] != 1000:
            recreate_postgresql_database(POSTGRESQL_SMALL)
            manage(POSTGRESQL_SMALL, "migrate_all", "-v", "0")
            manage(POSTGRESQL_SMALL, "seed_demo", "--facilities", "1000")
        if counts(POSTGRESQL_LARGE)[0] != 100_000:
            copy_tenfold_postgresql()
        for database in (POSTGRESQL_SMALL, POSTGRESQL_LARGE):
            manage(database, "migrate_all", "-v", "0")
            # Both sizes alike for the scaling step: the large one was vacuumed when it was
            # copied, the small one only analysed by seed_demo; and both have had access-log
            # entries since.
            import psycopg

            with psycopg.connect(database, autocommit=True) as db:
                db.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def copy_tenfold() -> None:
    """100,000 facilities: the 10,000 and nine copies of each with new ids, decisions and
    inspections copied along (SQL, without history: only the search is measured on it)."""
    LARGE.unlink(missing_ok=True)
    shutil.copy(DB, LARGE)
    with sqlite3.connect(LARGE) as db:
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE 'api_change_%'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {name}")
        _insert_copies(
            db.execute,
            lambda table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")],
        )
        db.execute("ANALYZE")


def _insert_copies(execute, columns) -> None:
    """The nine copies of every facility with its decisions and inspections, by the same SQL on
    SQLite and PostgreSQL. ``columns(table)``: the table's column names."""
    others = [c for c in columns("register_facility") if c not in ("id", "facility_id")]
    for copy in range(1, 10):
        offset = copy * 1_000_000
        execute(
            f"INSERT INTO register_facility (id, facility_id, {', '.join(others)}) "
            f"SELECT id + {offset}, facility_id || '-K{copy}', {', '.join(others)} "
            "FROM register_facility WHERE id < 1000000"
        )
        for table, key in (
            ("register_decision", "diarienummer"),
            ("register_inspection", "diarienummer"),
        ):
            rest = [c for c in columns(table) if c not in ("id", key, "facility_id")]
            execute(
                f"INSERT INTO {table} ({key}, facility_id, {', '.join(rest)}) "
                f"SELECT {key} || '-K{copy}', facility_id + {offset}, {', '.join(rest)} "
                f"FROM {table} WHERE facility_id < 1000000"
            )


def copy_tenfold_postgresql() -> None:
    """copy_tenfold on PostgreSQL: a copy of the 10,000 (CREATE DATABASE … TEMPLATE), then the
    same nine copies with the same SQL."""
    import psycopg
    from psycopg import sql

    template = urlsplit(POSTGRESQL).path.lstrip("/")
    large = urlsplit(POSTGRESQL_LARGE).path.lstrip("/")
    admin = urlsplit(POSTGRESQL)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(large)))
        db.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(large), sql.Identifier(template)
            )
        )
    with psycopg.connect(POSTGRESQL_LARGE) as db:
        for name, table in db.execute(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname LIKE 'api_change_%'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {name} ON {table}")
        _insert_copies(
            db.execute,
            lambda table: [
                row[0]
                for row in db.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position",
                    [table],
                )
            ],
        )
    with psycopg.connect(POSTGRESQL_LARGE, autocommit=True) as db:
        db.execute("VACUUM ANALYZE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


class Server:
    def __init__(self, command: list[str], env: dict, probe: str):
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for(probe)
        except RuntimeError:
            self.stop()  # never leave a server behind
            raise

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(20)


def gunicorn(app: str, port: int, env: dict) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        app,
        "-w",
        str(WORKERS),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]


def _wrk(urls: list[str], headers: dict, seconds: float, start: int = 0) -> dict:
    """Drives the server with wrk (C, Debian's package): far less of the two cores than a Python
    driver, so the server gets most of them. The paths in the order given, from ``start``; each
    wrk thread from its own place in the list (bench/wrk_report.lua)."""
    base = urlsplit(urls[0])
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        for url in urls:
            parts = urlsplit(url)
            listing.write(parts.path + (f"?{parts.query}" if parts.query else "") + "\n")
    command = [
        WRK,
        "-t",
        str(WRK_THREADS),
        "-c",
        str(CONNECTIONS),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / "wrk_report.lua"),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [f"{base.scheme}://{base.netloc}/", "--", listing.name, str(start), str(WRK_THREADS)]
    try:
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(listing.name)
    figures = json.loads(output.strip().splitlines()[-1])
    return {
        "requests_per_second": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        "requests": figures["requests"],
        "not_2xx_3xx": figures["non_2xx_3xx"],
        "socket_errors": figures["socket_errors"],
    }


def drive(urls: list[str], headers: dict | None = None) -> dict:
    # What earlier steps wrote (the build, the last server's access log, PostgreSQL's own
    # checkpoints) flushed first: the API writes a log entry per request, and a disk busy with
    # someone else's writes slowed it, and only it, to a third in one run.
    os.sync()
    time.sleep(3)
    # Warm up every worker (its connections, its imports) from halfway through the list: the
    # measured run starts at its beginning, not with what the warm-up just read.
    _wrk(urls, headers or {}, 2, start=len(urls) // 2)
    return _wrk(urls, headers or {}, DURATION)


PREPARE = """
import json, random, sys
import django
django.setup()
from django.db import connection
from django.test import Client
from api import endpoints
from register.models import Facility
from register.selectors import facilities_with_marking

token, mix_file, single_query, wanted, facility_count, seed, out = sys.argv[1:8]
# What the search endpoint's page read ran: the selector's queries, with their parameters.
statements = []
page = endpoints._page


def recorded_page(queryset, limit, offset):
    def record(execute, sql, params, many, context):
        statements.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        return page(queryset, limit, offset)


endpoints._page = recorded_page
client = Client(
    HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION="Bearer " + token, raise_request_exception=False
)


def as_read(values):
    return json.loads(json.dumps(values, default=str))  # as the floors will read them


def search(query):
    statements.clear()
    response = client.get("/api/v1/facilities?" + query)
    if response.status_code != 200:
        return {"query": query, "status": response.status_code}
    body = response.json()
    counts, pages = [], []
    for statement in statements:
        is_count = statement[0].lstrip().upper().startswith("SELECT COUNT(*)")
        (counts if is_count else pages).append(statement)
    assert pages and len(counts) <= 1, (query, statements)
    # The last statement read the page.
    rows_sql, rows_params = pages[-1]
    return {
        "query": query, "status": 200, "total": body["total"], "items": len(body["items"]),
        "rows_sql": rows_sql, "rows_params": as_read(rows_params),
        "count_sql": counts[0][0] if counts else None,
        "count_params": as_read(counts[0][1]) if counts else [],
    }


def check(found):
    # The stored SQL, with its parameters as the floors read them, gives the API's total and
    # page; without a count the page is every match, as the API has it.
    with connection.cursor() as cursor:
        cursor.execute(found["rows_sql"], found["rows_params"])
        items = len(cursor.fetchall())
        total = items
        if found["count_sql"] is not None:
            cursor.execute(found["count_sql"], found["count_params"])
            total = cursor.fetchone()[0]
    assert (total, items) == (found["total"], found["items"]), (found, total, items)


with open(mix_file) as candidates:
    queries = candidates.read().splitlines()
# An unknown parameter is ignored, and the search would answer 200 without its filter: every
# name of the mix must be one the endpoint takes.
operation = endpoints.api.get_openapi_schema()["paths"]["/api/v1/facilities"]["get"]
taken = {parameter["name"] for parameter in operation["parameters"]}
given = {pair.split("=")[0] for query in queries for pair in query.split("&")}
assert given <= taken, sorted(given - taken)
searches, refused = [], []
for query in queries:
    if len(searches) == int(wanted):
        break
    found = search(query)
    (searches if found["status"] == 200 else refused).append(found)
assert len(searches) == int(wanted), (len(searches), len(refused))
for found in searches[::10]:
    check(found)
single = search(single_query)
assert single["status"] == 200, single
check(single)
one_sql, one_params = facilities_with_marking(
    Facility.objects.filter(facility_id="FACILITY")
).query.sql_with_params()
# Facilities from all over the register, the same seed on every database.
every = sorted(Facility.objects.values_list("facility_id", flat=True))
facility_ids = random.Random(int(seed)).sample(every, min(int(facility_count), len(every)))
with open(out, "w") as stored:
    json.dump({
        "searches": searches, "refused": refused, "single": single,
        "one_sql": one_sql, "one_params": as_read(list(one_params)), "facility_ids": facility_ids,
    }, stored)
checked = len(searches[::10]) + 1
print(json.dumps({"searches": len(searches), "refused": len(refused), "checked": checked}))
"""


def prepare(database: Path | str, token: str) -> dict:
    """The mix on this database: each search the API answered, with the SQL its selector ran
    the searches it refused, the single search, one facility's SQL and the facilities to ask for."""
    RESULTS.mkdir(exist_ok=True)
    mix = RESULTS / "api-search-mix.txt"
    mix.write_text("\n".join(search_mix()) + "\n")
    leg = "postgresql" if isinstance(database, str) else "sqlite"
    stored = RESULTS / f"api-search-sql-{leg}.json"
    started = time.perf_counter()
    summary = _run_script(
        PREPARE,
        token,
        str(mix),
        SEARCH_QUERY,
        str(SEARCH_MIX),
        str(FACILITY_MIX),
        str(SEED),
        str(stored),
        env=environment(database),
    )
    prepared = json.loads(stored.read_text())
    prepared["file"] = str(stored)
    counted = sum(1 for search in prepared["searches"] if search["count_sql"] is not None)
    prepared["summary"] = {**summary, "counted": counted}
    print(
        f"{leg}: {summary['searches']} searches of the mix answered 200 ({counted} counted), "
        f"{summary['refused']} refused and replaced "
        f"{sorted({r['status'] for r in prepared['refused']})}; {summary['checked']} checked "
        f"against their stored SQL; {len(prepared['facility_ids'])} facilities; "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return prepared


def python(script: str, database: Path | str, *arguments: str) -> str:
    return subprocess.run(
        [PYTHON, "-c", script, *arguments],
        env=environment(database),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


_PLACEHOLDER = re.compile(r"(?<!%)%s")


def named(sql: str, prefix: str) -> str:
    """Django's SQL (``%s`` placeholders, ``%%`` for a percent sign) with named parameters
    :<prefix>0, :<prefix>1, … as Datasette takes them."""
    numbers = iter(range(sql.count("%s")))
    return _PLACEHOLDER.sub(lambda _: f":{prefix}{next(numbers)}", sql).replace("%%", "%")


def _datasette_value(value):
    # Datasette binds every parameter as text: a boolean as the 1 or 0 sqlite3 binds for Django.
    return int(value) if isinstance(value, bool) else value


def datasette_search(search: dict) -> dict:
    """Datasette's query for one search of the mix: the same work as the floors, in the one
    statement Datasette runs per request. The page's SQL; where the API counts, the count SQL
    as a one-row table the page is LEFT JOINed to: counted once, and also when the page is empty
    (a page beyond the last match), as the API and the floors count it."""
    query = {f"r{n}": _datasette_value(value) for n, value in enumerate(search["rows_params"])}
    sql = named(search["rows_sql"], "r")
    if search["count_sql"] is not None:
        sql = (
            f"SELECT counted.*, page.* FROM ({named(search['count_sql'], 'c')}) AS counted "
            f"LEFT JOIN ({sql}) AS page ON 1"
        )
        query.update(
            {f"c{n}": _datasette_value(value) for n, value in enumerate(search["count_params"])}
        )
    return {"sql": sql, "_shape": "array", **query}


def datasette_answer(rows: list[dict]) -> tuple[int, int]:
    """Datasette's total and page size for a search of datasette_search."""
    if rows and "__count" in rows[0]:
        return rows[0]["__count"], sum(1 for row in rows if row["id"] is not None)
    return len(rows), len(rows)


ISSUE_TOKEN = """
import django; django.setup()
from api import services
from register.models import Municipality
client = services.api_client_create(name="Bench", actor=None,
    municipality=Municipality.objects.get(code="0180"))
print(services.api_token_issue(client=client, actor=None)[1])
"""


def issue_token(database: Path | str) -> str:
    return python(ISSUE_TOKEN, database).strip().splitlines()[-1]


SEARCH, FACILITY, ONE_SEARCH = "search", "facility", "one search repeated"


def check_answers(label: str, searches: list[dict], answer) -> None:
    """A few searches of the mix asked of a server: the API's total and page size.
    ``answer(n)``: the server's (total, page size) for search n."""
    counted = [n for n, search in enumerate(searches) if search["count_sql"] is not None]
    uncounted = [n for n, search in enumerate(searches) if search["count_sql"] is None]
    for n in counted[:: max(1, len(counted) // 4)][:4] + uncounted[:2]:
        expected = (searches[n]["total"], searches[n]["items"])
        assert answer(n) == expected, (label, searches[n]["query"], answer(n), expected)


def load_tests(database: Path | str, variants: list[tuple]) -> tuple[list[dict], dict]:
    """Every server on one database: the API in each variant that applies, Datasette (SQLite
    only: it serves SQLite files), the Django floor and the hand-written floor; each over the
    search mix and the facilities, the full API and the hand-written floor also over the single
    search repeated. Their figures, and what the preparation found of the mix."""
    import httpx

    on_postgresql = isinstance(database, str)
    leg = POSTGRESQL_LEG if on_postgresql else SQLITE_LEG
    token = issue_token(database)
    prepared = prepare(database, token)
    searches, facility_ids = prepared["searches"], prepared["facility_ids"]
    results = []

    def run(name, label, server_factory, kinds, headers=None, check=None):
        server = server_factory()
        try:
            if check:
                check_answers(label, searches, check)
            for kind, urls in kinds:
                figures = drive(urls, headers)
                results.append(
                    {"database": leg, "server": label, "variant": name, "request": kind, **figures}
                )
                print(
                    f"{leg:<10} {label:<48} {kind:<19} {figures['requests_per_second']:6.0f} "
                    f"req/s  p50 {figures['p50_ms']:5.1f}  p95 {figures['p95_ms']:5.1f}  "
                    f"p99 {figures['p99_ms']:5.1f} ms  not 2xx/3xx: {figures['not_2xx_3xx']}, "
                    f"socket errors: {figures['socket_errors']}",
                    flush=True,
                )
        finally:
            server.stop()

    authorization = {"Authorization": f"Bearer {token}"}
    for name, label, extra, databases in variants:
        if leg not in databases:
            continue
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        kinds = [
            (SEARCH, [f"{base}/api/v1/facilities?{search['query']}" for search in searches]),
            (FACILITY, [f"{base}/api/v1/facilities/{fid}" for fid in facility_ids]),
        ]
        if name == "full":
            kinds.append((ONE_SEARCH, [f"{base}/api/v1/facilities?{SEARCH_QUERY}"]))

        def api_answer(n, base=base):
            body = httpx.get(
                f"{base}/api/v1/facilities?{searches[n]['query']}", headers=authorization
            ).json()
            return body["total"], len(body["items"])

        run(
            name,
            label,
            lambda base=base, port=port, extra=extra: Server(
                gunicorn("config.wsgi", port, {}),
                environment(database, **extra),
                f"{base}/api/v1/api-info",
            ),
            kinds,
            authorization,
            api_answer,
        )

    if not on_postgresql:
        # Datasette, facet suggestions off, each search's SQL with its count.
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        one_params = prepared["one_params"]
        datasette_searches = [
            f"{base}/api.json?{urlencode(datasette_search(search))}" for search in searches
        ]
        datasette_one = []
        for fid in facility_ids:
            query = {"sql": named(prepared["one_sql"], "p"), "_shape": "array"}
            query.update(
                {
                    f"p{n}": _datasette_value(fid if value == "FACILITY" else value)
                    for n, value in enumerate(one_params)
                }
            )
            datasette_one.append(f"{base}/api.json?{urlencode(query)}")
        run(
            "datasette",
            "Datasette (suggest_facets off)",
            lambda: Server(
                [
                    DATASETTE,
                    "serve",
                    str(database),
                    "-p",
                    str(port),
                    "-h",
                    "127.0.0.1",
                    "--setting",
                    "suggest_facets",
                    "off",
                    "--setting",
                    "sql_time_limit_ms",
                    "5000",
                    "--setting",
                    "max_returned_rows",
                    "1000",
                ],
                environment(database),
                f"{base}/-/versions.json",
            ),
            [(SEARCH, datasette_searches), (FACILITY, datasette_one)],
            check=lambda n: datasette_answer(httpx.get(datasette_searches[n]).json()),
        )

    # The floors: each search's SQL (with its count), through Django's connection, and through
    # the database's driver alone.
    floor_env = {"BENCH_EQUIVALENT": prepared["file"], "BENCH_DB": str(database)}
    driver = (
        ("hand-written psycopg view (floor)", "floors:postgresql_application")
        if on_postgresql
        else ("hand-written sqlite3 view (floor)", "floors:sqlite_application")
    )
    for name, label, app in (
        ("django-floor", "Django minimal JSON view (floor)", "floors:django_application"),
        ("floor", *driver),
    ):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        kinds = [
            (SEARCH, [f"{base}/search?i={n}" for n in range(len(searches))]),
            (FACILITY, [f"{base}/one?facility_id={fid}" for fid in facility_ids]),
        ]
        if name == "floor":
            kinds.append((ONE_SEARCH, [f"{base}/search?i=single"]))

        def floor_answer(n, base=base):
            body = httpx.get(f"{base}/search?i={n}").json()
            return body["total"], len(body["items"])

        run(
            name,
            label,
            lambda app=app, port=port, base=base: Server(
                gunicorn(app, port, {}),
                environment(database, **floor_env),
                f"{base}/search?i=single",
            ),
            kinds,
            check=floor_answer,
        )
    return results, prepared["summary"]


SCALING = """
import json, statistics, sys, time
import django
django.setup()
from django.db import connections
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
urls = ["/api/v1/facilities?" + query for query in json.loads(sys.argv[1])]
databases = json.loads(sys.argv[2])  # label: the default database's NAME
rounds, warm_up, timed = json.loads(sys.argv[3])  # warm_up, timed: passes over the searches
timings = {label: [] for label in databases}
totals = {}
for round_ in range(rounds):
    for label in list(databases)[:: 1 if round_ % 2 == 0 else -1]:
        connections["default"].close()
        connections["default"].settings_dict["NAME"] = databases[label]
        for _ in range(warm_up):
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                # The database switched to answered: the same total for a size in every round.
                total = response.json()["total"]
                assert totals.setdefault((label, url), total) == total
        for _ in range(timed):
            for url in urls:
                started = time.perf_counter()
                response = client.get(url)
                timings[label].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
matches = {label: sum(totals[label, url] for url in urls) for label in databases}
assert len(set(matches.values())) == len(matches), matches  # and the sizes differ
print(json.dumps({
    label: {"median_ms": statistics.median(values), "matches": matches[label]}
    for label, values in timings.items()
}))
"""
# Both sizes in one process, in alternating rounds (1,000 then 100,000, then the other way):
# measured one after the other in two processes, the machine's speed changed between them
# (the same search at 1,000 facilities took 3.5 ms in one run and 6.6 ms in another).
# Warm-up and timed: passes over the SCALING_SEARCHES searches.
SCALING_ROUNDS, SCALING_WARM_UP, SCALING_TIMED = 6, 1, 2


def _database_name(database: Path | str) -> str:
    return str(database) if isinstance(database, Path) else urlsplit(database).path.lstrip("/")


def scaling() -> list[dict]:
    """The search's median time at 1,000 and 100,000 facilities over SCALING_SEARCHES searches
    of the mix."""
    rows = []
    mix = search_mix(SEARCH_MIX)
    searches = json.dumps(mix[:: len(mix) // SCALING_SEARCHES][:SCALING_SEARCHES])
    legs = (
        (SQLITE_LEG, "sqlite", SMALL, LARGE),
        (POSTGRESQL_LEG, "postgresql", POSTGRESQL_SMALL, POSTGRESQL_LARGE),
    )
    repeats = json.dumps([SCALING_ROUNDS, SCALING_WARM_UP, SCALING_TIMED])
    for name, short, small, large in legs:
        if short not in LEGS:
            continue
        sizes = {
            "1,000 facilities": _database_name(small),
            "100,000 facilities": _database_name(large),
        }
        by_size = _run_script(SCALING, searches, json.dumps(sizes), repeats, env=environment(small))
        for label in sizes:
            figures = by_size[label]
            rows.append({"database": name, "data": label, **figures})
            print(
                f"{name} search at {label}: {figures['median_ms']:.2f} ms "
                f"({figures['matches']} matches in {SCALING_SEARCHES} searches)",
                flush=True,
            )
    return rows


def _run_script(script: str, *arguments: str, env: dict) -> dict:
    """Runs ``script`` in a fresh process; the JSON object on its last line of output."""
    output = subprocess.run(
        [PYTHON, "-c", script, *arguments],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


MEMORY = """
import json, resource, sys
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
client.get("/api/v1/api-info")  # Django, the URLs and the middleware loaded: not the export
import api.opendata  # noqa: E402, F401
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
response = client.get(sys.argv[1])
size = 0
for chunk in (response.streaming_content if response.streaming else [response.content]):
    size += len(chunk)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_mb": before / 1024, "peak_mb": after / 1024, "bytes": size}))
"""


def memory() -> list[dict]:
    rows = []
    for file_format in ("csv", "json", "xlsx"):
        started = time.perf_counter()
        figures = _run_script(MEMORY, f"/oppna-data/beslut.{file_format}", env=environment(DB))
        figures.update(format=file_format, seconds=time.perf_counter() - started)
        rows.append(figures)
        print(
            f"export beslut.{file_format}: peak {figures['peak_mb']:.0f} MB "
            f"(before {figures['before_mb']:.0f} MB), {figures['bytes'] / 1e6:.0f} MB out, "
            f"{figures['seconds']:.1f} s",
            flush=True,
        )
    return rows


def main() -> None:
    import logging

    began = time.perf_counter()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    variants = chosen_variants()
    databases = []
    if "sqlite" in LEGS or "memory" in STEPS:
        build_seconds = build()
        print(f"SQLite: {counts(DB)} facilities/decisions, built in {build_seconds:.0f} s")
        if "sqlite" in LEGS:
            databases.append(DB)
    if "postgresql" in LEGS:
        build_seconds = build_postgresql()
        print(
            f"PostgreSQL: {counts(POSTGRESQL)} facilities/decisions, built in {build_seconds:.0f} s"
        )
        databases.append(POSTGRESQL)
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "workers": WORKERS,
        "steps": STEPS,
        "legs": LEGS,
        "variants": [variant[0] for variant in variants],
        "search_mix": SEARCH_MIX,
        "facility_mix": FACILITY_MIX,
    }
    if "load" in STEPS:
        results["load"], results["mix"] = [], {}
        for database in databases:
            rows, summary = load_tests(database, variants)
            results["load"] += rows
            results["mix"][POSTGRESQL_LEG if isinstance(database, str) else SQLITE_LEG] = summary
        results["gains"] = gains(results["load"])
        results["ratios"] = ratios(results["load"])
        print_summary(results)
    if "scaling" in STEPS:
        results["scaling"] = scaling()
        for database in (SQLITE_LEG, POSTGRESQL_LEG):
            pair = [row for row in results["scaling"] if row["database"] == database]
            if pair:
                small, large = pair
                print(
                    f"{database} search 100,000 / 1,000 facilities: "
                    f"{large['median_ms'] / small['median_ms']:.2f}"
                )
    if "memory" in STEPS:
        results["memory"] = memory()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(results, indent=2))
    print(f"bench/api_load.py took {time.perf_counter() - began:.0f} s")


def _find(load: list[dict], database: str, variant: str, request: str) -> dict | None:
    for row in load:
        if (row["database"], row["variant"], row["request"]) == (database, variant, request):
            return row
    return None


def gains(load: list[dict]) -> list[dict]:
    """Each API variant against the full API on the same database and request kind: what the
    piece it turns off gains, full / variant - 1 (full: the mean of its two runs, first and
    last, where both ran)."""
    rows = []
    for database in (SQLITE_LEG, POSTGRESQL_LEG):
        for request in (SEARCH, FACILITY):
            full = _find(load, database, "full", request)
            if full is None:
                continue
            again = _find(load, database, "full-again", request)
            full_rate = full["requests_per_second"]
            if again is not None:
                full_rate = (full_rate + again["requests_per_second"]) / 2
            for name, label, _, _ in API_VARIANTS:
                row = _find(load, database, name, request)
                if row is None:
                    continue
                rows.append(
                    {
                        "database": database,
                        "request": request,
                        "variant": name,
                        "server": label,
                        "requests_per_second": row["requests_per_second"],
                        "p50_ms": row["p50_ms"],
                        "p95_ms": row["p95_ms"],
                        "p99_ms": row["p99_ms"],
                        "gain_percent": None
                        if name in ("full", "full-again")
                        else (full_rate / row["requests_per_second"] - 1) * 100,
                    }
                )
    return rows


def ratios(load: list[dict]) -> list[dict]:
    """The full API's requests/s against the baselines of the same run: Datasette (on the SQLite
    file, for both legs; None where it did not run), the floors on the same database; and the
    targets."""
    rows = []
    for database in (SQLITE_LEG, POSTGRESQL_LEG):
        for request in (SEARCH, FACILITY, ONE_SEARCH):
            api = _find(load, database, "full", request)
            if api is None:
                continue

            def ratio(row, rate=api["requests_per_second"]):
                return None if row is None else rate / row["requests_per_second"]

            datasette = ratio(_find(load, SQLITE_LEG, "datasette", request))
            floor = ratio(_find(load, database, "floor", request))
            rows.append(
                {
                    "database": database,
                    "request": request,
                    "api": api["requests_per_second"],
                    "p99_ms": api["p99_ms"],
                    "datasette": datasette,
                    "floor": floor,
                    "django_floor": ratio(_find(load, database, "django-floor", request)),
                    "target_datasette_4x": None if datasette is None else datasette >= 4,
                    "target_floor_half": None if floor is None else floor >= 0.5,
                    "target_p99_50ms": api["p99_ms"] <= 50,
                }
            )
    return rows


def print_summary(results: dict) -> None:
    def times(value):
        return "   -  " if value is None else f"×{value:5.2f}"

    print("\nEach variant against the full API (gain = full / variant - 1):")
    for row in results["gains"]:
        gain = "" if row["gain_percent"] is None else f"gain {row['gain_percent']:+6.1f} %"
        print(
            f"{row['database']:<10} {row['request']:<8} {row['variant']:<17} "
            f"{row['requests_per_second']:6.0f} req/s  p50 {row['p50_ms']:5.1f}  "
            f"p95 {row['p95_ms']:5.1f}  p99 {row['p99_ms']:5.1f} ms  {gain}"
        )
    print("\nThe full API against the baselines (targets: ×4 Datasette, ×0.5 floor, p99 50 ms):")
    for row in results["ratios"]:
        print(
            f"{row['database']:<10} {row['request']:<19} API {row['api']:6.0f} req/s: "
            f"{times(row['datasette'])} Datasette (SQLite), {times(row['floor'])} hand-written "
            f"floor, {times(row['django_floor'])} Django floor; p99 {row['p99_ms']:.1f} ms",
            flush=True,
        )
    failed = [row for row in results["load"] if row["not_2xx_3xx"] or row["socket_errors"]]
    for row in failed:
        print(
            f"NOT ALL ANSWERED: {row['database']} {row['server']} {row['request']}: "
            f"{row['not_2xx_3xx']} not 2xx/3xx, {row['socket_errors']} socket errors"
        )


if __name__ == "__main__":
    main()
