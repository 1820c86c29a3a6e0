"""Every write to the register goes through this module (STYLE.md §2).

Each function is keyword-only and atomic; it validates (``full_clean``, which runs the checks of
``register.validation`` through the models' ``clean`` and the database constraints), applies the
legal rules, and writes the history row in the same transaction (django-simple-history), with the
actor and a reason. Imports, the admin, the demo data and later the staff pages call these.
"""

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connections, models, router, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from register import data_version
from register import events as register_events
from register.codes import STATUS_FROM_OUTCOME, AppealStatus, FacilityStatus, Outcome, PermitStatus
from register.models import (
    Decision,
    Facility,
    Finding,
    Inspection,
    Manager,
    Permit,
    Provider,
    Registration,
    name_key_of,
)
from register.supervision import (
    STATUS_DECIDING_OUTCOMES,
    supervision_of,
    temporary_prohibition_decision,
)

Actor = AbstractBaseUser | None
Result = Literal["created", "updated", "unchanged"]
RegisterModel = TypeVar("RegisterModel", bound=models.Model)


def _save(
    instance: RegisterModel, *, actor: Actor, reason: str, events: bool = True
) -> RegisterModel:
    """Validate and save one record with its history row and, unless ``events`` is False, the
    events its watchers are told (register.events), all in the caller's transaction."""
    instance.full_clean()
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    created = instance.pk is None
    before = register_events.before_save(instance) if events else None
    instance.save()
    if events:
        register_events.after_save(instance, before=before, created=created)
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
    """Save a facility. A status that a decision gave it is refused a change here
    (``status_set_by_decision``): only a decision changes it (``decision_save``)."""
    if facility.pk is not None:
        decision = status_set_by_decision(facility.pk, facility.status)
        if decision is not None:
            raise ValidationError({"status": status_set_by_decision_message(decision)})
    return _save(facility, actor=actor, reason=reason)


def status_set_by_decision(facility_id: int, new_status: str) -> Decision | None:
    """The decision that keeps the facility's stored status from becoming ``new_status``; None
    when nothing does.

    A revocation of the permit or a prohibition (13 kap. 9 § SoL (2001:453), 26 kap. 11 §
    socialtjänstlagen (2025:400)) applies at once, also while it is appealed (16 kap. 4 § SoL
    (2001:453)): the status it gives (``STATUS_FROM_OUTCOME``) is changed by a later decision or
    by a court that overturns it (``_apply_status_rule``), never by a facilities file or an edit
    in the back office (DESIGN.md: "A revoked permit or a prohibition changes the facility's
    status at once"). The stored status follows from a decision when one that no court
    overturned gave this very status on this very date (the facility's status date).
    """
    stored = Facility.objects.filter(pk=facility_id).values_list("status", "status_date").first()
    if stored is None or stored[0] == new_status:
        return None
    status, since = stored
    return next(
        (
            decision
            for decision in status_deciding_decisions(facility_id).filter(decision_date=since)
            if STATUS_FROM_OUTCOME.get(decision.outcome) == status
        ),
        None,
    )


def status_set_by_decision_message(decision: Decision) -> str:
    return _(
        "Statusen ”%(status)s” följer av beslut %(dnr)s (%(date)s) och ändras bara av ett senare "
        "beslut, eller när en domstol upphäver beslutet (överklagande: upphävt)."
    ) % {
        "status": FacilityStatus(STATUS_FROM_OUTCOME[decision.outcome]).label,
        "dnr": decision.diarienummer,
        "date": decision.decision_date.isoformat(),
    }


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
    """Write each facility's latest decision (date, outcome, appeal status, diarienummer),
    latest inspection date, the last day of its temporary prohibition and its number of
    requirements not yet followed up onto the facility, whatever the number of facilities.
    ``facility_ids``: ids or a subquery of them. Called by every write of a decision, an
    inspection or a finding, so the search reads them from indexed columns."""
    latest_decision = Decision.objects.filter(facility=OuterRef("pk")).order_by(
        "-decision_date", "-id"
    )
    latest_inspection = Inspection.objects.filter(facility=OuterRef("pk")).order_by(
        "-start_date", "-id"
    )
    if isinstance(facility_ids, models.QuerySet):
        facility_ids = list(facility_ids)
    ids = sorted(set(facility_ids))
    if len(ids) > 5000:  # within every database's limit of parameters per statement
        return sum(refresh_latest(ids[n : n + 5000]) for n in range(0, len(ids), 5000))
    updated = Facility.objects.filter(pk__in=ids).update(
        latest_decision_date=Subquery(latest_decision.values("decision_date")[:1]),
        latest_outcome=Subquery(latest_decision.values("outcome")[:1]),
        latest_appeal_status=Subquery(latest_decision.values("appeal_status")[:1]),
        latest_decision_diarienummer=Subquery(latest_decision.values("diarienummer")[:1]),
        last_inspection_date=Subquery(latest_inspection.values("start_date")[:1]),
    )
    _refresh_supervision(ids)
    return updated


def _refresh_supervision(ids: list[int]) -> None:
    """The last day of the temporary prohibition that decides each facility's status, and its
    number of requirements not yet followed up (open or overdue), from register.supervision
    itself, the one place the rules are: the facilities' decisions and findings in two queries,
    then one UPDATE per distinct pair of values. Not correlated subqueries: PostgreSQL's
    planner, with statistics taken while the tables were nearly empty, answered those by
    scanning every finding for every finding, and a refresh of 120 seeded homes ran for
    minutes."""
    decisions = (
        Decision.objects.filter(facility_id__in=ids)
        .only(
            "id",
            "facility_id",
            "decision_date",
            "outcome",
            "appeal_status",
            "follows_up_id",
            "prohibition_until",
        )
        .prefetch_related(
            models.Prefetch(
                "findings",
                queryset=Finding.objects.only(
                    "id", "decision_id", "area", "assessment", "requirement", "due_date"
                ),
            )
        )
    )
    by_facility: dict[int, list[Decision]] = {pk: [] for pk in ids}
    for decision in decisions:
        by_facility[decision.facility_id].append(decision)
    groups: dict[tuple, list[int]] = {}
    for pk, found in by_facility.items():
        prohibition = temporary_prohibition_decision(found)
        until = prohibition.prohibition_until if prohibition else None
        unresolved = len(supervision_of(found).unresolved_requirements)
        groups.setdefault((until, unresolved), []).append(pk)
    for (until, unresolved), pks in groups.items():
        Facility.objects.filter(pk__in=pks).update(
            temporary_prohibition_until=until, unresolved_requirements=unresolved
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


def status_deciding_decisions(facility_id: int):
    """Decisions that set or restore a facility's status, not overturned by a court."""
    return Decision.objects.filter(
        facility_id=facility_id, outcome__in=STATUS_DECIDING_OUTCOMES
    ).exclude(appeal_status=AppealStatus.UPPHAVT)


def _apply_status_rule(decision: Decision, *, actor: Actor) -> None:
    """A revocation or a prohibition changes the facility's stored status as of the decision
    date (a temporary prohibition does not: its status is derived while it holds, from
    ``temporary_prohibition_until``, register.supervision.current_status),
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
            # The appeal's own event (register.events) tells the watchers.
            _save(
                facility,
                actor=actor,
                reason=reason + " – " + _("upphävt av domstol"),
                events=False,
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
        # The decision changes the status: facility_save would refuse one an earlier decision
        # gave (a revocation after a prohibition). The decision's own event tells the watchers.
        _save(facility, actor=actor, reason=reason, events=False)
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


# Findings -------------------------------------------------------------------------------------


@transaction.atomic
def finding_save(*, finding: Finding, actor: Actor = None, reason: str = "") -> Finding:
    """Save one finding (the back office's inline form); the facility's count of requirements
    not followed up follows."""
    _save(finding, actor=actor, reason=reason)
    refresh_latest([finding.decision.facility_id])
    return finding


@transaction.atomic
def findings_replace(
    *,
    decision: Decision,
    findings: Sequence[Mapping[str, Any]],
    actor: Actor = None,
    reason: str = "",
) -> Result:
    """Make ``findings`` (each a mapping with ``area`` and the other fields) the decision's
    findings, as import_findings promises: a finding of an area already there is updated, a new
    area created, and an area no longer given removed, each change with its history row.
    Returns "unchanged" when nothing differed."""
    existing = {finding.area: finding for finding in decision.findings.all()}
    wanted = {values["area"]: values for values in findings}
    if len(wanted) != len(findings):
        raise ValidationError(_("ett område får bara förekomma en gång per beslut"))
    changed = False
    for area, finding in existing.items():
        if area not in wanted:
            _delete_with_history(finding, actor=actor, reason=reason)
            changed = True
    for area, values in wanted.items():
        finding = existing.get(area)
        if finding is None:
            _save(Finding(decision=decision, **values), actor=actor, reason=reason)
            changed = True
        elif assign(finding, values):
            _save(finding, actor=actor, reason=reason)
            changed = True
    result: Result = ("created" if not existing else "updated") if changed else "unchanged"
    if result != "unchanged":
        refresh_latest([decision.facility_id])
    return result


def _delete_with_history(instance: models.Model, *, actor: Actor, reason: str) -> None:
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.delete()


# Deletion: the admin's delete goes through here so the history keeps a row for it. -------------


@transaction.atomic
def register_object_delete(
    *, instance: models.Model, actor: Actor = None, reason: str = ""
) -> None:
    facility_id = (
        instance.decision.facility_id
        if isinstance(instance, Finding)
        else getattr(instance, "facility_id", None)
    )
    if isinstance(instance, Decision):  # its findings go with it, each removal with its actor
        for finding in instance.findings.all():
            _delete_with_history(finding, actor=actor, reason=reason)
    _delete_with_history(instance, actor=actor, reason=reason)
    if isinstance(instance, Decision | Inspection | Finding):
        refresh_latest([facility_id])


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
        register_events.after_bulk_write(model, created=created)
        return created


# Bulk upserts (the imports): checked before the write transaction, written in it at once. -------
#
# An import of 100,000 decisions row by row held SQLite's single write lock for half an hour, and
# every login and page that wanted to write waited ("database is locked"). Here every read and
# every check happens first, outside any transaction (SQLite's WAL lets the readers and writers of
# others go on meanwhile); the write transaction then only inserts and updates, a few thousand rows
# a statement, with the same history, the same derived columns and the same status rule as
# ``_save``, ``refresh_latest`` and ``_apply_status_rule`` give a row at a time.

BULK_BATCH_SIZE = 2000  # rows a statement: within every database's limit of parameters
_KEYS_PER_QUERY = 5000

Key = TypeVar("Key")


@dataclass
class BulkPlan(Generic[RegisterModel]):
    """What writing ``rows`` would do: which records are new, which change (and which of their
    fields), which stay as they are, and every ValidationError, keyed as the rows are. Built by
    ``register_bulk_plan`` outside the write transaction; ``version`` is the register's data
    version it was read at, so the writer can tell whether anyone wrote since."""

    model: type[RegisterModel]
    key_field: str | tuple[str, ...]  # several: a unique key of several fields (a finding's)
    keys: list[Any] = dataclasses.field(default_factory=list)  # in the order of the rows
    instances: dict[Any, RegisterModel] = dataclasses.field(default_factory=dict)
    results: dict[Any, Result] = dataclasses.field(default_factory=dict)
    changed_fields: set[str] = dataclasses.field(default_factory=set)
    facility_before: dict[Any, int] = dataclasses.field(
        default_factory=dict
    )  # moved to another facility
    errors: dict[Any, ValidationError] = dataclasses.field(default_factory=dict)
    version: str | None = None
    # What changed records held before, by key: the fields that changed (register.events).
    before: dict[Any, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def key_of(self, instance: RegisterModel) -> Any:
        if isinstance(self.key_field, str):
            return getattr(instance, self.key_field)
        return tuple(getattr(instance, name) for name in self.key_field)

    def with_result(self, result: Result) -> list[RegisterModel]:
        return [self.instances[key] for key in self.keys if self.results.get(key) == result]

    @property
    def written(self) -> list[RegisterModel]:
        return [
            self.instances[key]
            for key in self.keys
            if self.results.get(key) in ("created", "updated")
        ]


def _validate_for_bulk(
    instance: models.Model, *, exclude: Sequence[str], constraints: bool
) -> None:
    """``full_clean`` as ``_save`` runs it on the fields a row sets, less what costs a query per
    row and is held anyway: foreign keys (the import resolved them from the register; the
    database's foreign keys still hold), the uniqueness of the key (the plan is keyed by it)
    and, unless ``constraints``, the check constraints (for decisions and inspections only the
    code lists, which ``clean_fields`` checks against the same choices, and an inspection's last
    day, which the import checks; the database still holds them)."""
    instance.full_clean(
        exclude=list(exclude), validate_unique=False, validate_constraints=constraints
    )


def register_bulk_plan(
    model: type[RegisterModel],
    *,
    key_field: str,
    rows: Sequence[tuple[Any, Mapping[str, Any]]],
    exclude_from_validation: Sequence[str] = (),
    validate_constraints: bool = False,
) -> BulkPlan[RegisterModel]:
    """Read the records ``rows`` name (by ``key_field``), apply each row's values and validate
    every new or changed one. Reads only: call it outside the write transaction. A key given twice
    is the caller's error (the imports refuse such files)."""
    from register.selectors import data_version

    plan: BulkPlan[RegisterModel] = BulkPlan(model=model, key_field=key_field)
    plan.version = data_version()
    keys = [key for key, _values in rows]
    existing: dict[Any, RegisterModel] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        for instance in model.objects.filter(**{f"{key_field}__in": chunk}):
            existing[getattr(instance, key_field)] = instance
    field_names = [f.name for f in model._meta.concrete_fields if f.name != key_field]
    has_facility = "facility" in field_names
    for key, values in rows:
        plan.keys.append(key)
        instance = existing.get(key)
        if instance is None:
            instance = model(**{key_field: key}, **values)
            result: Result = "created"
        else:
            before = instance.facility_id if has_facility else None  # type: ignore[attr-defined]
            changed = [name for name, value in values.items() if _differs(instance, name, value)]
            if not changed:
                plan.instances[key] = instance
                plan.results[key] = "unchanged"
                continue
            plan.before[key] = {
                instance._meta.get_field(name).attname: getattr(
                    instance, instance._meta.get_field(name).attname
                )
                for name in changed
            }
            for name in changed:
                setattr(instance, name, values[name])
            plan.changed_fields.update(model._meta.get_field(name).name for name in changed)
            if has_facility and instance.facility_id != before:  # type: ignore[attr-defined]
                plan.facility_before[key] = before
            result = "updated"
        try:
            _validate_for_bulk(
                instance,
                # The fields the row sets, and the model's clean(); the others hold a default or
                # what the register held, as before.
                exclude=[
                    name
                    for name in field_names
                    if name not in values or name in exclude_from_validation
                ],
                constraints=validate_constraints,
            )
        except ValidationError as error:
            plan.errors[key] = error
        plan.instances[key] = instance
        plan.results[key] = result
    return plan


def _differs(instance: models.Model, name: str, value: Any) -> bool:
    """``getattr(instance, name) != value`` without loading a related row to compare it."""
    model_field = instance._meta.get_field(name)
    if model_field.is_relation and model_field.many_to_one:
        return getattr(instance, model_field.attname) != getattr(value, "pk", value)
    return getattr(instance, name) != value


def register_bulk_plan_is_stale(plan: BulkPlan) -> bool:
    """Whether anything was written to the register since the plan was read. Inside the write
    transaction on SQLite (which holds the only write lock) the answer stays true until commit."""
    from register.selectors import data_version

    return data_version() != plan.version


# Context managers entered around a bulk write of register rows, each called with (connection,
# tables, when): how an interface that keeps data of its own by row triggers on register tables
# (the changes feed, api/change_triggers.py) writes it once for the whole write instead of once
# per row. Appended by that app's ready(); the register imports no interface.
BULK_WRITE_HOOKS: list[Callable[..., contextlib.AbstractContextManager]] = []


def register_bulk_write(plan: BulkPlan, *, actor: Actor, reason: str, when=None) -> None:
    """Write a plan without errors: its new records, then its changed ones (the fields that
    changed and ``updated_at``), each with its history row carrying actor, reason and time as
    ``_save`` gives it (simple-history's ``+`` and ``~``). Unchanged records get neither a write
    nor a history row. Call inside the write transaction; derived columns and rules are the
    caller's (``decisions_bulk_write`` for decisions and inspections).

    The statements are prepared once and executed for every row (``executemany``): Django's
    ``bulk_create`` compiles every value of every row in Python, and ``bulk_update`` builds a
    CASE over every row per column (two minutes for 10,000 decisions). The values are prepared
    by each field as the ORM prepares them. Database triggers (the changes feed, the data
    version) fire for every row as for any INSERT or UPDATE."""
    if plan.errors:
        raise ValidationError(_("planen har fel och kan inte skrivas"))
    when = when or timezone.now()
    model = plan.model
    connection = connections[router.db_for_write(model)]
    created = plan.with_result("created")
    if created:
        for instance in created:  # auto_now_add and auto_now: the time of the whole write
            instance.created_at = instance.updated_at = when  # type: ignore[attr-defined]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        prepare = [_preparer(f, connection) for f in fields]
        _execute_many(
            connection,
            _insert_statement(connection, model, fields),
            [
                [p(getattr(instance, f.attname)) for f, p in zip(fields, prepare, strict=True)]
                for instance in created
            ],
        )
        # The new primary keys, read back by the plan's key (unique).
        ids = _ids_by_key(model, plan.key_field, [plan.key_of(i) for i in created])
        for instance in created:
            instance.pk = ids[plan.key_of(instance)]
            instance._state.adding = False
            instance._state.db = connection.alias
    updated = plan.with_result("updated")
    if updated:
        fields = [model._meta.get_field(name) for name in sorted(plan.changed_fields)]
        fields.append(model._meta.get_field("updated_at"))
        quote = connection.ops.quote_name
        pk = model._meta.pk
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        for instance in updated:
            instance.updated_at = when  # type: ignore[attr-defined]  # as auto_now would
        prepare = [_preparer(f, connection) for f in fields]
        parameters = [
            [p(getattr(instance, f.attname)) for f, p in zip(fields, prepare, strict=True)]
            + [instance.pk]
            for instance in updated
        ]
        if connection.vendor == "postgresql":
            _update_from_values(connection, model, fields, parameters)
        else:
            _execute_many(
                connection,
                f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
                f"WHERE {quote(pk.column)} = %s",
                parameters,
            )
    for instances, history_type in ((created, "+"), (updated, "~")):
        if instances:
            _write_history(
                connection,
                model,
                instances,
                history_type=history_type,
                actor=actor,
                reason=reason,
                when=when,
            )
    register_events.after_bulk_write(
        model, created=created, updated=updated, before=plan.before, key_of=plan.key_of
    )


def _ids_by_key(
    model: type[models.Model], key_field: str | tuple[str, ...], keys: list[Any]
) -> dict[Any, int]:
    """The primary keys of records by their unique key: one field, or several (a finding's
    decision and area), read in chunks by the first."""
    fields = (key_field,) if isinstance(key_field, str) else key_field
    ids: dict[Any, int] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        if len(fields) == 1:
            ids.update(
                model._default_manager.filter(**{f"{fields[0]}__in": chunk}).values_list(
                    fields[0], "pk"
                )
            )
            continue
        wanted = set(chunk)
        for *key, pk in model._default_manager.filter(
            **{f"{fields[0]}__in": {key[0] for key in chunk}}
        ).values_list(*fields, "pk"):
            if tuple(key) in wanted:
                ids[tuple(key)] = pk
    return ids


def _preparer(model_field: models.Field, connection) -> Callable[[Any], Any]:
    """``model_field.get_db_prep_save`` bound to the connection, remembering what it gave for
    each date, time and code: the same few thousand dates and codes recur in 100,000 rows, and
    preparing each again (time zones, the database's adapters) cost more than writing it."""
    prepare = model_field.get_db_prep_save
    if not isinstance(model_field, models.DateField | models.CharField | models.BooleanField):
        return lambda value: prepare(value, connection)
    known: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            known[value] = prepared = prepare(value, connection)
            return prepared
        except TypeError:  # unhashable (a list of codes)
            return prepare(value, connection)

    return remembered


def _update_from_values(
    connection, model: type[models.Model], fields: list, parameters: list[list[Any]]
) -> None:
    """PostgreSQL: many rows a statement, ``UPDATE … FROM (VALUES …)`` (see _execute_many)."""
    quote = connection.ops.quote_name
    columns = [*fields, model._meta.pk]
    names = ", ".join(quote(f.column) for f in columns)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    pk = quote(model._meta.pk.column)
    # The first row's casts give VALUES its column types.
    typed = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
    plain = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(parameters), _ROWS_PER_INSERT):
            chunk = parameters[start : start + _ROWS_PER_INSERT]
            rows = ", ".join([typed] + [plain] * (len(chunk) - 1))
            cursor.execute(
                f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "
                f"FROM (VALUES {rows}) AS v({names}) WHERE t.{pk} = v.{pk}",
                [value for values in chunk for value in values],
            )


def _insert_statement(connection, model: type[models.Model], fields: list) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


# PostgreSQL: rows a multi-row INSERT carries (within its 65,535 parameters for any table here).
_ROWS_PER_INSERT = 500


def _execute_many(connection, statement: str, parameters: list[list[Any]]) -> None:
    """``statement`` for every row of ``parameters``. SQLite: executemany, one prepared
    statement run per row (its triggers are per row whatever the statement). PostgreSQL: an
    INSERT carries many rows, because a statement-level trigger (the data version's) runs once
    per statement, and once per row it took the same row lock and wrote the same row 190,000
    times in one transaction, each time slower."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and statement.startswith("INSERT"):
            head, row = statement.rsplit(" VALUES ", 1)
            for start in range(0, len(parameters), _ROWS_PER_INSERT):
                chunk = parameters[start : start + _ROWS_PER_INSERT]
                cursor.execute(
                    f"{head} VALUES {', '.join([row] * len(chunk))}",
                    [value for values in chunk for value in values],
                )
            return
        for start in range(0, len(parameters), BULK_BATCH_SIZE):
            cursor.executemany(statement, parameters[start : start + BULK_BATCH_SIZE])


def _write_history(
    connection,
    model: type[models.Model],
    instances: list,
    *,
    history_type: str,
    actor: Actor,
    reason: str,
    when,
) -> None:
    """The history rows simple-history's ``bulk_history_create`` makes (every tracked field as
    the record now holds it, the time, the actor, the reason, ``+`` or ``~``), inserted as
    ``register_bulk_write`` inserts records."""
    history_model = model.history.model  # type: ignore[attr-defined]
    tracked = {f.attname for f in history_model.tracked_fields}
    fixed = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": getattr(actor, "pk", None),
    }
    fields = [f for f in history_model._meta.concrete_fields if not f.primary_key]
    unknown = [f.attname for f in fields if f.attname not in tracked and f.attname not in fixed]
    if unknown:  # a history field this writer does not know how to fill
        raise ImproperlyConfigured(f"{history_model.__name__}: {', '.join(unknown)}")
    prepared_fixed = {
        name: history_model._meta.get_field(name).get_db_prep_save(value, connection)
        for name, value in ((f.attname, fixed[f.attname]) for f in fields if f.attname in fixed)
    }
    prepare = [
        (lambda _value, v=prepared_fixed[f.attname]: v)
        if f.attname in fixed
        else _preparer(f, connection)
        for f in fields
    ]
    _execute_many(
        connection,
        _insert_statement(connection, history_model, fields),
        [
            [p(getattr(instance, f.attname, None)) for f, p in zip(fields, prepare, strict=True)]
            for instance in instances
        ],
    )


def _follow_up_waves(plan: BulkPlan[Decision]) -> Iterator[BulkPlan[Decision]]:
    """The plan in parts to write one after the other: a decision that follows up one the same
    plan creates comes in a later part, so the followed decision's id is known when the row and
    its history row are written. A generator: each part's links are set when it is asked for,
    after the part before it was written. The plan itself when no row follows up a new one."""
    follows_up = Decision._meta.get_field("follows_up")

    def followed(instance: Decision) -> Decision | None:
        return follows_up.get_cached_value(instance) if follows_up.is_cached(instance) else None

    depth: dict[Any, int] = {}

    def depth_of(key: Any) -> int:
        if key not in depth:
            depth[key] = 0  # the imports refuse a loop; this never recurses for ever all the same
            earlier = followed(plan.instances[key])
            if (
                earlier is not None
                and plan.results.get(earlier.diarienummer) == "created"
                and plan.instances.get(earlier.diarienummer) is earlier
            ):
                depth[key] = depth_of(earlier.diarienummer) + 1
        return depth[key]

    for key in plan.keys:
        depth_of(key)
    if not any(depth.values()):
        yield plan
        return
    for level in range(max(depth.values()) + 1):
        keys = [key for key in plan.keys if depth[key] == level]
        for key in keys:
            instance = plan.instances[key]
            if (earlier := followed(instance)) is not None:
                instance.follows_up_id = earlier.pk
        yield dataclasses.replace(plan, keys=keys)


def decisions_bulk_write(
    *,
    inspections: BulkPlan[Inspection],
    decisions: BulkPlan[Decision],
    actor: Actor = None,
    reason: str = "",
    replan: Callable[[], tuple[BulkPlan[Inspection], BulkPlan[Decision]]] | None = None,
) -> dict[str, ValidationError]:
    """Write planned inspections and decisions (an import's), as ``inspection_save`` and
    ``decision_save`` would one at a time, in one transaction: the history rows, the status rule
    for every decision written, newest first as ``_write_decisions`` always ordered them (a
    decision can only be overridden by a later one, so the others already written change
    nothing), then each touched facility's latest decision and inspection once
    (``refresh_latest``). When the register changed since the plans were read, ``replan`` reads
    them again inside the transaction, so nothing written meanwhile is overwritten unseen.

    Returns the errors by diarienummer (a plan's, or the status rule's); with any, nothing is
    written."""
    with transaction.atomic():
        if replan is not None and (
            register_bulk_plan_is_stale(decisions) or register_bulk_plan_is_stale(inspections)
        ):
            inspections, decisions = replan()
            if inspections.errors or decisions.errors:
                transaction.set_rollback(True)
                return {**inspections.errors, **decisions.errors}
        when = timezone.now()
        tables = (Inspection._meta.db_table, Decision._meta.db_table)
        connection = connections[router.db_for_write(Decision)]
        with contextlib.ExitStack() as once:
            once.enter_context(data_version.bumped_once_sqlite(connection, tables))
            for hook in BULK_WRITE_HOOKS:
                once.enter_context(hook(connection, tables, when))
            register_bulk_write(inspections, actor=actor, reason=reason, when=when)
            for wave in _follow_up_waves(decisions):
                register_bulk_write(wave, actor=actor, reason=reason, when=when)
        errors: dict[str, ValidationError] = {}
        position = {key: index for index, key in enumerate(decisions.keys)}
        deciding = sorted(
            (d for d in decisions.written if d.outcome in STATUS_FROM_OUTCOME),
            key=lambda d: (d.decision_date, position[d.diarienummer]),
            reverse=True,
        )
        for decision in deciding:
            try:
                with transaction.atomic():
                    _apply_status_rule(decision, actor=actor)
            except ValidationError as error:
                errors[decision.diarienummer] = error
        facility_ids = {record.facility_id for record in inspections.written}
        facility_ids |= {record.facility_id for record in decisions.written}
        facility_ids |= set(inspections.facility_before.values())
        facility_ids |= set(decisions.facility_before.values())
        refresh_latest(facility_ids)
        if errors:
            transaction.set_rollback(True)
        return errors


# Findings in bulk (import_findings): findings_replace for every decision a file names, checked
# before the write transaction and written in it at once. ------------------------------------


@dataclass
class FindingsPlan:
    """What ``findings_replace`` would do for each decision of ``findings_bulk_plan``'s input:
    the findings to create, update and leave (keyed by decision id and area), the ones to remove,
    and the result for each decision, by its id."""

    findings: BulkPlan[Finding]
    removed: list[Finding]
    results: dict[int, Result]
    facility_ids: set[int]  # of the decisions whose findings change

    @property
    def errors(self) -> dict[Any, ValidationError]:
        return self.findings.errors


def findings_bulk_plan(
    *,
    findings: Sequence[tuple[Decision, Sequence[Mapping[str, Any]]]],
    validate_constraints: bool = False,
) -> FindingsPlan:
    """Read the findings of the decisions named, apply the wanted ones as ``findings_replace``
    would and validate every new or changed one (``Finding.clean``: public text, due date, vite),
    without the queries ``full_clean`` makes per row for the check constraints unless
    ``validate_constraints`` (the import checks those rules itself; the database holds them).
    Reads only: call it outside the write transaction. An area given twice for one decision is
    an error of that decision and area."""
    from register.selectors import data_version

    plan: BulkPlan[Finding] = BulkPlan(model=Finding, key_field=("decision_id", "area"))
    plan.version = data_version()
    decisions = {decision.pk: decision for decision, _wanted in findings}
    existing: dict[int, dict[str, Finding]] = {pk: {} for pk in decisions}
    ids = list(decisions)
    for start in range(0, len(ids), _KEYS_PER_QUERY):
        for finding in Finding.objects.filter(decision_id__in=ids[start : start + _KEYS_PER_QUERY]):
            finding.decision = decisions[finding.decision_id]  # clean() reads it: no query
            existing[finding.decision_id][finding.area] = finding
    removed: list[Finding] = []
    results: dict[int, Result] = {}
    facility_ids: set[int] = set()
    for decision, wanted in findings:
        before = existing[decision.pk]
        areas = [values["area"] for values in wanted]
        changed = False
        for area, finding in before.items():
            if area not in areas:
                removed.append(finding)
                changed = True
        for values in wanted:
            key = (decision.pk, values["area"])
            if key in plan.instances:
                plan.errors[key] = ValidationError(
                    _("ett område får bara förekomma en gång per beslut")
                )
                continue
            plan.keys.append(key)
            finding = before.get(values["area"])
            result: Result
            if finding is None:
                finding = Finding(decision=decision, **values)
                result = "created"
            else:
                names = [name for name, value in values.items() if getattr(finding, name) != value]
                if not names:
                    plan.instances[key] = finding
                    plan.results[key] = "unchanged"
                    continue
                for name in names:
                    setattr(finding, name, values[name])
                plan.changed_fields.update(names)
                result = "updated"
            try:
                _validate_for_bulk(finding, exclude=["decision"], constraints=validate_constraints)
            except ValidationError as error:
                plan.errors[key] = error
            plan.instances[key] = finding
            plan.results[key] = result
            changed = True
        results[decision.pk] = ("created" if not before else "updated") if changed else "unchanged"
        if changed:
            facility_ids.add(decision.facility_id)
    return FindingsPlan(plan, removed, results, facility_ids)


def findings_bulk_write(
    *,
    plan: FindingsPlan,
    actor: Actor = None,
    reason: str = "",
    replan: Callable[[], FindingsPlan] | None = None,
) -> dict[Any, ValidationError]:
    """Write a findings plan as ``findings_replace`` would for each of its decisions, in one
    transaction: removed findings with a ``-`` history row each (the finding as it was), new and
    changed ones as ``register_bulk_write`` writes them, then each touched facility's derived
    columns once (``refresh_latest``). When the register changed since the plan was read,
    ``replan`` reads it again inside the transaction. Returns the plan's errors (by decision id
    and area); with any, nothing is written."""
    with transaction.atomic():
        if replan is not None and register_bulk_plan_is_stale(plan.findings):
            plan = replan()
            if plan.errors:
                transaction.set_rollback(True)
                return plan.errors
        when = timezone.now()
        table = Finding._meta.db_table
        connection = connections[router.db_for_write(Finding)]
        with contextlib.ExitStack() as once:
            once.enter_context(data_version.bumped_once_sqlite(connection, (table,)))
            for hook in BULK_WRITE_HOOKS:
                once.enter_context(hook(connection, (table,), when))
            if plan.removed:
                _write_history(
                    connection,
                    Finding,
                    plan.removed,
                    history_type="-",
                    actor=actor,
                    reason=reason,
                    when=when,
                )
                quote = connection.ops.quote_name
                ids = [finding.pk for finding in plan.removed]
                with connection.cursor() as cursor:
                    for start in range(0, len(ids), BULK_BATCH_SIZE):
                        chunk = ids[start : start + BULK_BATCH_SIZE]
                        cursor.execute(
                            f"DELETE FROM {quote(table)} WHERE {quote(Finding._meta.pk.column)} "
                            f"IN ({', '.join(['%s'] * len(chunk))})",
                            chunk,
                        )
            register_bulk_write(plan.findings, actor=actor, reason=reason, when=when)
        refresh_latest(plan.facility_ids)
        return {}
