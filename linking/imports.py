"""``import_cases``: the case system's export (``docs/formats/case-import.md``).

The same promises as the register's imports, with the same code (``register.imports``): the file
is read whole, every row checked, every error reported as ``rad N, kolumn X: orsak``, and only a
file without errors is written, in one transaction. Records are keyed by diarienummer: a second
import of the same file changes nothing; a changed row updates the record, with history. New and
changed records that are not linked are then matched (``linking.matching``) in the same
transaction.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linking import matching
from linking.models import CaseRecord, CaseStatus
from register import services, validation
from register.codes import DecisionKind, Outcome, ReviewArea
from register.imports import (
    Cells,
    ImportReport,
    RowError,
    Table,
    at_most_chars,
    check_outcome_fits,
    parse_inspection,
    record_model_error,
    run_import,
)
from register.models import Municipality

CASE_COLUMNS: dict[str, bool] = {  # column → required
    "diarienummer": True,
    "arendetyp": True,
    "beslutsdatum": True,
    "utfall": True,
    "granskade_omraden": False,
    "organisationsnummer": False,
    "huvudman": False,
    "verksamhet": True,
    "adress": False,
    "postort": False,
    "kommunkod": False,
    "referens_dnr": False,
    "inspektionsdatum": False,
    "sammanfattning": False,
}

# Model field → column, to place an error raised by the model on the right cell.
_CASE_FIELD_COLUMNS = {
    "diarienummer": "diarienummer",
    "kind": "arendetyp",
    "decision_date": "beslutsdatum",
    "outcome": "utfall",
    "review_areas": "granskade_omraden",
    "organisation_number": "organisationsnummer",
    "provider_name": "huvudman",
    "facility_name": "verksamhet",
    "street_address": "adress",
    "postal_town": "postort",
    "municipality": "kommunkod",
    "reference_diarienummer": "referens_dnr",
    "inspection_start": "inspektionsdatum",
    "inspection_end": "inspektionsdatum",
    "summary": "sammanfattning",
}
# What a link copies into the register's decision: a change here is a change of the decision.
_DECISION_FIELDS = ("kind", "decision_date", "outcome", "review_areas", "summary")


def case_organisation_number(value: str) -> str:
    """The provider's number as the case system has it, in the form ``NNNNNN-NNNN``.

    The format says it "may be wrong": a number whose check digit fails is kept (it simply
    matches no provider), but something that is not ten or twelve digits is an error.
    """
    digits = re.sub(r"[\s\-+]", "", value)
    if not digits.isdigit() or len(digits) not in (10, 12):
        raise ValidationError(_("ska ha 10 siffror (eller 12 med 16 först), t.ex. 212000-0746"))
    digits = digits[-10:]
    return f"{digits[:6]}-{digits[6:]}"


@dataclass
class _CaseRow:
    number: int
    diarienummer: str
    values: dict[str, Any]


def import_cases(
    path: str | Path, *, actor: services.Actor = None, dry_run: bool = False
) -> ImportReport:
    """Import a case-system export. Raises ``register.imports.ImportFailed`` with every error."""
    return run_import(
        path,
        command="import_cases",
        columns=CASE_COLUMNS,
        parse=_parse_case_rows,
        write=_write_case_rows,
        actor=actor,
        dry_run=dry_run,
    )


def _parse_case_rows(table: Table, errors: list[RowError]) -> list[_CaseRow]:
    known_municipalities = frozenset(Municipality.objects.values_list("code", flat=True))
    parsed: list[_CaseRow] = []
    dnr_seen: dict[str, int] = {}
    for row in table.rows:
        cells = Cells(row, errors)
        dnr = cells.parse("diarienummer", validation.diarienummer, required=True)
        if dnr is not None:
            if dnr in dnr_seen:
                cells.error(
                    "diarienummer",
                    _("diarienumret %(dnr)s finns redan på rad %(row)s")
                    % {"dnr": dnr, "row": dnr_seen[dnr]},
                )
            else:
                dnr_seen[dnr] = row.number
        kind = cells.parse("arendetyp", lambda v: validation.code(v, DecisionKind), required=True)
        decision_date = cells.parse(
            "beslutsdatum",
            lambda v: validation.date_not_in_future(validation.iso_date(v)),
            required=True,
        )
        outcome = cells.parse("utfall", lambda v: validation.code(v, Outcome), required=True)
        if kind and outcome:
            check_outcome_fits(cells, kind, outcome, None)
        values: dict[str, Any] = {
            "kind": kind,
            "decision_date": decision_date,
            "outcome": outcome,
            "facility_name": cells.text("verksamhet", required=True, max_length=200),
        }
        # An absent column leaves the record's value as it is; an empty cell empties it.
        optional = (
            (
                "granskade_omraden",
                "review_areas",
                lambda v: validation.code_list(v, ReviewArea),
                [],
            ),
            ("organisationsnummer", "organisation_number", case_organisation_number, ""),
            ("huvudman", "provider_name", at_most_chars(200), ""),
            ("adress", "street_address", at_most_chars(200), ""),
            ("postort", "postal_town", at_most_chars(100), ""),
            (
                "kommunkod",
                "municipality_id",
                lambda v: validation.municipality_code(v, known_municipalities),
                None,
            ),
            ("referens_dnr", "reference_diarienummer", validation.diarienummer, ""),
            ("sammanfattning", "summary", validation.public_text, ""),
        )
        for column, model_field, parser, empty in optional:
            if cells.has(column):
                value = cells.parse(column, parser)
                values[model_field] = empty if value is None else value
        if cells.has("inspektionsdatum"):
            inspection = parse_inspection(cells, None, decision_date)
            values["inspection_start"] = inspection["start_date"] if inspection else None
            values["inspection_end"] = inspection["end_date"] if inspection else None
        if not cells.failed:
            parsed.append(_CaseRow(row.number, dnr, values))
    return parsed


def _write_case_rows(
    rows: list[_CaseRow],
    report: ImportReport,
    errors: list[RowError],
    actor: services.Actor,
    reason: str,
) -> None:
    existing = {
        case.diarienummer: case
        for case in CaseRecord.objects.filter(diarienummer__in=[row.diarienummer for row in rows])
    }
    to_match: list[CaseRecord] = []
    kind = _("ärenden")
    for row in rows:
        case = existing.get(row.diarienummer)
        if case is None:
            case = CaseRecord(diarienummer=row.diarienummer, **row.values)
            result = "created"
        else:
            before = {name: getattr(case, name) for name in _DECISION_FIELDS}
            if not services.assign(case, row.values):
                report.count(kind, "unchanged")
                continue
            result = "updated"
            if case.status != CaseStatus.LINKED:
                case.status = CaseStatus.NEW  # what the record says has changed: match it again
        try:
            case.full_clean()
        except ValidationError as error:
            record_model_error(errors, row.number, error, _CASE_FIELD_COLUMNS, "diarienummer")
            continue
        case._history_user = actor  # type: ignore[attr-defined]
        case._change_reason = reason  # type: ignore[attr-defined]
        case.save()
        report.count(kind, result)
        if case.status == CaseStatus.LINKED:
            if result == "updated":
                _update_linked_decision(case, before, row, report, errors, actor, reason)
            continue
        to_match.append(case)
    if to_match and not errors:
        report.notices.append(matching.match_case_records(to_match, actor=actor).line())


def _update_linked_decision(
    case: CaseRecord,
    before: dict[str, Any],
    row: _CaseRow,
    report: ImportReport,
    errors: list[RowError],
    actor: services.Actor,
    reason: str,
) -> None:
    """The case system is the source of a linked decision's facts: a change reaches the register."""
    changed = {
        name: getattr(case, name)
        for name in _DECISION_FIELDS
        if getattr(case, name) != before[name]
    }
    if not changed:
        return
    try:
        services.decision_upsert(
            diarienummer=case.diarienummer, values=changed, actor=actor, reason=reason
        )
    except ValidationError as error:
        record_model_error(errors, row.number, error, _CASE_FIELD_COLUMNS, "diarienummer")
        return
    report.count(_("beslut"), "updated")
