"""IVO's pages for linking case records to facilities, and the register's quality report.

Thin views (STYLE.md §6): parse the input, call one service or selector, render. Every page needs
``Permission.LINK_CASES`` (IVO registrators and administrators); changes are POSTs that redirect
back to the case's page with a message, or give the page back with the error in its summary.
"""

import io
import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access.decorators import requires
from access.disclosure import (
    case_provider_facts,
    may_see_protected_homes,
    provider_facts,
    record_protected_views,
)
from access.forms import DescribedFieldsMixin
from access.roles import Permission
from linking import quality, selectors, services
from linking.models import Candidate, CaseRecord, CaseStatus, LinkAction
from register import validation
from register.models import Facility

PAGE_SIZE = 50


class OtherFacilityForm(DescribedFieldsMixin, forms.Form):
    """The facility chosen for a case: a suggestion's button, or one of the search's choices.

    The page shows no field of this form: its error is shown on the search box (``sok``), which
    is where a registrar finds another facility, and the error summary links there."""

    verksamhetsid = forms.CharField(
        label=gettext_lazy("Verksamhet"),
        max_length=32,
        error_messages={"required": gettext_lazy("Välj en verksamhet.")},
        widget=forms.TextInput(attrs={"id": "sok"}),
    )

    def clean_verksamhetsid(self) -> Facility:
        value = self.cleaned_data["verksamhetsid"]
        try:
            facility_id = validation.facility_id(value)
        except ValidationError as error:
            raise ValidationError(error.messages[0].capitalize() + ".") from None
        facility = (
            Facility.objects.select_related("provider").filter(facility_id=facility_id).first()
        )
        if facility is None:
            raise ValidationError(
                _("Det finns ingen verksamhet med id %(id)s i registret.") % {"id": facility_id}
            )
        return facility


# The queue --------------------------------------------------------------------------------------


@requires(Permission.LINK_CASES)
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", CaseStatus.REVIEW)
    if status not in CaseStatus.values:
        status = CaseStatus.REVIEW
    counts = dict(CaseRecord.objects.values_list("status").annotate(count=Count("pk")).order_by())
    records = (
        CaseRecord.objects.filter(status=status)
        .select_related("municipality", "facility")
        .prefetch_related(
            Prefetch(
                "candidates",
                queryset=Candidate.objects.filter(rank=1).select_related("facility"),
                to_attr="top",
            )
        )
        .order_by("-decision_date", "diarienummer")
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("sida"))
    return render(
        request,
        "linking/queue.html",
        {
            "page": page,
            "status": status,
            "status_label": CaseStatus(status).label,
            "statuses": [
                {"value": value, "label": label, "count": counts.get(value, 0)}
                for value, label in CaseStatus.choices
            ],
        },
    )


# One case record --------------------------------------------------------------------------------


def _case_page(
    request: HttpRequest,
    case: CaseRecord,
    *,
    form: OtherFacilityForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    candidates = list(
        case.candidates.select_related("facility__provider", "facility__municipality").order_by(
            "rank"
        )
    )
    linked = case.facility
    providers = [candidate.facility.provider for candidate in candidates]
    if linked is not None:
        providers.append(linked.provider)
    for candidate in candidates:
        candidate.provider_facts = provider_facts(candidate.facility.provider, request=request)
    # IVO's staff may see protected homes (access.disclosure); each one shown is logged.
    shown = {candidate.facility.facility_id: candidate.facility for candidate in candidates}
    if linked is not None:
        shown[linked.facility_id] = linked
    record_protected_views(request, shown.values())
    actions = list(case.actions.select_related("actor", "facility").order_by("-at", "-id"))
    undoable = services.undoable_action(case)
    # The search for another facility: from the page's own GET form, or the POST that came back
    # with an error (its choices shown again beside it).
    source = request.POST if request.method == "POST" else request.GET
    searched = "sok" in source
    query = " ".join(source.get("sok", "").split())[:100]
    choices = []
    if query:
        choices = selectors.facility_choices(
            query, include_protected=may_see_protected_homes(request.user)
        )
        record_protected_views(request, choices)
    return render(
        request,
        "linking/case.html",
        {
            "case": case,
            "typed_provider": case_provider_facts(
                case,
                sole_trader=any(provider.is_sole_trader for provider in providers),
                request=request,
            ),
            "candidates": candidates,
            "actions": actions,
            "undoable": undoable,
            "may_decide": case.status != CaseStatus.LINKED,
            "form": form or OtherFacilityForm(),
            "error": error,
            "searched": searched,
            "query": query,
            "choices": choices,
            "search_min_length": selectors.SEARCH_MIN_LENGTH,
        },
        status=status,
    )


def _get_case(case_id) -> CaseRecord:
    return get_object_or_404(
        CaseRecord.objects.select_related("municipality", "facility__provider", "decision"),
        public_id=case_id,
    )


@requires(Permission.LINK_CASES)
def case_detail(request: HttpRequest, case_id) -> HttpResponse:
    return _case_page(request, _get_case(case_id))


@requires(Permission.LINK_CASES)
@require_POST
def case_link(request: HttpRequest, case_id) -> HttpResponse:
    case = _get_case(case_id)
    form = OtherFacilityForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, form=form, status=400)
    facility = form.cleaned_data["verksamhetsid"]
    top = case.candidates.filter(rank=1).values_list("facility_id", flat=True).first()
    kind = LinkAction.Kind.CONFIRM if top == facility.pk else LinkAction.Kind.OTHER
    return _perform(
        request,
        case,
        lambda: services.case_link(
            case_record=case, facility=facility, actor=request.user, kind=kind
        ),
        _("Ärendet %(dnr)s är kopplat till %(name)s (%(id)s); beslutet finns nu i registret.")
        % {"dnr": case.diarienummer, "name": facility.name, "id": facility.facility_id},
    )


@requires(Permission.LINK_CASES)
@require_POST
def case_new_facility(request: HttpRequest, case_id) -> HttpResponse:
    case = _get_case(case_id)
    return _perform(
        request,
        case,
        lambda: services.case_mark_new_facility(case_record=case, actor=request.user),
        _("Ärendet %(dnr)s är markerat som ny verksamhet.") % {"dnr": case.diarienummer},
    )


@requires(Permission.LINK_CASES)
@require_POST
def case_undo(request: HttpRequest, case_id) -> HttpResponse:
    case = _get_case(case_id)
    try:
        action = case.actions.filter(public_id=uuid.UUID(request.POST.get("atgard", ""))).first()
    except ValueError:
        action = None
    if action is None:
        return _case_page(request, case, error=_("Åtgärden finns inte för ärendet."), status=400)
    return _perform(
        request,
        case,
        lambda: services.link_action_undo(action=action, actor=request.user),
        _("Ångrat: %(action)s. Ärendet och registret är som före åtgärden.")
        % {"action": action.get_kind_display().lower()},
    )


def _perform(request: HttpRequest, case: CaseRecord, service, message: str) -> HttpResponse:
    """Run one service; on success say so and show the case again, on refusal show why."""
    try:
        service()
    except ValidationError as error:
        return _case_page(request, case, error=" ".join(error.messages), status=409)
    messages.success(request, message)
    return redirect("linking:case", case_id=case.public_id)


@requires(Permission.LINK_CASES)
def facility_suggestions(request: HttpRequest) -> JsonResponse:
    """The case page's suggestions while a registrar types (linking/static/linking/
    facility_search.js): the same choices as the page's own search, as JSON."""
    choices = selectors.facility_choices(
        request.GET.get("sok", "")[:100], include_protected=may_see_protected_homes(request.user)
    )
    record_protected_views(request, choices)
    return JsonResponse(
        {
            "results": [
                {
                    "id": facility.facility_id,
                    "name": facility.name,
                    "kommun": facility.municipality.name,
                }
                for facility in choices
            ]
        }
    )


# The quality report -----------------------------------------------------------------------------


@requires(Permission.LINK_CASES)
def quality_report(request: HttpRequest) -> HttpResponse:
    findings = quality.quality_report()
    linked = selectors.findings_with_links(findings)
    # IVO's staff see protected homes here as everywhere; each one the report names is logged.
    record_protected_views(
        request, sorted({(item.finding.subject, True) for item in linked if item.protected})
    )
    if request.GET.get("format") == "csv":
        text = io.StringIO()
        quality.write_csv(findings, text)
        response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="kvalitetsrapport-{stamp}.csv"'
        return response
    groups = [
        {
            "kind": kind,
            "label": quality.Kind.LABELS[kind],
            "items": [item for item in linked if item.finding.kind == kind],
        }
        for kind in quality.Kind.ORDER
    ]
    return render(request, "linking/quality.html", {"groups": groups, "count": len(findings)})
