"""Validation of register values, in one place, with Swedish messages.

Each function takes raw text (from an import cell, a form or the admin), returns the value in the
register's canonical form, or raises ``django.core.exceptions.ValidationError`` with a message a
registrator can act on.
"""

import datetime
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import personnummer as stdnum_personnummer

from register.codes import TEMPORARY_PROHIBITION_MAX_MONTHS

# A dotted class of one to four levels, a dash, a running number, a slash, a four-digit year and
# sometimes a document suffix: 3.2.2-13748/2022, 8.5-29206/2014, 8.7.1-6361/2015-1.
DIARIENUMMER_PATTERN = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){0,3})-(\d{1,7})/(\d{4})(?:-(\d{1,3}))?$")
FACILITY_ID_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,32}$")
MUNICIPALITY_CODE_PATTERN = re.compile(r"^\d{4}$")

MINIMUM_AGE = 0
MAXIMUM_AGE = 21

# The day "in the future" is judged against; set by ``one_day`` for the length of an import.
_pinned_today: ContextVar[datetime.date | None] = ContextVar("pinned_today", default=None)


def today() -> datetime.date:
    return _pinned_today.get() or timezone.localdate()


@contextmanager
def one_day() -> Iterator[None]:
    """Judge every date checked inside against one today: a file checked across midnight is
    checked alike, and an import of 100,000 rows does not ask for the local date (a lookup of
    the current time zone) twice a row."""
    token = _pinned_today.set(timezone.localdate())
    try:
        yield
    finally:
        _pinned_today.reset(token)


def _digits(value: str) -> str:
    return re.sub(r"[\s\-+]", "", value)


def organisation_number(value: str, *, sole_trader: bool = False) -> str:
    """Canonical ``NNNNNN-NNNN`` form of an organisationsnummer.

    Accepts 10 or 12 digits, with or without dash. A legal person's number has 20 or more in
    digits 3–4 (python-stdnum does not check this); a sole trader's number is the owner's
    personnummer, validated as such.
    """
    raw = value.strip()
    if sole_trader:
        canonical = personal_identity_number(raw)
        return canonical[2:]  # the 10-digit form, as the trade register writes it
    digits = _digits(raw)
    if not digits.isdigit() or len(digits) not in (10, 12):
        raise ValidationError(_("ska ha 10 siffror (eller 12 med 16 först), t.ex. 212000-0746"))
    if len(digits) == 12:
        if not digits.startswith("16"):
            raise ValidationError(_("ett 12-siffrigt organisationsnummer börjar med 16"))
        digits = digits[2:]
    try:
        luhn.validate(digits)
    except StdnumError:
        raise ValidationError(_("kontrollsiffran stämmer inte")) from None
    if organisation_number_is_personal(digits):
        raise ValidationError(
            _(
                "siffrorna 3–4 är under 20: det är ett personnummer, inte en juridisk persons "
                "organisationsnummer (ange enskild_naringsidkare = ja för en enskild näringsidkare)"
            )
        )
    return f"{digits[:6]}-{digits[6:]}"


def organisation_number_is_personal(value: str) -> bool:
    """Whether an organisationsnummer (10 digits, or 12; a dash or plus allowed) has the form of
    a personnummer: a sole trader's, which is the owner's personnummer and so personal data
    (DESIGN.md). Nothing else tells a sole trader's number from a legal person's.

    A legal person's number (lag (1974:174) om identitetsbeteckning för juridiska personer
    m.fl.) has 20 or more in digits 3–4, so that it is never a possible personnummer, whose
    digits 3–4 are the month of birth (folkbokföringslagen (1991:481) 18 §); Skatteverket's
    SKV 709 gives the rule. python-stdnum's ``stdnum.se.orgnr`` does not check it.
    """
    digits = _digits(value.strip())
    if not digits.isdigit() or len(digits) not in (10, 12):
        return False
    return int(digits[-8:-6]) < 20  # digits 3–4 of the ten-digit form


def personal_identity_number(value: str) -> str:
    """Canonical ``YYYYMMDD-NNNN`` form of a personnummer or samordningsnummer."""
    raw = value.strip()
    separator_plus = "+" in raw
    digits = _digits(raw)
    if not digits.isdigit() or len(digits) not in (10, 12):
        raise ValidationError(_("ska ha 10 eller 12 siffror, t.ex. 19811218-9876"))
    try:
        luhn.validate(digits[-10:])
    except StdnumError:
        raise ValidationError(_("kontrollsiffran stämmer inte")) from None
    day = int(digits[-6:-4])
    is_coordination_number = day > 60  # samordningsnummer: day of birth + 60
    date_part = digits[:-4]
    if is_coordination_number:
        date_part = date_part[:-2] + f"{day - 60:02d}"
    try:
        if len(digits) == 12:
            birth_date = datetime.date(int(date_part[:4]), int(date_part[4:6]), int(date_part[6:8]))
        else:
            separator = "+" if separator_plus else "-"
            birth_date = stdnum_personnummer.get_birth_date(f"{date_part}{separator}{digits[-4:]}")
    except (ValueError, StdnumError):
        raise ValidationError(_("innehåller inget giltigt födelsedatum")) from None
    if birth_date > today():
        raise ValidationError(_("födelsedatumet ligger i framtiden"))
    century = f"{birth_date.year:04d}"[:2]
    full = digits if len(digits) == 12 else century + digits
    return f"{full[:8]}-{full[8:]}"


def diarienummer(value: str) -> str:
    raw = value.strip()
    match = DIARIENUMMER_PATTERN.match(raw)
    if not match:
        raise ValidationError(
            _("har inte IVO:s form för diarienummer, t.ex. 3.2.2-13748/2022 eller 8.5-29206/2014")
        )
    year = int(match.group(3))
    if year < 1950 or year > today().year:
        raise ValidationError(_("årtalet %(year)s i diarienumret är inte rimligt") % {"year": year})
    return raw


def facility_id(value: str) -> str:
    """Canonical upper case: ``k0880-001`` and ``K0880-001`` are one facility."""
    raw = value.strip()
    if not FACILITY_ID_PATTERN.match(raw):
        raise ValidationError(_("ska vara 1–32 tecken: bokstäver a–z, siffror och bindestreck"))
    return raw.upper()


# Ten or twelve digits with an optional dash or plus: a personnummer, samordningsnummer or a
# sole trader's organisationsnummer. Never echoed back, never accepted in public text. Its groups
# are the stored form's two parts (NNNNNN-NNNN): the back office's search finds a number typed
# either way with ``fullmatch``.
PERSONAL_NUMBER_PATTERN = re.compile(r"(?<!\d)(?:\d{2})?(\d{6})[-+]?(\d{4})(?!\d)")


def mask_personal_numbers(text: str) -> str:
    return PERSONAL_NUMBER_PATTERN.sub("ÅÅMMDD-XXXX", text)


def public_text(value: str) -> str:
    """Text IVO publishes (summaries, orientation) must not hold a personnummer."""
    if PERSONAL_NUMBER_PATTERN.search(value):
        raise ValidationError(
            _(
                "texten innehåller något som ser ut som ett personnummer; offentliga texter får "
                "inte innehålla personuppgifter"
            )
        )
    return value


def municipality_code(value: str, known_codes: set[str] | frozenset[str]) -> str:
    raw = value.strip()
    if not MUNICIPALITY_CODE_PATTERN.match(raw):
        raise ValidationError(_("ska vara en fyrsiffrig kommunkod från SCB, t.ex. 0880"))
    if raw not in known_codes:
        raise ValidationError(_("okänd kommunkod %(code)s") % {"code": raw})
    return raw


@functools.cache
def code_values(choices: type[models.TextChoices]) -> frozenset[str]:
    """The codes of a code list, as a set: ``TextChoices.values`` builds a new list on every
    read, which cost an import of 100,000 rows seconds."""
    return frozenset(choices.values)


def code(value: str, choices: type[models.TextChoices]) -> str:
    """A code from a code list; codes are case-insensitive and trimmed."""
    raw = value.strip().lower()
    if raw not in code_values(choices):
        raise ValidationError(
            _("okänd kod %(value)s; tillåtna: %(allowed)s")
            % {"value": mask_personal_numbers(value.strip()), "allowed": ", ".join(choices.values)}
        )
    return raw


def code_list(value: str, choices: type[models.TextChoices]) -> list[str]:
    """Codes separated by ``|``, returned sorted and without repeats."""
    parts = [part.strip().lower() for part in value.split("|") if part.strip()]
    known = code_values(choices)
    unknown = [part for part in parts if part not in known]
    if unknown:
        raise ValidationError(
            _("okänd kod %(value)s; tillåtna: %(allowed)s")
            % {
                "value": mask_personal_numbers(", ".join(unknown)),
                "allowed": ", ".join(choices.values),
            }
        )
    return sorted(set(parts))


def iso_date(value: str) -> datetime.date:
    raw = value.strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            _("%(value)s är inget giltigt datum i formen ÅÅÅÅ-MM-DD") % {"value": raw}
        ) from None


def date_not_in_future(value: datetime.date) -> datetime.date:
    if value > today():
        raise ValidationError(
            _("datumet %(value)s ligger i framtiden") % {"value": value.isoformat()}
        )
    return value


def months_after(value: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day when it has fewer days."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    for day in range(value.day, 27, -1):
        try:
            return datetime.date(year, month, day)
        except ValueError:
            continue
    return datetime.date(year, month, min(value.day, 28))


def temporary_prohibition_end(
    decision_date: datetime.date, last_day: datetime.date
) -> datetime.date:
    """A temporary prohibition's last day: after its decision date and at most six months after
    it (13 kap. 10 § SoL (2001:453); register.codes.TEMPORARY_PROHIBITION_MAX_MONTHS)."""
    if last_day <= decision_date:
        raise ValidationError(
            _("förbudets sista dag ska ligga efter beslutsdatum %(date)s")
            % {"date": decision_date.isoformat()}
        )
    latest = months_after(decision_date, TEMPORARY_PROHIBITION_MAX_MONTHS)
    if last_day > latest:
        raise ValidationError(
            _("ett tillfälligt förbud får gälla högst sex månader, alltså längst till %(date)s")
            % {"date": latest.isoformat()}
        )
    return last_day


def whole_number(value: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = value.strip()
    if not re.fullmatch(r"\d+", raw):
        raise ValidationError(_("%(value)s är inget heltal") % {"value": raw})
    number = int(raw)
    if minimum is not None and number < minimum:
        raise ValidationError(_("ska vara minst %(minimum)s") % {"minimum": minimum})
    if maximum is not None and number > maximum:
        raise ValidationError(_("får vara högst %(maximum)s") % {"maximum": maximum})
    return number


def age(value: str) -> int:
    return whole_number(value, minimum=MINIMUM_AGE, maximum=MAXIMUM_AGE)


def yes_no(value: str) -> bool:
    raw = value.strip().lower()
    if raw == "ja":
        return True
    if raw == "nej":
        return False
    raise ValidationError(_("ska vara ja eller nej"))


def email(value: str) -> str:
    from django.core.validators import validate_email

    raw = value.strip()
    try:
        validate_email(raw)
    except ValidationError:
        raise ValidationError(_("är ingen giltig e-postadress")) from None
    return raw.lower()


def phone(value: str) -> str:
    raw = value.strip()
    if not re.fullmatch(r"\+?[\d\s\-()]{6,20}", raw):
        raise ValidationError(_("är inget giltigt telefonnummer"))
    return raw


@contextmanager
def field_errors(field: str) -> Iterator[None]:
    """Attach a ValidationError raised inside to ``field`` (for a model's ``clean``)."""
    try:
        yield
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None
