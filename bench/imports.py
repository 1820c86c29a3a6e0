"""``import_decisions`` of 100,000 decisions (with their inspections) on the demo facilities, on
SQLite and on PostgreSQL: the whole run, how long the write transaction held the lock, and how
long another process's small write (a login's session) waited meanwhile.

    make bench                                    # with the other benchmarks
    .venv/bin/python bench/imports.py             # alone; BENCH_IMPORT_ROWS=4000 for a quick run
    BENCH_IMPORT_LEGS=sqlite .venv/bin/python bench/imports.py

Each leg builds a fresh database of its own (migrate_all, seed_demo: 1,100 facilities and about
6,000 decisions), writes the file from those facilities (register.demo.decision_import_rows,
deterministic) as CSV and XLSX, then times, each in a process of its own as an operator runs it:
the CSV imported (all new), the same CSV again (nothing to change), and the XLSX on another fresh
database. While each import runs a probe process writes a session row every 50 ms, as a login
does, and records how long each write waited for the lock. Target: under 60 s for the 100,000
decisions on SQLite, on the benchmark machine (x86_64, 2 cores); a probe never waits for seconds.
"""

import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
LEGS = os.environ.get("BENCH_IMPORT_LEGS", "sqlite,postgresql").split(",")
SQLITE_DB = BENCH / "imports.sqlite3"
SQLITE_LOG_DB = BENCH / "imports-accesslog.sqlite3"
POSTGRESQL = (
    urlsplit(
        os.environ.get(
            "BENCH_POSTGRES_URL", "postgres://hvb:hvb-ci-password@127.0.0.1:5432/hvb_bench"
        )
    )
    ._replace(path="/hvb_bench_imports")
    .geturl()
)
TARGET_SECONDS = 60

GENERATE = """
import csv, sys
import django
django.setup()
from django.utils import timezone
from openpyxl import Workbook
from register.demo import decision_import_rows
from register.imports import DECISION_COLUMNS
from register.models import Facility

rows = decision_import_rows(
    facilities=list(Facility.objects.select_related("provider")),
    count=int(sys.argv[1]),
    today=timezone.localdate(),
)
with open(sys.argv[2], "w", newline="", encoding="utf-8") as file:
    writer = csv.DictWriter(file, fieldnames=list(DECISION_COLUMNS), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
workbook = Workbook(write_only=True)
sheet = workbook.create_sheet()
sheet.append(list(DECISION_COLUMNS))
for row in rows:
    sheet.append([row.get(column, "") for column in DECISION_COLUMNS])
workbook.save(sys.argv[3])
"""

# A login's write, every 50 ms until the stop file appears: how long each waited, in ms.
PROBE = """
import pathlib, sys, time
import django
django.setup()
from django.contrib.sessions.backends.db import SessionStore

stop, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
waits, failed = [], 0
while not stop.exists():
    started = time.perf_counter()
    try:
        session = SessionStore()
        session["probe"] = started
        session.create()
        session.delete()
    except Exception:  # "database is locked": waited out the busy timeout
        failed += 1
    waits.append((time.perf_counter() - started) * 1000)
    time.sleep(0.05)
out.write_text(f"{failed} " + " ".join(f"{wait:.1f}" for wait in waits))
"""


def environment(database: str) -> dict:
    on_sqlite = database.startswith("sqlite:")
    return {
        **os.environ,
        "DATABASE_URL": database,
        "ACCESS_LOG_DATABASE_URL": f"sqlite:///{SQLITE_LOG_DB}" if on_sqlite else "",
        "DEBUG": "false",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "IMPORT_MAX_ROWS": str(max(ROWS, 200000)),
    }


def fresh_database(database: str) -> None:
    if database.startswith("sqlite:"):
        for path in BENCH.glob("imports*.sqlite3*"):
            path.unlink()
    else:
        import psycopg
        from psycopg import sql

        parts = urlsplit(database)
        name = parts.path.lstrip("/")
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    for command in (["migrate_all", "-v", "0"], ["seed_demo"]):
        subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), *command],
            env=environment(database),
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def timed_import(database: str, path: Path, work: Path) -> dict:
    """Run ``import_decisions`` as an operator would, with the probe writing beside it."""
    stop, waits_file = work / "stop", work / "waits"
    stop.unlink(missing_ok=True)
    probe = subprocess.Popen(
        [PYTHON, "-c", PROBE, str(stop), str(waits_file)], env=environment(database), cwd=ROOT
    )
    time.sleep(2)  # the probe is set up and writing
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "import_decisions", str(path)],
        env=environment(database),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    stop.touch()
    probe.wait(timeout=60)
    if result.returncode:
        sys.exit(f"import_decisions failed:\n{result.stderr[-3000:]}")
    failed, *waits = waits_file.read_text().split()
    waits = [float(wait) for wait in waits]
    lock = re.search(r"skrivtransaktion: ([\d.]+) s", result.stdout)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "write_seconds": float(lock.group(1)) if lock else 0.0,
        "summary": " · ".join(
            line for line in result.stdout.splitlines() if ": " in line and "nya" in line
        ),
        "probe_writes": len(waits),
        "probe_median_ms": statistics.median(waits) if waits else 0.0,
        "probe_max_ms": max(waits, default=0.0),
        "probe_failed": int(failed),
    }


def decision_count(database: str) -> int:
    if database.startswith("sqlite:"):
        with sqlite3.connect(SQLITE_DB) as db:
            return db.execute("SELECT count(*) FROM register_decision").fetchone()[0]
    import psycopg

    with psycopg.connect(database) as db:
        return db.execute("SELECT count(*) FROM register_decision").fetchone()[0]


def run_leg(name: str, database: str, work: Path) -> list[tuple[str, dict]]:
    print(f"\n{name}: building the demo database and the {ROWS:,}-row files", flush=True)
    fresh_database(database)
    csv_path, xlsx_path = work / "beslut.csv", work / "beslut.xlsx"
    subprocess.run(
        [PYTHON, "-c", GENERATE, str(ROWS), str(csv_path), str(xlsx_path)],
        env=environment(database),
        cwd=ROOT,
        check=True,
    )
    before = decision_count(database)
    results = [("CSV, all new", timed_import(database, csv_path, work))]
    assert decision_count(database) == before + ROWS, "not every decision was written"
    again = timed_import(database, csv_path, work)
    assert f"beslut: 0 nya, 0 ändrade, {ROWS} oförändrade" in again["summary"], again
    results.append(("CSV, same file again", again))
    fresh_database(database)
    results.append(("XLSX, all new", timed_import(database, xlsx_path, work)))
    megabytes = [path.stat().st_size / 2**20 for path in (csv_path, xlsx_path)]
    print(f"{name}: files CSV {megabytes[0]:.1f} MiB, XLSX {megabytes[1]:.1f} MiB")
    return results


def main() -> None:
    print(
        f"import_decisions, {ROWS:,} decisions — {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    legs = {
        "sqlite": ("SQLite", f"sqlite:///{SQLITE_DB}"),
        "postgresql": ("PostgreSQL", POSTGRESQL),
    }
    table = []
    with tempfile.TemporaryDirectory() as directory:
        for leg in LEGS:
            name, database = legs[leg]
            for label, result in run_leg(name, database, Path(directory)):
                table.append((name, label, result))
                print(f"  {label}: {result['seconds']:.1f} s ({result['summary']})", flush=True)
    print(
        "\n| database | import | total s | CPU s | write transaction s | probe writes | "
        "probe median ms | probe max ms | probe failed |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, label, r in table:
        print(
            f"| {name} | {label} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
            f"{r['write_seconds']:.1f} | "
            f"{r['probe_writes']} | {r['probe_median_ms']:.1f} | {r['probe_max_ms']:.0f} | "
            f"{r['probe_failed']} |"
        )
    slow = [
        (name, label)
        for name, label, r in table
        if name == "SQLite" and "new" in label and r["seconds"] > TARGET_SECONDS * ROWS / 100000
    ]
    verdict = f"missed {slow}" if slow else "met"
    print(f"\ntarget (< {TARGET_SECONDS} s for 100,000 on SQLite): {verdict}")


if __name__ == "__main__":
    main()
