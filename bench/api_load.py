"""The API under load, against Datasette and two floors, in the same run on the same SQLite file.

    make bench                      # runs this after the other benchmarks
    .venv/bin/python bench/api_load.py   # on its own (needs the bench extra: datasette)

1. Builds bench/api.sqlite3: seed_demo with 10,000 facilities, then decisions (through
   services.register_bulk_create, with history) up to 150,000. Reused when it already has them.
2. Serves, each with gunicorn on 127.0.0.1 (4 sync workers), one at a time:
   - the API with the whole stack on: a bearer key, the disclosure policy, the access log
     (its own SQLite file), the rate limit (set high: one client makes every request);
   - Datasette on the same file (facet suggestions off), the equivalent SQL as a canned query;
   - a minimal Django JSON view running the same SQL through Django's connection (the
     framework's floor);
   - a hand-written WSGI view running the same SQL through sqlite3 (the floor).
   and drives each with 32 connections (wrk, Debian's package) for DURATION seconds: the filtered
   facility search and one facility.
3. Search time in-process (Django test client, the whole API stack) at 1,000 and 100,000
   facilities (the 100,000 are the 10,000 copied ten times, with their decisions), on SQLite
   and on PostgreSQL; both sizes in one process, in alternating rounds.
4. Peak memory (max RSS of a fresh process) of the 150,000-row decision export as CSV, JSON
   and XLSX, against the same process before the export.

The load driver runs on the same two cores as the servers: absolute figures are low, the ratios
in the same run are what to compare. Results go to bench/results/api.json and stdout.
"""

import json
import os
import platform
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
DB = BENCH / "api.sqlite3"
LOG_DB = BENCH / "api-accesslog.sqlite3"
SMALL = BENCH / "api-1000.sqlite3"
LARGE = BENCH / "api-100000.sqlite3"
DURATION = float(os.environ.get("BENCH_API_SECONDS", "10"))
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CONNECTIONS = 32
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

SEARCH_QUERY = (
    "facility_type=hvb&child_age=15&county=01&ownership=enskild&ownership=kommunal"
    "&min_places=4&sort=latest_decision&limit=20"
)


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
    started = time.perf_counter()
    if counts(DB) != (FACILITIES, DECISIONS):
        for path in (DB, LOG_DB):
            path.unlink(missing_ok=True)
        manage(DB, "migrate_all", "-v", "0")
        manage(DB, "seed_demo", "--facilities", str(FACILITIES))
        subprocess.run(
            [PYTHON, "-c", TOP_UP, str(DECISIONS)], env=environment(DB), cwd=ROOT, check=True
        )
    if counts(SMALL)[0] != 1000:
        SMALL.unlink(missing_ok=True)
        manage(SMALL, "migrate_all", "-v", "0")
        manage(SMALL, "seed_demo", "--facilities", "1000")
    if counts(LARGE)[0] != 100_000:
        copy_tenfold()
    for database in (DB, SMALL, LARGE):  # data built by an earlier version of the code
        manage(database, "migrate_all", "-v", "0")
    return time.perf_counter() - started


def build_postgresql() -> float:
    """The same data set on PostgreSQL, built the same way (seed_demo, then decisions through
    the services)."""
    started = time.perf_counter()
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
    if counts(POSTGRESQL_SMALL)[0] != 1000:
        recreate_postgresql_database(POSTGRESQL_SMALL)
        manage(POSTGRESQL_SMALL, "migrate_all", "-v", "0")
        manage(POSTGRESQL_SMALL, "seed_demo", "--facilities", "1000")
    if counts(POSTGRESQL_LARGE)[0] != 100_000:
        copy_tenfold_postgresql()
    for database in (POSTGRESQL_SMALL, POSTGRESQL_LARGE):
        manage(database, "migrate_all", "-v", "0")
        # Both sizes alike for the scaling step: the large one was vacuumed when it was copied,
        # the small one only analysed by seed_demo; and both have had access-log entries since.
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


def _wrk(urls: list[str], headers: dict, seconds: float) -> dict:
    """Drives the server with wrk (C, Debian's package): far less of the two cores than a Python
    driver, so the server gets most of them."""
    base = urlsplit(urls[0])
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        for url in urls:
            parts = urlsplit(url)
            listing.write(parts.path + (f"?{parts.query}" if parts.query else "") + "\n")
    command = [
        WRK,
        "-t",
        "2",
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
    command += [f"{base.scheme}://{base.netloc}/", "--", listing.name]
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
    _wrk(urls, headers or {}, 2)  # warm up every worker (its caches, its connections)
    return _wrk(urls, headers or {}, DURATION)


EQUIVALENT = """
import json
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from register.models import Facility
from register.selectors import FacilitySearch, facilities_with_marking, facility_search

search = FacilitySearch(
    facility_types=("hvb",), child_age=15, county="01", ownerships=("enskild", "kommunal"),
    min_places=4, ordering="latest_decision",
)
sql, params = facility_search(search)[:20].query.sql_with_params()
one_sql, one_params = facilities_with_marking(
    Facility.objects.filter(facility_id="FACILITY")
).query.sql_with_params()
# The count the API's page needs beside its rows (the database's own text, parameters inlined).
with CaptureQueriesContext(connection) as captured:
    facility_search(search).count()
print(json.dumps({
    "search_sql": sql, "search_params": list(params), "one_sql": one_sql,
    "one_params": list(one_params), "count_sql": captured.captured_queries[-1]["sql"],
    "facility_ids": list(
        Facility.objects.order_by("id").values_list("facility_id", flat=True)[:50]
    ),
}, default=str))
"""


def equivalent_sql(database: Path | str) -> dict:
    """The SQL the API's search runs on this database (from the selector itself) with its count,
    one facility with its marking, and the facilities to ask for."""
    return json.loads(python(EQUIVALENT, database).strip().splitlines()[-1])


def python(script: str, database: Path | str, *arguments: str) -> str:
    return subprocess.run(
        [PYTHON, "-c", script, *arguments],
        env=environment(database),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def named(sql: str, count: int) -> str:
    for number in range(count):
        sql = sql.replace("%s", f":p{number}", 1)
    return sql


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


def load_tests(database: Path | str) -> list[dict]:
    """Every server on one database: the API (whole stack, then nothing kept), Datasette (SQLite
    only: it serves SQLite files), the Django floor and the hand-written floor."""
    on_postgresql = isinstance(database, str)
    leg = "PostgreSQL" if on_postgresql else "SQLite"
    sql = equivalent_sql(database)
    facility_ids = sql["facility_ids"]
    token = issue_token(database)
    results = []

    def run(label, server_factory, search_urls, facility_urls, headers=None):
        server = server_factory()
        try:
            for kind, urls in (("search", search_urls), ("facility", facility_urls)):
                figures = drive(urls, headers)
                results.append({"database": leg, "server": label, "request": kind, **figures})
                print(
                    f"{leg:<10} {label:<42} {kind:<8} {figures['requests_per_second']:6.0f} "
                    f"req/s  p50 {figures['p50_ms']:5.1f}  p95 {figures['p95_ms']:5.1f}  "
                    f"p99 {figures['p99_ms']:5.1f} ms  not 2xx/3xx: {figures['not_2xx_3xx']}, "
                    f"socket errors: {figures['socket_errors']}",
                    flush=True,
                )
        finally:
            server.stop()

    # The API, whole stack; then without the reads it keeps between requests (every request
    # runs its queries: what a search or a facility costs the first time after a write).
    for label, extra in (
        ("API (key, disclosure, access log)", {}),
        ("API, nothing kept (REGISTER_CACHE_SIZE=0)", {"REGISTER_CACHE_SIZE": "0"}),
    ):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        run(
            label,
            lambda base=base, port=port, extra=extra: Server(
                gunicorn("config.wsgi", port, {}),
                environment(database, **extra),
                f"{base}/api/v1/api-info",
            ),
            [f"{base}/api/v1/facilities?{SEARCH_QUERY}"],
            [f"{base}/api/v1/facilities/{fid}" for fid in facility_ids],
            {"Authorization": f"Bearer {token}"},
        )

    if not on_postgresql:
        # Datasette, facet suggestions off, the same SQL.
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        search_params, one_params = sql["search_params"], sql["one_params"]
        search_query = {"sql": named(sql["search_sql"], len(search_params)), "_shape": "array"}
        search_query.update({f"p{n}": value for n, value in enumerate(search_params)})
        datasette_search = f"{base}/api.json?{urlencode(search_query)}"
        datasette_one = []
        for fid in facility_ids:
            query = {"sql": named(sql["one_sql"], len(one_params)), "_shape": "array"}
            query.update(
                {
                    f"p{n}": (fid if value == "FACILITY" else value)
                    for n, value in enumerate(one_params)
                }
            )
            datasette_one.append(f"{base}/api.json?{urlencode(query)}")
        run(
            "Datasette (suggest_facets off)",
            lambda: Server(
                [
                    str(BIN / "datasette"),
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
            [datasette_search],
            datasette_one,
        )

    # The floors: the same SQL (with its count), through Django's connection, and through the
    # database's driver alone.
    floor_env = {
        "BENCH_SEARCH_SQL": sql["search_sql"],
        "BENCH_SEARCH_PARAMS": json.dumps(sql["search_params"]),
        "BENCH_COUNT_SQL": sql["count_sql"],
        "BENCH_ONE_SQL": sql["one_sql"],
        "BENCH_ONE_PARAMS": json.dumps(sql["one_params"]),
        "BENCH_DB": str(database),
    }
    driver = (
        ("hand-written psycopg view (floor)", "floors:postgresql_application")
        if on_postgresql
        else ("hand-written sqlite3 view (floor)", "floors:sqlite_application")
    )
    for label, app in (("Django minimal JSON view (floor)", "floors:django_application"), driver):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        run(
            label,
            lambda app=app, port=port, base=base: Server(
                gunicorn(app, port, {}), environment(database, **floor_env), f"{base}/search"
            ),
            [f"{base}/search"],
            [f"{base}/one?facility_id={fid}" for fid in facility_ids],
        )
    return results


SCALING = """
import json, statistics, sys, time
import django
django.setup()
from django.db import connections
from django.test import Client
from api import endpoints
client = Client(HTTP_HOST="127.0.0.1")
url = "/api/v1/facilities?" + sys.argv[1]
databases = json.loads(sys.argv[2])  # label: the default database's NAME
rounds, warm_up, timed = json.loads(sys.argv[3])
timings = {label: [] for label in databases}
totals = {}
for round_ in range(rounds):
    for label in list(databases)[:: 1 if round_ % 2 == 0 else -1]:
        connections["default"].close()
        connections["default"].settings_dict["NAME"] = databases[label]
        for kept in (endpoints._kept_pages, endpoints._kept_facilities):
            kept._reads.clear()  # nothing the other database's requests kept
        for _ in range(warm_up):
            response = client.get(url)
            assert response.status_code == 200
        # The database switched to answered: the same total for a size in every round.
        assert totals.setdefault(label, response.json()["total"]) == response.json()["total"]
        for _ in range(timed):
            started = time.perf_counter()
            response = client.get(url)
            timings[label].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
assert len(set(totals.values())) == len(totals), totals  # and the sizes differ
print(json.dumps({
    label: {"median_ms": statistics.median(values), "matches": totals[label]}
    for label, values in timings.items()
}))
"""
# Both sizes in one process, in alternating rounds (1,000 then 100,000, then the other way):
# measured one after the other in two processes, the machine's speed changed between them
# (the same search at 1,000 facilities took 3.5 ms in one run and 6.6 ms in another).
SCALING_ROUNDS, SCALING_WARM_UP, SCALING_TIMED = 6, 3, 10


def _database_name(database: Path | str) -> str:
    return str(database) if isinstance(database, Path) else urlsplit(database).path.lstrip("/")


def scaling() -> list[dict]:
    """The search's median time at 1,000 and 100,000 facilities, kept (as served between writes)
    and with nothing kept (every request runs its queries, as the first one after a write)."""
    rows = []
    legs = (("SQLite", SMALL, LARGE), ("PostgreSQL", POSTGRESQL_SMALL, POSTGRESQL_LARGE))
    repeats = json.dumps([SCALING_ROUNDS, SCALING_WARM_UP, SCALING_TIMED])
    for name, small, large in legs:
        sizes = {
            "1,000 facilities": _database_name(small),
            "100,000 facilities": _database_name(large),
        }
        for kept, extra in (("kept", {}), ("nothing kept", {"REGISTER_CACHE_SIZE": "0"})):
            by_size = _run_script(
                SCALING, SEARCH_QUERY, json.dumps(sizes), repeats, env=environment(small, **extra)
            )
            for label in sizes:
                figures = by_size[label]
                rows.append({"database": name, "data": label, "kept": kept, **figures})
                print(
                    f"{name} search at {label}, {kept}: {figures['median_ms']:.2f} ms "
                    f"({figures['matches']} matches)",
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
    build_seconds = build()
    print(f"SQLite: {counts(DB)} facilities/decisions, built in {build_seconds:.0f} s", flush=True)
    build_seconds = build_postgresql()
    print(
        f"PostgreSQL: {counts(POSTGRESQL)} facilities/decisions, built in {build_seconds:.0f} s",
        flush=True,
    )
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "workers": WORKERS,
        "load": load_tests(DB) + load_tests(POSTGRESQL),
        "scaling": scaling(),
        "memory": memory(),
    }
    results["ratios"] = ratios(results["load"])
    for row in results["ratios"]:
        print(
            f"{row['database']:<10} {row['request']:<8} API {row['api']:6.0f} req/s: "
            f"×{row['datasette']:.2f} Datasette (SQLite), ×{row['floor']:.2f} hand-written floor, "
            f"×{row['django_floor']:.2f} Django floor; p99 {row['p99_ms']:.1f} ms; "
            f"nothing kept ×{row['nothing_kept_datasette']:.2f} Datasette, "
            f"×{row['nothing_kept_floor']:.2f} floor",
            flush=True,
        )
    for database in ("SQLite", "PostgreSQL"):
        for kept in ("kept", "nothing kept"):
            small, large = (
                row
                for row in results["scaling"]
                if (row["database"], row["kept"]) == (database, kept)
            )
            print(
                f"{database} search 100,000 / 1,000 facilities, {kept}: "
                f"{large['median_ms'] / small['median_ms']:.2f}"
            )
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "api.json").write_text(json.dumps(results, indent=2))
    print(f"bench/api_load.py took {time.perf_counter() - began:.0f} s")


def ratios(load: list[dict]) -> list[dict]:
    """The API's requests/s against the baselines of the same run: Datasette (on the SQLite
    file, for both legs), the floors on the same database."""

    def rate(database, prefix, request):
        for row in load:
            if (row["database"], row["request"]) == (database, request) and row[
                "server"
            ].startswith(prefix):
                return row
        raise KeyError((database, prefix, request))

    rows = []
    for database in ("SQLite", "PostgreSQL"):
        for request in ("search", "facility"):
            api = rate(database, "API (", request)
            cold = rate(database, "API, nothing kept", request)["requests_per_second"]
            datasette = rate("SQLite", "Datasette", request)["requests_per_second"]
            floor = rate(database, "hand-written", request)["requests_per_second"]
            django_floor = rate(database, "Django minimal", request)["requests_per_second"]
            rows.append(
                {
                    "database": database,
                    "request": request,
                    "api": api["requests_per_second"],
                    "p99_ms": api["p99_ms"],
                    "datasette": api["requests_per_second"] / datasette,
                    "floor": api["requests_per_second"] / floor,
                    "django_floor": api["requests_per_second"] / django_floor,
                    "nothing_kept_datasette": cold / datasette,
                    "nothing_kept_floor": cold / floor,
                }
            )
    return rows


if __name__ == "__main__":
    main()
