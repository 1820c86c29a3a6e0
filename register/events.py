"""What happened at a facility that its watchers are told (``RegisterEvent``).

Every write of ``register.services`` records its events here, in its own transaction: the saves
of one record (``_save``: the back office, the facilities import, linking) through
``before_save``/``after_save``, and the bulk writes (the decisions import, the demo data) through
``after_bulk_write``. So an event exists exactly when the write that made it committed. What only
the calendar makes (a requirement or an inspection overdue) the daily scan records
(``record_overdue``), once each (``once_key``).

The register tells no one itself: an interface that delivers (the alerts app) appends a function
to ``EVENT_HOOKS``, called with the new events inside the same transaction.
"""

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from register.codes import (
    OUTCOME_SEVERITY,
    SERIOUS_STATUSES,
    TYPES_WITH_YEARLY_INSPECTION,
    AppealStatus,
    EventKind,
    FacilityStatus,
    Severity,
)
from register.models import (
    Decision,
    Facility,
    Finding,
    Manager,
    RegisterEvent,
    protected_condition,
)

# Called with the events a write recorded, inside its transaction (the alerts app's fan-out).
EVENT_HOOKS: list[Callable[[list[RegisterEvent]], None]] = []

# The stored fields whose change is an event, by model.
_WATCHED_FIELDS: dict[type, tuple[str, ...]] = {
    Facility: ("status", "provider_id"),
    Decision: ("appeal_status",),
}
APPEAL_OUTCOMES = frozenset({AppealStatus.FASTALLT, AppealStatus.UPPHAVT})
# How far back the daily scan looks for what fell due: a day the scan did not run (a stopped
# worker) is made up for; a requirement overdue for years when the register started is not news.
SCAN_DAYS = 14


def before_save(instance) -> dict[str, Any] | None:
    """What ``after_save`` compares with: the stored values of the watched fields; None for a
    new record or a model without events."""
    fields = _WATCHED_FIELDS.get(type(instance))
    if not fields or instance.pk is None:
        return None
    return type(instance)._default_manager.filter(pk=instance.pk).values(*fields).first()


def after_save(instance, *, before: Mapping[str, Any] | None, created: bool) -> None:
    """Record the events of one saved record (``services._save``)."""
    pending = _events_of(instance, before=before, created=created)
    if pending:
        record(pending)


def after_bulk_write(
    model: type,
    *,
    created: Iterable[Any],
    updated: Iterable[Any] = (),
    before: Mapping[Any, Mapping[str, Any]] | None = None,
    key_of: Callable[[Any], Any] | None = None,
) -> None:
    """Record the events of a bulk write: ``created`` records, and ``updated`` ones with the
    values they had (``before``, by ``key_of(instance)``)."""
    pending = [_event for i in created for _event in _events_of(i, before=None, created=True)]
    if before:
        for instance in updated:
            was = before.get(key_of(instance)) if key_of else None
            if was:
                pending += _events_of(instance, before=was, created=False)
    if pending:
        record(pending)


def _events_of(instance, *, before, created: bool) -> list[RegisterEvent]:
    today = timezone.localdate()
    if isinstance(instance, Facility):
        if created:
            return [_event(EventKind.FACILITY_CREATED, instance.pk, instance.start_date or today)]
        if before is None:
            return []
        events = []
        if before.get("status", instance.status) != instance.status:
            events.append(
                _event(
                    EventKind.STATUS_CHANGED,
                    instance.pk,
                    instance.status_date or today,
                    serious=instance.status in SERIOUS_STATUSES,
                    details={"status": instance.status, "status_before": before["status"]},
                )
            )
        if before.get("provider_id", instance.provider_id) != instance.provider_id:
            # The provider it leaves: that provider's watchers are told it has gone.
            events.append(
                _event(
                    EventKind.PROVIDER_CHANGED,
                    instance.pk,
                    today,
                    details={"provider_before": before["provider_id"]},
                )
            )
        return events
    if isinstance(instance, Decision):
        serious = OUTCOME_SEVERITY[instance.outcome] == Severity.SERIOUS
        details = {
            "outcome": instance.outcome,
            "appeal_status": instance.appeal_status,
            "diarienummer": instance.diarienummer,
        }
        if created:
            return [
                _event(
                    EventKind.DECISION,
                    instance.facility_id,
                    instance.decision_date,
                    serious=serious,
                    decision_id=instance.pk,
                    details=details,
                )
            ]
        if (
            before is not None
            and before.get("appeal_status", instance.appeal_status) != instance.appeal_status
            and instance.appeal_status in APPEAL_OUTCOMES
        ):
            return [
                _event(
                    EventKind.APPEAL_DECIDED,
                    instance.facility_id,
                    today,
                    serious=serious,
                    decision_id=instance.pk,
                    details=details,
                )
            ]
        return []
    if isinstance(instance, Manager) and created and instance.end_date is None:
        # The fact only: the manager's name is personal data (DESIGN.md), never in an event.
        return [
            _event(EventKind.MANAGER_CHANGED, instance.facility_id, instance.start_date or today)
        ]
    return []


def _event(
    kind: str,
    facility_id: int,
    occurred_on: datetime.date,
    *,
    serious: bool = False,
    decision_id: int | None = None,
    details: dict[str, Any] | None = None,
    once_key: str | None = None,
) -> RegisterEvent:
    return RegisterEvent(
        kind=kind,
        facility_id=facility_id,
        occurred_on=occurred_on,
        serious=serious,
        decision_id=decision_id,
        details=details or {},
        once_key=once_key,
    )


def record(events: list[RegisterEvent]) -> list[RegisterEvent]:
    """Write ``events`` (their facility's provider, place and protection as they are now) and
    call the hooks, in the caller's transaction."""
    facts = {
        row["pk"]: row
        for start in range(0, len(events), 5000)
        for row in Facility.objects.filter(
            pk__in={event.facility_id for event in events[start : start + 5000]}
        )
        .annotate(is_protected=Case(When(protected_condition(), then=True), default=False))
        .values("pk", "provider_id", "municipality_id", "municipality__county_id", "is_protected")
    }
    connection = connections[router.db_for_write(RegisterEvent)]
    transaction_id = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            transaction_id = cursor.fetchone()[0]
    for event in events:
        fact = facts[event.facility_id]
        event.provider_id = fact["provider_id"]
        event.municipality_id = fact["municipality_id"]
        event.county_id = fact["municipality__county_id"]
        event.protected = fact["is_protected"]
        event.transaction_id = transaction_id
    with transaction.atomic(using=connection.alias):
        if len(events) > _MANY:
            created = _insert_many(connection, events, transaction_id)
        else:
            created = RegisterEvent.objects.bulk_create(events)
        for hook in EVENT_HOOKS:
            hook(created)
    return created


# A write of more events than this (an import's) inserts them as the register's bulk writes do.
_MANY = 500


def _insert_many(connection, events: list[RegisterEvent], transaction_id: int):
    """Insert many events with one prepared statement run for every row (as
    ``services.register_bulk_write`` inserts records), then read their ids back: those above
    the largest before, of this transaction (on SQLite this transaction holds the only write
    lock; on PostgreSQL the transaction id tells ours from others'). Django's ``bulk_create``
    compiled every value of every row and took 12 s of the 100,000-decision import's write
    transaction, holding SQLite's lock."""
    from register.services import _execute_many, _insert_statement, _preparer

    now = timezone.now()
    largest = RegisterEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    fields = [f for f in RegisterEvent._meta.concrete_fields if not f.primary_key]
    prepare = [_preparer(f, connection) for f in fields]
    for event in events:
        event.created_at = now  # auto_now_add, as bulk_create would
    _execute_many(
        connection,
        _insert_statement(connection, RegisterEvent, fields),
        [[p(getattr(e, f.attname)) for f, p in zip(fields, prepare, strict=True)] for e in events],
    )
    ids = list(
        RegisterEvent.objects.filter(pk__gt=largest, transaction_id=transaction_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(ids) != len(events):  # the promise above broken: never hand on wrong ids
        raise RuntimeError(f"{len(events)} events written, {len(ids)} read back")
    for event, pk in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = connection.alias
    return events


# What only the calendar makes ----------------------------------------------------------------


def record_overdue(today: datetime.date | None = None) -> list[RegisterEvent]:
    """Record, once each, the requirements that became overdue and the facilities whose yearly
    inspection (3 kap. 19 § SoF) became overdue in the last ``SCAN_DAYS`` days. Safe to run
    again and from two processes at once: ``once_key`` is unique."""
    from register.selectors import inspection_overdue_condition, inspection_overdue_cutoff
    from register.supervision import supervision_of

    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=SCAN_DAYS)
    pending: list[RegisterEvent] = []
    due = Finding.objects.filter(due_date__gte=since, due_date__lt=today).exclude(requirement="")
    facility_ids = set(due.values_list("decision__facility_id", flat=True))
    if facility_ids:
        decisions = Decision.objects.filter(facility_id__in=facility_ids).prefetch_related(
            "findings"
        )
        by_facility: dict[int, list[Decision]] = {}
        for decision in decisions:
            by_facility.setdefault(decision.facility_id, []).append(decision)
        for facility_id, found in by_facility.items():
            for requirement in supervision_of(found, today=today).overdue_requirements:
                finding = requirement.finding
                if finding.due_date is None or finding.due_date < since:
                    continue
                pending.append(
                    _event(
                        EventKind.REQUIREMENT_OVERDUE,
                        facility_id,
                        finding.due_date,
                        serious=finding.assessment == "allvarlig_brist",
                        decision_id=requirement.decision.pk,
                        details={
                            "area": finding.area,
                            "due_date": finding.due_date.isoformat(),
                            "diarienummer": requirement.decision.diarienummer,
                        },
                        once_key=f"requirement_overdue:{finding.pk}",
                    )
                )
    cutoff = inspection_overdue_cutoff(today)
    earliest = cutoff - datetime.timedelta(days=SCAN_DAYS)
    became_due = Q(last_inspection_date__gte=earliest) | Q(
        last_inspection_date__isnull=True, start_date__gte=earliest
    )
    for facility_id, last in (
        Facility.objects.filter(inspection_overdue_condition(today) & became_due)
        .filter(facility_type__in=TYPES_WITH_YEARLY_INSPECTION, status=FacilityStatus.AKTIV)
        .values_list("pk", "last_inspection_date")
    ):
        pending.append(
            _event(
                EventKind.INSPECTION_OVERDUE,
                facility_id,
                today,
                details={"last_inspection": last.isoformat() if last else None},
                once_key=f"inspection_overdue:{facility_id}:{last.isoformat() if last else '-'}",
            )
        )
    known = set(
        RegisterEvent.objects.filter(once_key__in=[e.once_key for e in pending]).values_list(
            "once_key", flat=True
        )
    )
    created = []
    for event in pending:
        if event.once_key in known:
            continue
        try:
            with transaction.atomic():
                created += record([event])
        except IntegrityError:  # another scan recorded it meanwhile
            continue
    return created
