"""Pages of the utlämnande flow. Thin: parse, call one service or selector, render.

Downloads never come from a public URL: each is checked here and written to the access log.
A request or a file of another municipality answers 404, as if it did not exist.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access import log
from access.decorators import requires
from access.disclosure import record_protected_views
from access.models import AccessEvent
from access.roles import Permission, Role, has_permission, role_of
from documents import selectors, services
from documents.forms import PdfForm, RefuseForm, ReleaseForm, RequestForm
from documents.models import DecisionDocument, DecisionRequest
from documents.uploads import skipped_as_too_large
from register.models import Decision


def _decision(pk: int) -> Decision:
    return get_object_or_404(Decision.objects.select_related("facility"), pk=pk)


UPLOAD_ERRORS = {"required", "empty", "too_large", "not_pdf", "encrypted"}


def _add_errors(form, error: ValidationError) -> None:
    """A service's error beside the field it concerns (an upload's beside the file)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif getattr(error, "code", None) in UPLOAD_ERRORS and "upload" in form.fields:
        form.add_error("upload", error)
    else:
        form.add_error(None, error)


def _file_response(request, file_field, decision: Decision, copy: str, item=None) -> FileResponse:
    log.record(
        request,
        AccessEvent.Action.DOCUMENT_DOWNLOAD,
        object_type="decision",
        object_id=decision.diarienummer,
        detail={"kopia": copy, "begaran": str(item.public_id) if item else ""},
    )
    name = f"beslut-{slugify(decision.diarienummer.replace('/', '-'))}"
    if copy == "fullstandigt":
        name += "-fullstandigt"
    response = FileResponse(
        file_field.open("rb"),
        as_attachment=True,
        filename=f"{name}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Municipal users ----------------------------------------------------------------------------


@requires(Permission.REQUEST_DECISIONS)
def request_form(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(pk)
    automatic = services.automatic_release_copy(decision)
    open_request = DecisionRequest.objects.filter(
        decision=decision,
        municipality=request.user.account.municipality,
        state__in=DecisionRequest.OPEN_STATES,
    ).first()
    form = RequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and automatic is None and form.is_valid():
        try:
            item = services.request_decision(
                decision=decision, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Begäran är skickad till IVO. Ni får besked per e-post till %(email)s.")
                % {"email": item.requester_email},
            )
            return redirect("documents:request_detail", item.public_id)
    record_protected_views(request, [decision.facility])
    return render(
        request,
        "documents/request_form.html",
        {
            "decision": decision,
            "form": form,
            "automatic": automatic,
            "open_request": open_request,
        },
        status=400 if form.errors else 200,
    )


@requires(Permission.USE_PORTAL)
def automatic_download(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(pk)
    document = services.automatic_release_copy(decision)
    if document is None:
        raise Http404(_("Beslutet kan inte hämtas direkt; begär ut det."))
    return _file_response(request, document.release_file, decision, "utlamnad")


def _own_request(request: HttpRequest, public_id) -> DecisionRequest:
    return get_object_or_404(
        DecisionRequest.objects.select_related("decision__facility"),
        public_id=public_id,
        municipality=request.user.account.municipality,
    )


@requires(Permission.REQUEST_DECISIONS)
def my_requests(request: HttpRequest) -> HttpResponse:
    municipality = request.user.account.municipality
    requests = list(selectors.municipality_requests(municipality.code))
    record_protected_views(request, {item.decision.facility for item in requests})
    return render(
        request,
        "documents/my_requests.html",
        {"municipality": municipality, "requests": requests},
    )


@requires(Permission.REQUEST_DECISIONS)
def request_detail(request: HttpRequest, public_id) -> HttpResponse:
    item = _own_request(request, public_id)
    record_protected_views(request, [item.decision.facility])
    return render(request, "documents/request_detail.html", {"item": item})


@requires(Permission.REQUEST_DECISIONS)
def request_download(request: HttpRequest, public_id) -> HttpResponse:
    item = _own_request(request, public_id)
    if not item.is_released:
        raise Http404(_("Beslutet är inte utlämnat."))
    return _file_response(request, item.released_file, item.decision, "utlamnad", item)


# --- IVO case officers --------------------------------------------------------------------------


@requires(Permission.HANDLE_DECISION_REQUESTS)
def queue(request: HttpRequest) -> HttpResponse:
    items = list(selectors.queue())
    for item in items:
        item.days_open = selectors.days_open(item)
    return render(request, "documents/queue.html", {"items": items})


def _handled(public_id) -> DecisionRequest:
    return get_object_or_404(
        DecisionRequest.objects.select_related("decision__facility", "municipality", "handler"),
        public_id=public_id,
    )


def _handle_page(request, item, release_form=None, refuse_form=None, status=200):
    document = DecisionDocument.objects.filter(decision=item.decision).first()
    return render(
        request,
        "documents/handle.html",
        {
            "item": item,
            "document": document,
            "mine": item.handler_id == request.user.pk,
            "may_hand_back": item.state == DecisionRequest.State.IN_REVIEW
            and (item.handler_id == request.user.pk or role_of(request.user) == Role.IVO_ADMIN),
            "release_form": release_form or ReleaseForm(),
            "refuse_form": refuse_form or RefuseForm(),
            "days_open": selectors.days_open(item),
        },
        status=status,
    )


@requires(Permission.HANDLE_DECISION_REQUESTS)
def handle(request: HttpRequest, public_id) -> HttpResponse:
    return _handle_page(request, _handled(public_id))


@requires(Permission.HANDLE_DECISION_REQUESTS)
@require_POST
def take(request: HttpRequest, public_id) -> HttpResponse:
    item = _handled(public_id)
    try:
        services.take(request_id=item.public_id, officer=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Du har tagit begäran."))
    return redirect("documents:handle", item.public_id)


def _requester_link(request, item) -> str:
    return request.build_absolute_uri(reverse("documents:request_detail", args=[item.public_id]))


def _decided_or_refused(request, item, form, error: ValidationError):
    """A field's error is shown beside the field; one about the request itself (taken by
    someone else, already decided) as a message on the request's page."""
    if hasattr(error, "error_dict") or getattr(error, "code", None) in UPLOAD_ERRORS:
        _add_errors(form, error)
        return None
    messages.error(request, " ".join(error.messages))
    return redirect("documents:handle", item.public_id)


@requires(Permission.HANDLE_DECISION_REQUESTS)
@require_POST
def release(request: HttpRequest, public_id) -> HttpResponse:
    item = _handled(public_id)
    form = ReleaseForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            if too_large := skipped_as_too_large(request):
                raise too_large
            services.release(
                item=item,
                officer=request.user,
                upload=form.cleaned_data["upload"],
                partial=form.cleaned_data["outcome"] == "delvis",
                note=form.cleaned_data["note"],
                link=_requester_link(request, item),
            )
        except ValidationError as error:
            if response := _decided_or_refused(request, item, form, error):
                return response
        else:
            messages.success(request, _("Beslutet är utlämnat och kommunen har fått besked."))
            return redirect("documents:queue")
    return _handle_page(request, item, release_form=form, status=400)


@requires(Permission.HANDLE_DECISION_REQUESTS)
@require_POST
def refuse(request: HttpRequest, public_id) -> HttpResponse:
    item = _handled(public_id)
    form = RefuseForm(request.POST)
    if form.is_valid():
        try:
            services.refuse(
                item=item,
                officer=request.user,
                reason=form.cleaned_data["reason"],
                link=_requester_link(request, item),
            )
        except ValidationError as error:
            if response := _decided_or_refused(request, item, form, error):
                return response
        else:
            messages.success(request, _("Begäran är avslagen och kommunen har fått besked."))
            return redirect("documents:queue")
    return _handle_page(request, item, refuse_form=form, status=400)


@requires(Permission.HANDLE_DECISION_REQUESTS)
@require_POST
def hand_back(request: HttpRequest, public_id) -> HttpResponse:
    item = _handled(public_id)
    try:
        services.hand_back(item=item, officer=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("documents:handle", item.public_id)
    messages.success(request, _("Begäran är tillbaka i kön."))
    return redirect("documents:queue")


@requires(Permission.HANDLE_DECISION_REQUESTS)
def numbers(request: HttpRequest) -> HttpResponse:
    months, total = selectors.request_numbers()
    return render(request, "documents/numbers.html", {"months": months, "total": total})


# --- Documents of a decision (IVO staff) --------------------------------------------------------


@requires(Permission.ATTACH_DECISION_DOCUMENTS)
def decision_documents(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(pk)
    full_form, release_form = PdfForm(), ReleaseForm()
    status = 200
    if request.method == "POST":
        which = request.POST.get("which")
        try:
            if which == "full":
                full_form = PdfForm(request.POST, request.FILES)
                if too_large := skipped_as_too_large(request):
                    raise too_large
                if full_form.is_valid():
                    services.attach_full_decision(
                        decision=decision,
                        upload=full_form.cleaned_data["upload"],
                        user=request.user,
                    )
                    messages.success(request, _("Det fullständiga beslutet är bifogat."))
                    return redirect("documents:decision_documents", decision.pk)
            elif which == "release" and _may_clear(request):
                release_form = ReleaseForm(request.POST, request.FILES)
                if too_large := skipped_as_too_large(request):
                    raise too_large
                if release_form.is_valid():
                    services.clear_release_copy(
                        decision=decision,
                        upload=release_form.cleaned_data["upload"],
                        user=request.user,
                        partial=release_form.cleaned_data["outcome"] == "delvis",
                        note=release_form.cleaned_data["note"],
                    )
                    messages.success(
                        request, _("Kopian för utlämnande är sparad som sekretessprövad.")
                    )
                    return redirect("documents:decision_documents", decision.pk)
            else:
                raise Http404
        except ValidationError as error:
            _add_errors(full_form if which == "full" else release_form, error)
        status = 400
    return render(
        request,
        "documents/decision_documents.html",
        {
            "decision": decision,
            "document": DecisionDocument.objects.filter(decision=decision).first(),
            "full_form": full_form,
            "release_form": release_form,
            "may_clear": _may_clear(request),
        },
        status=status,
    )


def _may_clear(request) -> bool:
    return has_permission(request.user, Permission.HANDLE_DECISION_REQUESTS)


@requires(Permission.ATTACH_DECISION_DOCUMENTS)
def full_download(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(pk)
    document = DecisionDocument.objects.filter(decision=decision).exclude(full_file="").first()
    if document is None:
        raise Http404(_("Inget fullständigt beslut är bifogat."))
    return _file_response(request, document.full_file, decision, "fullstandigt")
