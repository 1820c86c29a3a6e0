"""The access log in words: what a person did, one sentence per entry ("Sökte: HVB för barn och
unga, Kalmar län, 15 år, flicka", "Läste Behandlingshemmet Mållid", "Laddade ned beslut
3.2.2-13748/2022"), for the municipal extract, IVO's search and the review report's examples.

``describe(events, request=...)`` gives each entry its sentence, in plain text and in HTML with
the object it concerns linked (a home's, a provider's page). The names come from a fixed number
of queries for the whole page (one each for homes, providers, decisions, län and kommuner),
whatever the number of entries.

What a sentence may tell its reader is the disclosure policy's (access/disclosure.py):

- a protected home's name only to a reader who may see protected homes, and then, as every
  other page that shows one, with a ``protected_view`` entry for each home shown; anyone else
  reads "ett skyddat boende", without a link;
- a sole trader's name (personal data) never: the line says "en enskild näringsidkare" and links
  to the provider's page, where the policy decides and logs what its reader sees.

A search's stored query string is decoded with the portal search form's own labels and code
lists (portal/forms.py), and the API's parameter names with the same; a parameter neither knows is
shown as it was stored, ``name=value``.
"""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from access import log
from access.disclosure import may_see_protected_homes
from access.models import AccessEvent

Action = AccessEvent.Action

# The time of an entry, in Django's date format of the active language: "7 dec 2026 kl. 14.05".
TIME_FORMAT = pgettext_lazy(
    "Tid för en loggpost, i Djangos datumformat (date-filtret)", r"j N Y \k\l. H.i"
)

# The portal's search parameters (portal/forms.py) by the API's names for them (api/endpoints.py).
API_SEARCH_PARAMETERS = {
    "text": "q",
    "facility_type": "typ",
    "target_group": "malgrupp",
    "child_age": "alder",
    "gender": "kon",
    "county": "lan",
    "include_neighbours": "grannlan",
    "municipality": "kommun",
    "ownership": "regi",
    "status": "status",
    "min_places": "platser",
    "latest_outcome": "utfall",
    "no_serious_decision_years": "utan_allvarligt",
    "no_open_requirement": "utan_krav",
    "no_overdue_inspection": "inspekterad",
    "sort": "sortera",
}
# Shown by their value alone ("Kalmar län", "15 år"), first and in this order; every other known
# parameter as "label: values" with the form's own label.
_BARE = ("q", "typ", "lan", "grannlan", "kommun", "alder", "kon")
_PAGING = ("sida", "limit", "offset", "format")

# What the API read, by the entry's object type (api/endpoints.py).
API_READS = {
    "provider": gettext_lazy("Hämtade huvudmän genom API:t"),
    "decision": gettext_lazy("Hämtade beslut genom API:t"),
    "finding": gettext_lazy("Hämtade granskade områden genom API:t"),
    "inspection": gettext_lazy("Hämtade inspektioner genom API:t"),
    "changes": gettext_lazy("Hämtade ändringar i registret genom API:t"),
    "watch": gettext_lazy("Hämtade bevakningar genom API:t"),
    "notifications": gettext_lazy("Hämtade notiser genom API:t"),
}

# Reasons written in Swedish in the log (access/views.py, services.py, oidc.py, middleware.py),
# given in the reader's language when they are known.
REASONS = {
    "fel kod": gettext_lazy("fel kod"),
    "för många försök": gettext_lazy("för många försök"),
    "adressen är inte frilistad": gettext_lazy("adressen är inte frilistad"),
    "ogiltig länk": gettext_lazy("ogiltig länk"),
    "för många felaktiga koder från IP-adressen": gettext_lazy(
        "för många felaktiga koder från IP-adressen"
    ),
    "för många felaktiga koder för adressen": gettext_lazy(
        "för många felaktiga koder för adressen"
    ),
    "för många felaktiga koder totalt": gettext_lazy("för många felaktiga koder totalt"),
}

PERSONAL_FIELDS = {
    "manager.name": gettext_lazy("föreståndarens namn"),
    "manager.email": gettext_lazy("föreståndarens e-postadress"),
    "manager.phone": gettext_lazy("föreståndarens telefonnummer"),
    "provider.name": gettext_lazy("huvudmannens namn"),
    "provider.organisation_number": gettext_lazy("huvudmannens organisationsnummer"),
    "case_record.provider_name": gettext_lazy("huvudmannens namn"),
    "case_record.organisation_number": gettext_lazy("huvudmannens organisationsnummer"),
    "facility.street_address": gettext_lazy("besöksadressen"),
    "facility.postal_code": gettext_lazy("besöksadressen"),
    "facility.postal_town": gettext_lazy("besöksadressen"),
}

_DETAIL_KEY = re.compile(r"(?:^| )([^\s=]+)=")


def parse_detail(detail: str) -> dict[str, str]:
    """``key=value key=value`` as access.log.record writes a mapping; values may hold spaces."""
    matches = list(_DETAIL_KEY.finditer(detail or ""))
    if not matches:
        return {}
    parsed = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(detail)
        parsed[match.group(1)] = detail[match.end() : end]
    return parsed


def parse_query(detail: str) -> list[tuple[str, str]]:
    """A search's stored query string (already unquoted when it was logged): ``&`` between
    parameters, the first ``=`` between a name and its value."""
    pairs = []
    for part in (detail or "").split("&"):
        if part:
            name, _sep, value = part.partition("=")
            pairs.append((name, value))
    return pairs


@dataclass(frozen=True)
class Thing:
    """An object a log line names: its words and, when the reader may follow it, its page."""

    name: str
    url: str = ""

    @property
    def html(self) -> SafeString:
        if self.url:
            return format_html('<a href="{}">{}</a>', self.url, self.name)
        return conditional_escape(self.name)


@dataclass(frozen=True)
class Line:
    text: str
    html: SafeString


def _line(template: str, **things) -> Line:
    """A translated sentence with named placeholders filled: plain, and in HTML with links."""
    values = {
        key: value if isinstance(value, Thing) else Thing(str(value))
        for key, value in things.items()
    }
    text = template % {key: thing.name for key, thing in values.items()} if values else template
    html = (
        mark_safe(escape(template) % {key: thing.html for key, thing in values.items()})
        if values
        else escape(template)
    )
    return Line(text=text, html=html)


class _Names:
    """The names a page of log entries needs, looked up together."""

    def __init__(self, events: list[AccessEvent], *, reader):
        facility_ids, provider_ids, diarienummer = set(), set(), set()
        counties, municipalities = set(), set()
        for event in events:
            if event.object_type == "facility" and event.object_id:
                facility_ids.add(event.object_id)
            elif event.object_type == "provider" and _is_uuid(event.object_id):
                provider_ids.add(event.object_id)
            elif event.object_type == "decision" and event.object_id:
                diarienummer.add(event.object_id)
            if event.action == Action.SEARCH:
                for name, value in _search_pairs(event.detail):
                    if name == "lan":
                        counties.add(value)
                    elif name == "kommun":
                        municipalities.add(value)
        self.show_protected = may_see_protected_homes(reader)
        self.protected_shown: dict[str, None] = {}
        self.facilities = self._facilities(facility_ids)
        self.providers = self._providers(provider_ids)
        self.decisions = self._decisions(diarienummer)
        self.counties = self._counties(counties)
        self.municipalities = self._municipalities(municipalities)

    @staticmethod
    def _facilities(ids: set[str]) -> dict:
        from register.models import Facility

        if not ids:
            return {}
        return {
            facility.facility_id: facility
            for facility in Facility.objects.filter(facility_id__in=ids).only(
                "facility_id", "name", "target_groups", "protected_by_ivo"
            )
        }

    @staticmethod
    def _providers(ids: set[str]) -> dict:
        from register.models import Provider

        if not ids:
            return {}
        return {
            str(provider.public_id): provider
            for provider in Provider.objects.filter(public_id__in=ids).only(
                "public_id", "name", "is_sole_trader"
            )
        }

    @staticmethod
    def _decisions(numbers: set[str]) -> dict:
        from register.models import Decision

        if not numbers:
            return {}
        return {
            decision.diarienummer: decision
            for decision in Decision.objects.filter(diarienummer__in=numbers)
            .select_related("facility")
            .only(
                "diarienummer",
                "facility__facility_id",
                "facility__name",
                "facility__target_groups",
                "facility__protected_by_ivo",
            )
        }

    @staticmethod
    def _counties(codes: set[str]) -> dict:
        from register.models import County

        if not codes:
            return {}
        return dict(County.objects.filter(code__in=codes).values_list("code", "name"))

    @staticmethod
    def _municipalities(codes: set[str]) -> dict:
        from register.models import Municipality

        if not codes:
            return {}
        return dict(Municipality.objects.filter(code__in=codes).values_list("code", "name"))

    def facility(self, facility_id: str) -> Thing:
        facility = self.facilities.get(facility_id)
        if facility is None:  # removed from the register, or never there
            return Thing(_("verksamheten %(id)s") % {"id": facility_id})
        return self._home(facility)

    def _home(self, facility) -> Thing:
        if facility.is_protected:
            if not self.show_protected:
                return Thing(_("ett skyddat boende"))
            self.protected_shown[facility.facility_id] = None
        return Thing(facility.name, reverse("portal:facility", args=[facility.facility_id]))

    def provider(self, public_id: str) -> Thing:
        provider = self.providers.get(public_id)
        if provider is None:
            return Thing(_("huvudmannen %(id)s") % {"id": public_id})
        url = reverse("portal:provider", args=[public_id])
        if provider.is_sole_trader:  # personal data: the provider's page decides and logs
            return Thing(_("en enskild näringsidkare"), url)
        return Thing(provider.name, url)

    def decision(self, number: str) -> tuple[Thing, Thing | None]:
        """The decision, linked to its home's page, and the home (None if not in the register)."""
        decision = self.decisions.get(number)
        if decision is None:
            return Thing(number), None
        home = self._home(decision.facility)
        return Thing(number, home.url), home


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError):
        return False
    return True


def _search_pairs(detail: str) -> list[tuple[str, str]]:
    return [(API_SEARCH_PARAMETERS.get(name, name), value) for name, value in parse_query(detail)]


def _search_terms(detail: str, names: _Names) -> list[str]:
    from portal.forms import SearchForm

    fields = SearchForm.base_fields
    terms: dict[str, list[str]] = {}
    plain: list[str] = []
    for name, value in _search_pairs(detail):
        if not value or name in _PAGING:
            continue
        if name == "q":
            terms.setdefault(name, []).append(_("”%(text)s”") % {"text": value})
        elif name == "lan":
            terms.setdefault(name, []).append(names.counties.get(value, value))
        elif name == "kommun":
            terms.setdefault(name, []).append(names.municipalities.get(value, value))
        elif name == "alder":
            terms.setdefault(name, []).append(_("%(age)s år") % {"age": value})
        elif name == "kon":
            labels = {"flickor": _("flicka"), "pojkar": _("pojke")}
            terms.setdefault(name, []).append(labels.get(value, value))
        elif name == "grannlan":
            if value.lower() in ("on", "true", "1"):
                terms.setdefault(name, []).append(_("med grannlän"))
        elif name in ("utan_krav", "inspekterad"):
            if value.lower() in ("on", "true", "1"):
                terms.setdefault(name, []).append(str(fields[name].label))
        elif name in fields and hasattr(fields[name], "choices"):
            choices = {str(code): str(label) for code, label in fields[name].choices}
            terms.setdefault(name, []).append(choices.get(value, value))
        elif name in fields:
            terms.setdefault(name, []).append(value)
        else:
            plain.append(f"{name}={value}")
    # The words of a search in one order whatever the order of its URL: what, where, for whom,
    # then the other filters as the form lists them.
    order = [*_BARE, *(name for name in fields if name not in _BARE)]
    words = []
    for name, values in sorted(terms.items(), key=lambda item: order.index(item[0])):
        joined = ", ".join(values)
        if name in _BARE or name in ("utan_krav", "inspekterad"):
            words.append(joined)
        else:
            words.append(
                _("%(label)s: %(values)s") % {"label": fields[name].label, "values": joined}
            )
    return words + plain


def _describe(event: AccessEvent, names: _Names) -> Line:
    action, detail = event.action, parse_detail(event.detail)
    if action == Action.SEARCH:
        terms = _search_terms(event.detail, names)
        if not terms:
            return _line(_("Sökte utan urval"))
        return _line(_("Sökte: %(terms)s"), terms=", ".join(terms))
    if action == Action.FACILITY_VIEW:
        return _line(_("Läste %(home)s"), home=names.facility(event.object_id))
    if action == Action.PROVIDER_VIEW:
        return _line(_("Läste huvudmannen %(provider)s"), provider=names.provider(event.object_id))
    if action == Action.PERSONAL_DATA_VIEW:
        fields = ", ".join(
            dict.fromkeys(str(PERSONAL_FIELDS.get(f, f)) for f in event.fields.split(",") if f)
        )
        if event.object_type == "facility":
            thing = names.facility(event.object_id)
        elif event.object_type == "provider":
            thing = names.provider(event.object_id)
        else:
            thing = Thing(event.object_id)
        if fields:
            return _line(
                _("Såg personuppgifter om %(object)s: %(fields)s"), object=thing, fields=fields
            )
        return _line(_("Såg personuppgifter om %(object)s"), object=thing)
    if action == Action.PROTECTED_VIEW:
        if event.object_type == "facility":
            return _line(
                _("Såg det skyddade boendet %(home)s"), home=names.facility(event.object_id)
            )
        if event.object_type == "decision":
            number, _home = names.decision(event.object_id)
            return _line(_("Såg beslut %(number)s om ett skyddat boende"), number=number)
        return _line(_("Såg %(id)s om ett skyddat boende"), id=event.object_id)
    if action == Action.DOCUMENT_DOWNLOAD:
        number, home = names.decision(event.object_id)
        full = detail.get("kopia") == "fullstandigt"
        if home is None:
            template = (
                _("Laddade ned det fullständiga beslutet %(number)s")
                if full
                else _("Laddade ned beslut %(number)s")
            )
            return _line(template, number=number)
        template = (
            _("Laddade ned det fullständiga beslutet %(number)s om %(home)s")
            if full
            else _("Laddade ned beslut %(number)s om %(home)s")
        )
        return _line(template, number=number, home=Thing(home.name))
    if action == Action.LOGIN:
        if detail.get("sätt") == "oidc":
            return _line(_("Loggade in med organisationens inloggning"))
        if detail.get("sätt") == "engångslänk":
            return _line(_("Loggade in med engångslänk eller kod"))
        return _line(_("Loggade in"))
    if action == Action.LOGIN_FAILED:
        reason = detail.get("orsak", "")
        if reason:
            return _line(
                _("Inloggningen misslyckades: %(reason)s"), reason=str(REASONS.get(reason, reason))
            )
        return _line(_("Inloggningen misslyckades"))
    if action == Action.LOGIN_LINK_REQUESTED:
        return _line(
            _("Begärde en inloggningslänk till %(address)s"), address=detail.get("adress", "–")
        )
    if action == Action.LOGOUT:
        return _line(_("Loggade ut"))
    if action == Action.SESSION_ENDED:
        reason = detail.get("orsak", "")
        if reason:
            return _line(
                _("Sessionen avslutades: %(reason)s"), reason=str(REASONS.get(reason, reason))
            )
        return _line(_("Sessionen avslutades"))
    if action == Action.ALLOWLIST_CHANGE:
        return _allowlist_line(event, detail)
    if action in (Action.LOG_EXPORT, Action.LOG_VIEW):
        return _log_line(event, detail)
    if action == Action.API_READ:
        words = API_READS.get(event.object_type)
        return _line(str(words) if words else _("Läste registret genom API:t"))
    if action == Action.OPEN_DATA_DOWNLOAD:
        return _line(_("Laddade ned öppna data: %(file)s"), file=event.object_id)
    if action == Action.API_CLIENT_CHANGE:
        what = ", ".join(f"{key} {value}" for key, value in detail.items())
        if what:
            return _line(
                _("Ändrade API-klienten %(client)s: %(change)s"),
                client=event.object_id,
                change=what,
            )
        return _line(_("Ändrade API-klienten %(client)s"), client=event.object_id)
    # An action this module does not know yet: its label and the entry as stored.
    return _line(
        _("%(action)s: %(detail)s"),
        action=str(event.get_action_display()),
        detail=" ".join(filter(None, (event.object_type, event.object_id, event.detail))) or "–",
    )


def _allowlist_line(event: AccessEvent, detail: dict) -> Line:
    change = detail.get("ändring", "")
    if event.object_type == "allowlist":
        return _line(
            _("Ändrade frilistningen för %(address)s: %(change)s"),
            address=detail.get("adress", "–"),
            change=" ".join(filter(None, (change, detail.get("till", "")))),
        )
    if event.object_type == "municipality":
        return _line(
            _("Ändrade inloggningssättet för kommun %(code)s till %(method)s"),
            code=event.object_id,
            method=detail.get("till", "–"),
        )
    if event.object_type == "watches":
        return _line(
            _("Ändrade bevakningarna för %(address)s: %(change)s"),
            address=detail.get("adress", "–"),
            change=" ".join(filter(None, (change, detail.get("antal", "")))),
        )
    return _line(_("Ändrade frilistningen: %(detail)s"), detail=event.detail or "–")


# A page of the log read, and a file of it downloaded, by the entry's "sida" (access/log_views.py).
_LOG_VIEWS = {
    "municipal": gettext_lazy("Läste kommunens loggutdrag"),
    "search": gettext_lazy("Sökte i åtkomstloggen"),
    "granskning": gettext_lazy("Läste granskningsrapporten för åtkomstloggen"),
}
_LOG_EXPORTS = {
    "municipal": gettext_lazy("Exporterade kommunens loggutdrag som CSV-fil"),
    "search": gettext_lazy("Exporterade ett urval ur åtkomstloggen som CSV-fil"),
}


def _log_line(event: AccessEvent, detail: dict) -> Line:
    if event.object_type == "municipality":  # the API's municipal extract
        return _line(
            _("Läste kommunens åtkomstlogg genom API:t (kommun %(code)s)"), code=event.object_id
        )
    page = detail.get("sida", "")
    # Before log_view existed every page of the log was logged as an export, format=html.
    if detail.get("format") == "csv":
        return _line(str(_LOG_EXPORTS.get(page, _("Exporterade åtkomstloggen som CSV-fil"))))
    return _line(str(_LOG_VIEWS.get(page, _("Läste åtkomstloggen"))))


def describe(events: Iterable[AccessEvent], *, request) -> list[AccessEvent]:
    """Each entry with ``line`` (a ``Line``) and ``time_label`` set; the names of a page looked up
    together; every protected home the page names logged as shown to ``request.user``."""
    events = list(events)
    names = _Names(events, reader=getattr(request, "user", None))
    for event in events:
        event.line = _describe(event, names)
    if names.protected_shown:
        log.record_many(
            request,
            Action.PROTECTED_VIEW,
            object_type="facility",
            object_ids=list(names.protected_shown),
        )
    return events
