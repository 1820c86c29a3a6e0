"""The access log's review report on a year of look-ups: how long it takes next to reading the
same events once, in the same run.

    make bench            # after seed_demo has built bench/bench.sqlite3
    DATABASE_URL=... .venv/bin/python bench/access_log_review.py

The log gets a file of its own (bench/accesslog-review.sqlite3, rebuilt each run): a year of
look-ups by BENCH_LOG_USERS (90) municipal users across the kommuner with demo homes, with the
planted former employee's 399 look-ups, from access/log_generator.py. The report must find that
one user; its time is given for the default 30 days and for the whole year, next to two floors
over the same period: counting the period's events, and reading the columns the report uses of
every event it looks at (a year back for long patterns, whatever the period).
"""

import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{BENCH_DIR / 'bench.sqlite3'}")
LOG_FILE = BENCH_DIR / "accesslog-review.sqlite3"
os.environ["ACCESS_LOG_DATABASE_URL"] = f"sqlite:///{LOG_FILE}"
USERS = int(os.environ.get("BENCH_LOG_USERS", "90"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from access.log_generator import LogUser, generate_access_log  # noqa: E402
from access.models import AccessEvent  # noqa: E402
from access.review import LONG_LOOKBACK_DAYS, Kind, review_access_log  # noqa: E402
from register.models import Facility  # noqa: E402


def build_log(end: datetime.datetime) -> tuple[int, LogUser]:
    for path in BENCH_DIR.glob("accesslog-review.sqlite3*"):
        path.unlink()
    call_command("migrate", database="accesslog", verbosity=0)
    municipalities = list(
        Facility.objects.order_by("municipality").values_list("municipality", flat=True).distinct()
    )
    users = [
        LogUser(
            user_id=10_000 + n,
            username=f"handlaggare.{n:03d}@kommun.example",
            municipality_code=municipalities[n % len(municipalities)],
        )
        for n in range(USERS)
    ]
    result = generate_access_log(
        users=users, start=end - datetime.timedelta(days=365), end=end, seed=2026
    )
    return result.events, result.planted


def timed(function) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    end = timezone.now()
    started = time.perf_counter()
    events, planted = build_log(end)
    built = time.perf_counter() - started
    print(
        f"# Access-log review report — {events} events of {USERS + 1} users over a year "
        f"(written in {built:.0f} s), SQLite file of its own, median of {RUNS} runs"
    )
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print()
    print(
        "| period | events | count (floor) s | read a year of events (floor) s | report s | "
        "report × read | planted user found |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, days in (("30 days (the default)", 30), ("one year", 365)):
        start = end - datetime.timedelta(days=days)
        period = AccessEvent.objects.filter(at__gte=start, at__lt=end)
        count_time, count = timed(period.count)
        # The report looks a year back for long patterns, whatever the period: so does the floor.
        looked_at = AccessEvent.objects.filter(
            at__gte=min(start, end - datetime.timedelta(days=LONG_LOOKBACK_DAYS)), at__lt=end
        )
        read_time, _rows = timed(
            lambda looked_at=looked_at: list(
                looked_at.values_list("user_id", "at", "action", "object_id", "municipality_code")
            )
        )
        report_time, findings = timed(lambda start=start: review_access_log(start=start, end=end))
        found = (
            any(f.user_id == planted.user_id and f.kind == Kind.LONG_PATTERN for f in findings)
            if days == 365
            else any(f.user_id == planted.user_id for f in findings)
        )
        print(
            f"| {label} | {count} | {count_time:.3f} | {read_time:.3f} | {report_time:.3f} | "
            f"{report_time / read_time:.1f} | {'yes' if found else 'NO'} |"
        )


if __name__ == "__main__":
    main()
