"""Linking case records to facilities on labelled data: precision and recall of the automatic
links and of the top-1 suggestion, against a name-only baseline measured in the same run.

    make bench            # builds bench/bench.sqlite3 with seed_demo, then runs this
    DATABASE_URL=... .venv/bin/python bench/linking_quality.py   # on another database

The labelled records come from linking/generate.py (renamed homes, moved addresses, new owners,
several homes under one organisationsnummer, typos, records with no true facility). They are
imported with import_cases (parse, match, link) inside a transaction that is rolled back at the
end, so the bench database is left as seed_demo made it.

Baseline: what the register did before — the facility whose name is most like the typed one (the
same normalisation, rapidfuzz's token_sort_ratio), "linked" when the similarity is 90 or more.
"""

import os
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from linking.generate import generate_cases, write_csv  # noqa: E402
from linking.imports import import_cases  # noqa: E402
from linking.matching import normalise_name  # noqa: E402
from linking.models import Candidate, CaseRecord, CaseStatus  # noqa: E402
from register.models import Facility  # noqa: E402

COUNT = int(os.environ.get("BENCH_CASES", "2000"))
SEED = int(os.environ.get("BENCH_SEED", "2026"))
NAME_ONLY_LINK = 90


class _Rollback(Exception):
    pass


def rate(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "–"


def name_only(cases) -> tuple[dict[str, tuple[str, float]], float]:
    """The baseline's best facility and similarity for each record, and its time in seconds."""
    started = time.perf_counter()
    facilities = list(Facility.objects.values_list("facility_id", "name"))
    names = [normalise_name(name) for _id, name in facilities]
    best = {}
    for case in cases:
        match = process.extractOne(
            normalise_name(case.row["verksamhet"]), names, scorer=fuzz.token_sort_ratio
        )
        best[case.row["diarienummer"]] = (facilities[match[2]][0], match[1])
    return best, time.perf_counter() - started


def main() -> None:
    if not Facility.objects.exists():
        sys.exit("No facilities: run seed_demo first (make bench does).")
    if CaseRecord.objects.exists():
        sys.exit("The bench database already holds case records; rebuild it (make clean bench).")
    try:
        with transaction.atomic():
            run()
            raise _Rollback
    except _Rollback:
        pass


def run() -> None:
    started = time.perf_counter()
    cases = generate_cases(count=COUNT, seed=SEED)
    generated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "arenden.csv"
        write_csv(cases, path)
        started = time.perf_counter()
        import_cases(path)
        imported = time.perf_counter() - started
    baseline, baseline_seconds = name_only(cases)

    records = {
        record.diarienummer: record
        for record in CaseRecord.objects.select_related("facility").order_by()
    }
    top = dict(
        Candidate.objects.filter(rank=1).values_list(
            "case_record__diarienummer", "facility__facility_id"
        )
    )
    truth = {case.row["diarienummer"]: case.facility_id for case in cases}
    scenario_of = {case.row["diarienummer"]: case.scenario for case in cases}
    with_truth = [dnr for dnr, facility in truth.items() if facility]
    without_truth = [dnr for dnr, facility in truth.items() if not facility]

    linked = {
        dnr: record.facility.facility_id
        for dnr, record in records.items()
        if record.status == CaseStatus.LINKED
    }
    review = sum(1 for record in records.values() if record.status == CaseStatus.REVIEW)
    unmatched = sum(1 for record in records.values() if record.status == CaseStatus.UNMATCHED)
    ours_auto_right = sum(1 for dnr, facility in linked.items() if truth[dnr] == facility)
    ours_top_right = sum(1 for dnr in with_truth if top.get(dnr) == truth[dnr])
    suggested = [dnr for dnr in truth if dnr in top]
    ours_top_precision = sum(1 for dnr in suggested if top[dnr] == truth[dnr])

    base_linked = {dnr: f for dnr, (f, score) in baseline.items() if score >= NAME_ONLY_LINK}
    base_auto_right = sum(1 for dnr, facility in base_linked.items() if truth[dnr] == facility)
    base_top_right = sum(1 for dnr in with_truth if baseline[dnr][0] == truth[dnr])
    base_top_precision = sum(1 for dnr in truth if baseline[dnr][0] == truth[dnr])

    print(
        f"# Linking benchmark — {connection.vendor}, {Facility.objects.count()} facilities, "
        f"{len(cases)} labelled case records ({len(with_truth)} with a true facility, "
        f"{len(without_truth)} without), seed {SEED}"
    )
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print(
        f"# thresholds: automatic ≥ {settings.LINKING_AUTO_THRESHOLD} with a lead of "
        f"{settings.LINKING_AUTO_MARGIN}, review ≥ {settings.LINKING_REVIEW_THRESHOLD}; "
        f"name-only links at similarity ≥ {NAME_ONLY_LINK}"
    )
    print()
    print("| measure | linking tool | name-only baseline |")
    print("| --- | ---: | ---: |")
    print(
        f"| automatic links: precision | {rate(ours_auto_right, len(linked))} "
        f"({ours_auto_right}/{len(linked)}) | {rate(base_auto_right, len(base_linked))} "
        f"({base_auto_right}/{len(base_linked)}) |"
    )
    print(
        f"| automatic links: recall (of records with a true facility) | "
        f"{rate(ours_auto_right, len(with_truth))} | {rate(base_auto_right, len(with_truth))} |"
    )
    print(
        f"| top-1 suggestion right, where a true facility exists | "
        f"{rate(ours_top_right, len(with_truth))} ({ours_top_right}/{len(with_truth)}) | "
        f"{rate(base_top_right, len(with_truth))} ({base_top_right}/{len(with_truth)}) |"
    )
    print(
        f"| top-1 suggestion: precision (all records with a suggestion) | "
        f"{rate(ours_top_precision, len(suggested))} | "
        f"{rate(base_top_precision, len(truth))} |"
    )
    no_truth_linked = sum(1 for dnr in without_truth if dnr in linked)
    base_no_truth_linked = sum(1 for dnr in without_truth if dnr in base_linked)
    print(
        f"| records without a true facility linked anyway | {no_truth_linked}/"
        f"{len(without_truth)} | {base_no_truth_linked}/{len(without_truth)} |"
    )
    print()
    print(
        f"Outcome: {len(linked)} linked automatically, {review} to the review queue, "
        f"{unmatched} flagged unmatched."
    )
    print()
    print(
        "| scenario | records | automatic | automatic right | top-1 right | name-only top-1 right |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    groups: dict[str, list[str]] = defaultdict(list)
    for dnr, scenario in scenario_of.items():
        groups[scenario].append(dnr)
    for scenario in sorted(groups):
        dnrs = groups[scenario]
        automatic = [dnr for dnr in dnrs if dnr in linked]
        right = sum(1 for dnr in automatic if linked[dnr] == truth[dnr])
        if scenario == "no_facility":
            top_right = base_right = "–"
        else:
            top_right = rate(sum(1 for d in dnrs if top.get(d) == truth[d]), len(dnrs))
            base_right = rate(sum(1 for d in dnrs if baseline[d][0] == truth[d]), len(dnrs))
        print(
            f"| {scenario} | {len(dnrs)} | {len(automatic)} | {right} | {top_right} | "
            f"{base_right} |"
        )
    print()
    per_record = imported / len(cases) * 1000
    base_per_record = baseline_seconds / len(cases) * 1000
    print("| time | total s | ms per record | × name-only |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| name-only baseline (best name over all facilities) | {baseline_seconds:.2f} | "
        f"{base_per_record:.2f} | 1.00 |"
    )
    print(
        f"| import_cases: parse, match, link (with history) | {imported:.2f} | "
        f"{per_record:.2f} | {per_record / base_per_record:.1f} |"
    )
    print(f"| (generating the labelled set and its register past) | {generated:.2f} | | |")
    counts = Counter(record.status for record in records.values())
    assert sum(counts.values()) == len(cases)


if __name__ == "__main__":
    main()
