"""The register imports of ``docs/formats/register-import.md``: facilities, decisions and
the findings of decisions.

A file is checked against the limits before it is read (``read_table``), then read as a stream
(CSV in UTF-8 with ``;`` or ``,``, or the first sheet of an XLSX), every row is checked, and only
a file without a single error is written — through ``register.services``, in one transaction, so
the rules and the history are the same as for an edit in the back office. Decisions and findings
are checked against the register before the write transaction begins and written in bulk
(``services.register_bulk_plan``, ``services.decisions_bulk_write``; ``findings_bulk_plan``,
``findings_bulk_write``), so the write lock is held for the writes alone. Every error is
reported as ``rad N, kolumn X: orsak`` with the row number a spreadsheet shows (the header is
row 1). Records are keyed by ``verksamhetsid`` and ``diarienummer`` (a finding by its decision's
and its area), so a second import of the same file finds nothing to change.
"""

import csv
import datetime
import functools
import itertools
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from register import services, validation
from register.codes import (
    AppealStatus,
    Assessment,
    DecisionKind,
    FacilityStatus,
    FacilityType,
    Gender,
    InspectionReason,
    Outcome,
    Ownership,
    ReviewArea,
    TargetGroup,
)
from register.models import Decision, Facility, Inspection, Municipality, Permit, Registration

T = TypeVar("T")

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97–2003 (.xls)

FACILITY_COLUMNS: dict[str, bool] = {  # column → required
    "verksamhetsid": True,
    "verksamhet": True,
    "verksamhetstyp": True,
    "organisationsnummer": True,
    "huvudman": True,
    "regi": True,
    "enskild_naringsidkare": False,
    "kommunkod": True,
    "besoksadress": False,
    "postnummer": False,
    "postort": False,
    "malgrupper": False,
    "alder_fran": False,
    "alder_till": False,
    "kon": False,
    "antal_platser": True,
    "status": True,
    "startdatum": False,
    "slutdatum": False,
    "tillstand_dnr": False,
    "tillstand_datum": False,
    "anmalan_dnr": False,
    "anmalan_datum": False,
    "inriktning": False,
    "sammanfattning": False,
    "skyddad": False,
    "forestandare_namn": False,
    "forestandare_personnummer": False,
    "forestandare_epost": False,
    "forestandare_telefon": False,
}

DECISION_COLUMNS: dict[str, bool] = {
    "diarienummer": True,
    "verksamhetsid": True,
    "beslutstyp": True,
    "beslutsdatum": True,
    "utfall": True,
    "granskade_omraden": False,
    "inspektionsdatum": False,
    "inspektion_anmald": False,
    "sammanfattning": False,
    "lagrum": False,
    "overklagande": False,
    "foljer_upp_dnr": False,
    "inspektion_anledning": False,
    "samtal_med_barn": False,
    "forbud_till": False,
}

FINDING_COLUMNS: dict[str, bool] = {
    "diarienummer": True,
    "omrade": True,
    "bedomning": True,
    "iakttagelse": False,
    "krav": False,
    "senast": False,
    "vite_kronor": False,
}

# Cells that spreadsheets turn into numbers, dropping the leading zero: padded back.
_ZERO_PADDED_COLUMNS = {"kommunkod": 4, "postnummer": 5}
# Numbers whose leading zero cannot be guessed back: a number cell there is an error.
_TEXT_ONLY_COLUMNS = {
    "organisationsnummer",
    "forestandare_personnummer",
    "forestandare_telefon",
}

# Model field → import column, to place an error raised by the model on the right cell.
_FACILITY_FIELD_COLUMNS = {
    "facility_id": "verksamhetsid",
    "name": "verksamhet",
    "facility_type": "verksamhetstyp",
    "municipality": "kommunkod",
    "street_address": "besoksadress",
    "postal_code": "postnummer",
    "postal_town": "postort",
    "target_groups": "malgrupper",
    "age_from": "alder_fran",
    "age_to": "alder_till",
    "gender": "kon",
    "places": "antal_platser",
    "status": "status",
    "start_date": "startdatum",
    "end_date": "slutdatum",
    "orientation": "inriktning",
    "summary": "sammanfattning",
    "protected_by_ivo": "skyddad",
}
_PROVIDER_FIELD_COLUMNS = {
    "organisation_number": "organisationsnummer",
    "name": "huvudman",
    "ownership": "regi",
    "is_sole_trader": "enskild_naringsidkare",
}
_MANAGER_FIELD_COLUMNS = {
    "name": "forestandare_namn",
    "personal_identity_number": "forestandare_personnummer",
    "email": "forestandare_epost",
    "phone": "forestandare_telefon",
}
_DECISION_FIELD_COLUMNS = {
    "diarienummer": "diarienummer",
    "facility": "verksamhetsid",
    "kind": "beslutstyp",
    "decision_date": "beslutsdatum",
    "outcome": "utfall",
    "review_areas": "granskade_omraden",
    "summary": "sammanfattning",
    "legal_reference": "lagrum",
    "appeal_status": "overklagande",
    "follows_up": "foljer_upp_dnr",
    "inspection_reason": "inspektion_anledning",
    "children_talked_with": "samtal_med_barn",
    "prohibition_until": "forbud_till",
}
_FINDING_FIELD_COLUMNS = {
    "decision": "diarienummer",
    "area": "omrade",
    "assessment": "bedomning",
    "observation": "iakttagelse",
    "requirement": "krav",
    "due_date": "senast",
    "fine_amount": "vite_kronor",
}
_INSPECTION_FIELD_COLUMNS = {
    "diarienummer": "diarienummer",
    "start_date": "inspektionsdatum",
    "end_date": "inspektionsdatum",
    "announced": "inspektion_anmald",
}

_TILLSTAND_OUTCOMES = {Outcome.TILLSTAND_BEVILJAT, Outcome.TILLSTAND_AVSLAG}


# Errors and results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("rad %(row)s, kolumn %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class ImportFailed(Exception):
    """The file was not imported; ``errors`` says why, every one of them."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} fel")
        self.errors = errors


@dataclass
class ImportReport:
    counts: dict[str, Counter] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    dry_run: bool = False
    # How long the write transaction took, commit included: on SQLite the write lock is held as
    # long, and every other writer (a login, a page view's session) waits for it.
    write_seconds: float | None = None

    def count(self, kind: str, result: str) -> None:
        self.counts.setdefault(kind, Counter())[result] += 1

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] or c["removed"] for c in self.counts.values())

    def summary_lines(self) -> list[str]:
        lines = []
        for kind, c in self.counts.items():
            line = _(
                "%(kind)s: %(created)s nya, %(updated)s ändrade, %(unchanged)s oförändrade"
            ) % {
                "kind": kind,
                "created": c["created"],
                "updated": c["updated"],
                "unchanged": c["unchanged"],
            }
            if c["removed"]:  # findings a file no longer gives (kept in the history)
                line += _(", %(removed)s borttagna") % {"removed": c["removed"]}
            lines.append(line)
        return lines


class _DryRun(Exception):
    """Raised inside the transaction to roll a checked dry run back."""


# Reading the file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it; the header is row 1
    cells: dict[str, str]  # column → trimmed text ("" when empty)


@dataclass(frozen=True)
class Table:
    columns: list[str]  # normalised header names, in file order
    rows: list[Row]
    errors: list[RowError]  # rows the header cannot hold


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _file_error(message: str) -> ImportFailed:
    return ImportFailed([RowError(None, "", message)])


def read_table(path: str | Path) -> Table:
    """The header and rows of a CSV or XLSX file, told apart by content, not by name.

    The file is checked before it is read: its size (``IMPORT_MAX_BYTES``), and for an XLSX the
    unpacked size of every part (a small zip can unpack to gigabytes) and the sheet's declared
    dimension. Both forms are then read as streams, one row at a time, and reading stops at the
    first row past ``IMPORT_MAX_ROWS``, whatever the file declared."""
    path = Path(path)
    limits = _Limits.from_settings()
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            magic = file.read(8)
    except FileNotFoundError:
        raise _file_error(_("filen %(name)s finns inte") % {"name": path}) from None
    except OSError:
        raise _file_error(_("filen %(name)s kan inte läsas") % {"name": path}) from None
    if size > limits.bytes:
        raise _file_error(
            _("filen är %(size)s, större än gränsen %(max)s; dela upp den")
            % {"size": _size(size), "max": _size(limits.bytes)}
        )
    if magic.startswith(_OLE_MAGIC):
        raise _file_error(
            _("filen är i det gamla Excel-formatet (.xls); spara den som .xlsx eller CSV (UTF-8)")
        )
    raw_rows = _xlsx_rows(path, limits) if magic.startswith(_XLSX_MAGIC) else _csv_rows(path)
    return _table(_at_most(raw_rows, limits.rows))


@dataclass(frozen=True)
class _Limits:
    bytes: int  # the file as stored
    rows: int  # data rows, the header not counted
    unpacked_bytes: int  # an XLSX's parts unpacked, together

    @classmethod
    def from_settings(cls) -> "_Limits":
        return cls(
            bytes=settings.IMPORT_MAX_BYTES,
            rows=settings.IMPORT_MAX_ROWS,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
        )


def _size(size: int) -> str:
    """A size as a person reads it: ``29 kB``, ``1,5 MB``."""
    if size < 2**20:
        return f"{size / 2**10:.0f} kB"
    return f"{size / 2**20:.1f}".removesuffix(".0").replace(".", ",") + " MB"


def _too_many_rows(limit: int) -> ImportFailed:
    return _file_error(
        _("filen har fler än %(max)s rader (utöver rubrikraden); dela upp den") % {"max": limit}
    )


def _at_most(
    raw_rows: Iterator[tuple[int, list[Any]]], limit: int
) -> Iterator[tuple[int, list[Any]]]:
    """The rows, refusing the file at the first row past the limit: nothing after it is read."""
    for number, values in raw_rows:
        if number > limit + 1:  # the header is row 1
            raise _too_many_rows(limit)
        yield number, values


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _utf8_lines(file) -> Iterator[str]:
    """The file's lines decoded one at a time, so a wrong byte is found on its own line."""
    for line_number, line in enumerate(file, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise _file_error(
                _(
                    "filen är inte i UTF-8 (första felaktiga tecknet på rad %(line)s); spara den "
                    "som ”CSV UTF-8” eller som .xlsx"
                )
                % {"line": line_number}
            ) from None
        if line_number == 1:
            text = text.removeprefix("\ufeff")
        if "\r" in text.rstrip("\r\n"):  # lines ended by a lone CR (old Mac), as open(newline="")
            yield from _LONE_CR.split(text)
        else:
            yield text


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    with path.open("rb") as file:
        lines = _utf8_lines(file)
        first_line = next(lines, "")
        delimiter = "," if first_line.count(",") > first_line.count(";") else ";"
        reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter)
        try:
            # A quoted cell may hold a line break; the spreadsheet still shows one row per record.
            yield from enumerate(reader, start=1)
        except csv.Error as error:
            raise _file_error(
                _("filen är ingen giltig CSV-fil (rad %(line)s): %(error)s")
                % {"line": reader.line_num, "error": error}
            ) from None


# More columns than any import has, with room for unknown ones (reported as errors).
XLSX_MAX_COLUMNS = 100


def _check_xlsx_parts(path: Path, limits: _Limits) -> None:
    """Refuse a zip bomb before anything is unpacked: the parts' sizes as the zip declares them
    (Python's zipfile never unpacks more than a part declares; a part that claims less than it
    holds fails its CRC check instead)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise _file_error(_("filen ser ut som .xlsx men går inte att öppna")) from None
    if unpacked > limits.unpacked_bytes:
        raise _file_error(
            _(
                "filen packas upp till %(size)s, mer än gränsen %(max)s; den kan inte vara en "
                "vanlig tabell (en zip-bomb?) och läses inte"
            )
            % {"size": _size(unpacked), "max": _size(limits.unpacked_bytes)}
        )


def _xlsx_rows(path: Path, limits: _Limits) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    _check_xlsx_parts(path, limits)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise _file_error(_("filen ser ut som .xlsx men går inte att öppna")) from None
    try:
        sheet = workbook.worksheets[0]
        # The dimension the sheet declares (A1:XFD1048576 in a 5 kB file made openpyxl pad every
        # row to 16,384 cells and a million rows): refused when beyond the limits...
        declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0
        if declared_rows > limits.rows + 1:
            raise _file_error(
                _(
                    "bladet anger %(rows)s rader, fler än gränsen %(max)s (utöver rubrikraden); "
                    "dela upp filen"
                )
                % {"rows": declared_rows, "max": limits.rows}
            )
        if declared_columns > XLSX_MAX_COLUMNS:
            raise _file_error(
                _("bladet anger %(columns)s kolumner, fler än gränsen %(max)s")
                % {"columns": declared_columns, "max": XLSX_MAX_COLUMNS}
            )
        # ... and then not trusted: the rows the sheet holds are read as they come, unpadded,
        # and _at_most stops at the first past the limit, whatever was declared.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    except (zipfile.BadZipFile, ValueError, KeyError, ElementTree.ParseError):
        raise _file_error(_("filen ser ut som .xlsx men går inte att läsa")) from None
    finally:
        workbook.close()


def _cell_text(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and column in _ZERO_PADDED_COLUMNS:
        return str(value).zfill(_ZERO_PADDED_COLUMNS[column])
    return str(value).strip()


def _table(raw_rows: Iterator[tuple[int, list[Any]]]) -> Table:
    header: list[str] | None = None
    rows: list[Row] = []
    errors: list[RowError] = []
    for number, values in raw_rows:
        if header is None:
            header = [_cell_text(value, "").lower() for value in values]
            while header and not header[-1]:
                header.pop()
            continue
        texts = [
            _cell_text(value, header[i] if i < len(header) else "")
            for i, value in enumerate(values)
        ]
        for index, value in enumerate(values[: len(header)]):
            if header[index] in _TEXT_ONLY_COLUMNS and isinstance(value, int | float):
                errors.append(
                    RowError(
                        number,
                        header[index],
                        _(
                            "cellen är formaterad som tal och kan ha tappat en inledande nolla; "
                            "formatera kolumnen som text och skriv in värdet igen"
                        ),
                    )
                )
        if not any(texts):
            continue  # an empty row between records
        if any(texts[len(header) :]):
            errors.append(
                RowError(
                    number,
                    _column_letter(len(header)),
                    _("raden har fler ifyllda celler än rubrikraden har kolumner"),
                )
            )
            continue
        texts += [""] * (len(header) - len(texts))
        rows.append(Row(number, dict(zip(header, texts, strict=False))))
    if header is None or not any(header):
        raise _file_error(_("filen är tom: rubrikraden saknas"))
    return Table(columns=header, rows=rows, errors=errors)


def check_header(table: Table, columns: Mapping[str, bool]) -> list[RowError]:
    """Unknown, repeated, unnamed and missing columns, each an error on row 1."""
    errors = []
    seen: set[str] = set()
    for index, name in enumerate(table.columns):
        letter = _column_letter(index)
        if not name:
            errors.append(RowError(1, letter, _("kolumnen saknar rubrik")))
        elif name not in columns:
            errors.append(
                RowError(
                    1,
                    name,
                    _("okänd kolumn (kolumn %(letter)s); kända kolumner: %(known)s")
                    % {"letter": letter, "known": ", ".join(columns)},
                )
            )
        elif name in seen:
            errors.append(RowError(1, name, _("kolumnen finns mer än en gång")))
        seen.add(name)
    for name, required in columns.items():
        if required and name not in seen:
            errors.append(RowError(1, name, _("obligatorisk kolumn saknas")))
    return errors


class Cells:
    """One row's cells, parsed one column at a time; every failure becomes a RowError."""

    def __init__(self, row: Row, errors: list[RowError]):
        self.row = row
        self.errors = errors
        self.failed = False

    def has(self, column: str) -> bool:
        return column in self.row.cells

    def raw(self, column: str) -> str:
        return self.row.cells.get(column, "")

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row.number, column, message))
        self.failed = True

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.raw(column)
        if required and not value:
            self.error(column, _("värde saknas"))
        elif max_length is not None and len(value) > max_length:
            self.error(
                column,
                _("får vara högst %(max)s tecken, är %(n)s") % {"max": max_length, "n": len(value)},
            )
        return value

    def parse(self, column: str, parser: Callable[[str], T], *, required: bool = False) -> T | None:
        value = self.raw(column)
        if not value:
            if required:
                self.error(column, _("värde saknas"))
            return None
        try:
            return parser(value)
        except ValidationError as error:
            for message in error.messages:
                self.error(column, message)
            return None


def record_model_error(
    errors: list[RowError],
    row: int,
    error: ValidationError,
    columns: Mapping[str, str],
    default: str,
) -> None:
    """Place a ValidationError raised by a model's full_clean on the cells it is about."""
    detail = (
        error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    )
    for model_field, messages in detail.items():
        column = columns.get(model_field, default)
        for message in messages:
            errors.append(RowError(row, column, message))


def _in_file_order(errors: list[RowError], table: Table) -> list[RowError]:
    """Errors by row, then by column as the file orders them."""
    position = {name: index for index, name in enumerate(table.columns)}
    return sorted(errors, key=lambda e: (e.row or 0, position.get(e.column, len(position))))


def run_import(
    path: str | Path,
    *,
    command: str,
    columns: Mapping[str, bool],
    parse: Callable[[Table, list[RowError]], list[Any]],
    write: Callable[[Any, ImportReport, list[RowError], services.Actor, str], None],
    actor: services.Actor,
    dry_run: bool,
    plan: Callable[[list[Any], ImportReport, list[RowError]], Any] | None = None,
) -> ImportReport:
    """Read, check every row, then write in one transaction; any error, or a dry run, rolls all
    of it back.

    With ``plan`` every read of the register and every check runs before the write transaction
    begins (``register.services.register_bulk_plan``), and ``write`` gets the plan and only
    writes, in bulk: the write lock is held for the writes alone (SQLite has one, for every
    writer: logins and page views wait for it). A dry run then stops after the plan. Without
    ``plan`` (``linking.imports``) ``write`` checks and writes row by row in the transaction."""
    with validation.one_day():
        return _run_import(
            path,
            command=command,
            columns=columns,
            parse=parse,
            write=write,
            actor=actor,
            dry_run=dry_run,
            plan=plan,
        )


def _run_import(path, *, command, columns, parse, write, actor, dry_run, plan) -> ImportReport:
    table = read_table(path)
    errors = table.errors + check_header(table, columns)
    if any(e.message == _("obligatorisk kolumn saknas") for e in errors):
        raise ImportFailed(errors)
    rows = parse(table, errors)
    if errors:
        raise ImportFailed(_in_file_order(errors, table))
    reason = f"{command} {Path(path).name}"
    report = ImportReport(dry_run=dry_run)
    if plan is not None:
        planned = plan(rows, report, errors)
        if errors:
            raise ImportFailed(_in_file_order(errors, table))
        if dry_run:
            return report
        started = time.perf_counter()
        with transaction.atomic():
            write(planned, report, errors, actor, reason)
            if errors:
                transaction.set_rollback(True)
        report.write_seconds = time.perf_counter() - started
        if errors:
            raise ImportFailed(_in_file_order(errors, table))
        return report
    try:
        started = time.perf_counter()
        with transaction.atomic():
            write(rows, report, errors, actor, reason)
            if errors:
                raise ImportFailed(_in_file_order(errors, table))
            if dry_run:
                raise _DryRun
        report.write_seconds = time.perf_counter() - started
    except _DryRun:
        pass
    return report


def _dates(value: str) -> tuple[datetime.date, datetime.date | None]:
    """One inspection date, or two (``first|last``) for an inspection over two days."""
    parts = [part.strip() for part in value.split("|")]
    if len(parts) > 2:
        raise ValidationError(_("ange ett datum eller två datum åtskilda med |"))
    first = validation.date_not_in_future(validation.iso_date(parts[0]))
    last = validation.date_not_in_future(validation.iso_date(parts[1])) if len(parts) == 2 else None
    if last is not None and last < first:
        raise ValidationError(_("den sista inspektionsdagen ligger före den första"))
    return first, last


def _postal_code(value: str) -> str:
    digits = value.replace(" ", "")
    if not (digits.isdigit() and len(digits) == 5):
        raise ValidationError(_("ska vara fem siffror, t.ex. 392 31"))
    return f"{digits[:3]} {digits[3:]}"


def at_most_chars(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValidationError(
                _("får vara högst %(max)s tecken, är %(n)s") % {"max": limit, "n": len(value)}
            )
        return value

    return check


# Facilities -----------------------------------------------------------------------------------

# Optional column → (model field, parser, value of an empty cell).
_OPTIONAL_FACILITY_CELLS: dict[str, tuple[str, Callable[[str], Any], Any]] = {
    "besoksadress": ("street_address", at_most_chars(200), ""),
    "postnummer": ("postal_code", _postal_code, ""),
    "postort": ("postal_town", at_most_chars(100), ""),
    "malgrupper": ("target_groups", lambda v: validation.code_list(v, TargetGroup), []),
    "alder_fran": ("age_from", validation.age, None),
    "alder_till": ("age_to", validation.age, None),
    "kon": ("gender", lambda v: validation.code(v, Gender), ""),
    "startdatum": ("start_date", validation.iso_date, None),
    "slutdatum": ("end_date", validation.iso_date, None),
    "inriktning": ("orientation", validation.public_text, ""),
    "sammanfattning": ("summary", validation.public_text, ""),
    # IVO's own mark of a protected home (DESIGN.md); the target group skydd marks one too.
    "skyddad": ("protected_by_ivo", validation.yes_no, False),
}


@dataclass
class _FacilityRow:
    number: int
    facility_id: str
    organisation_number: str
    provider: dict[str, Any]
    facility: dict[str, Any]
    permit: tuple[str, dict[str, Any]] | None
    registration: tuple[str, dict[str, Any]] | None
    manager: dict[str, Any] | None


def import_facilities(
    path: str | Path, *, actor: services.Actor = None, dry_run: bool = False
) -> ImportReport:
    """Import a facilities file (register-import.md). Raises ImportFailed with every error."""
    return run_import(
        path,
        command="import_facilities",
        columns=FACILITY_COLUMNS,
        parse=_parse_facility_rows,
        write=_write_facilities,
        actor=actor,
        dry_run=dry_run,
    )


def _parse_facility_rows(table: Table, errors: list[RowError]) -> list[_FacilityRow]:
    known_municipalities = frozenset(Municipality.objects.values_list("code", flat=True))
    parsed: list[_FacilityRow] = []
    first_row_of_id: dict[str, int] = {}
    provider_seen: dict[str, tuple[int, dict[str, Any]]] = {}
    dnr_seen: dict[str, int] = {}
    for row in table.rows:
        cells = Cells(row, errors)
        facility_id = cells.parse("verksamhetsid", validation.facility_id, required=True)
        if facility_id is not None:
            key = facility_id.upper()
            if key in first_row_of_id:
                cells.error(
                    "verksamhetsid",
                    _("verksamhetsid %(id)s finns redan på rad %(row)s")
                    % {"id": facility_id, "row": first_row_of_id[key]},
                )
            else:
                first_row_of_id[key] = row.number
        name = cells.text("verksamhet", required=True, max_length=200)
        facility_type = cells.parse(
            "verksamhetstyp", lambda v: validation.code(v, FacilityType), required=True
        )
        sole_trader = cells.parse("enskild_naringsidkare", validation.yes_no) or False
        organisation_number = cells.parse(
            "organisationsnummer",
            functools.partial(validation.organisation_number, sole_trader=sole_trader),
            required=True,
        )
        provider_name = cells.text("huvudman", required=True, max_length=200)
        ownership = cells.parse("regi", lambda v: validation.code(v, Ownership), required=True)
        if sole_trader and ownership and ownership != Ownership.ENSKILD:
            cells.error("regi", _("en enskild näringsidkare har regi enskild"))
        provider = {"name": provider_name, "ownership": ownership, "is_sole_trader": sole_trader}
        if organisation_number is not None and not cells.failed:
            _check_same_provider(cells, organisation_number, provider, provider_seen)

        municipality = cells.parse(
            "kommunkod",
            lambda v: validation.municipality_code(v, known_municipalities),
            required=True,
        )
        facility: dict[str, Any] = {
            "name": name,
            "facility_type": facility_type,
            "municipality_id": municipality,
            "places": cells.parse(
                "antal_platser", lambda v: validation.whole_number(v, minimum=0), required=True
            ),
            "status": cells.parse(
                "status", lambda v: validation.code(v, FacilityStatus), required=True
            ),
        }
        for column, (model_field, parser, empty) in _OPTIONAL_FACILITY_CELLS.items():
            if cells.has(column):  # an absent column leaves the register's value as it is
                value = cells.parse(column, parser)
                facility[model_field] = empty if value is None else value
        _check_facility_rules(cells, facility)

        permit = _parse_case(cells, "tillstand", dnr_seen, "granted_on")
        registration = _parse_case(cells, "anmalan", dnr_seen, "registered_on")
        if permit and ownership and ownership != Ownership.ENSKILD:
            cells.error(
                "tillstand_dnr",
                _(
                    "tillstånd gäller enskild regi; en kommunal eller regional verksamhet anmäls "
                    "(anmalan_dnr)"
                ),
            )
        if registration and ownership and ownership not in (Ownership.KOMMUNAL, Ownership.REGIONAL):
            cells.error(
                "anmalan_dnr",
                _("anmälan gäller kommunal och regional regi; enskild regi kräver tillstånd"),
            )
        manager = _parse_manager(cells)
        if not cells.failed:
            parsed.append(
                _FacilityRow(
                    row.number,
                    facility_id,
                    organisation_number,
                    provider,
                    facility,
                    permit,
                    registration,
                    manager,
                )
            )
    if not errors:
        _check_cases_belong_to_their_facility(parsed, errors)
    return parsed


def _check_same_provider(
    cells: Cells,
    organisation_number: str,
    provider: dict[str, Any],
    seen: dict[str, tuple[int, dict[str, Any]]],
) -> None:
    """Rows naming the same organisationsnummer must agree on the provider."""
    if organisation_number not in seen:
        seen[organisation_number] = (cells.row.number, provider)
        return
    first_row, first = seen[organisation_number]
    for key, column in (
        ("name", "huvudman"),
        ("ownership", "regi"),
        ("is_sole_trader", "enskild_naringsidkare"),
    ):
        if first[key] != provider[key]:
            cells.error(
                column,
                _(
                    "samma organisationsnummer har ett annat värde i kolumnen %(column)s på rad "
                    "%(row)s; en huvudman har ett namn, en regi och en form"
                )
                % {"column": column, "row": first_row},
            )


def _check_facility_rules(cells: Cells, facility: dict[str, Any]) -> None:
    age_from, age_to = facility.get("age_from"), facility.get("age_to")
    if age_from is not None and age_to is not None and age_from > age_to:
        cells.error(
            "alder_fran",
            _("åldern från (%(from)s) är högre än åldern till (%(to)s)")
            % {"from": age_from, "to": age_to},
        )
    start, end = facility.get("start_date"), facility.get("end_date")
    if start and end and end < start:
        cells.error("slutdatum", _("slutdatum ligger före startdatum"))
    if facility.get("status") == FacilityStatus.NEDLAGD and not end:
        cells.error("slutdatum", _("slutdatum krävs när status är nedlagd"))


def _parse_case(
    cells: Cells, prefix: str, dnr_seen: dict[str, int], date_field: str
) -> tuple[str, dict[str, Any]] | None:
    dnr_column, date_column = f"{prefix}_dnr", f"{prefix}_datum"
    dnr = cells.parse(dnr_column, validation.diarienummer)
    date = cells.parse(date_column, lambda v: validation.date_not_in_future(validation.iso_date(v)))
    if dnr is None:
        if date is not None:
            cells.error(
                date_column,
                _("datum utan diarienummer; fyll i %(column)s") % {"column": dnr_column},
            )
        return None
    if dnr in dnr_seen:
        cells.error(
            dnr_column,
            _("diarienumret %(dnr)s finns redan på rad %(row)s")
            % {"dnr": dnr, "row": dnr_seen[dnr]},
        )
        return None
    dnr_seen[dnr] = cells.row.number
    values: dict[str, Any] = {}
    if cells.has(date_column):
        values[date_field] = date
    return dnr, values


def _parse_manager(cells: Cells) -> dict[str, Any] | None:
    """The manager's cells; all empty leaves the register's manager as it is."""
    columns = list(_MANAGER_FIELD_COLUMNS.values())
    if not any(cells.raw(column) for column in columns):
        return None
    manager = {
        "name": cells.text("forestandare_namn", required=True, max_length=200),
        "personal_identity_number": cells.parse(
            "forestandare_personnummer", validation.personal_identity_number
        )
        or "",
        "email": cells.parse("forestandare_epost", validation.email) or "",
        "phone": cells.parse("forestandare_telefon", validation.phone) or "",
    }
    return manager


def _check_cases_belong_to_their_facility(rows: list[_FacilityRow], errors: list[RowError]) -> None:
    """A permit or registration diarienummer already in the register must be this facility's."""
    for model, attribute, column in (
        (Permit, "permit", "tillstand_dnr"),
        (Registration, "registration", "anmalan_dnr"),
    ):
        wanted = {getattr(r, attribute)[0]: r for r in rows if getattr(r, attribute)}
        owners = dict(
            model.objects.filter(diarienummer__in=wanted).values_list(
                "diarienummer", "facility__facility_id"
            )
        )
        for dnr, owner in owners.items():
            row = wanted[dnr]
            if owner != row.facility_id:
                errors.append(
                    RowError(
                        row.number,
                        column,
                        _("diarienumret %(dnr)s hör redan till verksamheten %(owner)s")
                        % {"dnr": dnr, "owner": owner},
                    )
                )


def _write_facilities(
    rows: list[_FacilityRow],
    report: ImportReport,
    errors: list[RowError],
    actor: services.Actor,
    reason: str,
) -> None:
    kinds = {
        "provider": _("huvudmän"),
        "facility": _("verksamheter"),
        "permit": pgettext("plural", "tillstånd"),
        "registration": _("anmälningar"),
        "manager": pgettext("plural", "föreståndare"),
    }
    providers_done: set[str] = set()
    for row in rows:
        try:
            provider, result = services.provider_upsert(
                organisation_number=row.organisation_number,
                values=row.provider,
                actor=actor,
                reason=reason,
            )
        except ValidationError as error:
            record_model_error(
                errors, row.number, error, _PROVIDER_FIELD_COLUMNS, "organisationsnummer"
            )
            continue
        if row.organisation_number not in providers_done:
            providers_done.add(row.organisation_number)
            report.count(kinds["provider"], result)
        values = {**row.facility, "provider": provider}
        _keep_status_set_by_decision(row, values, report)
        try:
            facility, result = services.facility_upsert(
                facility_id=row.facility_id, values=values, actor=actor, reason=reason
            )
        except ValidationError as error:
            record_model_error(errors, row.number, error, _FACILITY_FIELD_COLUMNS, "verksamhetsid")
            continue
        report.count(kinds["facility"], result)
        for attribute, upsert, column in (
            ("permit", services.permit_upsert, "tillstand_dnr"),
            ("registration", services.registration_upsert, "anmalan_dnr"),
        ):
            case = getattr(row, attribute)
            if case is None:
                continue
            dnr, case_values = case
            try:
                _case, result = upsert(
                    diarienummer=dnr,
                    values={"facility": facility, **case_values},
                    actor=actor,
                    reason=reason,
                )
            except ValidationError as error:
                record_model_error(errors, row.number, error, {}, column)
                continue
            report.count(kinds[attribute], result)
        if row.manager is not None:
            try:
                result = services.manager_set_current(
                    facility=facility, values=row.manager, actor=actor, reason=reason
                )
            except ValidationError as error:
                record_model_error(
                    errors, row.number, error, _MANAGER_FIELD_COLUMNS, "forestandare_namn"
                )
                continue
            report.count(kinds["manager"], result)


def _keep_status_set_by_decision(
    row: _FacilityRow, values: dict[str, Any], report: ImportReport
) -> None:
    """A revocation or prohibition is IVO's decision; a facilities file cannot undo it
    (``services.status_set_by_decision``, which facility_save also enforces).

    When the facility's status follows from a decision, the file's status is left aside
    (with a notice) and the rest of the row is written; otherwise the file's status holds and
    the status date follows it.
    """
    facility = Facility.objects.filter(facility_id=row.facility_id).first()
    if facility is None:
        if values["status"] == FacilityStatus.NEDLAGD:
            values["status_date"] = values.get("end_date")
        return
    latest = services.status_set_by_decision(facility.pk, values["status"])
    if latest is not None:
        report.notices.append(
            _(
                "rad %(row)s: status %(file)s i filen ändrar inte verksamhetens status "
                "”%(status)s”, som följer av beslut %(dnr)s (%(date)s)"
            )
            % {
                "row": row.number,
                "file": values["status"],
                "status": FacilityStatus(facility.status).label,
                "dnr": latest.diarienummer,
                "date": latest.decision_date.isoformat(),
            }
        )
        values["status"] = facility.status
    elif values["status"] != facility.status:
        values["status_date"] = (
            values.get("end_date") if values["status"] == FacilityStatus.NEDLAGD else None
        )


# Decisions ------------------------------------------------------------------------------------


@dataclass
class _DecisionRow:
    number: int
    diarienummer: str
    decision: dict[str, Any]
    inspection: dict[str, Any] | None
    # The diarienummer of a decision on an earlier row that this one follows up: linked once
    # the plan holds it (_link_follow_ups_in_file); a new one is written before this one.
    follows_up_in_file: str | None = None


@dataclass(frozen=True)
class _FollowedDecision:
    """What a decision that is followed up must agree with: its facility and its date."""

    facility_id: str | None  # verksamhetsid
    decision_date: datetime.date | None
    instance: Decision | None  # the register's; None for one on an earlier row of the file


def import_decisions(
    path: str | Path, *, actor: services.Actor = None, dry_run: bool = False
) -> ImportReport:
    """Import a decisions file (register-import.md). Raises ImportFailed with every error."""
    return run_import(
        path,
        command="import_decisions",
        columns=DECISION_COLUMNS,
        parse=_parse_decision_rows,
        plan=_plan_decisions,
        write=_write_decisions,
        actor=actor,
        dry_run=dry_run,
    )


def _parse_decision_rows(table: Table, errors: list[RowError]) -> list[_DecisionRow]:
    wanted_ids = {row.cells.get("verksamhetsid", "").strip().upper() for row in table.rows}
    facilities = {
        f.facility_id.upper(): f
        for f in Facility.objects.filter(facility_id__in=wanted_ids).select_related("provider")
    }
    followed_in_register = _followed_decisions_in_register(table)
    first_row_of_dnr: dict[str, int] = {}
    for row in table.rows:
        first_row_of_dnr.setdefault(row.cells.get("diarienummer", "").strip(), row.number)
    parsed: list[_DecisionRow] = []
    dnr_seen: dict[str, int] = {}
    earlier_in_file: dict[str, _FollowedDecision] = {}
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
        facility = None
        facility_id = cells.parse("verksamhetsid", validation.facility_id, required=True)
        if facility_id is not None:
            facility = facilities.get(facility_id.upper())
            if facility is None:
                cells.error(
                    "verksamhetsid",
                    _(
                        "okänd verksamhet %(id)s: den finns inte i registret; importera "
                        "verksamheten först (import_facilities)"
                    )
                    % {"id": facility_id},
                )
        kind = cells.parse("beslutstyp", lambda v: validation.code(v, DecisionKind), required=True)
        decision_date = cells.parse(
            "beslutsdatum",
            lambda v: validation.date_not_in_future(validation.iso_date(v)),
            required=True,
        )
        outcome = cells.parse("utfall", lambda v: validation.code(v, Outcome), required=True)
        if kind and outcome:
            check_outcome_fits(cells, kind, outcome, facility)
        decision: dict[str, Any] = {
            "facility": facility,
            "kind": kind,
            "decision_date": decision_date,
            "outcome": outcome,
            "prohibition_until": _parse_prohibition_until(cells, outcome, decision_date),
        }
        if cells.has("granskade_omraden"):
            decision["review_areas"] = (
                cells.parse("granskade_omraden", lambda v: validation.code_list(v, ReviewArea))
                or []
            )
        for column, (model_field, parser, empty) in _OPTIONAL_DECISION_CELLS.items():
            if cells.has(column):  # an absent column leaves the register's value as it is
                value = cells.parse(column, parser)
                decision[model_field] = empty if value is None else value
        follows_up_in_file = None
        if cells.has("foljer_upp_dnr"):
            followed = _parse_followed_decision(
                cells,
                dnr,
                facility.facility_id if facility else None,
                decision_date,
                followed_in_register,
                earlier_in_file,
                first_row_of_dnr,
            )
            if isinstance(followed, str):
                follows_up_in_file = followed
            else:
                decision["follows_up"] = followed
        inspection = parse_inspection(cells, facility, decision_date)
        if dnr is not None and dnr not in earlier_in_file:
            earlier_in_file[dnr] = _FollowedDecision(
                facility.facility_id if facility else None, decision_date, None
            )
        if not cells.failed:
            parsed.append(_DecisionRow(row.number, dnr, decision, inspection, follows_up_in_file))
    return parsed


# Optional decision column → (model field, parser, value of an empty cell).
_OPTIONAL_DECISION_CELLS: dict[str, tuple[str, Callable[[str], Any], Any]] = {
    "sammanfattning": ("summary", validation.public_text, ""),
    "lagrum": ("legal_reference", at_most_chars(200), ""),
    "overklagande": (
        "appeal_status",
        lambda v: validation.code(v, AppealStatus),
        AppealStatus.EJ_OVERKLAGAT,
    ),
    "inspektion_anledning": (
        "inspection_reason",
        lambda v: validation.code(v, InspectionReason),
        "",
    ),
    "samtal_med_barn": (
        "children_talked_with",
        lambda v: validation.whole_number(v, minimum=0),
        None,
    ),
}


def _parse_prohibition_until(
    cells: Cells, outcome: str | None, decision_date: datetime.date | None
) -> datetime.date | None:
    """A temporary prohibition's last day: required for one, and for nothing else (13 kap. 10 §
    SoL (2001:453)). Set whether the column is there or not: the outcome decides it."""
    last_day = cells.parse("forbud_till", validation.iso_date)
    if outcome != Outcome.TILLFALLIGT_FORBUD:
        if last_day is not None:
            cells.error("forbud_till", _("anges bara när utfallet är tillfalligt_forbud"))
        return None
    if last_day is None:
        if not cells.raw("forbud_till"):
            cells.error(
                "forbud_till",
                _("förbudets sista dag krävs när utfallet är tillfalligt_forbud"),
            )
        return None
    if decision_date is not None:
        try:
            validation.temporary_prohibition_end(decision_date, last_day)
        except ValidationError as error:
            for message in error.messages:
                cells.error("forbud_till", message)
    return last_day


def _followed_decisions_in_register(table: Table) -> dict[str, Decision]:
    """The register's decisions that the file's rows say they follow up: one query."""
    wanted = {row.cells.get("foljer_upp_dnr", "").strip() for row in table.rows} - {""}
    if not wanted:
        return {}
    return {
        decision.diarienummer: decision
        for decision in Decision.objects.filter(diarienummer__in=wanted).select_related("facility")
    }


def _parse_followed_decision(
    cells: Cells,
    dnr: str | None,
    facility_id: str | None,
    decision_date: datetime.date | None,
    in_register: Mapping[str, Decision],
    earlier_in_file: Mapping[str, _FollowedDecision],
    first_row_of_dnr: Mapping[str, int],
) -> Decision | str | None:
    """``foljer_upp_dnr``: an earlier decision of the same facility, in the register or on an
    earlier row of the file (whose values are checked then: they are the ones written). The
    register's decision, the diarienummer of one in the file (linked to the plan's record of it
    by _link_follow_ups_in_file), or None (an empty cell, or an error)."""
    target = cells.parse("foljer_upp_dnr", validation.diarienummer)
    if target is None:
        return None
    if target == dnr:
        cells.error("foljer_upp_dnr", _("ett beslut kan inte följa upp sig självt"))
        return None
    later_row = first_row_of_dnr.get(target, 0)
    if later_row > cells.row.number:
        cells.error(
            "foljer_upp_dnr",
            _(
                "beslutet %(dnr)s står senare i filen (rad %(row)s); ett beslut som följs upp "
                "ska stå före beslutet som följer upp det"
            )
            % {"dnr": target, "row": later_row},
        )
        return None
    followed = earlier_in_file.get(target)
    if followed is None and target in in_register:
        registered = in_register[target]
        followed = _FollowedDecision(
            registered.facility.facility_id, registered.decision_date, registered
        )
    if followed is None:
        cells.error(
            "foljer_upp_dnr",
            _("okänt beslut %(dnr)s: det finns varken i registret eller på en tidigare rad i filen")
            % {"dnr": target},
        )
        return None
    if facility_id is not None and followed.facility_id not in (None, facility_id):
        cells.error(
            "foljer_upp_dnr",
            _("beslutet %(diarienummer)s gäller en annan verksamhet") % {"diarienummer": target},
        )
    earlier_date = followed.decision_date
    if decision_date is not None and earlier_date is not None and earlier_date > decision_date:
        cells.error(
            "foljer_upp_dnr",
            _("beslutet %(diarienummer)s är senare än detta beslut") % {"diarienummer": target},
        )
    return followed.instance if followed.instance is not None else target


def check_outcome_fits(cells: Cells, kind: str, outcome: str, facility: Facility | None) -> None:
    if (outcome in _TILLSTAND_OUTCOMES) != (kind == DecisionKind.TILLSTAND):
        cells.error(
            "utfall",
            _("utfallet %(outcome)s hör inte till beslutstypen %(kind)s")
            % {"outcome": outcome, "kind": kind},
        )
    if (
        outcome == Outcome.ATERKALLELSE
        and facility is not None
        and facility.provider.ownership != Ownership.ENSKILD
    ):
        cells.error(
            "utfall",
            _(
                "återkallelse gäller ett tillstånd, och verksamheten %(id)s har %(ownership)s "
                "regi utan tillstånd"
            )
            % {"id": facility.facility_id, "ownership": facility.provider.ownership},
        )


def parse_inspection(
    cells: Cells, facility: Facility | None, decision_date: datetime.date | None
) -> dict[str, Any] | None:
    dates = cells.parse("inspektionsdatum", _dates)
    announced = cells.parse("inspektion_anmald", validation.yes_no)
    if dates is None:
        if announced is not None and not cells.raw("inspektionsdatum"):
            cells.error("inspektion_anmald", _("anges bara tillsammans med inspektionsdatum"))
        return None
    first, last = dates
    if decision_date is not None and first > decision_date:
        cells.error(
            "inspektionsdatum",
            _("inspektionen (%(date)s) ligger efter beslutsdatumet (%(decided)s)")
            % {"date": first.isoformat(), "decided": decision_date.isoformat()},
        )
    inspection: dict[str, Any] = {"facility": facility, "start_date": first, "end_date": last}
    if cells.has("inspektion_anmald"):
        inspection["announced"] = announced
    return inspection


@dataclass
class _DecisionPlan:
    rows: list[_DecisionRow]
    inspections: services.BulkPlan[Inspection]
    decisions: services.BulkPlan[Decision]


def _plan_decisions(
    rows: list[_DecisionRow], report: ImportReport, errors: list[RowError]
) -> _DecisionPlan:
    """Every row checked against the register as ``decision_save`` would check it, before the
    write transaction."""
    inspections, decisions = _read_decision_plans(rows)
    _record_decision_plan(rows, inspections, decisions, report, errors)
    return _DecisionPlan(rows, inspections, decisions)


def _read_decision_plans(
    rows: list[_DecisionRow],
) -> tuple[services.BulkPlan[Inspection], services.BulkPlan[Decision]]:
    inspections = services.register_bulk_plan(
        Inspection,
        key_field="diarienummer",
        rows=[(r.diarienummer, r.inspection) for r in rows if r.inspection is not None],
        exclude_from_validation=("facility",),
    )
    decisions = services.register_bulk_plan(
        Decision,
        key_field="diarienummer",
        rows=[(r.diarienummer, r.decision) for r in rows],
        # Both resolved from the register by the parser (and follows_up checked there against
        # the file too); the model's clean() still checks follows_up on the instance it holds.
        exclude_from_validation=("facility", "follows_up"),
    )
    _link_follow_ups_in_file(rows, decisions)
    return inspections, decisions


def _link_follow_ups_in_file(rows: list[_DecisionRow], plan: services.BulkPlan[Decision]) -> None:
    """A decision that follows up one on an earlier row points at the plan's record of it; when
    that one is new, ``services.decisions_bulk_write`` writes it first, so the link has its id."""
    for row in rows:
        if row.follows_up_in_file is None:
            continue
        instance = plan.instances[row.diarienummer]
        followed = plan.instances[row.follows_up_in_file]
        if followed.pk is not None and instance.follows_up_id == followed.pk:
            continue
        instance.follows_up = followed
        if plan.results[row.diarienummer] != "created":
            plan.results[row.diarienummer] = "updated"
            plan.changed_fields.add("follows_up")


def _record_decision_plan(
    rows: list[_DecisionRow],
    inspections: services.BulkPlan[Inspection],
    decisions: services.BulkPlan[Decision],
    report: ImportReport,
    errors: list[RowError],
) -> None:
    report.counts.clear()
    for kind, plan, columns, default in (
        (_("inspektioner"), inspections, _INSPECTION_FIELD_COLUMNS, "inspektionsdatum"),
        (pgettext("plural", "beslut"), decisions, _DECISION_FIELD_COLUMNS, "diarienummer"),
    ):
        for row in rows:
            if row.diarienummer not in plan.results:
                continue
            if row.diarienummer in plan.errors:
                record_model_error(
                    errors, row.number, plan.errors[row.diarienummer], columns, default
                )
            else:
                report.count(kind, plan.results[row.diarienummer])


def _write_decisions(
    plan: _DecisionPlan,
    report: ImportReport,
    errors: list[RowError],
    actor: services.Actor,
    reason: str,
) -> None:
    def read_again() -> tuple[services.BulkPlan[Inspection], services.BulkPlan[Decision]]:
        # Someone wrote to the register since the plan was read: read it again, in the lock.
        inspections, decisions = _read_decision_plans(plan.rows)
        _record_decision_plan(plan.rows, inspections, decisions, report, errors)
        return inspections, decisions

    refused = services.decisions_bulk_write(
        inspections=plan.inspections,
        decisions=plan.decisions,
        actor=actor,
        reason=reason,
        replan=read_again,
    )
    if errors:
        return
    numbers = {row.diarienummer: row.number for row in plan.rows}
    for diarienummer, error in refused.items():
        record_model_error(
            errors, numbers[diarienummer], error, _DECISION_FIELD_COLUMNS, "diarienummer"
        )


# Findings -------------------------------------------------------------------------------------

# The largest vite a PositiveIntegerField holds on every database.
_MAX_KRONOR = 2_147_483_647


@dataclass
class _FindingRow:
    number: int
    diarienummer: str
    finding: dict[str, Any]


@dataclass
class _FindingsPlanned:
    rows: list[_FindingRow]
    plan: services.FindingsPlan
    decision_ids: dict[str, int]  # diarienummer → decision id


def import_findings(
    path: str | Path, *, actor: services.Actor = None, dry_run: bool = False
) -> ImportReport:
    """Import a findings file (register-import.md): the file's findings become the findings of
    each decision it names (the others removed, kept in the history); other decisions' findings
    stay as they are. Raises ImportFailed with every error."""
    return run_import(
        path,
        command="import_findings",
        columns=FINDING_COLUMNS,
        parse=_parse_finding_rows,
        plan=_plan_findings,
        write=_write_findings,
        actor=actor,
        dry_run=dry_run,
    )


def _decisions_by_diarienummer(numbers: set[str]) -> dict[str, Decision]:
    wanted = sorted(numbers)
    decisions: dict[str, Decision] = {}
    for start in range(0, len(wanted), 5000):  # within every database's limit of parameters
        for decision in Decision.objects.filter(diarienummer__in=wanted[start : start + 5000]):
            decisions[decision.diarienummer] = decision
    return decisions


def _kronor(value: str) -> int:
    """Whole kronor above 0; spaces between the thousands (``50 000``) are allowed."""
    digits = value.replace(" ", "").replace("\u00a0", "")
    if not re.fullmatch(r"[0-9]+", digits) or int(digits) == 0:
        raise ValidationError(_("ska vara ett helt antal kronor större än 0, t.ex. 50000"))
    if int(digits) > _MAX_KRONOR:
        raise ValidationError(_("får vara högst %(max)s kronor") % {"max": _MAX_KRONOR})
    return int(digits)


def _parse_finding_rows(table: Table, errors: list[RowError]) -> list[_FindingRow]:
    decisions = _decisions_by_diarienummer(
        {row.cells.get("diarienummer", "").strip() for row in table.rows} - {""}
    )
    parsed: list[_FindingRow] = []
    area_seen: dict[tuple[str, str], int] = {}
    for row in table.rows:
        cells = Cells(row, errors)
        dnr = cells.parse("diarienummer", validation.diarienummer, required=True)
        decision = None
        if dnr is not None:
            decision = decisions.get(dnr)
            if decision is None:
                cells.error(
                    "diarienummer",
                    _(
                        "okänt beslut %(dnr)s: det finns inte i registret; importera beslutet "
                        "först (import_decisions)"
                    )
                    % {"dnr": dnr},
                )
        area = cells.parse("omrade", lambda v: validation.code(v, ReviewArea), required=True)
        if dnr is not None and area is not None:
            if (dnr, area) in area_seen:
                cells.error(
                    "omrade",
                    _("området %(area)s finns redan för beslutet %(dnr)s på rad %(row)s")
                    % {"area": area, "dnr": dnr, "row": area_seen[(dnr, area)]},
                )
            else:
                area_seen[(dnr, area)] = row.number
        assessment = cells.parse(
            "bedomning", lambda v: validation.code(v, Assessment), required=True
        )
        observation = cells.parse("iakttagelse", validation.public_text) or ""
        requirement = cells.parse("krav", validation.public_text) or ""
        if cells.raw("krav") and assessment == Assessment.INGEN_BRIST:
            cells.error(
                "krav",
                _("ett krav kan bara ställas vid brist eller allvarlig_brist, inte vid %(code)s")
                % {"code": Assessment.INGEN_BRIST.value},
            )
        due_date = cells.parse("senast", validation.iso_date)
        if due_date is not None:
            if not cells.raw("krav"):
                cells.error("senast", _("anges bara tillsammans med ett krav (kolumnen krav)"))
            elif decision is not None and due_date < decision.decision_date:
                cells.error(
                    "senast",
                    _("datumet %(date)s ligger före beslutsdatum %(decided)s")
                    % {
                        "date": due_date.isoformat(),
                        "decided": decision.decision_date.isoformat(),
                    },
                )
        fine_amount = cells.parse("vite_kronor", _kronor)
        if (
            fine_amount is not None
            and decision is not None
            and decision.outcome != Outcome.FORELAGGANDE_VITE
        ):
            cells.error(
                "vite_kronor",
                _(
                    "vite anges bara när beslutets utfall är forelaggande_vite; beslutet "
                    "%(dnr)s har utfallet %(outcome)s"
                )
                % {"dnr": dnr, "outcome": decision.outcome},
            )
        if not cells.failed:
            parsed.append(
                _FindingRow(
                    row.number,
                    dnr,
                    {
                        "area": area,
                        "assessment": assessment,
                        "observation": observation,
                        "requirement": requirement,
                        "due_date": due_date,
                        "fine_amount": fine_amount,
                    },
                )
            )
    return parsed


def _plan_findings(
    rows: list[_FindingRow], report: ImportReport, errors: list[RowError]
) -> _FindingsPlanned:
    """Every row checked against the register as ``findings_replace`` would check it, before
    the write transaction."""
    planned = _read_findings_plan(rows, errors)
    _record_findings_plan(planned, report, errors)
    return planned


def _read_findings_plan(rows: list[_FindingRow], errors: list[RowError]) -> _FindingsPlanned:
    decisions = _decisions_by_diarienummer({row.diarienummer for row in rows})
    wanted: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.diarienummer not in decisions:  # removed since the file was checked
            errors.append(
                RowError(
                    row.number,
                    "diarienummer",
                    _("okänt beslut %(dnr)s: det finns inte i registret")
                    % {"dnr": row.diarienummer},
                )
            )
            continue
        wanted.setdefault(row.diarienummer, []).append(row.finding)
    plan = services.findings_bulk_plan(
        findings=[(decisions[dnr], findings) for dnr, findings in wanted.items()]
    )
    ids = {dnr: decision.pk for dnr, decision in decisions.items()}
    return _FindingsPlanned(rows, plan, ids)


def _record_findings_plan(
    planned: _FindingsPlanned, report: ImportReport, errors: list[RowError]
) -> None:
    report.counts.clear()
    kind = _("iakttagelser")
    results = planned.plan.findings.results
    for row in planned.rows:
        key = (planned.decision_ids.get(row.diarienummer), row.finding["area"])
        if key in planned.plan.errors:
            record_model_error(
                errors, row.number, planned.plan.errors[key], _FINDING_FIELD_COLUMNS, "omrade"
            )
        elif key in results:
            report.count(kind, results[key])
    for _finding in planned.plan.removed:
        report.count(kind, "removed")


def _write_findings(
    planned: _FindingsPlanned,
    report: ImportReport,
    errors: list[RowError],
    actor: services.Actor,
    reason: str,
) -> None:
    def read_again() -> services.FindingsPlan:
        # Someone wrote to the register since the plan was read: read it again, in the lock.
        again = _read_findings_plan(planned.rows, errors)
        _record_findings_plan(again, report, errors)
        return again.plan

    services.findings_bulk_write(plan=planned.plan, actor=actor, reason=reason, replan=read_again)
