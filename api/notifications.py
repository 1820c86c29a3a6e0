"""The notifications feed: the register events that reach a municipality's watches (its users'
and its systems' own), oldest first, after a cursor of the changes feed's form (api/changes.py:
the transaction id and the event's id, and on PostgreSQL only transactions that have ended, so a
transaction that commits late never lands behind a client's cursor).

Who is reached is what the alerts app tells (alerts.delivery.watches_for): a watch of the home
always; a provider's or an area's watch only when the home is not protected, and an area's only
for a new home or a serious event; and a watch made after the event never. One rule is stricter
here: a home that is protected now is treated as protected for its older events too, so the feed
never lists, to a provider's or an area's watchers, a home that has since become protected.
"""

from django.db.models import Exists, OuterRef, Q

from alerts.models import Watch
from api.changes import ended_transactions_only
from register.codes import EventKind
from register.models import RegisterEvent, protected_condition


def reaching(municipality_code: str) -> Q:
    """The events that reach at least one watch of the municipality's."""
    watches = Watch.objects.filter(
        owner_municipality_id=municipality_code, created_at__lte=OuterRef("created_at")
    )
    of_home = Exists(watches.filter(facility_id=OuterRef("facility_id")))
    of_provider = Exists(watches.filter(provider_id=OuterRef("provider_id")))
    of_area = Exists(
        watches.filter(
            Q(municipality_id=OuterRef("municipality_id")) | Q(county_id=OuterRef("county_id"))
        )
    )
    public = Q(protected=False) & ~protected_condition("facility__")
    area_news = Q(kind=EventKind.FACILITY_CREATED) | Q(serious=True)
    return Q(of_home) | (public & (Q(of_provider) | (area_news & Q(of_area))))


def notifications_after(
    cursor: tuple[int, int], *, municipality_code: str, limit: int
) -> tuple[list[RegisterEvent], bool, tuple[int, int]]:
    """Up to ``limit`` events reaching the municipality's watches after ``cursor``, oldest
    first, with their facility and provider; whether more are ready; and the cursor to ask from
    next.

    The next cursor, when no more are ready, is the last event of the whole register the feed
    could list (read before the page, so every event up to it was among those the page looked
    at): a municipality whose watches are quiet does not look through the same events at every
    call."""
    transaction_id, event_id = cursor
    last = (
        ended_transactions_only(RegisterEvent.objects.all())
        .order_by("-transaction_id", "-id")
        .values_list("transaction_id", "id")
        .first()
    )
    queryset = ended_transactions_only(
        RegisterEvent.objects.filter(
            Q(transaction_id__gt=transaction_id) | Q(transaction_id=transaction_id, id__gt=event_id)
        ).filter(reaching(municipality_code))
    )
    events = list(
        queryset.select_related("facility", "provider").order_by("transaction_id", "id")[
            : limit + 1
        ]
    )
    has_more = len(events) > limit
    events = events[:limit]
    next_cursor = (events[-1].transaction_id, events[-1].pk) if events else cursor
    if not has_more and last is not None:
        next_cursor = max(next_cursor, last)
    return events, has_more, next_cursor
