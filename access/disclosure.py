"""The disclosure policy (DESIGN.md): the one module that decides which fields a viewer sees.

Portal pages, the API, feeds and exports build what they show of a provider or a manager through
here; nothing else reads a restricted field for output. Personal data — a manager's name and
contact details, a sole trader's name and organisationsnummer (the owner's personnummer) — is
given:

- to IVO's own staff (the register's keeper), and
- to signed-in municipal users, and municipalities' systems through the API, only when
  ``PERSONAL_DATA_DISCLOSURE`` is on (the proposed 4 kap. 3 a § SoF),

and every time it is given, the access log records who saw which fields of what. A manager's
personnummer is never given here: no placement needs it. Where a home is run (its visiting
address: 3 a § names "var verksamheten bedrivs") is given by the same rule.

The back office (Django admin, access/register_admin.py) shows IVO's staff the register as it is
stored, personnummer included; what it shows of personal data, masked or in full, and the
entries for it are decided here too (``back_office_*`` below).

Protected homes (skyddade boenden: target group ``skydd`` or IVO's own mark) are shown only to
viewers who are signed in with a role — municipal users, municipalities' systems and IVO's staff —
and every one shown is logged. Everyone else (no key, no session: open data, the keyless API, the
catalogue) is given the register as if they did not exist: the selectors leave them out of the
query itself, so no count, page or order can tell.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, CharField, F, Q, Value, When
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _

from access import log
from access.models import AccessEvent
from access.roles import IVO_ROLES, MACHINE_ROLES, MUNICIPAL_ROLES, role_of
from register import validation
from register.models import Facility, Manager, Provider


def may_see_personal_data(user) -> bool:
    role = role_of(user)
    if role in IVO_ROLES:
        return True
    if role in MUNICIPAL_ROLES or role in MACHINE_ROLES:
        return settings.PERSONAL_DATA_DISCLOSURE
    return False


def may_see_protected_homes(user) -> bool:
    """Whether protected homes are in what this viewer is shown (the selectors'
    ``include_protected``): any role but none."""
    role = role_of(user)
    return role in IVO_ROLES or role in MUNICIPAL_ROLES or role in MACHINE_ROLES


def record_protected_views(
    request: HttpRequest | None, facilities, *, object_type: str = "facility"
) -> None:
    """One access-log entry for each protected home among ``facilities`` (Facility objects, or
    ``(id, is_protected)`` pairs) that this response shows; ``object_type`` names what the ids
    are (a decision or inspection of a protected home, in the changes feed)."""
    for facility in facilities:
        if isinstance(facility, tuple):
            object_id, protected = facility
        else:
            object_id, protected = facility.facility_id, facility.is_protected
        if protected:
            log.record(
                request,
                AccessEvent.Action.PROTECTED_VIEW,
                object_type=object_type,
                object_id=object_id,
            )


@dataclass(frozen=True)
class ProviderFacts:
    """What a viewer may see of a provider."""

    public_id: str
    name: str
    organisation_number: str  # "" when withheld
    ownership: str
    is_sole_trader: bool
    withheld: bool  # the name and number are personal data and were not given


def provider_facts(provider: Provider, *, request: HttpRequest | None) -> ProviderFacts:
    user = getattr(request, "user", None)
    if provider.is_sole_trader and not may_see_personal_data(user):
        return ProviderFacts(
            public_id=str(provider.public_id),
            name=_("Enskild näringsidkare"),
            organisation_number="",
            ownership=provider.ownership,
            is_sole_trader=True,
            withheld=True,
        )
    if provider.is_sole_trader:
        log.record(
            request,
            AccessEvent.Action.PERSONAL_DATA_VIEW,
            object_type="provider",
            object_id=str(provider.public_id),
            fields=("provider.name", "provider.organisation_number"),
        )
    return ProviderFacts(
        public_id=str(provider.public_id),
        name=provider.name,
        organisation_number=provider.organisation_number,
        ownership=provider.ownership,
        is_sole_trader=provider.is_sole_trader,
        withheld=False,
    )


@dataclass(frozen=True)
class ManagerFacts:
    """What a viewer may see of a facility's current manager (föreståndare)."""

    withheld: bool
    name: str = ""
    email: str = ""
    phone: str = ""


def manager_facts(facility: Facility, *, request: HttpRequest | None) -> ManagerFacts | None:
    """The current manager's name and contact details, or ``withheld``; None when none is
    registered. The manager is read only for a viewer who may see them."""
    user = getattr(request, "user", None)
    if not may_see_personal_data(user):
        return ManagerFacts(withheld=True)
    manager = (
        Manager.objects.filter(facility=facility, end_date__isnull=True)
        .only("name", "email", "phone")
        .order_by("-start_date", "-id")
        .first()
    )
    if manager is None:
        return None
    log.record(
        request,
        AccessEvent.Action.PERSONAL_DATA_VIEW,
        object_type="facility",
        object_id=facility.facility_id,
        fields=("manager.name", "manager.email", "manager.phone"),
    )
    return ManagerFacts(withheld=False, name=manager.name, email=manager.email, phone=manager.phone)


@dataclass(frozen=True)
class AddressFacts:
    """Where a home is run: its visiting address, given as personal data is (3 a §)."""

    withheld: bool
    street_address: str = ""
    postal_code: str = ""
    postal_town: str = ""


ADDRESS_FIELDS = ("street_address", "postal_code", "postal_town")


def address_facts(facility: Facility, *, request: HttpRequest | None) -> AddressFacts | None:
    """The facility's visiting address, or ``withheld``; None when none is registered."""
    if not may_see_personal_data(getattr(request, "user", None)):
        return AddressFacts(withheld=True)
    values = {field: getattr(facility, field) for field in ADDRESS_FIELDS}
    if not any(values.values()):
        return None
    log.record(
        request,
        AccessEvent.Action.PERSONAL_DATA_VIEW,
        object_type="facility",
        object_id=facility.facility_id,
        fields=tuple(f"facility.{field}" for field in ADDRESS_FIELDS),
    )
    return AddressFacts(withheld=False, **values)


@dataclass(frozen=True)
class CaseProviderFacts:
    """What a viewer may see of the provider as a case record from the case system names it."""

    name: str
    organisation_number: str
    withheld: bool


def case_provider_facts(case_record, *, sole_trader: bool, request: HttpRequest | None):
    """The provider's name and number as the case officer typed them (linking.CaseRecord).

    They are personal data when the number has the form of a personnummer (a sole trader's:
    register.validation.organisation_number_is_personal) or when a provider the record is linked
    or suggested to is a sole trader (``sole_trader``): then they are given as a sole trader's
    are, and logged.
    """
    name, number = case_record.provider_name, case_record.organisation_number
    personal = sole_trader or validation.organisation_number_is_personal(number)
    if not personal or not (name or number):
        return CaseProviderFacts(name=name, organisation_number=number, withheld=False)
    if not may_see_personal_data(getattr(request, "user", None)):
        return CaseProviderFacts(
            name=_("Enskild näringsidkare"), organisation_number="", withheld=True
        )
    log.record(
        request,
        AccessEvent.Action.PERSONAL_DATA_VIEW,
        object_type="case_record",
        object_id=str(case_record.public_id),
        fields=("case_record.provider_name", "case_record.organisation_number"),
    )
    return CaseProviderFacts(name=name, organisation_number=number, withheld=False)


def public_provider_columns(prefix: str = "provider__") -> dict:
    """Annotations for bulk public output (open data, for anyone): a legal person's name and
    organisationsnummer; a sole trader's withheld, whatever the settings, since no viewer is
    known. Used with ``.values()`` so an export of 150,000 rows streams without objects."""
    legal_person = Q(**{f"{prefix}is_sole_trader": False})
    return {
        "provider_name": Case(
            When(legal_person, then=F(f"{prefix}name")),
            default=Value(_("Enskild näringsidkare")),
            output_field=CharField(),
        ),
        "provider_organisation_number": Case(
            When(legal_person, then=F(f"{prefix}organisation_number")),
            default=Value(""),
            output_field=CharField(),
        ),
    }


# The back office --------------------------------------------------------------------------------
#
# IVO's staff keep the register, so they see its personal data; every page that shows any of it
# writes one entry per record shown, with the fields shown. A list prints a personnummer masked
# (the record's own page prints it in full, and that view is logged as such): a page of a hundred
# personnummer is a list no one needs whole.

MASK = "XXXX"

# Per kind of record: its name in the access log and its fields that are personal data, in the
# order they are logged. A provider's only when it is a sole trader.
_PERSONAL_FIELDS: dict[type, tuple[str, tuple[str, ...]]] = {
    Manager: ("manager", ("name", "personal_identity_number", "email", "phone")),
    Provider: ("provider", ("name", "organisation_number")),
}
# Printed masked wherever more than one record is shown (a list, a history of changes).
_PERSONAL_NUMBERS = frozenset({"personal_identity_number", "organisation_number"})


def mask_personal_number(value: str) -> str:
    """``19800101-1234`` → ``19800101-XXXX``, ``800101-1234`` → ``800101-XXXX``: the date of
    birth as stored, the last four digits never."""
    digits = re.sub(r"\D", "", value or "")
    if not digits:
        return ""
    if len(digits) in (10, 12):
        return f"{digits[:-4]}-{MASK}"
    return MASK


def _personal(record) -> tuple[str, tuple[str, ...]] | None:
    """The log's name for ``record`` and its personal fields, or None when it holds none."""
    kind = _PERSONAL_FIELDS.get(type(record))
    if kind is None:
        return None
    if isinstance(record, Provider) and not record.is_sole_trader:
        return None
    return kind


def _object_id(record) -> str:
    return str(record.public_id) if isinstance(record, Provider) else str(record.pk)


def back_office_list_value(record, field: str) -> str:
    """What a list in the back office prints of ``record.field``: a personnummer (a manager's,
    a sole trader's organisationsnummer) masked; anything else as stored."""
    value = getattr(record, field)
    kind = _personal(record)
    if kind is not None and field in _PERSONAL_NUMBERS:
        return mask_personal_number(value)
    return value


def _log_fields(object_type: str, fields: Iterable[str], *, masked: bool) -> tuple[str, ...]:
    return tuple(
        f"{object_type}.{field}.masked"
        if masked and field in _PERSONAL_NUMBERS
        else f"{object_type}.{field}"
        for field in fields
    )


def _record_back_office(request, record, fields: tuple[str, ...], detail) -> None:
    log.record(
        request,
        AccessEvent.Action.PERSONAL_DATA_VIEW,
        object_type=_PERSONAL_FIELDS[type(record)][0],
        object_id=_object_id(record),
        fields=fields,
        detail=detail,
    )


def back_office_record_viewed(request: HttpRequest, record, *, version=None) -> None:
    """A record's own page (change form), or one version of it from its history, shows every
    personal field in full. ``record`` is the record as shown (for a version, that version's
    instance); a sole trader's older version is logged even if the provider is now a company."""
    kind = _personal(record)
    if kind is None:
        return
    object_type, fields = kind
    detail = {"vy": "post"} if version is None else {"vy": "historik", "version": version}
    _record_back_office(request, record, _log_fields(object_type, fields, masked=False), detail)


def back_office_list_viewed(request: HttpRequest, records: Iterable, list_fields) -> None:
    """A list shows, of each record on the page, ``list_fields`` (personnummer masked): one
    entry per record that holds personal data."""
    for record in records:
        kind = _personal(record)
        if kind is None:
            continue
        object_type, fields = kind
        shown = [field for field in fields if field in list_fields]
        if shown:
            _record_back_office(
                request, record, _log_fields(object_type, shown, masked=True), {"vy": "lista"}
            )


class BackOfficeHistory:
    """A record's list of changes in the back office: the old and new value of every field that
    changed. ``versions`` are the record's versions on the page; when any of them holds personal
    data (a provider that was a sole trader once counts) its personnummer are printed masked, and
    ``logged`` writes one entry for the personal fields whose changes were shown, if any."""

    def __init__(self, versions: Iterable):
        self.record = None
        self.kind = None
        for version in versions:
            kind = _personal(version)
            if kind is not None:
                self.record, self.kind = version, kind
                break
        self.shown: set[str] = set()

    def value(self, field: str, value):
        if self.kind is None or field not in self.kind[1]:
            return value
        self.shown.add(field)
        if field in _PERSONAL_NUMBERS and isinstance(value, str):
            return mask_personal_number(value)
        return value

    def logged(self, request: HttpRequest) -> None:
        if self.kind is None or not self.shown:
            return
        object_type, fields = self.kind
        shown = [field for field in fields if field in self.shown]
        _record_back_office(
            request, self.record, _log_fields(object_type, shown, masked=True), {"vy": "ändringar"}
        )


def _search_terms(search: str) -> list[str]:
    terms = []
    for term in smart_split(search):
        if term.startswith(('"', "'")) and term[0] == term[-1]:
            term = unescape_string_literal(term)
        if term:
            terms.append(term.casefold())
    return terms


def back_office_search_matched(
    request: HttpRequest, providers: Iterable[tuple[Provider, str]], search: str
) -> None:
    """A search that found a record through a sole trader's name or number tells the searcher
    that this person is its provider, even where the page then prints neither: one entry per
    sole trader matched, with the field that matched and the record shown (``providers`` pairs
    each provider with the record it was found through, e.g. a facility's register id)."""
    terms = _search_terms(search)
    if not terms:
        return
    # A number typed with 12 digits or without the dash matches as the admin's search does.
    numbers = [term.replace("-", "")[-10:] for term in terms if re.fullmatch(r"[\d-]+", term)]
    for provider, found in providers:
        if not provider.is_sole_trader:
            continue
        digits = provider.organisation_number.replace("-", "")
        matched = []
        if any(term in provider.name.casefold() for term in terms):
            matched.append("name")
        if any(number and number in digits for number in numbers):
            matched.append("organisation_number")
        if matched:
            _record_back_office(
                request,
                provider,
                _log_fields("provider", matched, masked=False),
                {"vy": "sökträff", "visad": found},
            )
