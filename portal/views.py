"""The municipal portal: search, facility and provider pages (DESIGN.md, "portal/").

Views are thin: parse the request, call one selector, build what may be shown through the
disclosure policy, render. Every page is a plain GET and works without JavaScript.
"""

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from access import log
from access.decorators import requires
from access.disclosure import (
    address_facts,
    manager_facts,
    may_see_protected_homes,
    provider_facts,
    record_protected_views,
)
from access.models import AccessEvent
from access.roles import Permission, has_permission
from documents import selectors as document_selectors
from portal.forms import PAGE_SIZE, SearchForm
from register import selectors, validation
from register.codes import (
    OUTCOME_SEVERITY,
    FacilityStatus,
    Outcome,
    Ownership,
    ReviewArea,
    Severity,
    TargetGroup,
    marking_for,
)
from register.models import Decision, Facility, Inspection


@requires(Permission.USE_PORTAL)
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)  # no parameters: a valid search for every active home
    page = None
    status = 200
    if form.is_valid():
        search = form.to_search(include_protected=may_see_protected_homes(request.user))
        page = Paginator(selectors.SearchResults(search), PAGE_SIZE).get_page(
            request.GET.get("sida")
        )
        # A personnummer typed into the search box is not kept in the log for five years.
        log.record(
            request,
            AccessEvent.Action.SEARCH,
            detail=validation.mask_personal_numbers(unquote_plus(request.GET.urlencode())),
        )
        record_protected_views(request, page.object_list)
    else:
        status = 400
    query = request.GET.copy()
    query.pop("sida", None)
    return render(
        request,
        "portal/search.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "searched": bool(request.GET),
            "legend": _legend(),
        },
        status=status,
    )


@dataclass(frozen=True)
class TimelineEntry:
    date: Any
    kind: str  # "decision" or "inspection"
    item: Decision | Inspection


def _timeline(facility: Facility) -> list[TimelineEntry]:
    entries = [TimelineEntry(d.decision_date, "decision", d) for d in facility.decisions.all()]
    entries += [TimelineEntry(i.start_date, "inspection", i) for i in facility.inspections.all()]
    # Newest first; on one day the decision before the inspection it concluded.
    return sorted(entries, key=lambda e: (e.date, e.kind == "decision"), reverse=True)


def _facts_sentence(facility: Facility) -> str:
    sentence = _(
        "%(name)s är ett %(type)s med %(places)s platser i %(municipality)s (%(county)s). "
        "Status: %(status)s."
    ) % {
        "name": facility.name,
        "type": facility.get_facility_type_display(),
        "places": facility.places,
        "municipality": facility.municipality.name,
        "county": facility.municipality.county.name,
        "status": facility.get_status_display().lower(),
    }
    if facility.latest_outcome:
        marking = marking_for(facility.latest_outcome, facility.latest_appeal_status)
        sentence += " " + _("Senaste beslut %(date)s: %(outcome)s.") % {
            "date": facility.latest_decision_date.isoformat(),
            "outcome": marking.label,
        }
    else:
        sentence += " " + _("Inga beslut registrerade.")
    return sentence


@requires(Permission.USE_PORTAL)
def facility_detail(request: HttpRequest, facility_id: str) -> HttpResponse:
    try:
        facility = selectors.facility_with_history(
            facility_id, include_protected=may_see_protected_homes(request.user)
        )
    except Facility.DoesNotExist:
        raise Http404(_("Verksamheten finns inte i registret.")) from None
    log.record(
        request, AccessEvent.Action.FACILITY_VIEW, object_type="facility", object_id=facility_id
    )
    record_protected_views(request, [facility])
    timeline = _timeline(facility)
    _add_document_states(request, [e.item for e in timeline if e.kind == "decision"])
    return render(
        request,
        "portal/facility.html",
        {
            "facility": facility,
            "provider": provider_facts(facility.provider, request=request),
            "manager": manager_facts(facility, request=request),
            "address": address_facts(facility, request=request),
            "facts_sentence": _facts_sentence(facility),
            "timeline": timeline,
            "may_request": has_permission(request.user, Permission.REQUEST_DECISIONS),
            "may_attach": has_permission(request.user, Permission.ATTACH_DECISION_DOCUMENTS),
            "legend": _legend(),
            "target_group_choices": TargetGroup.choices,
            "review_area_choices": ReviewArea.choices,
        },
    )


@requires(Permission.USE_PORTAL)
def provider_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    include_protected = may_see_protected_homes(request.user)
    try:
        provider = get_object_or_404(
            selectors.providers_for(include_protected=include_protected), public_id=public_id
        )
    except ValidationError:  # not a UUID
        raise Http404 from None
    facilities = list(selectors.provider_facilities(provider, include_protected=include_protected))
    log.record(
        request, AccessEvent.Action.PROVIDER_VIEW, object_type="provider", object_id=public_id
    )
    record_protected_views(request, facilities)
    return render(
        request,
        "portal/provider.html",
        {
            "provider": provider_facts(provider, request=request),
            "ownership_label": Ownership(provider.ownership).label,
            "facilities": facilities,
            "active_count": sum(f.status == FacilityStatus.AKTIV for f in facilities),
            "legend": _legend(),
        },
    )


def _add_document_states(request: HttpRequest, decisions: list[Decision]) -> None:
    """Beside each decision: the municipality's request for it, or the copy to download."""
    account = getattr(request.user, "account", None)
    states = document_selectors.facility_document_states(
        [decision.pk for decision in decisions],
        municipality_id=account.municipality_id if account else None,
        automatic_release=settings.DECISION_RELEASE == "automatic",
    )
    for decision in decisions:
        decision.document_state = states[decision.pk]


def _legend() -> list[dict]:
    """One example of each marking, with the outcomes it stands for."""
    legend = []
    for severity in (Severity.OK, Severity.ATTENTION, Severity.SERIOUS, Severity.NEUTRAL):
        outcomes = [o for o in Outcome if OUTCOME_SEVERITY[o] == severity]
        legend.append(
            {
                "marking": replace(marking_for(outcomes[0]), label=Severity(severity).label),
                "severity_label": Severity(severity).label,
                "outcomes": [o.label for o in outcomes],
            }
        )
    return legend
