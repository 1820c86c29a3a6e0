"""The access log's pages: a municipal administrator's extract of their own municipality's users,
IVO's search and export over everything, and IVO's review report (access/review.py).

Every page and every download of the log is itself written to the log, with the page and the
filter in the detail: a page read on screen as ``LOG_VIEW``, a downloaded file as ``LOG_EXPORT``.
Who read the log is as much a question as who read the register. Each entry is shown as a
sentence in words (access/log_texts.py). CSV files are for Excel: UTF-8 with a byte-order mark,
``;`` between cells, a Swedish header row, and every cell that a spreadsheet could take for a
formula defused with a ``'``.
"""

import csv
import datetime
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access import log, log_texts, review
from access.decorators import requires
from access.forms import DescribedFieldsMixin
from access.models import AccessEvent
from access.roles import Permission, Role
from register.spreadsheets import csv_cell

PAGE_SIZE = 50
# The longest period the review report takes: it reads every look-up of the period and a year
# before it, and a longer span is a question for the database, not this page.
REVIEW_MAX_DAYS = 2 * 366
SWEDISH_TIME = ZoneInfo("Europe/Stockholm")

ACTION_LABELS = dict(AccessEvent.Action.choices)
ROLE_LABELS = dict(Role.choices)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


_DATE_ERRORS = {"invalid": gettext_lazy("Skriv ett datum som 2025-01-31.")}


class LogFilterForm(DescribedFieldsMixin, forms.Form):
    """The municipal administrator's filter: user, event and dates (inclusive, Swedish time)."""

    anvandare = forms.CharField(
        label=gettext_lazy("Användare"),
        help_text=gettext_lazy("Hela eller en del av e-postadressen."),
        required=False,
        max_length=254,
    )
    handelse = forms.ChoiceField(
        label=gettext_lazy("Händelse"),
        required=False,
        choices=[("", gettext_lazy("Alla händelser")), *AccessEvent.Action.choices],
    )
    fran = forms.DateField(
        label=gettext_lazy("Från och med"),
        required=False,
        widget=_date_widget(),
        error_messages=_DATE_ERRORS,
    )
    till = forms.DateField(
        label=gettext_lazy("Till och med"),
        required=False,
        widget=_date_widget(),
        error_messages=_DATE_ERRORS,
    )

    def clean(self):
        data = super().clean()
        if data.get("fran") and data.get("till") and data["fran"] > data["till"]:
            self.add_error("till", _("Slutdatumet kan inte vara före startdatumet."))
        return data

    def filter(self, events: QuerySet) -> QuerySet:
        data = self.cleaned_data
        if data.get("anvandare"):
            events = events.filter(username__icontains=data["anvandare"].strip())
        if data.get("handelse"):
            events = events.filter(action=data["handelse"])
        if data.get("fran"):
            events = events.filter(at__gte=_local_midnight(data["fran"]))
        if data.get("till"):
            events = events.filter(at__lt=_local_midnight(data["till"] + datetime.timedelta(1)))
        return events

    def used(self) -> dict[str, str]:
        """The filter as given, for the access log's detail."""
        return {name: str(value) for name, value in self.cleaned_data.items() if value}


class LogSearchForm(LogFilterForm):
    """IVO's search: also by user id, municipality, object and address."""

    anvandar_id = forms.IntegerField(label=gettext_lazy("Användar-id"), required=False, min_value=1)
    kommunkod = forms.RegexField(
        label=gettext_lazy("Kommunkod"),
        help_text=gettext_lazy("Fyra siffror, till exempel 0880."),
        regex=r"^\d{4}$",
        required=False,
        error_messages={"invalid": gettext_lazy("En kommunkod är fyra siffror.")},
    )
    objekt = forms.CharField(
        label=gettext_lazy("Objekt"),
        help_text=gettext_lazy("Verksamhetens id eller huvudmannens id, exakt."),
        required=False,
        max_length=100,
    )
    ip = forms.GenericIPAddressField(
        label=gettext_lazy("IP-adress"),
        required=False,
        error_messages={"invalid": gettext_lazy("Skriv en IP-adress, till exempel 192.0.2.7.")},
    )

    field_order = ["anvandare", "anvandar_id", "kommunkod", "handelse", "objekt", "ip"]

    def filter(self, events: QuerySet) -> QuerySet:
        events = super().filter(events)
        data = self.cleaned_data
        if data.get("anvandar_id"):
            events = events.filter(user_id=data["anvandar_id"])
        if data.get("kommunkod"):
            events = events.filter(municipality_code=data["kommunkod"])
        if data.get("objekt"):
            events = events.filter(object_id=data["objekt"].strip())
        if data.get("ip"):
            events = events.filter(ip=data["ip"])
        return events


class ReviewPeriodForm(DescribedFieldsMixin, forms.Form):
    fran = forms.DateField(
        label=gettext_lazy("Från och med"), widget=_date_widget(), error_messages=_DATE_ERRORS
    )
    till = forms.DateField(
        label=gettext_lazy("Till och med"), widget=_date_widget(), error_messages=_DATE_ERRORS
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("fran"), data.get("till")
        if start and end:
            if start > end:
                self.add_error("till", _("Slutdatumet kan inte vara före startdatumet."))
            elif (end - start).days >= REVIEW_MAX_DAYS:
                self.add_error(
                    "till",
                    _("Granska högst %(days)s dagar åt gången.") % {"days": REVIEW_MAX_DAYS},
                )
        return data


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=SWEDISH_TIME)


# -- CSV ---------------------------------------------------------------------------------------

CSV_HEADER = (
    gettext_lazy("Tid"),
    gettext_lazy("Användare"),
    gettext_lazy("Användar-id"),
    gettext_lazy("Roll"),
    gettext_lazy("Kommunkod"),
    gettext_lazy("Händelse"),
    gettext_lazy("Objekttyp"),
    gettext_lazy("Objekt"),
    gettext_lazy("Fält"),
    gettext_lazy("IP-adress"),
    gettext_lazy("Detaljer"),
)
CSV_FIELDS = (
    "at",
    "username",
    "user_id",
    "role",
    "municipality_code",
    "action",
    "object_type",
    "object_id",
    "fields",
    "ip",
    "detail",
)


class _Echo:
    """csv.writer writes to this and gets the line back, so rows can be streamed."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(events: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow([str(title) for title in CSV_HEADER])
    # Plain tuples, a chunk at a time: constant memory whatever the size of the extract.
    for row in events.values_list(*CSV_FIELDS).iterator(chunk_size=2000):
        at, username, user_id, role, municipality, action, *rest = row
        cells: Iterable = (
            timezone.localtime(at, SWEDISH_TIME).strftime("%Y-%m-%d %H:%M:%S"),
            username,
            user_id,
            ROLE_LABELS.get(role, role),
            municipality,
            ACTION_LABELS.get(action, action),
            *rest,
        )
        yield writer.writerow(["" if cell is None else csv_cell(cell) for cell in cells])


def _csv_response(events: QuerySet, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _csv_lines(events.order_by("at", "id")), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(timezone.now(), SWEDISH_TIME).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


# -- pages -------------------------------------------------------------------------------------


def _extract(
    request: HttpRequest, *, form: LogFilterForm, events: QuerySet, page_name: str, context
) -> HttpResponse:
    """The shared part of the two extracts: validate, log, then a page or a CSV file."""
    template = f"access/log_{page_name}.html"
    if not form.is_valid():
        return render(request, template, {**context, "form": form, "page": None}, status=400)
    events = form.filter(events)
    as_csv = request.GET.get("format") == "csv"
    log.record(
        request,
        AccessEvent.Action.LOG_EXPORT if as_csv else AccessEvent.Action.LOG_VIEW,
        object_type="access_log",
        detail={"sida": page_name, "format": "csv" if as_csv else "html", **form.used()},
    )
    if as_csv:
        return _csv_response(events, f"atkomstlogg-{context.get('file_label', 'urval')}")
    query = request.GET.copy()
    query.pop("sida", None)
    query.pop("format", None)
    page = Paginator(events.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("sida"))
    page.object_list = log_texts.describe(page.object_list, request=request)
    for event in page.object_list:
        event.role_label = ROLE_LABELS.get(event.role, event.role)
    return render(
        request,
        template,
        {
            **context,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "csv_query": urlencode({**query.dict(), "format": "csv"}),
            "time_format": str(log_texts.TIME_FORMAT),
        },
    )


@requires(Permission.READ_OWN_ACCESS_LOG)
def municipal_log(request: HttpRequest) -> HttpResponse:
    """The municipality's own users only: what the administrator needs for their own follow-up
    of who read what, and nothing about anyone else's users."""
    municipality = request.user.account.municipality
    return _extract(
        request,
        form=LogFilterForm(request.GET),
        events=AccessEvent.objects.filter(municipality_code=municipality.code),
        page_name="municipal",
        context={"municipality": municipality, "file_label": municipality.code},
    )


@requires(Permission.REVIEW_ACCESS_LOG)
def log_search(request: HttpRequest) -> HttpResponse:
    return _extract(
        request,
        form=LogSearchForm(request.GET),
        events=AccessEvent.objects.all(),
        page_name="search",
        context={},
    )


@requires(Permission.REVIEW_ACCESS_LOG)
def log_review(request: HttpRequest) -> HttpResponse:
    today = timezone.localtime(timezone.now(), SWEDISH_TIME).date()
    chosen = "fran" in request.GET or "till" in request.GET
    if chosen:
        form = ReviewPeriodForm(request.GET)
        if not form.is_valid():
            return render(
                request, "access/log_review.html", {"form": form, "groups": None}, status=400
            )
        start = _local_midnight(form.cleaned_data["fran"])
        end = _local_midnight(form.cleaned_data["till"] + datetime.timedelta(days=1))
    else:
        start, end = review.default_period()
        form = ReviewPeriodForm(
            initial={
                "fran": timezone.localtime(start, SWEDISH_TIME).date(),
                "till": today,
            }
        )
    findings = review.review_access_log(start=start, end=end)
    log.record(
        request,
        AccessEvent.Action.LOG_VIEW,
        object_type="access_log",
        detail={
            "sida": "granskning",
            "fran": start.isoformat(timespec="minutes"),
            "till": end.isoformat(timespec="minutes"),
            "fynd": len(findings),
        },
    )
    return render(
        request,
        "access/log_review.html",
        {
            "form": form,
            "groups": _grouped(findings, start=start, end=end, request=request),
            "start": timezone.localtime(start, SWEDISH_TIME),
            "end": timezone.localtime(end - datetime.timedelta(microseconds=1), SWEDISH_TIME),
            "count": len(findings),
            "time_format": str(log_texts.TIME_FORMAT),
        },
    )


def _grouped(findings: list[review.Finding], *, start, end, request) -> list[dict]:
    """Every kind, in the report's order, with its findings, their example entries in words
    (linked to the home or provider they concern; all of them read in one query) and a link to
    each user's events in the log search (over the look-back for the long pattern, which looks
    that far)."""
    example_ids = {event_id for finding in findings for event_id in finding.example_event_ids}
    examples = {
        event.pk: event
        for event in log_texts.describe(
            AccessEvent.objects.filter(pk__in=example_ids) if example_ids else [], request=request
        )
    }
    search = reverse("accesslog:search")
    lookback_start = min(start, end - datetime.timedelta(days=review.LONG_LOOKBACK_DAYS))
    last_day = timezone.localtime(end - datetime.timedelta(microseconds=1), SWEDISH_TIME).date()
    groups = []
    for kind in review.Kind.ORDER:
        first_day = timezone.localtime(
            lookback_start if kind == review.Kind.LONG_PATTERN else start, SWEDISH_TIME
        ).date()
        items = [
            {
                "finding": finding,
                "examples": [
                    examples[event_id]
                    for event_id in finding.example_event_ids
                    if event_id in examples
                ],
                "search_url": search
                + "?"
                + urlencode(
                    {
                        "anvandar_id": finding.user_id,
                        "kommunkod": finding.municipality_code,
                        "fran": first_day.isoformat(),
                        "till": last_day.isoformat(),
                    }
                ),
            }
            for finding in findings
            if finding.kind == kind
        ]
        groups.append({"kind": kind, "label": review.Kind.LABELS[kind], "items": items})
    return groups
