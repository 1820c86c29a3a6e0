"""Facility search on the demo data: server time and query count, against baselines measured in
the same run on the same database.

    make bench            # builds bench/bench.sqlite3 with seed_demo, then runs this
    DATABASE_URL=... .venv/bin/python bench/search.py   # on another database

Baselines: (1) the plainest list of the same facilities (select_related only, no filters, no
markings) — the floor any search pays; (2) the search with no filters (markings only).
"""

import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from register.models import Decision, Facility  # noqa: E402
from register.selectors import FacilitySearch, facility_search  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "30"))

ALL_FILTERS = FacilitySearch(
    text="gården",
    facility_types=("hvb", "stodboende"),
    target_groups=("npf",),
    child_age=15,
    gender="flickor",
    county="01",
    ownerships=("enskild", "kommunal"),
    statuses=("aktiv",),
    min_places=4,
    latest_outcomes=("inga_brister", "brister"),
    ordering="latest_decision",
)
WIDE = FacilitySearch(facility_types=("hvb",), child_age=15, ordering="name")


def measure(label: str, run) -> dict:
    run()  # warm caches
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        rows = run()
    return {
        "label": label,
        "median_ms": statistics.median(timings),
        "p95_ms": sorted(timings)[int(0.95 * (len(timings) - 1))],
        "queries": len(queries),
        "rows": rows,
    }


def main() -> None:
    facilities = Facility.objects.count()
    decisions = Decision.objects.count()
    if not facilities:
        sys.exit("No facilities: run seed_demo first (make bench does).")

    def floor():
        return len(list(Facility.objects.select_related("provider", "municipality__county")))

    results = [
        measure("baseline: all facilities, no filters, no markings", floor),
        measure(
            "search: no filters (markings only)",
            lambda: len(list(facility_search(FacilitySearch(statuses=())))),
        ),
        measure("search: type + age (wide result)", lambda: len(list(facility_search(WIDE)))),
        measure("search: all filters", lambda: len(list(facility_search(ALL_FILTERS)))),
        measure(
            "search: all filters + count",
            lambda: (
                facility_search(ALL_FILTERS).count(),
                len(list(facility_search(ALL_FILTERS)[:20])),
            )[1],
        ),
    ]
    base = results[0]["median_ms"]
    print(
        f"# Facility search benchmark — {connection.vendor}, {facilities} facilities, "
        f"{decisions} decisions, {REPEATS} runs each"
    )
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print()
    print("| query | median ms | p95 ms | × baseline | queries | rows |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for result in results:
        print(
            f"| {result['label']} | {result['median_ms']:.1f} | {result['p95_ms']:.1f} | "
            f"{result['median_ms'] / base:.2f} | {result['queries']} | {result['rows']} |"
        )


if __name__ == "__main__":
    main()
