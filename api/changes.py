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
from django.db.models import F, Q
from django.db.models.expressions import RawSQL

from api.models import ChangeEvent

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


def ended_transactions_only(queryset):
    """Only the rows of transactions older than the oldest still running (PostgreSQL; on SQLite
    every committed row): a feed ordered by (transaction id, id) lists nothing a transaction
    still running could land before. ``queryset`` of a model with ``transaction_id`` (the changes
    feed's ``ChangeEvent``, the notifications feed's ``RegisterEvent``)."""
    if connection.vendor != "postgresql":
        return queryset
    return queryset.alias(
        horizon=RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])
    ).filter(transaction_id__lt=F("horizon"))


def changes_after(
    cursor: tuple[int, int], *, limit: int, include_protected: bool = False
) -> tuple[list[ChangeEvent], bool]:
    """Up to ``limit`` events after ``cursor``, oldest first, and whether more are ready. Each
    event's ``position`` is the second number of its cursor.

    Without ``include_protected`` (an outsider) only the events the triggers did not mark
    ``protected`` are listed, numbered by ``public_position``: a sequence of their own, so the
    cursors are what they would be had protected homes never been written
    (api/change_triggers.py)."""
    transaction_id, position = cursor
    column = "id" if include_protected else "public_position"
    queryset = ChangeEvent.objects.filter(
        Q(transaction_id__gt=transaction_id)
        | Q(transaction_id=transaction_id, **{f"{column}__gt": position})
    )
    if include_protected:
        queryset = queryset.filter(outsiders_only=False)
    else:
        queryset = queryset.filter(protected=False, public_position__isnull=False)
    queryset = ended_transactions_only(queryset)
    events = list(queryset.order_by("transaction_id", column)[: limit + 1])
    for event in events:
        event.position = getattr(event, column)
    return events[:limit], len(events) > limit
