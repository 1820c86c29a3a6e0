"""Reads of the alerts app for its pages: a user's watches and notices, a municipality's counts,
IVO's numbers. Access is checked by the caller first."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from access.roles import MUNICIPAL_ROLES
from access.services import users_told_of_watches
from alerts.models import Notice, Watch
from register import selectors as register_selectors
from register.codes import EventKind
from register.models import Facility, Municipality, RegisterEvent


@dataclass
class UserWatches:
    facilities: list[tuple[Watch, Facility]] = field(default_factory=list)
    providers: list[Watch] = field(default_factory=list)
    areas: list[Watch] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.facilities or self.providers or self.areas)


def watches_of(user, *, include_protected: bool) -> UserWatches:
    """The user's watches by kind; each home with its marking and status today as the portal
    shows them (register.selectors.facilities_with_marking). Three queries, whatever the
    number of watches."""
    watches = list(
        Watch.objects.filter(user=user)
        .select_related("provider", "municipality__county", "county")
        .order_by("created_at", "pk")
    )
    facility_ids = [w.facility_id for w in watches if w.kind == Watch.Kind.FACILITY]
    queryset = Facility.objects.filter(pk__in=facility_ids)
    if not include_protected:
        queryset = queryset.unprotected()
    facilities = {
        f.pk: f for f in register_selectors.facilities_with_marking(queryset).order_by("name")
    }
    result = UserWatches()
    by_facility = {w.facility_id: w for w in watches if w.kind == Watch.Kind.FACILITY}
    result.facilities = [(by_facility[pk], facility) for pk, facility in facilities.items()]
    result.providers = sorted(
        (w for w in watches if w.kind == Watch.Kind.PROVIDER), key=lambda w: w.provider.name
    )
    result.areas = sorted(
        (w for w in watches if w.kind in (Watch.Kind.MUNICIPALITY, Watch.Kind.COUNTY)),
        key=lambda w: (w.kind != Watch.Kind.COUNTY, str(w.municipality or w.county)),
    )
    return result


def watched_targets(user) -> dict[str, dict[str, str]]:
    """What the user watches, for the buttons beside each home and provider: the home's
    register id or the provider's public id to the watch's public id. One query."""
    targets: dict[str, dict[str, str]] = {"facility": {}, "provider": {}}
    for kind, facility_id, provider_id, public_id in Watch.objects.filter(
        user=user, kind__in=[Watch.Kind.FACILITY, Watch.Kind.PROVIDER]
    ).values_list("kind", "facility__facility_id", "provider__public_id", "public_id"):
        if kind == Watch.Kind.FACILITY:
            targets["facility"][facility_id] = str(public_id)
        else:
            targets["provider"][str(provider_id)] = str(public_id)
    return targets


def unread_count(user) -> int:
    """The header's count: one COUNT on the partial index ``notice_unread_idx``."""
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def notices_of(user):
    """The user's notices, newest first, with what ``alerts.texts.describe`` reads."""
    return (
        Notice.objects.filter(user=user)
        .select_related("event__facility__municipality", "event__provider")
        .order_by("-id")
    )


# The municipal administrator's page ------------------------------------------------------------


@dataclass(frozen=True)
class Departed:
    user_id: int
    email: str
    watches: int


def watch_counts_by_facility(municipality: Municipality) -> list[tuple[Facility, int]]:
    """How many of the municipality's users whose access holds watch each home: a number, never
    who. A departed user's watches are counted only as theirs, under "departed" (a home
    watched by them alone here would point at them)."""
    pairs = list(
        Watch.objects.filter(owner_municipality=municipality, kind=Watch.Kind.FACILITY)
        .values_list("facility_id", "user_id")
        .distinct()
    )
    allowed = users_told_of_watches({user_id for _facility_id, user_id in pairs})
    counts = Counter(facility_id for facility_id, user_id in pairs if user_id in allowed)
    facilities = register_selectors.facilities_with_marking(
        Facility.objects.filter(pk__in=list(counts))
    ).order_by("name")
    return [(facility, counts[facility.pk]) for facility in facilities]


def departed_and_staying(municipality: Municipality) -> tuple[list[Departed], list]:
    """The municipality's users whose access has ended and who still have watches (each with a
    number of watches, never which), and its users whose access holds (to hand them to)."""
    per_user = dict(
        Watch.objects.filter(owner_municipality=municipality)
        .values("user_id")
        .annotate(watches=Count("id"))
        .values_list("user_id", "watches")
    )
    municipal_users = list(
        get_user_model()
        .objects.filter(account__municipality=municipality, account__role__in=list(MUNICIPAL_ROLES))
        .values_list("pk", "email")
    )
    allowed = users_told_of_watches([pk for pk, _email in municipal_users] + list(per_user))
    emails = dict(get_user_model().objects.filter(pk__in=list(per_user)).values_list("pk", "email"))
    departed = sorted(
        (
            Departed(user_id=pk, email=emails.get(pk, ""), watches=count)
            for pk, count in per_user.items()
            if pk not in allowed
        ),
        key=lambda d: d.email,
    )
    staying = sorted(
        ((pk, email) for pk, email in municipal_users if pk in allowed), key=lambda u: u[1]
    )
    return departed, staying


# IVO's numbers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Numbers:
    days: list[tuple[datetime.date, list[int], int]]  # day, count per kind (as kinds), total
    kinds: list[tuple[str, str]]
    notices: int
    sent: int
    failed: int
    retried: int
    waiting: int
    stopped: int
    oldest_waiting_since: datetime.datetime | None

    @property
    def oldest_waiting_age(self) -> datetime.timedelta | None:
        if self.oldest_waiting_since is None:
            return None
        return timezone.now() - self.oldest_waiting_since


def numbers(*, days: int = 30) -> Numbers:
    """Events per day for the last ``days`` days by kind, and how delivery goes. Three
    queries; no user is named."""
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    per_day: dict[datetime.date, dict[str, int]] = {}
    for row in (
        RegisterEvent.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "kind")
        .annotate(events=Count("id"))
    ):
        per_day.setdefault(row["day"], {})[row["kind"]] = row["events"]
    table = []
    for offset in range(days):
        day = today - datetime.timedelta(days=offset)
        counts = per_day.get(day, {})
        table.append((day, [counts.get(kind, 0) for kind in EventKind], sum(counts.values())))
    pending = Q(mail=Notice.Mail.PENDING)
    totals = Notice.objects.aggregate(
        notices=Count("id"),
        sent=Count("id", filter=Q(mail=Notice.Mail.SENT)),
        failed=Count("id", filter=Q(mail=Notice.Mail.FAILED)),
        stopped=Count("id", filter=Q(mail=Notice.Mail.STOPPED)),
        retried=Count("id", filter=Q(mail_attempts__gt=0)),
        # Due: a daily summary's notice is not late before its hour.
        waiting=Count("id", filter=pending & Q(mail_due_at__lte=timezone.now())),
    )
    oldest = Notice.objects.filter(pending, mail_due_at__lte=timezone.now()).aggregate(
        since=Min("mail_due_at")
    )["since"]
    return Numbers(
        days=table,
        kinds=[(kind.value, str(kind.label)) for kind in EventKind],
        oldest_waiting_since=oldest,
        **totals,
    )
