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
from django.utils import timezone
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
from register.counties import neighbours, with_neighbours
from register.models import Decision, Facility, Finding, Inspection
from register.supervision import (
    DecisionFindings,
    Recurring,
    Requirement,
    Supervision,
    appeal_explanation,
    current_status,
    supervision_of,
)


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
        # What supervision found for each hit (requirements, recurring deficiencies): two
        # queries for the page, whatever its length.
        supervision = selectors.supervision_by_facility(list(page.object_list))
        for facility in page.object_list:
            facility.supervision = supervision[facility.pk]
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
            "neighbours": {code: with_neighbours(code)[1:] for code in neighbours()},
        },
        status=status,
    )


@dataclass(frozen=True)
class TimelineEntry:
    date: Any
    kind: str  # "decision" or "inspection"
    item: Decision | Inspection
    # A decision: its findings with each requirement's state, the inspection behind it (the one
    # under the same diarienummer, shown with it rather than as an entry of its own), the
    # decision it follows up, and what its appeal means.
    findings: DecisionFindings | None = None
    inspection: Inspection | None = None
    follows_up: Decision | None = None
    appeal: str = ""

    @property
    def without_deficiency(self) -> list[Finding]:
        return [f for f in self.findings.findings if f not in self.findings.deficient_findings]

    @property
    def deficiencies(self) -> list[tuple[Finding, Requirement | None]]:
        """Each deficient finding with its requirement's state, if it has a requirement."""
        return [(f, self.findings.requirements.get(f.pk)) for f in self.findings.deficient_findings]

    @property
    def observations(self) -> list[Finding]:
        return [f for f in self.findings.findings if f.observation]


def _timeline(facility: Facility, supervision: Supervision) -> list[TimelineEntry]:
    inspections = {i.diarienummer: i for i in reversed(facility.inspections.all())}
    by_id = {entry.decision.pk: entry.decision for entry in supervision.decisions}
    entries = [
        TimelineEntry(
            entry.decision.decision_date,
            "decision",
            entry.decision,
            findings=entry,
            inspection=inspections.pop(entry.decision.diarienummer, None),
            follows_up=by_id.get(entry.decision.follows_up_id),
            appeal=appeal_explanation(entry.decision),
        )
        for entry in supervision.decisions
    ]
    entries += [TimelineEntry(i.start_date, "inspection", i) for i in inspections.values()]
    # Newest first; on one day the decision before an inspection of its own.
    return sorted(entries, key=lambda e: (e.date, e.kind == "decision"), reverse=True)


@dataclass(frozen=True)
class Verdict:
    """What the top of the facility page says. Every fact comes from the derived supervision
    (register.supervision); this only picks what to show first."""

    status: str  # the status today (register.supervision.current_status)
    latest: DecisionFindings | None
    latest_appeal: str
    deficient_findings: list[Finding]  # of the latest decision, unless a court overturned it
    areas_without_deficiency: list[Finding]
    open_requirements: list[Requirement]
    overdue_requirements: list[Requirement]
    recurring: list[Recurring]
    temporary_prohibition: Decision | None  # in force today
    temporary_prohibition_appeal: str  # when it is not the latest decision
    ended_temporary_prohibition: Decision | None
    inspection: Inspection | None
    inspection_decision: Decision | None  # why IVO inspected, how many children it talked with
    has_findings: bool  # any decision gives its findings area by area


def _verdict(facility: Facility, supervision: Supervision) -> Verdict:
    latest = supervision.latest
    latest_in_force = latest is not None and not latest.decision.is_overturned
    inspections = list(facility.inspections.all())
    inspection = inspections[0] if inspections else None
    # The reason and the children talked with are facts of the decision that concluded the
    # inspection (the same diarienummer); without an inspection on record, of the latest
    # decision that gives them.
    if inspection is not None:
        inspection_decision = next(
            (
                e.decision
                for e in supervision.decisions
                if e.decision.diarienummer == inspection.diarienummer
            ),
            None,
        )
    else:
        inspection_decision = next(
            (
                e.decision
                for e in supervision.decisions
                if e.decision.inspection_reason or e.decision.children_talked_with is not None
            ),
            None,
        )
    prohibition = supervision.temporary_prohibition
    return Verdict(
        status=current_status(facility, supervision.today),
        latest=latest,
        latest_appeal=appeal_explanation(latest.decision) if latest else "",
        deficient_findings=latest.deficient_findings if latest_in_force else [],
        areas_without_deficiency=(
            [f for f in latest.findings if f not in latest.deficient_findings] if latest else []
        ),
        open_requirements=supervision.open_requirements,
        overdue_requirements=supervision.overdue_requirements,
        recurring=supervision.recent_recurring,
        temporary_prohibition=prohibition,
        temporary_prohibition_appeal=(
            appeal_explanation(prohibition)
            if prohibition is not None and prohibition != latest.decision
            else ""
        ),
        ended_temporary_prohibition=(
            None if prohibition else supervision.ended_temporary_prohibition
        ),
        inspection=inspection,
        inspection_decision=inspection_decision,
        has_findings=any(entry.findings for entry in supervision.decisions),
    )


@requires(Permission.USE_PORTAL)
def facility_detail(request: HttpRequest, facility_id: str) -> HttpResponse:
    today = timezone.localdate()
    try:
        facility = selectors.facility_with_history(
            facility_id, include_protected=may_see_protected_homes(request.user), today=today
        )
    except Facility.DoesNotExist:
        raise Http404(_("Verksamheten finns inte i registret.")) from None
    log.record(
        request, AccessEvent.Action.FACILITY_VIEW, object_type="facility", object_id=facility_id
    )
    record_protected_views(request, [facility])
    supervision = supervision_of(facility.decisions.all(), today=today)
    timeline = _timeline(facility, supervision)
    _add_document_states(request, [e.item for e in timeline if e.kind == "decision"])
    return render(
        request,
        "portal/facility.html",
        {
            "facility": facility,
            "provider": provider_facts(facility.provider, request=request),
            "manager": manager_facts(facility, request=request),
            "address": address_facts(facility, request=request),
            "verdict": _verdict(facility, supervision),
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
    # The same hits as the search's, with what supervision found (two queries for them all).
    supervision = selectors.supervision_by_facility(facilities)
    for facility in facilities:
        facility.supervision = supervision[facility.pk]
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
            "active_count": sum(f.current_status == FacilityStatus.AKTIV for f in facilities),
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
