"""Reads of the utlämnande flow: a municipality's requests, the officers' queue, the numbers."""

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from documents.models import DecisionDocument, DecisionRequest

State = DecisionRequest.State


def municipality_requests(municipality_id: str) -> QuerySet[DecisionRequest]:
    return (
        DecisionRequest.objects.filter(municipality_id=municipality_id)
        .select_related("decision__facility")
        .order_by("-created_at", "-id")
    )


def queue() -> QuerySet[DecisionRequest]:
    """Open requests, oldest first."""
    return (
        DecisionRequest.objects.filter(state__in=DecisionRequest.OPEN_STATES)
        .select_related("decision__facility", "municipality", "handler")
        .order_by("created_at", "id")
    )


def days_open(item: DecisionRequest, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    return (today - timezone.localtime(item.created_at).date()).days


@dataclass(frozen=True)
class DecisionDocumentState:
    """What the facility page shows beside one decision for one viewer."""

    request: DecisionRequest | None  # the municipality's latest request for it
    automatic: bool  # a cleared copy, downloadable at once (DECISION_RELEASE=automatic)
    automatic_partial: bool  # ...with some details masked
    has_full: bool  # for IVO staff: the full decision is attached


def facility_document_states(
    decision_ids: list[int], municipality_id: str | None, automatic_release: bool
) -> dict[int, DecisionDocumentState]:
    """Two queries, whatever the number of decisions."""
    documents = {
        d.decision_id: d for d in DecisionDocument.objects.filter(decision_id__in=decision_ids)
    }
    latest: dict[int, DecisionRequest] = {}
    if municipality_id:
        for item in DecisionRequest.objects.filter(
            decision_id__in=decision_ids, municipality_id=municipality_id
        ).order_by("created_at", "id"):
            latest[item.decision_id] = item
    return {
        decision_id: DecisionDocumentState(
            request=latest.get(decision_id),
            automatic=automatic_release
            and decision_id in documents
            and documents[decision_id].release_cleared,
            automatic_partial=decision_id in documents and documents[decision_id].release_partial,
            has_full=decision_id in documents and bool(documents[decision_id].full_file),
        )
        for decision_id in decision_ids
    }


@dataclass(frozen=True)
class MonthFigures:
    month: datetime.date
    received: int
    decided: int
    median_days: float | None
    p90_days: float | None
    refused_share: float | None


def _days(item) -> float:
    return (item["decided_at"] - item["created_at"]).total_seconds() / 86400


def _figures(month, received: int, decided: list[dict]) -> MonthFigures:
    durations = sorted(_days(item) for item in decided)
    refused = sum(1 for item in decided if item["state"] == State.REFUSED)
    return MonthFigures(
        month=month,
        received=received,
        decided=len(decided),
        median_days=statistics.median(durations) if durations else None,
        p90_days=_percentile(durations, 0.9) if durations else None,
        refused_share=refused / len(decided) if decided else None,
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile: a handling time that really occurred."""
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil
    return ordered[int(rank) - 1]


def request_numbers() -> tuple[list[MonthFigures], MonthFigures]:
    """Per month of arrival: requests received, decided, median and 90th-percentile handling
    time in days (arrival to decision), share refused; and the same for all months."""
    rows = list(DecisionRequest.objects.values("created_at", "decided_at", "state"))
    received: dict[datetime.date, int] = defaultdict(int)
    decided: dict[datetime.date, list[dict]] = defaultdict(list)
    for row in rows:
        month = timezone.localtime(row["created_at"]).date().replace(day=1)
        received[month] += 1
        if row["state"] in DecisionRequest.DECIDED_STATES:
            decided[month].append(row)
    months = [
        _figures(month, received[month], decided[month]) for month in sorted(received, reverse=True)
    ]
    total = _figures(None, len(rows), [row for items in decided.values() for row in items])
    return months, total
