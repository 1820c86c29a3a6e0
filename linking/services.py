"""Every change to a case record's link: one function each, atomic, recorded as a ``LinkAction``.

A link turns the case record into a decision (and its inspection) on the facility through
``register.services``, so the status rules and the register's history apply as for any other
decision. Each action keeps the state it changed before and after; ``link_action_undo`` puts the
``before`` back exactly — the case record, the decision and inspection (removed when the link made
them, given their earlier values when they were there), the facility's status and its permits —
and refuses when the register has changed since, rather than overwrite someone's later work.
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from linking.models import CaseRecord, CaseStatus, LinkAction, LinkMethod
from register import services
from register.codes import Outcome, Ownership
from register.models import Decision, Facility, Inspection, Permit

Actor = services.Actor

DECISION_FIELDS = (
    "facility",
    "kind",
    "decision_date",
    "outcome",
    "review_areas",
    "summary",
    "legal_reference",
    "follow_up",
    "appeal_status",
)
INSPECTION_FIELDS = ("facility", "start_date", "end_date", "announced")
CASE_FIELDS = ("status", "facility", "decision", "link_method")
FACILITY_FIELDS = ("status", "status_date")


# The state an action changes, as JSON ---------------------------------------------------------


def _freeze(instance: models.Model | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    if instance is None:
        return None
    frozen = {}
    for name in fields:
        attname = instance._meta.get_field(name).attname
        value = getattr(instance, attname)
        frozen[attname] = value.isoformat() if isinstance(value, datetime.date) else value
    return frozen


def _thaw(model: type[models.Model], frozen: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for attname, value in frozen.items():
        field = next(f for f in model._meta.concrete_fields if f.attname == attname)
        values[attname] = field.to_python(value) if isinstance(value, str) else value
    return values


def _case_state(case: CaseRecord) -> dict[str, Any]:
    return _freeze(case, CASE_FIELDS)


def _register_state(diarienummer: str, facility_pk: int) -> dict[str, Any]:
    facility = Facility.objects.get(pk=facility_pk)
    return {
        "decision": _freeze(
            Decision.objects.filter(diarienummer=diarienummer).first(), DECISION_FIELDS
        ),
        "inspection": _freeze(
            Inspection.objects.filter(diarienummer=diarienummer).first(), INSPECTION_FIELDS
        ),
        "facility": {"pk": facility.pk, **_freeze(facility, FACILITY_FIELDS)},
        "permits": {
            str(pk): status
            for pk, status in Permit.objects.filter(facility=facility)
            .order_by("pk")
            .values_list("pk", "status")
        },
    }


def _state(case: CaseRecord, facility_pk: int | None) -> dict[str, Any]:
    state: dict[str, Any] = {"case": _case_state(case)}
    if facility_pk is not None:
        state["register"] = _register_state(case.diarienummer, facility_pk)
    return state


def _save_case(case: CaseRecord, *, actor: Actor, reason: str) -> None:
    case.full_clean()
    case._history_user = actor  # type: ignore[attr-defined]
    case._change_reason = reason  # type: ignore[attr-defined]
    case.save()


def _locked(case_record: CaseRecord) -> CaseRecord:
    return CaseRecord.objects.select_for_update().get(pk=case_record.pk)


# Linking ---------------------------------------------------------------------------------------


def _check_link_allowed(case: CaseRecord, facility: Facility) -> None:
    if case.status == CaseStatus.LINKED:
        raise ValidationError(
            _("Ärendet är redan kopplat till %(facility)s; ångra den kopplingen först.")
            % {"facility": case.facility.facility_id}
        )
    for model, what in ((Decision, _("beslut")), (Inspection, _("inspektion"))):
        owner = (
            model.objects.filter(diarienummer=case.diarienummer)
            .exclude(facility=facility)
            .values_list("facility__facility_id", flat=True)
            .first()
        )
        if owner:
            raise ValidationError(
                _("Diarienumret %(dnr)s finns redan som %(what)s för verksamheten %(owner)s.")
                % {"dnr": case.diarienummer, "what": what, "owner": owner}
            )
    if case.outcome == Outcome.ATERKALLELSE and facility.provider.ownership != Ownership.ENSKILD:
        raise ValidationError(
            _(
                "återkallelse gäller ett tillstånd, och verksamheten %(id)s har %(ownership)s "
                "regi utan tillstånd"
            )
            % {"id": facility.facility_id, "ownership": facility.provider.ownership}
        )


@transaction.atomic
def case_link(
    *, case_record: CaseRecord, facility: Facility, actor: Actor, kind: str
) -> LinkAction:
    """Link the record to ``facility``: its decision (and inspection) enter the register.

    ``kind`` says how: automatic, a confirmed suggestion, or another facility chosen.
    """
    case = _locked(case_record)
    _check_link_allowed(case, facility)
    before = _state(case, facility.pk)
    how = LinkMethod.AUTOMATIC if kind == LinkAction.Kind.AUTOMATIC else LinkMethod.MANUAL
    reason = _("Kopplat från ärendesystemet (%(how)s)") % {"how": LinkMethod(how).label.lower()}
    if case.inspection_start:
        services.inspection_upsert(
            diarienummer=case.diarienummer,
            values={
                "facility": facility,
                "start_date": case.inspection_start,
                "end_date": case.inspection_end,
            },
            actor=actor,
            reason=reason,
        )
    values: dict[str, Any] = {
        "facility": facility,
        "kind": case.kind,
        "decision_date": case.decision_date,
        "outcome": case.outcome,
    }
    # An empty cell in the case system does not erase what the register already holds.
    if case.review_areas:
        values["review_areas"] = case.review_areas
    if case.summary:
        values["summary"] = case.summary
    decision, _result = services.decision_upsert(
        diarienummer=case.diarienummer, values=values, actor=actor, reason=reason
    )
    case.status = CaseStatus.LINKED
    case.facility = facility
    case.decision = decision
    case.link_method = how
    _save_case(case, actor=actor, reason=reason)
    return LinkAction.objects.create(
        case_record=case,
        kind=kind,
        actor=actor,
        facility=facility,
        before=before,
        after=_state(case, facility.pk),
    )


@transaction.atomic
def case_mark_new_facility(*, case_record: CaseRecord, actor: Actor) -> LinkAction:
    """The record's facility is not in the register: it leaves the queue until it is."""
    case = _locked(case_record)
    if case.status == CaseStatus.LINKED:
        raise ValidationError(
            _("Ärendet är redan kopplat till %(facility)s; ångra den kopplingen först.")
            % {"facility": case.facility.facility_id}
        )
    if case.status == CaseStatus.NEW_FACILITY:
        raise ValidationError(_("Ärendet är redan markerat som ny verksamhet."))
    before = _state(case, None)
    case.status = CaseStatus.NEW_FACILITY
    _save_case(case, actor=actor, reason=_("Markerat som ny verksamhet"))
    return LinkAction.objects.create(
        case_record=case,
        kind=LinkAction.Kind.NEW_FACILITY,
        actor=actor,
        before=before,
        after=_state(case, None),
    )


# Undo -----------------------------------------------------------------------------------------


def undoable_action(case_record: CaseRecord) -> LinkAction | None:
    """The action an undo would undo: the latest one not undone, unless it is itself an undo."""
    latest = case_record.actions.filter(undone_by__isnull=True).order_by("-at", "-id").first()
    if latest is None or latest.kind == LinkAction.Kind.UNDO:
        return None
    return latest


@transaction.atomic
def link_action_undo(*, action: LinkAction, actor: Actor) -> LinkAction:
    """Put back exactly the state before ``action``; record the undo as an action of its own."""
    case = _locked(action.case_record)
    action = LinkAction.objects.select_for_update().get(pk=action.pk)
    if action.kind == LinkAction.Kind.UNDO:
        raise ValidationError(_("En ångring kan inte ångras; gör om åtgärden i stället."))
    if LinkAction.objects.filter(undoes=action).exists():
        raise ValidationError(_("Åtgärden är redan ångrad."))
    if undoable_action(case) != action:
        raise ValidationError(_("Bara ärendets senaste åtgärd kan ångras."))
    facility_pk = action.before.get("register", {}).get("facility", {}).get("pk")
    current = _state(case, facility_pk)
    if current != action.after:
        raise ValidationError(
            _(
                "Ärendet eller registret har ändrats efter åtgärden, så den kan inte ångras "
                "automatiskt; rätta i registerförvaltningen i stället."
            )
        )
    reason = _("Ångrad: %(action)s %(when)s") % {
        "action": action.get_kind_display(),
        "when": action.at.strftime("%Y-%m-%d %H:%M"),
    }
    before = action.before
    # The case record first: it holds the decision the link made.
    for attname, value in _thaw(CaseRecord, before["case"]).items():
        setattr(case, attname, value)
    _save_case(case, actor=actor, reason=reason)
    if "register" in before:
        _restore_register(case.diarienummer, before["register"], actor=actor, reason=reason)
    undo = LinkAction.objects.create(
        case_record=case,
        kind=LinkAction.Kind.UNDO,
        actor=actor,
        facility=action.facility,
        before=current,
        after=_state(case, facility_pk),
        undoes=action,
    )
    return undo


def _restore_register(diarienummer: str, state: dict[str, Any], *, actor: Actor, reason: str):
    for model, key, save in (
        (
            Decision,
            "decision",
            lambda obj: services.decision_save(decision=obj, actor=actor, reason=reason),
        ),
        (
            Inspection,
            "inspection",
            lambda obj: services.inspection_save(inspection=obj, actor=actor, reason=reason),
        ),
    ):
        instance = model.objects.filter(diarienummer=diarienummer).first()
        if state[key] is None:
            if instance is not None:
                services.register_object_delete(instance=instance, actor=actor, reason=reason)
            continue
        if instance is None:
            instance = model(diarienummer=diarienummer)
        for attname, value in _thaw(model, state[key]).items():
            setattr(instance, attname, value)
        save(instance)
    # Last: restoring the decision may have applied the status rule again.
    facility = Facility.objects.get(pk=state["facility"]["pk"])
    frozen = {key: value for key, value in state["facility"].items() if key != "pk"}
    if services.assign(facility, _thaw(Facility, frozen)):
        services.facility_save(facility=facility, actor=actor, reason=reason)
    for permit in Permit.objects.filter(pk__in=[int(pk) for pk in state["permits"]]):
        wanted = state["permits"][str(permit.pk)]
        if permit.status != wanted:
            permit.status = wanted
            services.permit_save(permit=permit, actor=actor, reason=reason)
