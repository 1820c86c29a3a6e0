"""What one access-log entry costs to write, in-process: the hot path's INSERT alone, without the
page around it (bench/access_log_load.py measures the pages, and on a busy machine its noise is
larger than an entry's cost).

    .venv/bin/python bench/access_log_insert.py                  # SQLite, files in a temp folder
    DATABASE_URL=postgres://... .venv/bin/python bench/access_log_insert.py

1. One process writes BENCH_ENTRIES entries through access.log.record, one after another, on
   its kept connection in autocommit (as a worker between requests): median and p99 per entry.
2. BENCH_PROCESSES processes write as fast as they can for BENCH_SECONDS, each on a connection of
   its own: entries per second together, the contention of many workers on one log.
Then, where the code has one, verify_access_log over everything written (the chain unforked).
On PostgreSQL the database named by DATABASE_URL is migrated and its log written to (not
emptied afterwards: entries younger than a year cannot be removed).
"""

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_folder = tempfile.mkdtemp(prefix="bench-access-log-insert-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_folder}/db.sqlite3")
if os.environ["DATABASE_URL"].startswith("sqlite"):
    os.environ.setdefault("ACCESS_LOG_DATABASE_URL", f"sqlite:///{_folder}/accesslog.sqlite3")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from access import log  # noqa: E402
from access.models import AccessEvent  # noqa: E402

ENTRIES = int(os.environ.get("BENCH_ENTRIES", "3000"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))


class _User:
    """A signed-in municipal user as access.log.record reads one."""

    is_authenticated = True
    pk = 4711
    account = type("Account", (), {"municipality_id": "0880", "role": "kommun_anvandare"})()

    def get_username(self) -> str:
        return "bench.insert@kommun.example"


def _write(count: int, marker: str) -> list[float]:
    user = _User()
    timings = []
    for number in range(count):
        started = time.perf_counter()
        log.record(
            None,
            AccessEvent.Action.FACILITY_VIEW,
            user=user,
            object_type="facility",
            object_id=f"HVB-{number % 1000:04d}",
            fields=("manager_name", "manager_phone"),
            detail=f"bench={marker}{number}",
        )
        timings.append(time.perf_counter() - started)
    return timings


def _writer(deadline: float, results, number: int) -> None:
    connections.close_all()  # a connection of this process's own
    written = 0
    while time.time() < deadline:
        _write(50, f"p{number}-")
        written += 50
    results.put(written)
    connections.close_all()


def main() -> None:
    call_command("migrate_all", verbosity=0)
    from access.roles import role_of  # noqa: F401 (imported before timing)

    _write(200, "warm")  # connection opened, statement prepared
    timings = _write(ENTRIES, "seq")
    connections.close_all()

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    deadline = time.time() + SECONDS
    processes = [
        context.Process(target=_writer, args=(deadline, results, n)) for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    written = sum(results.get() for _ in processes)
    for process in processes:
        process.join()

    vendor = connections[settings.ACCESS_LOG_DATABASE].vendor
    micro = sorted(t * 1e6 for t in timings)
    print(f"# access-log INSERT in-process — {vendor}, log database {settings.ACCESS_LOG_DATABASE}")
    print(
        f"- one process, {ENTRIES} entries: median {statistics.median(micro):.0f} µs, "
        f"p99 {micro[int(0.99 * (len(micro) - 1))]:.0f} µs per entry"
    )
    print(
        f"- {PROCESSES} processes for {SECONDS:.0f} s: {written} entries, "
        f"{written / SECONDS:.0f} entries/s together"
    )
    try:
        from io import StringIO

        out = StringIO()
        call_command("verify_access_log", stdout=out)
        print(f"- verify_access_log: {out.getvalue().strip()}")
    except Exception as error:  # the code before the chain has no such command
        print(f"- verify_access_log: {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
