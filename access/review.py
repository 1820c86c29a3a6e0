"""The review report of the access log (loggranskning): unusual use, flagged for an IVO
administrator to look into. Look-ups must be reviewed, not only recorded: a former employee of a
municipality kept reading for nine months, 399 look-ups, after changing jobs, and nobody looked.

``review_access_log(start=..., end=...)`` reads the log and writes nothing. A *look-up* is a
search, a facility or provider view or a personal-data view (``LOOKUP_ACTIONS``); logins and the
log's own extracts are not look-ups. A user is a user id together with the municipality code the
events carry: the same account under another municipality is judged against that municipality.

Five kinds of finding, with the thresholds below and why:

volume
    A week of the period with at least ``VOLUME_FACTOR`` (3) times the user's own median week over
    the ``VOLUME_BASELINE_WEEKS`` (12) weeks before the period (weeks without look-ups count as 0,
    from the user's first week on; at least ``VOLUME_BASELINE_MIN_WEEKS`` (4) weeks of history,
    and a floor of ``VOLUME_BASELINE_FLOOR`` (5) so a near-idle user's first busy week is not
    news), and at least ``VOLUME_MIN_WEEK_LOOKUPS`` (40). Or the period as a whole more than
    ``VOLUME_FACTOR`` times the median user of the same municipality (at least
    ``MIN_PEERS`` (3) other active users) and at least ``VOLUME_MIN_PERIOD_LOOKUPS`` (50). A case
    worker doing a few look-ups a day makes 10–30 a week; three times their usual and 40 a week is
    a different kind of use, and a municipality's median user is a fair yardstick.
night
    At least ``NIGHT_MIN_LOOKUPS`` (10) look-ups between 22:00 and 06:00 Swedish time in the
    period. Placements are daytime work; the on-call social services (socialjour) do work nights,
    so the finding names the count and the reviewer judges — ten keeps a single late evening out.
bulk personal data
    At least ``BULK_MIN_VIEWS`` (20) personal-data views within ``BULK_WINDOW`` (one hour). A
    case worker reads one or two managers' contact details when placing a child; twenty in an
    hour is harvesting.
outside usual län
    At least ``OUTSIDE_MIN_FACILITIES`` (10) distinct facilities viewed in the period in another
    län than the user's municipality's, these views making up at least ``OUTSIDE_MIN_SHARE``
    (50 %) of the user's facility views and at least ``OUTSIDE_SHARE_MARGIN`` (30 percentage
    points) more than the usual share of the user's peers. Placements outside the home län are
    common, so the yardstick is the peers' median share (users with at least
    ``PEER_MIN_FACILITY_VIEWS`` (5) views): the other users of the municipality, or of the län
    when the municipality has fewer than ``MIN_PEERS`` (3), or of the whole country. A user in a
    län with few homes, whose colleagues all look elsewhere, is not flagged for doing the same.
    Views, not distinct facilities, make the share: a län with eight homes is soon seen through,
    and counting distinct homes would push every steady user's share outward.
long steady pattern
    The incident's pattern, which no volume rule sees: a modest, steady rate over months. Looking
    back ``LONG_LOOKBACK_DAYS`` (365) from the end of the period (or over the period if it is
    longer), a user still active in the period who viewed facilities outside their municipality's
    län in at least ``LONG_MIN_WEEKS`` (8) distinct weeks, spanning at least
    ``LONG_MIN_SPAN_DAYS`` (84, about three months), with outside-län views at least
    ``OUTSIDE_MIN_SHARE`` of their facility views and ``OUTSIDE_SHARE_MARGIN`` above the peers'
    median share (the same yardstick as above, over the look-back). A former employee who moved
    on reads about the facilities of their new job's region, week after week; a case worker of
    the municipality mostly reads about the homes of their own län and looks elsewhere now and
    then, so their share stays well below their colleagues' plus 30 points. A move within the same
    län is not visible here: the allowlist's yearly expiry and revocation cover that case.

Weeks are calendar weeks in Swedish time (Monday to Sunday); a week that straddles the start of
the period counts as one of the period's for the volume rule.

Cost: everything is counted in the database, grouped per user and week: one query over the
look-ups (with the night and personal-data counts), one over the facility views, one for those
facilities' municipalities, one for county names when a län is named, and one each for the
events of the few users who are candidates for the night and bulk rules — a fixed number of
queries whatever the number of users. About 0.5 s for a month and 0.8 s for a year over 100,000
events on SQLite.
"""

import bisect
import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, IntegerField, Min, Q, Value, When
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models import AccessEvent
from register.models import County, Facility

SWEDISH_TIME = ZoneInfo("Europe/Stockholm")
ONE_WEEK = datetime.timedelta(weeks=1)

LOOKUP_ACTIONS = (
    AccessEvent.Action.SEARCH,
    AccessEvent.Action.FACILITY_VIEW,
    AccessEvent.Action.PROVIDER_VIEW,
    AccessEvent.Action.PERSONAL_DATA_VIEW,
)

DEFAULT_PERIOD_DAYS = 30
EXAMPLE_COUNT = 5

VOLUME_FACTOR = 3.0
VOLUME_BASELINE_WEEKS = 12
VOLUME_BASELINE_MIN_WEEKS = 4
VOLUME_BASELINE_FLOOR = 5
VOLUME_MIN_WEEK_LOOKUPS = 40
VOLUME_MIN_PERIOD_LOOKUPS = 50
MIN_PEERS = 3

NIGHT_STARTS_HOUR = 22
NIGHT_ENDS_HOUR = 6
NIGHT_MIN_LOOKUPS = 10

BULK_MIN_VIEWS = 20
BULK_WINDOW = datetime.timedelta(hours=1)

OUTSIDE_MIN_FACILITIES = 10
OUTSIDE_MIN_SHARE = 0.5
OUTSIDE_SHARE_MARGIN = 0.3
PEER_MIN_FACILITY_VIEWS = 5

LONG_LOOKBACK_DAYS = 365
LONG_MIN_WEEKS = 8
LONG_MIN_SPAN_DAYS = 84


@dataclass(frozen=True)
class Thresholds:
    volume_factor: float = VOLUME_FACTOR
    volume_baseline_weeks: int = VOLUME_BASELINE_WEEKS
    volume_baseline_min_weeks: int = VOLUME_BASELINE_MIN_WEEKS
    volume_baseline_floor: int = VOLUME_BASELINE_FLOOR
    volume_min_week_lookups: int = VOLUME_MIN_WEEK_LOOKUPS
    volume_min_period_lookups: int = VOLUME_MIN_PERIOD_LOOKUPS
    min_peers: int = MIN_PEERS
    night_min_lookups: int = NIGHT_MIN_LOOKUPS
    bulk_min_views: int = BULK_MIN_VIEWS
    bulk_window: datetime.timedelta = BULK_WINDOW
    outside_min_facilities: int = OUTSIDE_MIN_FACILITIES
    outside_min_share: float = OUTSIDE_MIN_SHARE
    outside_share_margin: float = OUTSIDE_SHARE_MARGIN
    peer_min_facility_views: int = PEER_MIN_FACILITY_VIEWS
    long_lookback_days: int = LONG_LOOKBACK_DAYS
    long_min_weeks: int = LONG_MIN_WEEKS
    long_min_span_days: int = LONG_MIN_SPAN_DAYS


class Kind:
    """The kinds of finding, in the order the report shows them."""

    LONG_PATTERN = "long_pattern"
    OUTSIDE_COUNTY = "outside_county"
    BULK_PERSONAL_DATA = "bulk_personal_data"
    NIGHT = "night"
    VOLUME = "volume"

    ORDER = (LONG_PATTERN, OUTSIDE_COUNTY, BULK_PERSONAL_DATA, NIGHT, VOLUME)
    LABELS = {
        LONG_PATTERN: gettext_lazy("Uppslag under lång tid utanför det egna länet"),
        OUTSIDE_COUNTY: gettext_lazy("Många verksamheter utanför det egna länet"),
        BULK_PERSONAL_DATA: gettext_lazy("Många visningar av personuppgifter på kort tid"),
        NIGHT: gettext_lazy("Uppslag nattetid"),
        VOLUME: gettext_lazy("Ovanligt många uppslag"),
    }


@dataclass(frozen=True)
class Finding:
    kind: str
    user_id: int
    username: str
    municipality_code: str
    explanation: str
    numbers: dict = field(default_factory=dict)
    example_event_ids: tuple[int, ...] = ()
    score: float = 0.0  # orders the findings of one kind, strongest first

    @property
    def kind_label(self) -> str:
        return str(Kind.LABELS[self.kind])


UserKey = tuple[int, str]  # (user_id, municipality_code)


def default_period(
    now: datetime.datetime | None = None,
) -> tuple[datetime.datetime, datetime.datetime]:
    """The last ``DEFAULT_PERIOD_DAYS`` (30) days up to now."""
    end = now or timezone.now()
    return end - datetime.timedelta(days=DEFAULT_PERIOD_DAYS), end


def review_access_log(
    *,
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    thresholds: Thresholds = Thresholds(),
) -> list[Finding]:
    """Findings of unusual use of the register in [start, end), grouped by kind (``Kind.ORDER``)
    and strongest first within a kind. Default period: the last 30 days."""
    end = end or timezone.now()
    start = start or end - datetime.timedelta(days=DEFAULT_PERIOD_DAYS)
    if start >= end:
        raise ValueError("start must be before end")
    report = _Report(start=start, end=end, thresholds=thresholds)
    findings = (
        report.long_pattern()
        + report.outside_county()
        + report.bulk_personal_data()
        + report.night()
        + report.volume()
    )
    return sorted(findings, key=lambda f: (Kind.ORDER.index(f.kind), -f.score, f.user_id))


def _week_of(moment: datetime.datetime) -> datetime.date:
    local = moment.astimezone(SWEDISH_TIME).date()
    return local - datetime.timedelta(days=local.weekday())


def _piecewise(boundaries: list[datetime.datetime], values) -> Case:
    """A CASE on ``at`` worth ``values[i]`` from ``boundaries[i - 1]`` to ``boundaries[i]``
    (``values`` has one more entry than ``boundaries``), nested as a balanced binary tree so a row
    is placed with a handful of comparisons.

    Weeks and nights in Swedish time are worked out here with zoneinfo (summer time included)
    and compared with ``at`` natively: TruncWeek or ExtractHour with a time zone is a Python
    function per row on SQLite, and a flat CASE or an OR of a year's nights is linear per row:
    on 100,000 events the week took 0.5 s by TruncWeek and a year's nights 1.4 s as an OR, against
    0.1–0.2 s each this way."""
    values = list(values)
    if not boundaries:
        return Value(values[0], output_field=IntegerField())
    middle = len(boundaries) // 2
    return Case(
        When(
            at__lt=boundaries[middle],
            then=_piecewise(boundaries[:middle], values[: middle + 1]),
        ),
        default=_piecewise(boundaries[middle + 1 :], values[middle + 1 :]),
        output_field=IntegerField(),
    )


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=SWEDISH_TIME)


def _percent(share: float) -> int:
    return round(share * 100)


class _Report:
    def __init__(self, *, start, end, thresholds: Thresholds):
        self.start = start
        self.end = end
        self.t = thresholds
        self.long_start = min(start, end - datetime.timedelta(days=thresholds.long_lookback_days))
        self.usernames: dict[UserKey, str] = {}
        self._weekly = None
        self._facility_views = None

    # -- the two grouped queries everything else is computed from ---------------------------

    def _week_bucket(self, since: datetime.datetime) -> tuple[Case, list[datetime.date]]:
        """An expression for the week of ``at`` as an index into the weeks' Mondays (Swedish
        time) from the week of ``since`` to the end of the period, returned with it."""
        weeks = [_week_of(since)]
        while _local_midnight(weeks[-1] + ONE_WEEK) < self.end:
            weeks.append(weeks[-1] + ONE_WEEK)
        return _piecewise([_local_midnight(week) for week in weeks[1:]], range(len(weeks))), weeks

    def _at_night(self) -> Case:
        """1 for an ``at`` in a night (22–06 Swedish time) of the period, else 0."""
        boundaries = []
        day = self.start.astimezone(SWEDISH_TIME).date() - datetime.timedelta(days=1)
        while _local_midnight(day) < self.end:
            night_start = _local_midnight(day) + datetime.timedelta(hours=NIGHT_STARTS_HOUR)
            night_end = _local_midnight(day + datetime.timedelta(days=1)) + datetime.timedelta(
                hours=NIGHT_ENDS_HOUR
            )
            if night_end > self.start and night_start < self.end:
                boundaries += [max(night_start, self.start), min(night_end, self.end)]
            day += datetime.timedelta(days=1)
        return _piecewise(boundaries, [0, 1] * (len(boundaries) // 2) + [0])

    def weekly(self):
        """Per user and week over the volume baseline and the long look-back: look-ups, of them
        in the period, at night in the period and personal-data views in the period, with
        example ids."""
        if self._weekly is not None:
            return self._weekly
        baseline_start = _local_midnight(
            _week_of(self.start) - ONE_WEEK * self.t.volume_baseline_weeks
        )
        since = min(baseline_start, self.long_start)
        in_period = Q(at__gte=self.start)
        week, weeks = self._week_bucket(since)
        at_night = Q(Exact(self._at_night(), 1))  # in the period: its nights only
        rows = (
            AccessEvent.objects.filter(
                user_id__isnull=False, action__in=LOOKUP_ACTIONS, at__gte=since, at__lt=self.end
            )
            .values("user_id", "municipality_code", "username", week=week)
            .annotate(
                lookups=Count("id"),
                in_period=Count("id", filter=in_period),
                night=Count("id", filter=at_night),
                personal=Count(
                    "id", filter=in_period & Q(action=AccessEvent.Action.PERSONAL_DATA_VIEW)
                ),
                example=Min("id", filter=in_period),
            )
            .order_by()
        )
        self._weekly = []
        for row in rows:
            row["week"] = weeks[row["week"]]
            self.usernames[(row["user_id"], row["municipality_code"])] = row["username"]
            self._weekly.append(row)
        return self._weekly

    def facility_views(self):
        """Per user, facility and week over the long look-back: views, of them in the period,
        with the facility's län and example ids. Users without a municipality (IVO staff) have
        no home län and are left out."""
        if self._facility_views is not None:
            return self._facility_views
        in_period = Q(at__gte=self.start)
        week, weeks = self._week_bucket(self.long_start)
        rows = list(
            AccessEvent.objects.filter(
                user_id__isnull=False,
                action=AccessEvent.Action.FACILITY_VIEW,
                at__gte=self.long_start,
                at__lt=self.end,
            )
            .exclude(municipality_code="")
            .values("user_id", "municipality_code", "object_id", week=week)
            .annotate(
                views=Count("id"),
                in_period=Count("id", filter=in_period),
                example=Min("id"),
                period_example=Min("id", filter=in_period),
            )
            .order_by()
        )
        # One query for the municipality of every facility seen; the log has no foreign keys.
        county_of = {
            facility_id: municipality_code[:2]
            for facility_id, municipality_code in Facility.objects.filter(
                facility_id__in={row["object_id"] for row in rows}
            ).values_list("facility_id", "municipality_id")
        }
        for row in rows:
            row["week"] = weeks[row["week"]]
            row["county"] = county_of.get(row["object_id"])  # None: not (or no longer) registered
        self._facility_views = rows
        return rows

    def _finding(self, kind, key: UserKey, explanation, numbers, examples, score) -> Finding:
        return Finding(
            kind=kind,
            user_id=key[0],
            username=self.usernames.get(key, ""),
            municipality_code=key[1],
            explanation=explanation,
            numbers=numbers,
            example_event_ids=tuple(sorted(e for e in examples if e is not None))[:EXAMPLE_COUNT],
            score=score,
        )

    def _county_names(self) -> dict[str, str]:
        return dict(County.objects.values_list("code", "name"))

    # -- (a) volume ---------------------------------------------------------------------------

    def volume(self) -> list[Finding]:
        t = self.t
        first_week = _week_of(self.start)
        per_week: dict[UserKey, dict[datetime.date, int]] = defaultdict(dict)
        in_period: dict[UserKey, int] = defaultdict(int)
        examples: dict[UserKey, list[int]] = defaultdict(list)
        for row in self.weekly():
            key = (row["user_id"], row["municipality_code"])
            per_week[key][row["week"]] = per_week[key].get(row["week"], 0) + row["lookups"]
            in_period[key] += row["in_period"]
            if row["in_period"]:
                examples[key].append(row["example"])
        active = {key: count for key, count in in_period.items() if count}
        by_municipality: dict[str, list[int]] = defaultdict(list)
        for (_user, municipality), count in active.items():
            by_municipality[municipality].append(count)
        for counts in by_municipality.values():
            counts.sort()

        findings = []
        for key, count in active.items():
            reasons, numbers, score = [], {"uppslag_i_perioden": count}, 0.0
            weeks = per_week[key]
            history = sorted(week for week in weeks if week < first_week)
            if history:
                baseline_weeks = [
                    history[0] + datetime.timedelta(weeks=n)
                    for n in range((first_week - history[0]).days // 7)
                ][-t.volume_baseline_weeks :]
                if len(baseline_weeks) >= t.volume_baseline_min_weeks:
                    median = statistics.median(weeks.get(week, 0) for week in baseline_weeks)
                    peak_week, peak = max(
                        ((week, n) for week, n in weeks.items() if week >= first_week),
                        key=lambda item: item[1],
                        default=(None, 0),
                    )
                    limit = t.volume_factor * max(median, t.volume_baseline_floor)
                    if peak >= limit and peak >= t.volume_min_week_lookups:
                        reasons.append(
                            _(
                                "%(peak)s uppslag veckan som börjar %(week)s, mot en medianvecka "
                                "på %(median)s under de %(weeks)s veckorna före perioden."
                            )
                            % {
                                "peak": peak,
                                "week": peak_week.isoformat(),
                                "median": _number(median),
                                "weeks": len(baseline_weeks),
                            }
                        )
                        numbers.update(
                            {
                                "uppslag_toppveckan": peak,
                                "toppveckan": peak_week.isoformat(),
                                "median_per_vecka_tidigare": median,
                            }
                        )
                        score = max(score, peak / max(median, t.volume_baseline_floor))
            peers = len(by_municipality[key[1]]) - 1
            if peers >= t.min_peers:
                peer_median = _median_without(by_municipality[key[1]], count)
                if count > t.volume_factor * peer_median and count >= t.volume_min_period_lookups:
                    reasons.append(
                        _(
                            "%(count)s uppslag under perioden, mot en median på %(median)s för "
                            "kommunens %(peers)s andra användare."
                        )
                        % {
                            "count": count,
                            "median": _number(peer_median),
                            "peers": peers,
                        }
                    )
                    numbers.update(
                        {
                            "median_for_kommunens_anvandare": peer_median,
                            "andra_anvandare": peers,
                        }
                    )
                    score = max(score, count / max(peer_median, 1))
            if reasons:
                findings.append(
                    self._finding(
                        Kind.VOLUME, key, " ".join(reasons), numbers, examples[key], score
                    )
                )
        return findings

    # -- (b) night ----------------------------------------------------------------------------

    def night(self) -> list[Finding]:
        counts: dict[UserKey, int] = defaultdict(int)
        for row in self.weekly():
            counts[(row["user_id"], row["municipality_code"])] += row["night"]
        flagged = {key for key, count in counts.items() if count >= self.t.night_min_lookups}
        if not flagged:
            return []
        # Example ids: the flagged users' first look-ups at night (few users, on their index).
        examples: dict[UserKey, list[int]] = defaultdict(list)
        for user_id, municipality, event_id in (
            AccessEvent.objects.filter(
                user_id__in={user_id for user_id, _m in flagged},
                action__in=LOOKUP_ACTIONS,
                at__gte=self.start,
                at__lt=self.end,
            )
            .alias(night=self._at_night())
            .filter(night=1)
            .order_by("user_id", "at", "id")
            .values_list("user_id", "municipality_code", "id")
        ):
            if len(examples[(user_id, municipality)]) < EXAMPLE_COUNT:
                examples[(user_id, municipality)].append(event_id)
        return [
            self._finding(
                Kind.NIGHT,
                key,
                _("%(count)s uppslag mellan kl. %(from)s och %(to)s svensk tid under perioden.")
                % {
                    "count": counts[key],
                    "from": f"{NIGHT_STARTS_HOUR:02d}.00",
                    "to": f"{NIGHT_ENDS_HOUR:02d}.00",
                },
                {"uppslag_nattetid": counts[key]},
                examples[key],
                counts[key],
            )
            for key in flagged
        ]

    # -- (d) bulk personal data ---------------------------------------------------------------

    def bulk_personal_data(self) -> list[Finding]:
        t = self.t
        counts: dict[UserKey, int] = defaultdict(int)
        for row in self.weekly():
            counts[(row["user_id"], row["municipality_code"])] += row["personal"]
        candidates = {key for key, count in counts.items() if count >= t.bulk_min_views}
        if not candidates:
            return []
        # Times only for the few users with enough personal-data views to be candidates.
        times: dict[UserKey, list[tuple[datetime.datetime, int]]] = defaultdict(list)
        for user_id, municipality, event_id, at in (
            AccessEvent.objects.filter(
                user_id__in={user_id for user_id, _m in candidates},
                action=AccessEvent.Action.PERSONAL_DATA_VIEW,
                at__gte=self.start,
                at__lt=self.end,
            )
            .order_by("user_id", "at", "id")
            .values_list("user_id", "municipality_code", "id", "at")
        ):
            if (user_id, municipality) in candidates:
                times[(user_id, municipality)].append((at, event_id))

        findings = []
        for key, events in times.items():
            best_count, best_first, first = 0, 0, 0
            for last in range(len(events)):  # the densest window of BULK_WINDOW
                while events[last][0] - events[first][0] >= t.bulk_window:
                    first += 1
                if last - first + 1 > best_count:
                    best_count, best_first = last - first + 1, first
            if best_count < t.bulk_min_views:
                continue
            window = events[best_first : best_first + best_count]
            window_start = timezone.localtime(window[0][0], SWEDISH_TIME)
            findings.append(
                self._finding(
                    Kind.BULK_PERSONAL_DATA,
                    key,
                    _(
                        "%(count)s visningar av personuppgifter inom en timme från "
                        "%(start)s (%(total)s under perioden)."
                    )
                    % {
                        "count": best_count,
                        "start": window_start.strftime("%Y-%m-%d %H:%M"),
                        "total": len(events),
                    },
                    {
                        "visningar_inom_en_timme": best_count,
                        "fonstret_borjar": window_start.isoformat(timespec="minutes"),
                        "visningar_i_perioden": len(events),
                    },
                    [event_id for _at, event_id in window],
                    best_count,
                )
            )
        return findings

    # -- (c) outside usual län and (e) long steady pattern ----------------------------------

    def _peer_median_share(self, shares: dict[UserKey, float], key: UserKey) -> float:
        """The usual outside-län share of the user's peers: the municipality's other users, or
        the län's, or the whole country's when there are fewer than ``min_peers``."""
        municipality = key[1]
        for same_group in (
            lambda other: other[1] == municipality,
            lambda other: other[1][:2] == municipality[:2],
            lambda other: True,
        ):
            peers = [share for other, share in shares.items() if other != key and same_group(other)]
            if len(peers) >= self.t.min_peers:
                return statistics.median(peers)
        return 0.0

    def _shares(self, *, period_only: bool):
        """Per user: views of facilities with a known län, split into own län and outside; and
        the share outside, for users with enough views for a share to mean something."""
        stats: dict[UserKey, dict] = defaultdict(
            lambda: {
                "facilities": set(),
                "outside_facilities": set(),
                "views": 0,
                "outside_views": 0,
                "outside_weeks": set(),
                "examples": [],
            }
        )
        for row in self.facility_views():
            views = row["in_period"] if period_only else row["views"]
            if not views or row["county"] is None:
                continue
            key = (row["user_id"], row["municipality_code"])
            user = stats[key]
            user["facilities"].add(row["object_id"])
            user["views"] += views
            if row["county"] != key[1][:2]:
                user["outside_facilities"].add(row["object_id"])
                user["outside_views"] += views
                user["outside_weeks"].add(row["week"])
                user["examples"].append(row["period_example"] if period_only else row["example"])
        shares = {
            key: user["outside_views"] / user["views"]
            for key, user in stats.items()
            if user["views"] >= self.t.peer_min_facility_views
        }
        return stats, shares

    def _unusual_share(self, shares: dict[UserKey, float], key: UserKey) -> float | None:
        """The peers' median share when the user's outside-län share is unusual, else None.
        The cheap test first: the peers' median is worked out for the few above the floor."""
        if shares[key] < self.t.outside_min_share:
            return None
        peer_share = self._peer_median_share(shares, key)
        return peer_share if shares[key] >= self._outside_limit(peer_share) else None

    def _outside_limit(self, peer_share: float) -> float:
        return max(self.t.outside_min_share, peer_share + self.t.outside_share_margin)

    def outside_county(self) -> list[Finding]:
        t = self.t
        stats, shares = self._shares(period_only=True)
        counties = None
        findings = []
        for key, share in shares.items():
            outside = len(stats[key]["outside_facilities"])
            if outside < t.outside_min_facilities:
                continue
            peer_share = self._unusual_share(shares, key)
            if peer_share is None:
                continue
            counties = counties or self._county_names()
            findings.append(
                self._finding(
                    Kind.OUTSIDE_COUNTY,
                    key,
                    _(
                        "%(outside)s olika verksamheter utanför %(county)s visade under "
                        "perioden: %(outside_views)s av %(views)s visningar av verksamheter "
                        "(%(share)s %%), mot %(peer)s %% för jämförbara användare."
                    )
                    % {
                        "outside": outside,
                        "outside_views": stats[key]["outside_views"],
                        "views": stats[key]["views"],
                        "share": _percent(share),
                        "county": counties.get(key[1][:2], key[1][:2]),
                        "peer": _percent(peer_share),
                    },
                    {
                        "verksamheter_utanfor_lanet": outside,
                        "verksamheter_totalt": len(stats[key]["facilities"]),
                        "visningar_utanfor_lanet": stats[key]["outside_views"],
                        "visningar_av_verksamheter": stats[key]["views"],
                        "andel_utanfor": round(share, 3),
                        "andel_utanfor_jamforbara": round(peer_share, 3),
                    },
                    stats[key]["examples"],
                    outside * (share - peer_share),
                )
            )
        return findings

    def long_pattern(self) -> list[Finding]:
        t = self.t
        stats, shares = self._shares(period_only=False)
        lookups: dict[UserKey, int] = defaultdict(int)
        lookups_long: dict[UserKey, int] = defaultdict(int)
        first_long_week = _week_of(self.long_start)
        for row in self.weekly():
            key = (row["user_id"], row["municipality_code"])
            lookups[key] += row["in_period"]
            if row["week"] >= first_long_week:
                lookups_long[key] += row["lookups"]
        counties = None
        findings = []
        for key, share in shares.items():
            user = stats[key]
            weeks = sorted(user["outside_weeks"])
            if not lookups.get(key) or len(weeks) < t.long_min_weeks:
                continue  # no longer active, or not steady
            span_days = (weeks[-1] - weeks[0]).days + 7
            if span_days < t.long_min_span_days:
                continue
            peer_share = self._unusual_share(shares, key)
            if peer_share is None:
                continue
            counties = counties or self._county_names()
            all_lookups = lookups_long[key]
            findings.append(
                self._finding(
                    Kind.LONG_PATTERN,
                    key,
                    _(
                        "Har sett verksamheter utanför %(county)s under %(weeks)s olika veckor "
                        "från %(first)s till %(last)s (%(months)s månader): %(outside)s av "
                        "%(views)s visningar av verksamheter (%(share)s %%), mot %(peer)s %% för "
                        "jämförbara användare; %(lookups)s uppslag i allt. Ett jämnt, "
                        "lågt tempo över lång tid märks inte på mängden – kontrollera att "
                        "användaren fortfarande arbetar i kommunen."
                    )
                    % {
                        "county": counties.get(key[1][:2], key[1][:2]),
                        "weeks": len(weeks),
                        "first": weeks[0].isoformat(),
                        "last": (weeks[-1] + datetime.timedelta(days=6)).isoformat(),
                        "months": round(span_days / 30.4),
                        "outside": user["outside_views"],
                        "views": user["views"],
                        "share": _percent(share),
                        "peer": _percent(peer_share),
                        "lookups": all_lookups,
                    },
                    {
                        "veckor_med_uppslag_utanfor_lanet": len(weeks),
                        "dagar_fran_forsta_till_sista": span_days,
                        "visningar_utanfor_lanet": user["outside_views"],
                        "visningar_av_verksamheter": user["views"],
                        "andel_utanfor": round(share, 3),
                        "andel_utanfor_jamforbara": round(peer_share, 3),
                        "uppslag": all_lookups,
                    },
                    user["examples"],
                    user["outside_views"] * (share - peer_share),
                )
            )
        return findings


def _median_without(ordered: list[int], value: int) -> float:
    """The median of ``ordered`` (sorted) with one ``value`` left out, without copying it."""
    skip = bisect.bisect_left(ordered, value)
    count = len(ordered) - 1

    def nth(index: int) -> int:
        return ordered[index if index < skip else index + 1]

    if count % 2:
        return nth(count // 2)
    return (nth(count // 2 - 1) + nth(count // 2)) / 2


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")
