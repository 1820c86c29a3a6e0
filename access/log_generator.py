"""Realistic access-log data for tests, benchmarks and the demo (deterministic for a seed).

Normal municipal users work weekdays in office hours, take a few weeks' holiday, make a few
look-ups a working day and mostly read about the homes of their own län, sometimes elsewhere
(placements outside the home län are common). With ``plant_399`` one more user is planted: the
incident behind the review report, a former employee who kept reading for nine months after
changing jobs — 399 look-ups at a modest, steady, daytime rate, mostly about the facilities of
another län (the new job's region).
"""

import datetime
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from access.models import AccessEvent
from access.roles import Role
from register.models import Facility

SWEDISH_TIME = ZoneInfo("Europe/Stockholm")
PLANTED_LOOKUPS = 399
PLANTED_MONTHS = 9

# Share of each kind of look-up for a normal user, and how often they look outside their län.
NORMAL_ACTIONS = (
    (AccessEvent.Action.SEARCH, 0.35),
    (AccessEvent.Action.FACILITY_VIEW, 0.45),
    (AccessEvent.Action.PROVIDER_VIEW, 0.12),
    (AccessEvent.Action.PERSONAL_DATA_VIEW, 0.08),
)
NORMAL_OUTSIDE_SHARE = 0.15
PLANTED_ACTIONS = (
    (AccessEvent.Action.SEARCH, 0.25),
    (AccessEvent.Action.FACILITY_VIEW, 0.70),
    (AccessEvent.Action.PROVIDER_VIEW, 0.05),
)
PLANTED_OUTSIDE_SHARE = 0.85
SEARCH_WORDS = ("", "hvb", "stodboende", "flickor", "pojkar", "missbruk", "npf", "skydd")


@dataclass(frozen=True)
class LogUser:
    """Who an event is written for: what access.log.record takes from the signed-in user."""

    user_id: int
    username: str
    municipality_code: str
    role: str = Role.MUNICIPAL_USER


@dataclass(frozen=True)
class GeneratedLog:
    events: int
    planted: LogUser | None
    planted_events: int


def log_user(user) -> LogUser:
    """A LogUser for a Django user with an account (tests.factories.make_user)."""
    return LogUser(
        user_id=user.pk,
        username=user.get_username(),
        municipality_code=user.account.municipality_id or "",
        role=user.account.role,
    )


@dataclass(frozen=True)
class _Facility:
    facility_id: str
    county: str
    provider_public_id: str


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; fine for the small means of a working day."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in weighted], [w for _, w in weighted])[0]


def _working_days(start: datetime.datetime, end: datetime.datetime) -> list[datetime.date]:
    first = start.astimezone(SWEDISH_TIME).date()
    last = end.astimezone(SWEDISH_TIME).date()
    days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in days if day.weekday() < 5]


def _moment(rng: random.Random, day: datetime.date, first_hour: float, last_hour: float):
    seconds = int(rng.uniform(first_hour, last_hour) * 3600)
    local = datetime.datetime.combine(day, datetime.time(), tzinfo=SWEDISH_TIME)
    return (local + datetime.timedelta(seconds=seconds)).astimezone(datetime.UTC)


class _Events:
    def __init__(self, rng: random.Random, facilities: list[_Facility]):
        self.rng = rng
        self.by_county: dict[str, list[_Facility]] = defaultdict(list)
        for facility in facilities:
            self.by_county[facility.county].append(facility)
        self.facilities = facilities
        self.rows: list[AccessEvent] = []

    def facility(self, *, county: str, outside_share: float, elsewhere: str | None = None):
        own = self.by_county.get(county, [])
        if own and self.rng.random() >= outside_share:
            return self.rng.choice(own)
        if elsewhere and self.by_county.get(elsewhere) and self.rng.random() < 0.8:
            return self.rng.choice(self.by_county[elsewhere])
        outside = [f for f in self.facilities if f.county != county] or self.facilities
        return self.rng.choice(outside)

    def add(self, user: LogUser, at, action: str, facility: _Facility, ip: str) -> None:
        object_type, object_id, fields, detail = "", "", "", ""
        if action == AccessEvent.Action.SEARCH:
            detail = f"q={self.rng.choice(SEARCH_WORDS)}&lan={facility.county}"
        elif action == AccessEvent.Action.FACILITY_VIEW:
            object_type, object_id = "facility", facility.facility_id
        elif action == AccessEvent.Action.PROVIDER_VIEW:
            object_type, object_id = "provider", facility.provider_public_id
        else:
            object_type, object_id = "facility", facility.facility_id
            fields = "manager.name,manager.email,manager.phone"
        self.rows.append(
            AccessEvent(
                at=at,
                user_id=user.user_id,
                username=user.username,
                role=user.role,
                municipality_code=user.municipality_code,
                action=action,
                object_type=object_type,
                object_id=object_id,
                fields=fields,
                ip=ip,
                detail=detail,
            )
        )


def _ip_for(municipality_code: str, serial: int) -> str:
    code = int(municipality_code or 0)
    return f"10.{code // 100 % 256}.{code % 100}.{serial % 250 + 1}"


def generate_access_log(
    *,
    users: Iterable,
    start: datetime.datetime,
    end: datetime.datetime,
    seed: int,
    plant_399: bool = True,
    planted_user: LogUser | None = None,
    batch_size: int = 5000,
) -> GeneratedLog:
    """Write look-ups of ``users`` (LogUser or Django users with an account) over [start, end)
    to the access log, and with ``plant_399`` the former employee's 399 look-ups over the last
    nine months of the range. The facilities are the register's own (at least one needed)."""
    rng = random.Random(seed)
    facilities = [
        _Facility(facility_id, municipality[:2], str(provider))
        for facility_id, municipality, provider in Facility.objects.order_by(
            "facility_id"
        ).values_list("facility_id", "municipality_id", "provider__public_id")
    ]
    if not facilities:
        raise ValueError("The register has no facilities to look up.")
    users = [user if isinstance(user, LogUser) else log_user(user) for user in users]
    events = _Events(rng, facilities)
    days = _working_days(start, end)

    for serial, user in enumerate(users):
        rate = rng.uniform(2.0, 6.0)  # look-ups per working day
        holiday_start = rng.randrange(max(len(days) - 15, 1))
        holiday = set(days[holiday_start : holiday_start + 15])  # three weeks
        county = user.municipality_code[:2]
        ip = _ip_for(user.municipality_code, serial)
        for day in days:
            if day in holiday or rng.random() < 0.08:  # leave, training, sick days
                continue
            for _ in range(_poisson(rng, rate)):
                action = _pick(rng, NORMAL_ACTIONS)
                facility = events.facility(county=county, outside_share=NORMAL_OUTSIDE_SHARE)
                events.add(user, _moment(rng, day, 8.0, 17.0), action, facility, ip)

    planted = None
    planted_events = 0
    if plant_399:
        planted = planted_user or LogUser(
            user_id=max((u.user_id for u in users), default=0) + 1000,
            username="tidigare.anstalld@kommun.example",
            municipality_code=users[0].municipality_code if users else "0880",
        )
        county = planted.municipality_code[:2]
        other_counties = sorted(
            (c for c in events.by_county if c != county),
            key=lambda c: (-len(events.by_county[c]), c),
        )
        new_job_county = other_counties[0] if other_counties else None
        stretch_start = max(start, end - datetime.timedelta(days=round(PLANTED_MONTHS * 30.4)))
        # Whole days inside the range only, so that all 399 are kept.
        first_day = stretch_start.astimezone(SWEDISH_TIME).date()
        last_day = end.astimezone(SWEDISH_TIME).date()
        stretch = [day for day in days if first_day < day < last_day]
        ip = "198.51.100.23"  # not the municipality's network: the new workplace
        for day in sorted(rng.choices(stretch, k=PLANTED_LOOKUPS)):
            action = _pick(rng, PLANTED_ACTIONS)
            facility = events.facility(
                county=county, outside_share=PLANTED_OUTSIDE_SHARE, elsewhere=new_job_county
            )
            events.add(planted, _moment(rng, day, 9.0, 16.0), action, facility, ip)
        planted_events = PLANTED_LOOKUPS

    # In time order, as the log writes them: its hash chain takes them in this order.
    rows = sorted((row for row in events.rows if start <= row.at < end), key=lambda row: row.at)
    AccessEvent.objects.bulk_create(rows, batch_size=batch_size)
    return GeneratedLog(events=len(rows), planted=planted, planted_events=planted_events)
