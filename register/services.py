"""Every write to the register goes through this module (STYLE.md §2).

Each function is keyword-only and atomic; it validates (``full_clean``, which runs the checks of
``register.validation`` through the models' ``clean`` and the database constraints), applies the
legal rules, and writes the history row in the same transaction (django-simple-history), with the
actor and a reason. Imports, the admin, the demo data and later the staff pages call these.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from register.codes import STATUS_FROM_OUTCOME, AppealStatus, FacilityStatus, Outcome, PermitStatus
from register.models import (
    Decision,
    Facility,
    Inspection,
    Manager,
    Permit,
    Provider,
    Registration,
    name_key_of,
)

Actor = AbstractBaseUser | None
Result = Literal["created", "updated", "unchanged"]
RegisterModel = TypeVar("RegisterModel", bound=models.Model)


def _save(instance: RegisterModel, *, actor: Actor, reason: str) -> RegisterModel:
    instance.full_clean()
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.save()
    return instance


def assign(instance: models.Model, values: Mapping[str, Any]) -> bool:
    """Set ``values`` on ``instance``; True when anything differs from what it held."""
    changed = False
    for field, value in values.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed = True
    return changed


def _upsert(
    model: type[RegisterModel],
    *,
    key: Mapping[str, Any],
    values: Mapping[str, Any],
    actor: Actor,
    reason: str,
    save,
) -> tuple[RegisterModel, Result]:
    instance = model.objects.filter(**key).first()
    if instance is None:
        instance = model(**key, **values)
        return save(instance, actor=actor, reason=reason), "created"
    if not assign(instance, values):
        return instance, "unchanged"
    return save(instance, actor=actor, reason=reason), "updated"


# Providers ------------------------------------------------------------------------------------


@transaction.atomic
def provider_save(*, provider: Provider, actor: Actor = None, reason: str = "") -> Provider:
    return _save(provider, actor=actor, reason=reason)


def provider_upsert(
    *, organisation_number: str, values: Mapping[str, Any], actor: Actor = None, reason: str = ""
) -> tuple[Provider, Result]:
    return _upsert(
        Provider,
        key={"organisation_number": organisation_number},
        values=values,
        actor=actor,
        reason=reason,
        save=lambda instance, **kw: provider_save(provider=instance, **kw),
    )


# Facilities -----------------------------------------------------------------------------------


@transaction.atomic
def facility_save(*, facility: Facility, actor: Actor = None, reason: str = "") -> Facility:
    return _save(facility, actor=actor, reason=reason)


def facility_upsert(
    *, facility_id: str, values: Mapping[str, Any], actor: Actor = None, reason: str = ""
) -> tuple[Facility, Result]:
    return _upsert(
        Facility,
        key={"facility_id": facility_id},
        values=values,
        actor=actor,
        reason=reason,
        save=lambda instance, **kw: facility_save(facility=instance, **kw),
    )


@transaction.atomic
def permit_save(*, permit: Permit, actor: Actor = None, reason: str = "") -> Permit:
    return _save(permit, actor=actor, reason=reason)


def permit_upsert(
    *, diarienummer: str, values: Mapping[str, Any], actor: Actor = None, reason: str = ""
) -> tuple[Permit, Result]:
    return _upsert(
        Permit,
        key={"diarienummer": diarienummer},
        values=values,
        actor=actor,
        reason=reason,
        save=lambda instance, **kw: permit_save(permit=instance, **kw),
    )


@transaction.atomic
def registration_save(
    *, registration: Registration, actor: Actor = None, reason: str = ""
) -> Registration:
    return _save(registration, actor=actor, reason=reason)


def registration_upsert(
    *, diarienummer: str, values: Mapping[str, Any], actor: Actor = None, reason: str = ""
) -> tuple[Registration, Result]:
    return _upsert(
        Registration,
        key={"diarienummer": diarienummer},
        values=values,
        actor=actor,
        reason=reason,
        save=lambda instance, **kw: registration_save(registration=instance, **kw),
    )


@transaction.atomic
def manager_save(*, manager: Manager, actor: Actor = None, reason: str = "") -> Manager:
    return _save(manager, actor=actor, reason=reason)


@transaction.atomic
def manager_set_current(
    *, facility: Facility, values: Mapping[str, Any] | None, actor: Actor = None, reason: str = ""
) -> Result:
    """Make ``values`` the facility's current manager.

    The same person (same personnummer, or same name when none is given) is updated in place;
    another person ends the current manager's period today and starts a new one; ``None`` ends
    the current period. Earlier managers stay, with their periods, for the history.
    """
    today = timezone.localdate()
    current = facility.managers.filter(end_date__isnull=True).order_by("-id").first()
    if values is None:
        if current is None:
            return "unchanged"
        current.end_date = max(today, current.start_date or today)
        manager_save(manager=current, actor=actor, reason=reason)
        return "updated"
    if current is not None and _same_person(current, values):
        if not assign(current, values):
            return "unchanged"
        manager_save(manager=current, actor=actor, reason=reason)
        return "updated"
    if current is not None:
        current.end_date = max(today, current.start_date or today)
        manager_save(manager=current, actor=actor, reason=reason)
    start = values.get("start_date") or today
    manager_save(
        manager=Manager(facility=facility, **{**values, "start_date": start}),
        actor=actor,
        reason=reason,
    )
    return "created"


def _same_person(manager: Manager, values: Mapping[str, Any]) -> bool:
    number = values.get("personal_identity_number", "")
    if number and manager.personal_identity_number:
        return number == manager.personal_identity_number
    return manager.name.casefold() == str(values.get("name", "")).casefold()


# Inspections and decisions --------------------------------------------------------------------


def update_query_statistics() -> None:
    """ANALYZE: the statistics the query planner picks the search's indexes by (SQLite has none
    until asked; PostgreSQL's autovacuum keeps them, this only makes it happen now). After a
    large load: seed_demo, an import, a migration."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def refresh_latest(facility_ids) -> int:
    """Write each facility's latest decision (date, outcome, appeal status, diarienummer) and
    latest inspection date onto the facility: one UPDATE, whatever the number of facilities.
    ``facility_ids``: ids or a subquery of them. Called by every write of a decision or an
    inspection, so the search reads them from indexed columns."""
    latest_decision = Decision.objects.filter(facility=OuterRef("pk")).order_by(
        "-decision_date", "-id"
    )
    latest_inspection = Inspection.objects.filter(facility=OuterRef("pk")).order_by(
        "-start_date", "-id"
    )
    if not isinstance(facility_ids, models.QuerySet):
        ids = sorted(set(facility_ids))
        if len(ids) > 5000:  # within every database's limit of parameters per statement
            return sum(refresh_latest(ids[n : n + 5000]) for n in range(0, len(ids), 5000))
        facility_ids = ids
    return Facility.objects.filter(pk__in=facility_ids).update(
        latest_decision_date=Subquery(latest_decision.values("decision_date")[:1]),
        latest_outcome=Subquery(latest_decision.values("outcome")[:1]),
        latest_appeal_status=Subquery(latest_decision.values("appeal_status")[:1]),
        latest_decision_diarienummer=Subquery(latest_decision.values("diarienummer")[:1]),
        last_inspection_date=Subquery(latest_inspection.values("start_date")[:1]),
    )


def _refresh_after(instance) -> None:
    """After a decision or inspection is written or removed: its facility, and the one it was
    moved from."""
    ids = {instance.facility_id}
    previous = getattr(instance, "_facility_id_before", None)
    if previous:
        ids.add(previous)
    refresh_latest(ids)


@transaction.atomic
def inspection_save(*, inspection: Inspection, actor: Actor = None, reason: str = "") -> Inspection:
    _remember_facility(inspection)
    _save(inspection, actor=actor, reason=reason)
    _refresh_after(inspection)
    return inspection


def _remember_facility(instance) -> None:
    if instance.pk:
        instance._facility_id_before = (
            type(instance)
            .objects.filter(pk=instance.pk)
            .values_list("facility_id", flat=True)
            .first()
        )


def inspection_upsert(
    *, diarienummer: str, values: Mapping[str, Any], actor: Actor = None, reason: str = ""
) -> tuple[Inspection, Result]:
    return _upsert(
        Inspection,
        key={"diarienummer": diarienummer},
        values=values,
        actor=actor,
        reason=reason,
        save=lambda instance, **kw: inspection_save(inspection=instance, **kw),
    )


@transaction.atomic
def decision_save(*, decision: Decision, actor: Actor = None, reason: str = "") -> Decision:
    """Save a decision and apply its consequences for the facility's status."""
    _remember_facility(decision)
    _save(decision, actor=actor, reason=reason)
    _apply_status_rule(decision, actor=actor)
    _refresh_after(decision)
    return decision


def decision_upsert(
    *, diarienummer: str, values: Mapping[str, Any], actor: Actor = None, reason: str = ""
) -> tuple[Decision, Result]:
    return _upsert(
        Decision,
        key={"diarienummer": diarienummer},
        values=values,
        actor=actor,
        reason=reason,
        save=lambda instance, **kw: decision_save(decision=instance, **kw),
    )


# Outcomes that say what a facility's status is: a later one of these "says otherwise".
STATUS_DECIDING_OUTCOMES = (*STATUS_FROM_OUTCOME, Outcome.TILLSTAND_BEVILJAT)


def status_deciding_decisions(facility_id: int):
    """Decisions that set or restore a facility's status, not overturned by a court."""
    return Decision.objects.filter(
        facility_id=facility_id, outcome__in=STATUS_DECIDING_OUTCOMES
    ).exclude(appeal_status=AppealStatus.UPPHAVT)


def _apply_status_rule(decision: Decision, *, actor: Actor) -> None:
    """A revocation or a prohibition changes the facility's status as of the decision date,
    unless a later decision already says otherwise (DESIGN.md, register-import.md): a later
    revocation, prohibition or new permit that no court has overturned. A later ordinary
    supervision decision does not lift a prohibition; nor does an old decision entered late
    undo a later change of status (a closure, say).

    A court that overturns (``upphavt``) the decision that set the status gives the status back.
    """
    facility = Facility.objects.select_for_update().get(pk=decision.facility_id)
    later_says_otherwise = (
        status_deciding_decisions(facility.pk)
        .filter(decision_date__gt=decision.decision_date)
        .exclude(pk=decision.pk)
        .exists()
    )
    if later_says_otherwise:
        return
    if facility.status_date and facility.status_date > decision.decision_date:
        return
    status = STATUS_FROM_OUTCOME.get(decision.outcome)
    if status is None:
        return
    reason = _("Beslut %(diarienummer)s: %(outcome)s") % {
        "diarienummer": decision.diarienummer,
        "outcome": Outcome(decision.outcome).label,
    }
    if decision.appeal_status == AppealStatus.UPPHAVT:
        if facility.status == status and facility.status_date == decision.decision_date:
            facility.status = FacilityStatus.AKTIV
            facility.status_date = timezone.localdate()
            facility_save(
                facility=facility, actor=actor, reason=reason + " – " + _("upphävt av domstol")
            )
            if decision.outcome == Outcome.ATERKALLELSE:
                _set_permit_status(
                    facility.permits.filter(status=PermitStatus.ATERKALLAT),
                    PermitStatus.GALLANDE,
                    actor=actor,
                    reason=reason,
                )
        return
    if facility.status != status or facility.status_date != decision.decision_date:
        facility.status = status
        facility.status_date = decision.decision_date
        facility_save(facility=facility, actor=actor, reason=reason)
    if decision.outcome == Outcome.ATERKALLELSE:
        _set_permit_status(
            facility.permits.filter(status=PermitStatus.GALLANDE),
            PermitStatus.ATERKALLAT,
            actor=actor,
            reason=reason,
        )


def _set_permit_status(
    permits: Iterable[Permit], status: str, *, actor: Actor, reason: str
) -> None:
    for permit in permits:
        permit.status = status
        permit_save(permit=permit, actor=actor, reason=reason)


# Deletion: the admin's delete goes through here so the history keeps a row for it. -------------


@transaction.atomic
def register_object_delete(
    *, instance: models.Model, actor: Actor = None, reason: str = ""
) -> None:
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.delete()
    if isinstance(instance, Decision | Inspection):
        refresh_latest([instance.facility_id])


# Bulk writes (demo data, large loads): through simple-history's helpers, so none escapes history.


def register_bulk_create(
    model: type[RegisterModel],
    objects: list[RegisterModel],
    *,
    actor: Actor = None,
    reason: str = "",
    batch_size: int = 2000,
) -> list[RegisterModel]:
    """Create many validated-by-construction rows at once, each with its history row.

    Callers build objects that already satisfy the rules (the demo data); database constraints
    still hold every invariant they can. The name_key the search reads is written here, as
    clean() writes it for one row.
    """
    if model in (Facility, Provider):
        for obj in objects:
            obj.name_key = name_key_of(obj.name)
    with transaction.atomic():
        created = bulk_create_with_history(
            objects,
            model,
            batch_size=batch_size,
            default_user=actor,
            default_change_reason=reason,
            default_date=timezone.now(),
        )
        if model in (Decision, Inspection):
            refresh_latest({obj.facility_id for obj in objects})
        return created
