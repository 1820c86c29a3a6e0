"""Statistics (issue 20) on the national scale: 10,000 homes and 150,000 decisions, the API
benchmark's data set, on SQLite and on PostgreSQL, against the portal's search page measured in
the same process on the same data.

    make bench                                   # runs this after bench/api_load.py
    .venv/bin/python bench/statistics_pages.py   # on its own

    BENCH_STATS_LEGS=sqlite,postgresql
    BENCH_STATS_MIX=30      # different filter choices measured (after WARM_UP more, not counted)

(Not bench/statistics.py: the scripts of bench/ run with bench/ first on sys.path, and a file of
that name there would be the module every other bench gets for ``import statistics``.)

1. The data: bench/api.sqlite3 and the PostgreSQL database hvb_bench, built by
   bench/api_load.py's own build() and build_postgresql() when they are missing (reused when
   they hold 10,000 facilities and 150,000 decisions: api_load.py has built them when make bench
   gets here).
2. The mix: BENCH_STATS_MIX different filter choices from random.Random(20), as people ask: a
   period of 1 to 10 years ending in one of the last ten years (this year most often), the whole
   country in 40 % or one of the 21 län, all types in half or one type (HVB most often).
3. Each database in a process of its own, in-process through Django's test client (the whole
   middleware stack, the templates, no network), anonymous as the public asks: for every filter
   choice of the mix, the index /statistik/, every topic page /statistik/<slug>/ (the slugs of
   stats.figures.TOPICS), /api/v1/statistics/<key> for every figure key (open data, no key),
   and stats.figures.compute(key, filters) alone for every figure: what each figure costs
   without the page around it; and per topic the sum of its figures' times (what its page
   computes). A part that is not in the code yet is left out and the run says so. WARM_UP
   filter choices first, not counted. Every request must answer 200. Each time: the wall
   clock and this process's CPU time (on SQLite all the work; on PostgreSQL without the
   server's), as the machine is shared and the wall clock waits for other work.
4. After a write: the figures count from tallies (stats/facts.py) kept in each process for one
   data version of the register, so the first figure after any write to the register counts
   them all again. COLD_ROUNDS times: the kept tallies dropped (what a write does to them,
   without writing to the benchmark's data), then one figure computed: its time, the SQL's,
   and the memory the tallies hold (tracemalloc, once).
5. Baseline in the same process: the portal's search page over bench/pages.py's different
   searches, signed in (the portal needs it), each once after a warm-up round; and
   FACILITY_SAMPLE facility pages spread over the register.
6. Where the time goes: each figure once more over the mix with its SQL captured: the queries,
   the time the database took to execute them and the rest (Python). On SQLite rows are read
   after the timed execute, so the split leans towards Python.

Printed and written to bench/results/statistics.txt: per page, API figure and computed figure
the number of requests, median, p95 and max ms, the CPU median, and the median as a ratio to the
search page's; the time after a write.
"""

import collections
import contextlib
import json
import logging
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
RESULTS = BENCH / "results"

SEED = 20
MIX = int(os.environ.get("BENCH_STATS_MIX", "30"))
WARM_UP = 3
LEGS = os.environ.get("BENCH_STATS_LEGS", "sqlite,postgresql").split(",")
FACILITY_SAMPLE = 60
TARGET_MEDIAN_MS = 200
# The query string names of the pages and of the API (as the facility search names them).
PAGE_QUERY = {"first_year": "fran", "last_year": "till", "county": "lan", "facility_type": "typ"}
API_QUERY = {
    "first_year": "from_year",
    "last_year": "to_year",
    "county": "county",
    "facility_type": "facility_type",
}
COLD_ROUNDS = 5


def filter_mix(count: int, this_year: int) -> list[dict]:
    """``count`` different filter choices from random.Random(SEED), the same on every run."""
    from api_load import _codes

    rng = random.Random(SEED)
    counties = _codes("lan.csv", "lanskod")
    types = ("hvb", "stodboende", "sarskilt_ungdomshem")
    found: dict[str, dict] = {}
    while len(found) < count:
        # This year in a third, the years before it less and less often.
        last_year = this_year - rng.choices(range(10), weights=(10, 6, 4, 3, 2, 2, 1, 1, 1, 1))[0]
        years = rng.choices(range(1, 11), weights=(3, 1, 3, 1, 4, 1, 1, 1, 1, 3))[0]
        choice = {
            "first_year": last_year - years + 1,
            "last_year": last_year,
            "county": "" if rng.random() < 0.4 else rng.choice(counties),
            "facility_type": "" if rng.random() < 0.5 else rng.choices(types, (6, 3, 1))[0],
        }
        found.setdefault(json.dumps(choice, sort_keys=True), choice)
    return list(found.values())


def query(choice: dict, names: dict) -> str:
    from urllib.parse import urlencode

    return urlencode({names[key]: value for key, value in choice.items() if value != ""})


def summary(samples: list[tuple[float, float]]) -> dict:
    """Samples of (wall ms, this process's CPU ms)."""
    ordered = sorted(wall for wall, _cpu in samples)
    return {
        "requests": len(ordered),
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[math.ceil(0.95 * len(ordered)) - 1],  # nearest rank
        "max_ms": ordered[-1],
        "cpu_median_ms": statistics.median(cpu for _wall, cpu in samples),
    }


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(started: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = clocks()
    return (wall - started[0]) * 1000, (cpu - started[1]) * 1000


# --- In the measuring process (one per database) ---------------------------------------------


def measure() -> dict:
    """Runs in a process whose environment names the database (api_load.environment)."""
    import datetime

    import pages  # django.setup(); its helpers: searches(), bench_user()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from register.models import Decision, Facility
    from stats import figures

    today = datetime.date.today()
    mix = filter_mix(WARM_UP + MIX, today.year)
    warm_up, mix = mix[:WARM_UP], mix[WARM_UP:]
    public = Client()
    missing: list[str] = []

    def timed(client: Client, url: str) -> tuple[float, float]:
        started = clocks()
        response = client.get(url)
        elapsed = since(started)
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    def answers(url: str) -> bool:
        return public.get(url).status_code != 404

    topics = list(getattr(figures, "TOPICS", ()))
    keys = list(getattr(figures, "FIGURE_KEYS", ()))
    compute = getattr(figures, "compute", None)
    if not keys:
        missing.append("stats.figures.FIGURE_KEYS")
    if compute is None:
        missing.append("stats.figures.compute")
    # Each kind of request: label -> (url or callable for a filter choice).
    requests: dict[str, object] = {}
    if answers("/statistik/"):
        requests["page /statistik/"] = lambda choice: f"/statistik/?{query(choice, PAGE_QUERY)}"
        for topic in topics:
            requests[f"page /statistik/{topic.slug}/"] = lambda choice, slug=topic.slug: (
                f"/statistik/{slug}/?{query(choice, PAGE_QUERY)}"
            )
    else:
        missing.append("the pages /statistik/")
    if keys and answers(f"/api/v1/statistics/{keys[0]}"):
        for key in keys:
            requests[f"API {key}"] = lambda choice, key=key: (
                f"/api/v1/statistics/{key}?{query(choice, API_QUERY)}"
            )
    else:
        missing.append("the API /api/v1/statistics/<key>")
    computed: dict[str, object] = {}
    broken: dict[str, str] = {}
    if compute is not None:
        for key in keys:
            try:
                compute(key, figures.Filters(**warm_up[0]), today=today)
            except Exception as error:  # a figure not written yet
                broken[key] = f"{type(error).__name__}: {error}"[:120]
            else:
                computed[f"compute {key}"] = key

    def run_compute(key: str, choice: dict) -> tuple[float, float]:
        started = clocks()
        compute(key, figures.Filters(**choice), today=today)
        return since(started)

    def one_round(choice: dict, timings: dict[str, list[tuple[float, float]]]) -> None:
        for label, url in requests.items():
            timings.setdefault(label, []).append(timed(public, url(choice)))
        for label, key in computed.items():
            timings.setdefault(label, []).append(run_compute(key, choice))

    for choice in warm_up:
        one_round(choice, {})
    timings: dict[str, list[tuple[float, float]]] = {}
    began = time.perf_counter()
    for choice in mix:
        one_round(choice, timings)
    statistics_seconds = time.perf_counter() - began
    # Until the pages are there: what a topic page's figures take, computed one after the other
    # (the sum of their times for the same filter choice; the page adds its charts and template).
    if computed:
        for topic in topics:
            labels = [f"compute {key}" for key in topic.figures if f"compute {key}" in computed]
            timings[f"topic {topic.slug}: its {len(labels)} figures computed"] = [
                (sum(wall for wall, _cpu in samples), sum(cpu for _wall, cpu in samples))
                for samples in zip(*(timings[label] for label in labels), strict=True)
            ]

    # The first request after a write to the register: the tallies (stats/facts.py) are kept in
    # each process for one data version, and counted again when it changes. Dropping the kept
    # ones is what a write does to them, without writing to the benchmark's data. Each kind of
    # request so: the API stops its queries after API_QUERY_TIMEOUT_MS, a page does not.
    cold: list[dict] = []
    memory: dict = {}
    facts = None
    with contextlib.suppress(ImportError):
        from stats import facts
    kept = getattr(facts, "_kept", None)
    if compute is not None and computed and isinstance(kept, dict):
        first = next(iter(computed.values()))
        kinds = {f"compute {first}": lambda: compute(first, figures.Filters(**mix[0])) and 200}
        served = [label for label in requests if label != "page /statistik/"]
        for prefix in ("page /statistik/", "API "):  # one topic page, one API figure
            label = next((label for label in served if label.startswith(prefix)), None)
            if label is not None:
                url = requests[label](mix[0])
                kinds[label] = lambda url=url: public.get(url).status_code
        for label, run in kinds.items():
            samples, sql_ms, queries, statuses = [], [], 0, collections.Counter()
            for _round in range(COLD_ROUNDS):
                kept.clear()
                with CaptureQueriesContext(connection) as captured:
                    started = clocks()
                    statuses[run()] += 1
                    samples.append(since(started))
                sql_ms.append(sum(float(query["time"]) for query in captured) * 1000)
                queries = max(queries, len(captured))
            cold.append(
                {
                    "label": label,
                    **summary(samples),
                    "sql_median_ms": statistics.median(sql_ms),
                    "queries": queries,
                    "statuses": dict(statuses),
                }
            )
        kept.clear()
        tracemalloc.start()
        compute(first, figures.Filters(**mix[0]), today=today)
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        memory = {"held_mb": held / 1e6, "peak_mb": peak / 1e6}

    # The baseline: the portal's search page over many searches, and facility pages.
    signed_in = Client()
    logging.getLogger("axes").setLevel(logging.WARNING)
    signed_in.force_login(pages.bench_user())
    searches = pages.searches()
    identifiers = list(
        Facility.objects.order_by("facility_id").values_list("facility_id", flat=True)
    )
    facility_urls = [
        f"/verksamhet/{identifier}/"
        for identifier in identifiers[:: max(1, len(identifiers) // FACILITY_SAMPLE)]
    ][:FACILITY_SAMPLE]
    baseline: dict[str, list[tuple[float, float]]] = {}
    for label, urls in (
        (f"search page ({len(searches)} different searches)", searches),
        (f"facility page ({len(facility_urls)} different)", facility_urls),
    ):
        for url in urls[:WARM_UP]:
            timed(signed_in, url)
        baseline[label] = [timed(signed_in, url) for url in urls]

    # Where each figure's time goes: its SQL captured, once more over the mix.
    split: dict[str, dict] = {}
    for key in computed.values():
        sql_ms, total_ms, queries = [], [], 0
        for choice in mix:
            with CaptureQueriesContext(connection) as captured:
                total_ms.append(run_compute(key, choice))
            sql_ms.append(sum(float(query["time"]) for query in captured) * 1000)
            queries = max(queries, len(captured))
        split[key] = {
            "queries": queries,
            "sql_median_ms": statistics.median(sql_ms),
            "total_median_ms": summary(total_ms)["median_ms"],
        }
    page_queries: dict[str, int] = {}
    for label, url in requests.items():
        with CaptureQueriesContext(connection) as captured:
            public.get(url(mix[0]))
        page_queries[label] = len(captured)

    return {
        "database": connection.vendor,
        "facilities": Facility.objects.count(),
        "decisions": Decision.objects.count(),
        "today": today.isoformat(),
        "mix": mix,
        "missing": missing,
        "broken": broken,
        "statistics_seconds": statistics_seconds,
        "timings": {label: summary(values) for label, values in timings.items()},
        "baseline": {label: summary(values) for label, values in baseline.items()},
        "split": split,
        "page_queries": page_queries,
        "cold": cold,
        "memory": memory,
    }


# --- The driver ------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def run_leg(database) -> dict:
    import api_load

    env = api_load.environment(database, ALLOWED_HOSTS="testserver,127.0.0.1,localhost")
    output = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,  # the errors on the terminal
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def table(leg: dict) -> list[str]:
    baseline = next(iter(leg["baseline"].values()))["median_ms"]
    lines = [
        "| request | requests | median ms | p95 ms | max ms | CPU ms | × search page | queries |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [*leg["baseline"].items(), *leg["timings"].items()]
    for label, figures in rows:
        queries = leg["page_queries"].get(label)
        if queries is None and label.startswith("compute "):
            queries = leg["split"].get(label.removeprefix("compute "), {}).get("queries")
        lines.append(
            f"| {label} | {figures['requests']} | {figures['median_ms']:.1f} | "
            f"{figures['p95_ms']:.1f} | {figures['max_ms']:.1f} | {figures['cpu_median_ms']:.1f} | "
            f"{figures['median_ms'] / baseline:.2f} | {'' if queries is None else queries} |"
        )
    if leg.get("cold"):
        lines += [
            "",
            f"After a write (the tallies counted again), each {COLD_ROUNDS} times:",
            "",
            "| first request after a write | median ms | max ms | CPU ms | SQL ms | queries "
            "| answers |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for row in leg["cold"]:
            answers = ", ".join(f"{count} × {status}" for status, count in row["statuses"].items())
            lines.append(
                f"| {row['label']} | {row['median_ms']:.0f} | {row['max_ms']:.0f} | "
                f"{row['cpu_median_ms']:.0f} | {row['sql_median_ms']:.0f} | {row['queries']} | "
                f"{answers} |"
            )
        memory = leg["memory"]
        lines += [
            "",
            f"The tallies hold {memory['held_mb']:.1f} MB in each process (peak "
            f"{memory['peak_mb']:.1f} MB while counted).",
        ]
    lines += ["", "| figure | queries | SQL ms (median) | all ms (median) | SQL share |"]
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for key, figures in leg["split"].items():
        total = figures["total_median_ms"]
        lines.append(
            f"| {key} | {figures['queries']} | {figures['sql_median_ms']:.1f} | {total:.1f} | "
            f"{figures['sql_median_ms'] / total:.0%} |"
        )
    served = [label for label in leg["timings"] if label.startswith(("page ", "API "))]
    slow = [label for label in served if leg["timings"][label]["median_ms"] > TARGET_MEDIAN_MS]
    lines.append("")
    if served:
        lines.append(
            f"Target: median ≤ {TARGET_MEDIAN_MS} ms for every page and API figure: "
            + (f"missed by {', '.join(slow)}." if slow else "met.")
        )
    if leg["missing"]:
        lines.append(f"Not in the code yet, not measured: {', '.join(leg['missing'])}.")
    for key, error in leg["broken"].items():
        lines.append(f"compute({key!r}) failed, not measured: {error}")
    return lines


def main() -> None:
    import api_load

    began = time.perf_counter()
    api_load.STEPS = ["load"]  # only the 10,000 homes and 150,000 decisions, not the scaling data
    # The pages' static files, as served without DEBUG (make bench has collected them already).
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        check=True,
    )
    legs = []
    if "sqlite" in LEGS:
        seconds = api_load.build()
        print(f"SQLite: {api_load.counts(api_load.DB)} facilities/decisions ({seconds:.0f} s)")
        legs.append(("SQLite", api_load.DB))
    if "postgresql" in LEGS:
        seconds = api_load.build_postgresql()
        print(
            f"PostgreSQL: {api_load.counts(api_load.POSTGRESQL)} facilities/decisions "
            f"({seconds:.0f} s)"
        )
        legs.append(("PostgreSQL", api_load.POSTGRESQL))
    lines = [
        "# Statistics (issue 20): pages, API and figures on the API benchmark's data",
        f"# machine: {machine()}",
    ]
    for name, database in legs:
        leg = run_leg(database)
        mix = leg["mix"]
        leg_lines = [
            "",
            f"## {name}: {leg['facilities']} facilities, {leg['decisions']} decisions, "
            f"{len(mix)} filter choices from random.Random({SEED}) after {WARM_UP} not counted "
            f"({leg['statistics_seconds']:.0f} s), today {leg['today']}",
            "",
            *table(leg),
        ]
        print("\n".join(leg_lines), flush=True)
        lines += leg_lines
    lines += ["", "Filter choices (the mix):"]
    lines += [f"- {json.dumps(choice)}" for choice in mix] if legs else []
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "statistics.txt").write_text("\n".join(lines) + "\n")
    print(f"bench/statistics_pages.py took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        print(json.dumps(measure()))
    else:
        main()
