"""Server time of the portal pages on the demo data, against floors measured in the same run.

    make bench            # builds bench/bench.sqlite3 with seed_demo, then runs this
    DATABASE_URL=... .venv/bin/python bench/pages.py

Each page is requested in-process through Django's test client (the whole middleware stack,
template rendering, no network). Floors: (1) a 404 through the same stack (routing, middleware,
one query); (2) the search selector alone, fetching one page of 20 and its count, no rendering.

The search and facility pages are measured over many different requests, not one URL repeated:
SEARCHES is a fixed set of searches a worker makes (län, age, gender, type, sorting), and the
facility page is measured over FACILITY_SAMPLE facilities spread over the register, besides the
one with the longest history. The searches use only parameters the portal has had since before
issue 16 (old code ignores the new ones), so the same script measures before and after; the
searches with the supervision filters are added where the code has them.
"""

import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from register.models import Facility, Provider  # noqa: E402
from register.selectors import FacilitySearch, facility_search  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "30"))
FACILITY_SAMPLE = int(os.environ.get("BENCH_FACILITIES", "60"))
SEARCH_URL = "/?typ=hvb&alder=15&lan=01&status=aktiv&sortera=latest_decision"
# The selector's search: FacilitySearch.county became counties with issue 16.
_COUNTY = (
    {"counties": ("01",)} if "counties" in FacilitySearch.__dataclass_fields__ else {"county": "01"}
)
SEARCH = FacilitySearch(
    facility_types=("hvb",), child_age=15, ordering="latest_decision", **_COUNTY
)
HAS_SUPERVISION_FILTERS = "no_unresolved_requirement" in FacilitySearch.__dataclass_fields__


def searches() -> list[str]:
    """Many different searches, as workers make them: each län, ages 8–17, either gender, with
    and without a type, in each ordering (deterministic: the same list every run)."""
    counties = ["01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13", "14"]
    counties += ["17", "18", "19", "20", "21", "22", "23", "24", "25", ""]
    orderings = ["name", "latest_decision", "municipality"]
    urls = []
    for index, county in enumerate(counties):
        for variant in range(3):
            parts = [f"alder={8 + (index + variant * 3) % 10}"]
            if county:
                parts.append(f"lan={county}")
            parts.append(f"kon={('flickor', 'pojkar', '')[variant]}")
            if variant != 1:
                parts.append("typ=hvb")
            parts.append(f"sortera={orderings[(index + variant) % 3]}")
            urls.append("/?" + "&".join(parts))
    return urls


def supervision_searches() -> list[str]:
    """The searches of issue 16: a län with its neighbours and the supervision filters."""
    urls = []
    for index, url in enumerate(searches()):
        if "lan=" not in url:
            continue
        extra = ["grannlan=on", f"utan_allvarligt={(1, 2, 3, 5)[index % 4]}"]
        if index % 2:
            extra.append("utan_krav=on")
        if index % 3 == 0:
            extra.append("inspekterad=on")
        urls.append(url + "&" + "&".join(extra))
    return urls


def measure(label: str, run) -> dict:
    run()  # warm caches and templates
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        run()
    return {
        "label": label,
        "median_ms": statistics.median(timings),
        "p95_ms": sorted(timings)[int(0.95 * (len(timings) - 1))],
        "queries": len(queries),
    }


def measure_each(label: str, client: Client, urls: list[str]) -> dict:
    """Each URL once as warm-up, then every URL in turn, REPEATS rounds: the median over all
    requests, and the most queries any one of them made."""
    for url in urls:
        get(client, url)()
    timings = []
    for _ in range(REPEATS):
        for url in urls:
            started = time.perf_counter()
            get(client, url)()
            timings.append((time.perf_counter() - started) * 1000)
    most_queries = 0
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            get(client, url)()
        most_queries = max(most_queries, len(queries))
    return {
        "label": f"{label} ({len(urls)} different)",
        "median_ms": statistics.median(timings),
        "p95_ms": sorted(timings)[int(0.95 * (len(timings) - 1))],
        "queries": most_queries,
    }


def get(client: Client, url: str, status: int = 200):
    def run():
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)

    return run


def bench_user():
    """A social worker of the first kommun with demo homes, allowlisted (written to the bench
    database; the benchmark database holds demo data only)."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from access.models import Account, AllowlistEntry

    email = "bench.user@example.com"
    municipality_id = Facility.objects.order_by("id").values_list("municipality", flat=True)[0]
    user, _created = get_user_model().objects.get_or_create(username=email, email=email)
    Account.objects.update_or_create(
        user=user, defaults={"role": "kommun_anvandare", "municipality_id": municipality_id}
    )
    now = timezone.now()
    AllowlistEntry.objects.filter(email=email).update(revoked_at=now)
    AllowlistEntry.objects.create(
        email=email,
        municipality_id=municipality_id,
        confirmed_at=now,
        expires_at=now + datetime.timedelta(days=365),
    )
    return user


def main() -> None:
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 404 floor, 30 times
    if not Facility.objects.exists():
        sys.exit("No facilities: run seed_demo first (make bench does).")
    client = Client()
    client.force_login(bench_user())
    longest = Facility.objects.annotate(n=Count("decisions")).order_by("-n", "facility_id").first()
    largest = Provider.objects.annotate(n=Count("facilities")).order_by("-n", "id").first()

    def selector_only():
        results = facility_search(SEARCH)
        results.count()
        list(results[:20])

    facility_ids = list(
        Facility.objects.order_by("facility_id").values_list("facility_id", flat=True)
    )
    step = max(1, len(facility_ids) // FACILITY_SAMPLE)
    facility_urls = [f"/verksamhet/{facility_id}/" for facility_id in facility_ids[::step]]

    results = [
        measure("floor: 404 through the full stack", get(client, "/verksamhet/FINNS-INTE/", 404)),
        measure("floor: search selector alone (count + 20 rows)", selector_only),
        measure("search page, no filters (all active homes)", get(client, "/")),
        measure("search page, type + age + län + sorting", get(client, SEARCH_URL)),
        measure_each("search pages, län + age + gender + type + sorting", client, searches()),
    ]
    if HAS_SUPERVISION_FILTERS:
        results.append(
            measure_each(
                "search pages, with neighbours and supervision filters",
                client,
                supervision_searches(),
            )
        )
    results += [
        measure(
            f"facility page ({longest.n} decisions)",
            get(client, f"/verksamhet/{longest.facility_id}/"),
        ),
        measure_each(
            "facility pages, spread over the register", client, facility_urls[:FACILITY_SAMPLE]
        ),
        measure(
            f"provider page ({largest.n} facilities)",
            get(client, f"/huvudman/{largest.public_id}/"),
        ),
    ]
    base = results[0]["median_ms"]
    print(
        f"# Portal pages benchmark — {connection.vendor}, {Facility.objects.count()} facilities, "
        f"{REPEATS} runs each (rounds over every URL for the varied rows)"
    )
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print()
    print("| request | median ms | p95 ms | × 404 floor | queries |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for result in results:
        print(
            f"| {result['label']} | {result['median_ms']:.1f} | {result['p95_ms']:.1f} | "
            f"{result['median_ms'] / base:.2f} | {result['queries']} |"
        )


if __name__ == "__main__":
    main()
