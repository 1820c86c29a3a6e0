"""The changes feed: every created, changed or removed facility, provider, decision and inspection
after a cursor, in order, so a client that polls it never misses or double-counts a change.

Why not a cursor over the autoincrement id alone: on PostgreSQL two transactions take ids from the
sequence in the order they write, but commit in any order. If T1 takes id 10, T2 takes id 11 and
commits first, a client polling in between sees 11, moves its cursor past 10, and never sees T1's
change when it commits. So each event carries its transaction id (``pg_current_xact_id()``), the
feed orders by (transaction id, id), and lists only transactions older than the oldest still
running (``pg_snapshot_xmin``): every transaction it lists has ended, and every one that can still
commit has a larger transaction id than anything listed, so it lands after the client's cursor.
A long-running writer holds the feed back until it ends; that is the price of never skipping.

On SQLite the writers are serialised (IMMEDIATE transactions take the write lock at BEGIN), so ids
are taken in commit order and the transaction id is 0 for all.
"""

import re

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, UUIDField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Replace

from api.models import ChangeEvent
from register.models import (
    Decision,
    Facility,
    Inspection,
    Provider,
    only_protected_homes,
    protected_condition,
)

# Up to 18 digits each: every such number fits a 64-bit column, so any cursor of this form is a
# valid place in the feed (documented in the OpenAPI schema; anything else is refused there).
CURSOR_PATTERN = r"^(\d{1,18}-\d{1,18})?$"
START = (0, 0)


def parse_cursor(text: str) -> tuple[int, int]:
    if not text:
        return START
    transaction_id, event_id = re.fullmatch(CURSOR_PATTERN, text).group(1).split("-")
    return int(transaction_id), int(event_id)


def format_cursor(transaction_id: int, event_id: int) -> str:
    return f"{transaction_id}-{event_id}"


def changes_after(
    cursor: tuple[int, int], *, limit: int, include_protected: bool = False
) -> tuple[list[ChangeEvent], bool]:
    """Up to ``limit`` events after ``cursor``, oldest first, and whether more are ready. Each
    event has ``protected``: whether it is a protected home's (a facility event).

    Without ``include_protected`` the events of protected homes — the facility's own, its
    decisions' and inspections', and those of a provider whose every home is protected — are
    left out in the query, so a page is as long, and its cursors are the same, as if they had
    never been written. (The triggers write no provider event for a change of a protected home:
    api/change_triggers.py.)"""
    transaction_id, event_id = cursor
    protected_home = Facility.objects.protected().filter(facility_id=OuterRef("resource_id"))
    queryset = ChangeEvent.objects.filter(
        Q(transaction_id__gt=transaction_id) | Q(transaction_id=transaction_id, id__gt=event_id)
    ).annotate(protected=Q(resource=ChangeEvent.Resource.FACILITY) & Exists(protected_home))
    if not include_protected:
        queryset = queryset.exclude(_of_protected_homes())
    if connection.vendor == "postgresql":
        queryset = queryset.alias(
            horizon=RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])
        ).filter(transaction_id__lt=F("horizon"))
    events = list(queryset.order_by("transaction_id", "id")[: limit + 1])
    return events[:limit], len(events) > limit


def _of_protected_homes() -> Q:
    """Events an outsider is not shown (see changes_after)."""
    resource = ChangeEvent.Resource
    protected_facility = Facility.objects.protected().filter(facility_id=OuterRef("resource_id"))
    of_facility = protected_condition("facility__")
    decision = Decision.objects.filter(of_facility, diarienummer=OuterRef("resource_id"))
    inspection = Inspection.objects.filter(of_facility, diarienummer=OuterRef("resource_id"))
    # The event names a provider by its public id as text with dashes; SQLite stores a UUID as
    # 32 hex digits, PostgreSQL as uuid.
    if connection.vendor == "postgresql":
        public_id = Cast(OuterRef("resource_id"), UUIDField())
    else:
        public_id = Replace(OuterRef("resource_id"), Value("-"), Value(""))
    hidden_provider = Provider.objects.filter(only_protected_homes(), public_id=public_id)
    return (
        (Q(resource=resource.FACILITY) & Exists(protected_facility))
        | (Q(resource=resource.DECISION) & Exists(decision))
        | (Q(resource=resource.INSPECTION) & Exists(inspection))
        | (Q(resource=resource.PROVIDER) & Exists(hidden_provider))
    )
