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
   and drives each with 32 connections (httpx, asyncio) for DURATION seconds: the filtered
   facility search and one facility.
3. Search time in-process (Django test client, the whole API stack) at 1,000 and 100,000
   facilities (the 100,000 are the 10,000 copied ten times, with their decisions).
4. Peak memory (max RSS of a fresh process) of the 150,000-row decision export as CSV, JSON
   and XLSX, against the same process before the export.

The load driver runs on the same two cores as the servers: absolute figures are low, the ratios
in the same run are what to compare. Results go to bench/results/api.json and stdout.
"""

import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
DURATION = float(os.environ.get("BENCH_API_SECONDS", "8"))
CONNECTIONS = 32
WORKERS = 4
FACILITIES, DECISIONS = 10_000, 150_000

SEARCH_QUERY = (
    "facility_type=hvb&child_age=15&county=01&ownership=enskild&ownership=kommunal"
    "&min_places=4&sort=latest_decision&limit=20"
)


def environment(database: Path, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "ACCESS_LOG_DATABASE_URL": f"sqlite:///{LOG_DB}",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_RATE_LIMIT_PER_MINUTE": "100000000",
        "PYTHONPATH": f"{ROOT}:{BENCH}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


def manage(database: Path, *arguments: str) -> None:
    subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *arguments],
        env=environment(database),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def counts(database: Path) -> tuple[int, int]:
    if not database.exists():
        return 0, 0
    try:
        with sqlite3.connect(database) as db:
            return (
                db.execute("SELECT count(*) FROM register_facility").fetchone()[0],
                db.execute("SELECT count(*) FROM register_decision").fetchone()[0],
            )
    except sqlite3.Error:
        return 0, 0


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
        columns = [row[1] for row in db.execute("PRAGMA table_info(register_facility)")]
        others = [c for c in columns if c not in ("id", "facility_id")]
        for copy in range(1, 10):
            offset = copy * 1_000_000
            db.execute(
                f"INSERT INTO register_facility (id, facility_id, {', '.join(others)}) "
                f"SELECT id + {offset}, facility_id || '-K{copy}', {', '.join(others)} "
                "FROM register_facility WHERE id < 1000000"
            )
            for table, key in (
                ("register_decision", "diarienummer"),
                ("register_inspection", "diarienummer"),
            ):
                cols = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
                rest = [c for c in cols if c not in ("id", key, "facility_id")]
                db.execute(
                    f"INSERT INTO {table} ({key}, facility_id, {', '.join(rest)}) "
                    f"SELECT {key} || '-K{copy}', facility_id + {offset}, {', '.join(rest)} "
                    f"FROM {table} WHERE facility_id < 1000000"
                )
        db.execute("ANALYZE")


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


async def _drive(urls: list[str], headers: dict) -> dict:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as client:
        for url in urls[:2]:  # warm up every worker's caches
            for _ in range(WORKERS * 2):
                await client.get(url)
        stop_at = time.perf_counter() + DURATION
        counter = 0

        async def worker():
            nonlocal counter
            while time.perf_counter() < stop_at:
                url = urls[counter % len(urls)]
                counter += 1
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {
        "requests_per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(95),
        "p99_ms": percentile(99),
        "statuses": statuses,
    }


def drive(urls: list[str], headers: dict | None = None) -> dict:
    return asyncio.run(_drive(urls, headers or {}))


def equivalent_sql() -> tuple[str, str, list]:
    """The SQL the API's search runs (from the selector itself), with named parameters for
    Datasette and positional ones for sqlite3; and one facility with its marking."""
    import django

    os.environ.update(environment(DB))
    django.setup()
    from register.models import Facility
    from register.selectors import FacilitySearch, facilities_with_marking, facility_search

    search = FacilitySearch(
        facility_types=("hvb",),
        child_age=15,
        county="01",
        ownerships=("enskild", "kommunal"),
        min_places=4,
        ordering="latest_decision",
    )
    queryset = facility_search(search)[:20]
    sql, params = queryset.query.sql_with_params()
    one = facilities_with_marking(Facility.objects.filter(facility_id="FACILITY"))
    one_sql, one_params = one.query.sql_with_params()
    return sql, one_sql, list(params), list(one_params)


def named(sql: str, count: int) -> str:
    for number in range(count):
        sql = sql.replace("%s", f":p{number}", 1)
    return sql


def issue_token() -> str:
    script = (
        "import django; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from api import services\n"
        "from register.models import Municipality\n"
        "client = services.api_client_create(name='Bench', actor=None,\n"
        "    municipality=Municipality.objects.get(code='0180'))\n"
        "print(services.api_token_issue(client=client, actor=None)[1])\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", script],
        env=environment(DB),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def sample_facility_ids(count: int = 50) -> list[str]:
    with sqlite3.connect(DB) as db:
        return [
            row[0]
            for row in db.execute(
                "SELECT facility_id FROM register_facility ORDER BY id LIMIT ?", (count,)
            )
        ]


def load_tests() -> list[dict]:
    search_sql, one_sql, search_params, one_params = equivalent_sql()
    facility_ids = sample_facility_ids()
    token = issue_token()
    results = []

    def run(label, server_factory, search_urls, facility_urls, headers=None):
        server = server_factory()
        try:
            for kind, urls in (("search", search_urls), ("facility", facility_urls)):
                figures = drive(urls, headers)
                results.append({"server": label, "request": kind, **figures})
                print(
                    f"{label:<34} {kind:<9} {figures['requests_per_second']:8.0f} req/s  "
                    f"p50 {figures['p50_ms']:6.1f}  p95 {figures['p95_ms']:6.1f}  "
                    f"p99 {figures['p99_ms']:6.1f} ms  {figures['statuses']}",
                    flush=True,
                )
        finally:
            server.stop()

    # The API, whole stack.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    run(
        "API (key, disclosure, access log)",
        lambda: Server(
            gunicorn("config.wsgi", port, {}), environment(DB), f"{base}/api/v1/api-info"
        ),
        [f"{base}/api/v1/facilities?{SEARCH_QUERY}"],
        [f"{base}/api/v1/facilities/{fid}" for fid in facility_ids],
        {"Authorization": f"Bearer {token}"},
    )

    # Datasette, facet suggestions off, the same SQL.
    from urllib.parse import urlencode

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    search_query = {"sql": named(search_sql, len(search_params)), "_shape": "array"}
    search_query.update({f"p{n}": value for n, value in enumerate(search_params)})
    datasette_search = f"{base}/api.json?{urlencode(search_query)}"
    datasette_one = []
    for fid in facility_ids:
        query = {"sql": named(one_sql, len(one_params)), "_shape": "array"}
        query.update(
            {f"p{n}": (fid if value == "FACILITY" else value) for n, value in enumerate(one_params)}
        )
        datasette_one.append(f"{base}/api.json?{urlencode(query)}")
    run(
        "Datasette (suggest_facets off)",
        lambda: Server(
            [
                str(BIN / "datasette"),
                "serve",
                str(DB),
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
            environment(DB),
            f"{base}/-/versions.json",
        ),
        [datasette_search],
        datasette_one,
    )

    # The floors: same SQL, through Django's connection, and through sqlite3 alone.
    floor_env = {
        "BENCH_SEARCH_SQL": search_sql,
        "BENCH_SEARCH_PARAMS": json.dumps(search_params),
        "BENCH_ONE_SQL": one_sql,
        "BENCH_ONE_PARAMS": json.dumps(one_params),
        "BENCH_DB": str(DB),
    }
    for label, app in (
        ("Django minimal JSON view (floor)", "floors:django_application"),
        ("hand-written sqlite3 view (floor)", "floors:sqlite_application"),
    ):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        run(
            label,
            lambda app=app, port=port, base=base: Server(
                gunicorn(app, port, {}), environment(DB, **floor_env), f"{base}/search"
            ),
            [f"{base}/search"],
            [f"{base}/one?facility_id={fid}" for fid in facility_ids],
        )
    return results


SCALING = """
import json, statistics, sys, time
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
url = "/api/v1/facilities?" + sys.argv[1]
for _ in range(5):
    assert client.get(url).status_code == 200
timings = []
for _ in range(30):
    started = time.perf_counter()
    client.get(url)
    timings.append((time.perf_counter() - started) * 1000)
print(json.dumps({"median_ms": statistics.median(timings)}))
"""


def scaling() -> list[dict]:
    rows = []
    for label, database in (("1,000 facilities", SMALL), ("100,000 facilities", LARGE)):
        output = subprocess.run(
            [PYTHON, "-c", SCALING, SEARCH_QUERY],
            env=environment(database),
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append({"data": label, **json.loads(output.strip().splitlines()[-1])})
        print(f"search at {label}: {rows[-1]['median_ms']:.1f} ms", flush=True)
    return rows


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
        output = subprocess.run(
            [PYTHON, "-c", MEMORY, f"/oppna-data/beslut.{file_format}"],
            env=environment(DB),
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
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
    print(f"data: {counts(DB)} facilities/decisions, built in {build_seconds:.0f} s", flush=True)
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "load": load_tests(),
        "scaling": scaling(),
        "memory": memory(),
    }
    load = {(row["server"].split(" (")[0], row["request"]): row for row in results["load"]}
    for request in ("search", "facility"):
        api = load[("API", request)]["requests_per_second"]
        ratios = {
            name: api / load[(name, request)]["requests_per_second"]
            for name in ("Datasette", "hand-written sqlite3 view", "Django minimal JSON view")
        }
        print(request, " ".join(f"API / {name}: {ratio:.2f}" for name, ratio in ratios.items()))
    small, large = results["scaling"]
    print(f"search 100,000 / 1,000 facilities: {large['median_ms'] / small['median_ms']:.2f}")
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "api.json").write_text(json.dumps(results, indent=2))
    print(f"bench/api_load.py took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
