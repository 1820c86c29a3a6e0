"""What the figures are counted from: the register's facts tallied once per data version, by
year and by a home's bucket (län, type, ownership, protected), so that a figure for any period,
län and type is a sum over a few hundred tallies instead of queries over every decision.

It cannot go stale: it is kept for one data version of the register
(``register.selectors.data_version``), which every write to a register table changes in its own
transaction (register/data_version.py), and for one day (``today`` moves the current year's end,
what is overdue and what is due for inspection). The first figure after a write builds it again
(a few seconds on 10,000 homes and 150,000 decisions: docs/benchmarks.md, "Statistics").

A tally counts events (decisions, reviews, requirements) and the homes they concern. Within one
year the homes of two buckets never overlap (a home is in one län, of one type, run in one
ownership), so a year's homes are the sum of its buckets'. Over several years one home can count in
each, so a period's homes are at least the largest year's; where that is below five, every tally
behind it holds fewer than five homes and keeps their ids, and the homes are counted exactly
(``combine``). The suppression rule (stats/figures.py) needs nothing more: fewer than five or not.
"""

import bisect
import datetime
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import BooleanField, Case, Value, When

from register.codes import (
    DEFICIENT_ASSESSMENTS,
    OUTCOME_SEVERITY,
    TYPES_WITH_YEARLY_INSPECTION,
    AppealStatus,
    Assessment,
    DecisionKind,
    FacilityStatus,
    Outcome,
    Severity,
)
from register.models import Decision, Facility, Finding, Inspection, protected_condition
from register.selectors import data_version
from register.supervision import RECURRING_WITHIN_YEARS, years_before

SMALL = 5  # below this many homes a tally keeps their ids (the suppression limit)
FIRST_YEAR = 2000
_CLOSED = (FacilityStatus.NEDLAGD, FacilityStatus.ATERKALLAD, FacilityStatus.FORBUD)
SERIOUS_OUTCOMES = frozenset(o for o, s in OUTCOME_SEVERITY.items() if s == Severity.SERIOUS)


class Bucket(NamedTuple):
    """A tuple, not a dataclass: counting hashes one for each of a million events (a frozen
    dataclass's hash made the counting a sixth slower)."""

    county: str
    facility_type: str
    ownership: str
    protected: bool


@dataclass(frozen=True)
class Tally:
    count: int
    homes: int
    ids: frozenset[int] | None  # the homes, kept when fewer than SMALL


class _Counter:
    """Builds tallies: (year, category) -> bucket -> [count, homes' ids]."""

    def __init__(self) -> None:
        self.cells: dict[tuple, dict[Bucket, list]] = defaultdict(dict)

    def add(self, year: int, category: tuple, bucket: Bucket, home: int, count: int = 1) -> None:
        cell = self.cells[(year, category)].get(bucket)
        if cell is None:
            cell = self.cells[(year, category)][bucket] = [0, set()]
        cell[0] += count
        cell[1].add(home)

    def tallies(self) -> dict[tuple, dict[Bucket, Tally]]:
        return {
            key: {
                bucket: Tally(count, len(ids), frozenset(ids) if len(ids) < SMALL else None)
                for bucket, (count, ids) in buckets.items()
            }
            for key, buckets in self.cells.items()
        }


def operating(home: "_Home", first: datetime.date, last: datetime.date) -> bool:
    """In operation some day from ``first`` to ``last``: started (or no start date known), not
    ended, and not closed down, revoked or prohibited before ``first``."""
    if home.start_date is not None and home.start_date > last:
        return False
    if home.end_date is not None and home.end_date < first:
        return False
    return not (
        home.status in _CLOSED and home.status_date is not None and home.status_date < first
    )


@dataclass
class _Home:
    bucket: Bucket
    start_date: datetime.date | None
    end_date: datetime.date | None
    status: str
    status_date: datetime.date | None
    places: int
    inspected: list[datetime.date]


def year_end(year: int, today: datetime.date) -> datetime.date:
    """The day a year's stock (homes, places) is counted on: 31 December, or today this year."""
    return min(datetime.date(year, 12, 31), today)


class Facts:
    def __init__(self, today: datetime.date, facilities: frozenset[int] | None = None) -> None:
        self.today = today
        counter, lists = _Counter(), defaultdict(lambda: defaultdict(list))
        homes = self._homes(facilities)
        self._stock(homes, counter)
        self._decisions(homes, facilities, counter, lists)
        self._findings(homes, facilities, counter, lists)
        self.tallies = counter.tallies()
        self.lists = {key: dict(by_bucket) for key, by_bucket in lists.items()}

    # Building --------------------------------------------------------------------------------

    def _homes(self, facilities: frozenset[int] | None) -> dict[int, _Home]:
        rows = Facility.objects.annotate(
            is_protected=Case(
                When(protected_condition(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        inspections = Inspection.objects.all()
        if facilities is not None:
            rows = rows.filter(pk__in=sorted(facilities))
            inspections = inspections.filter(facility_id__in=sorted(facilities))
        homes = {
            pk: _Home(
                Bucket(county, facility_type, ownership, protected),
                start,
                end,
                status,
                status_date,
                places,
                [],
            )
            for pk, county, facility_type, ownership, protected, start, end, status, status_date, places in rows.values_list(  # noqa: E501
                "pk",
                "municipality__county_id",
                "facility_type",
                "provider__ownership",
                "is_protected",
                "start_date",
                "end_date",
                "status",
                "status_date",
                "places",
            )
        }
        self.inspection_days: dict[tuple[int, str], datetime.date] = {}
        for home, diarienummer, start, end in inspections.values_list(
            "facility_id", "diarienummer", "start_date", "end_date"
        ):
            homes[home].inspected.append(start)
            self.inspection_days[(home, diarienummer)] = end or start
        for home in homes.values():
            home.inspected.sort()
        return homes

    def _stock(self, homes: dict[int, _Home], counter: _Counter) -> None:
        """Homes and places at each year's end, homes in operation during each year, and
        frekvenstillsyn (3 kap. 19 § SoF): homes due for inspection at a year's end (in operation
        for a year, of a type inspected yearly) and those inspected in the 12 months before."""
        for pk, home in homes.items():
            for year in range(FIRST_YEAR, self.today.year + 1):
                day = year_end(year, self.today)
                if operating(home, datetime.date(year, 1, 1), day):
                    counter.add(year, ("operating_during",), home.bucket, pk)
                if not operating(home, day, day):
                    continue
                counter.add(year, ("homes",), home.bucket, pk)
                counter.add(year, ("places",), home.bucket, pk, home.places)
                cutoff = years_before(day, 1)
                if home.bucket.facility_type not in TYPES_WITH_YEARLY_INSPECTION or (
                    home.start_date is not None and home.start_date >= cutoff
                ):
                    continue
                counter.add(year, ("due",), home.bucket, pk)
                after = bisect.bisect_right(home.inspected, cutoff)
                if after < len(home.inspected) and home.inspected[after] <= day:
                    counter.add(year, ("inspected",), home.bucket, pk)

    def _decisions(self, homes, facilities, counter: _Counter, lists) -> None:
        decisions = Decision.objects.all()
        if facilities is not None:
            decisions = decisions.filter(facility_id__in=sorted(facilities))
        for home, decided_on, kind, outcome, appeal, diarienummer in decisions.values_list(
            "facility_id", "decision_date", "kind", "outcome", "appeal_status", "diarienummer"
        ):
            bucket, year = homes[home].bucket, decided_on.year
            counter.add(year, ("outcome", outcome), bucket, home)
            if outcome in SERIOUS_OUTCOMES and appeal != AppealStatus.UPPHAVT:
                counter.add(year, ("serious",), bucket, home)
            if kind != DecisionKind.TILLSYN:
                continue
            counter.add(year, ("supervision",), bucket, home)
            counter.add(year, ("severity", OUTCOME_SEVERITY[outcome]), bucket, home)
            if outcome != Outcome.INGA_BRISTER:
                counter.add(year, ("supervision_deficient",), bucket, home)
            inspected = self.inspection_days.get((home, diarienummer))
            if inspected is not None:
                counter.add(year, ("inspection_to_decision",), bucket, home)
                lists[(year, "inspection_to_decision")][bucket].append(
                    (decided_on - inspected).days
                )

    def _findings(self, homes, facilities, counter: _Counter, lists) -> None:
        findings = Finding.objects.all()
        if facilities is not None:
            findings = findings.filter(decision__facility_id__in=sorted(facilities))
        rows = findings.values_list(
            "decision__facility_id",
            "decision_id",
            "decision__decision_date",
            "decision__appeal_status",
            "decision__follows_up_id",
            "area",
            "assessment",
            "requirement",
            "due_date",
        )
        # The latest finding in an area of a decision that follows up another: what settles the
        # earlier decision's requirement there (register.supervision.requirement_state).
        settling: dict[tuple[int, str], tuple[datetime.date, int, str]] = {}
        requirements, deficient = [], []
        for home, decision, decided_on, appeal, follows_up, area, assessment, text, due in rows:
            bucket, year = homes[home].bucket, decided_on.year
            counter.add(year, ("reviewed", area), bucket, home)
            if assessment in DEFICIENT_ASSESSMENTS:
                counter.add(year, ("deficient", area), bucket, home)
            if assessment == Assessment.ALLVARLIG_BRIST:
                counter.add(year, ("serious_deficiency", area), bucket, home)
            if follows_up is not None:
                known = settling.get((follows_up, area))
                if known is None or (decided_on, decision) > known[:2]:
                    settling[(follows_up, area)] = (decided_on, decision, assessment)
            if appeal == AppealStatus.UPPHAVT:
                continue  # a decision a court overturned sets no requirement and repeats nothing
            if text:
                requirements.append((home, bucket, decision, decided_on, area, due))
            if assessment in DEFICIENT_ASSESSMENTS:
                deficient.append((home, area, decided_on, decision))
        for home, bucket, decision, decided_on, area, due in requirements:
            year = decided_on.year
            counter.add(year, ("requirement",), bucket, home)
            settled = settling.get((decision, area))
            if settled is not None:
                state = "not_met" if settled[2] in DEFICIENT_ASSESSMENTS else "met"
                counter.add(year, ("requirement_settled",), bucket, home)
                lists[(year, "days_to_follow_up")][bucket].append((settled[0] - decided_on).days)
            elif due is not None and due < self.today:
                state = "overdue"
            else:
                state = "open"
            counter.add(year, ("requirement", state), bucket, home)
        # Recurring deficiencies (DESIGN.md): an area found deficient again within three years.
        deficient.sort()
        previous = None
        for home, area, decided_on, decision in deficient:
            if (
                previous is not None
                and previous[:2] == (home, area)
                and previous[3] != decision
                and years_before(decided_on, RECURRING_WITHIN_YEARS) <= previous[2]
            ):
                counter.add(decided_on.year, ("recurring",), homes[home].bucket, home)
            previous = (home, area, decided_on, decision)

    # Reading ---------------------------------------------------------------------------------

    @staticmethod
    def _chosen(
        bucket: Bucket,
        *,
        county: str = "",
        facility_type: str = "",
        ownership: str = "",
        protected: bool = False,
    ) -> bool:
        """Whether ``bucket`` is among those chosen: a län, a type, an ownership (each "" for
        all), protected homes only when ``protected``."""
        return (
            (not county or bucket.county == county)
            and (not facility_type or bucket.facility_type == facility_type)
            and (not ownership or bucket.ownership == ownership)
            and (protected or not bucket.protected)
        )

    def tallies_of(self, category: tuple, year: int, **where) -> list[Tally]:
        """The tallies of one year and category in the buckets ``where`` chooses (``_chosen``)."""
        return [
            tally
            for bucket, tally in self.tallies.get((year, category), {}).items()
            if self._chosen(bucket, **where)
        ]

    def total(self, category: tuple, years: Iterable[int], **where) -> tuple[int, int]:
        """Events and homes of ``category`` over ``years`` in the buckets ``where`` chooses."""
        return combine([self.tallies_of(category, year, **where) for year in years])

    def values(self, name: str, years: Iterable[int], **where) -> list[int]:
        """The numbers kept for ``name`` (days) over ``years`` in the buckets chosen."""
        return [
            value
            for year in years
            for bucket, values in self.lists.get((year, name), {}).items()
            if self._chosen(bucket, **where)
            for value in values
        ]


def combine(per_year: list[list[Tally]]) -> tuple[int, int]:
    """Events and homes over several years' tallies (module docstring): the homes exactly where
    they are fewer than SMALL, otherwise at least the largest year's (which is then SMALL or
    more)."""
    count = sum(tally.count for tallies in per_year for tally in tallies)
    year_homes = [sum(tally.homes for tally in tallies) for tallies in per_year]
    at_least = max(year_homes, default=0)
    if at_least >= SMALL or len(per_year) < 2:
        return count, at_least
    ids: set[int] = set()
    for tallies in per_year:
        for tally in tallies:
            ids |= tally.ids or frozenset()
    return count, len(ids)


_kept: dict = {}
_keeping = threading.Lock()


def facts_for(today: datetime.date, facilities: frozenset[int] | None = None) -> Facts:
    """The facts for ``today``: the whole register's kept for its data version; a set of homes'
    (a municipality's own view) counted each time, being few."""
    if facilities is not None:
        return Facts(today, facilities)
    # The version first, then the tallies, both through the router: on one server (a request
    # reads one replica or the primary, never both: config/replicas.py), so the tallies are at
    # least as new as the version they are kept under. Had the version come from the primary
    # and the tallies from a replica a second behind, the old figures would be kept under the
    # new version, until the next write.
    version = data_version()
    key = (version, today)
    with _keeping:
        if version is not None and _kept.get("key") == key:
            return _kept["facts"]
    facts = Facts(today)
    if version is not None:
        with _keeping:
            _kept.update(key=key, facts=facts)
    return facts
