"""The statistics pages: /statistik/ for everyone (only public data, aggregated), a page per
topic with each figure as a chart, its summary, a table of the same numbers and a CSV file, and
/statistik/kommun/ where a municipality compares the homes it uses with the whole country.

Views are thin: the filter form first (bad input: the form with its errors, no figure computed),
then stats.figures.compute for each figure, then render.
"""

import datetime
from dataclasses import replace

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from access.decorators import public, requires
from access.roles import Permission, has_permission
from alerts.models import Watch
from documents.models import DecisionRequest
from register.models import Facility
from stats import charts, export, figures
from stats.figures import SUPPRESS_BELOW_HOMES, Cell, Chart, Column, Figure, Filters, Row
from stats.forms import StatisticsFilterForm

# The index's key figures: (figure, column), for the last year of the period.
KEY_FIGURES = (
    ("homes-by-type", "homes"),
    ("inspections-with-deficiencies", "share"),
    ("serious-decisions", "rate"),
    ("inspection-frequency", "share"),
    ("inspection-to-decision", "days"),
)
# What a municipality compares with the whole country (/statistik/kommun/): each figure's
# shares, rates and days, never a count (a count of its few homes beside the country's many
# compares nothing).
MUNICIPAL_FIGURES = (
    ("inspections-with-deficiencies", ("share",)),
    ("serious-decisions", ("rate",)),
    ("deficiencies-by-area", ("share",)),
    ("requirements", ("met_share",)),
    ("recurring-deficiencies", ("rate",)),
    ("inspection-frequency", ("share",)),
)


def _today() -> datetime.date:
    return timezone.localdate()


def _form(request: HttpRequest, today: datetime.date) -> StatisticsFilterForm:
    return StatisticsFilterForm(request.GET, default=figures.default_filters(today), today=today)


def _selection(form: StatisticsFilterForm) -> str:
    """The chosen period, län and type in words: "2021–2025, hela landet, alla typer"."""
    if not form.is_valid():
        return ""
    data = form.cleaned_data
    return _("%(first)s–%(last)s, %(county)s, %(type)s") % {
        "first": data["fran"],
        "last": data["till"],
        "county": form.county_name() if data["lan"] else _("hela landet"),
        "type": form.type_name() if data["typ"] else _("alla typer"),
    }


def _topic_or_404(slug: str) -> figures.Topic:
    try:
        return figures.topic(slug)
    except KeyError:
        raise Http404(_("Det finns ingen sådan statistik.")) from None


def _series(figure: Figure, wanted: tuple[str, ...]) -> list[Column]:
    """The figure's columns among ``wanted`` (in that order), else its chart's series."""
    keys = [column.key for column in figure.columns]
    chosen = [key for key in wanted if key in keys] or list(figure.chart.columns) or keys[:1]
    return [figure.column(key) for key in chosen]


def _key_figure(figure: Figure, column_key: str, filters: Filters) -> dict | None:
    if not figure.rows or not figure.columns:
        return None
    rows = {row.key: row for row in figure.rows}
    row = rows.get(str(filters.last_year)) or rows.get("total") or figure.rows[-1]
    column = _series(figure, (column_key,))[0]
    cell = row.cells[figure.columns.index(column)]
    return {"figure": figure, "row": row, "column": column, "cell": cell}


@public
def index(request: HttpRequest) -> HttpResponse:
    today = _today()
    form = _form(request, today)
    key_figures = []
    if form.is_valid():
        filters = form.to_filters()
        topic_of = {key: each for each in figures.TOPICS for key in each.figures}
        for key, column in KEY_FIGURES:
            if key in figures.FIGURE_KEYS:
                computed = figures.compute(key, filters, today=today)
                shown = _key_figure(computed, column, filters)
                if shown:
                    key_figures.append({**shown, "topic": topic_of.get(key)})
    return render(
        request,
        "stats/index.html",
        {
            "form": form,
            "topics": figures.TOPICS,
            "key_figures": key_figures,
            "query": request.GET.urlencode(),
            "selection": _selection(form),
            "municipal_link": has_permission(request.user, Permission.WATCH),
        },
        status=200 if form.is_valid() else 400,
    )


@public
def topic_page(request: HttpRequest, topic: str) -> HttpResponse:
    chosen = _topic_or_404(topic)
    today = _today()
    form = _form(request, today)
    shown = []
    if form.is_valid():
        filters = form.to_filters()
        shown = [_shown(figures.compute(key, filters, today=today)) for key in chosen.figures]
    return render(
        request,
        "stats/topic.html",
        {
            "form": form,
            "topic": chosen,
            "topics": figures.TOPICS,
            "figures": shown,
            "query": request.GET.urlencode(),
            "selection": _selection(form),
            "municipal_link": has_permission(request.user, Permission.WATCH),
        },
        status=200 if form.is_valid() else 400,
    )


def _shown(figure: Figure) -> dict:
    return {"figure": figure, "chart": charts.render(figure)}


def _filename(figure: Figure, filters: Filters) -> str:
    parts = ["hvb-statistik", figure.key, f"{filters.first_year}-{filters.last_year}"]
    if filters.county:
        parts.append(f"lan-{filters.county}")
    if filters.facility_type:
        parts.append(filters.facility_type.replace("_", "-"))
    return "-".join(parts) + ".csv"


@public
def figure_csv(request: HttpRequest, topic: str, figure: str) -> HttpResponse:
    chosen = _topic_or_404(topic)
    if figure not in chosen.figures:
        raise Http404(_("Det finns ingen sådan statistik."))
    today = _today()
    form = _form(request, today)
    if not form.is_valid():
        errors = [f"{form[name].label}: {' '.join(errs)}" for name, errs in form.errors.items()]
        return HttpResponse(
            "\n".join(errors) + "\n", content_type="text/plain; charset=utf-8", status=400
        )
    filters = form.to_filters()
    computed = figures.compute(figure, filters, today=today)
    response = HttpResponse(export.figure_csv(computed), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(computed, filters)}"'
    return response


# The municipality's homes ------------------------------------------------------------------------


def municipality_homes(municipality) -> frozenset[int]:
    """The homes where the municipality's users have requested decisions or watch the home
    itself. Protected homes are left out here already: they count only in whole-län totals."""
    requested = DecisionRequest.objects.filter(municipality=municipality).values(
        "decision__facility_id"
    )
    watched = Watch.objects.filter(
        owner_municipality=municipality, kind=Watch.Kind.FACILITY
    ).values("facility_id")
    return frozenset(
        Facility.objects.unprotected()
        .filter(Q(pk__in=requested) | Q(pk__in=watched))
        .values_list("pk", flat=True)
    )


def _suppressed_like(figure: Figure) -> Figure:
    """The figure with every cell a dash: for fewer than 5 homes nothing is computed."""
    return replace(
        figure,
        rows=[
            Row(row.key, row.label, [Cell(None, 0, suppressed=True) for _cell in row.cells])
            for row in figure.rows
        ],
    )


def compared(own: Figure, national: Figure, wanted: tuple[str, ...] = ()) -> Figure:
    """One figure of the municipality's homes beside the whole country: for each compared column
    (``wanted``, else the chart's series) two, "… – Kommunens boenden" and "… – Hela landet", on
    the national figure's rows."""
    own_rows = {row.key: row for row in own.rows}
    series = _series(national, wanted)
    indexes = [national.columns.index(column) for column in series]
    columns = []
    for column in series:
        for where, label in (("kommun", _("Kommunens boenden")), ("landet", _("Hela landet"))):
            columns.append(
                Column(
                    f"{column.key}-{where}",
                    _("%(column)s – %(where)s") % {"column": column.label, "where": label},
                    column.kind,
                    column.base_label,
                )
            )
    rows = []
    for row in national.rows:
        own_row = own_rows.get(row.key)
        cells = []
        for index in indexes:
            own_cell = own_row.cells[index] if own_row else Cell(None, 0, suppressed=True)
            cells += [own_cell, row.cells[index]]
        rows.append(Row(row.key, row.label, cells))
    # A map or a stack cannot hold two places side by side: bars can (across, for many rows).
    kind = "line" if national.chart.kind == "line" else "hbar" if len(rows) > 6 else "bar"
    return Figure(
        key=national.key,
        title=national.title,
        row_heading=national.row_heading,
        columns=columns,
        rows=rows,
        chart=Chart(kind, tuple(column.key for column in columns)),
        summary=" ".join(
            part
            for part in (
                _("Kommunens boenden: %(summary)s") % {"summary": own.summary}
                if own.summary
                else "",
                _("Hela landet: %(summary)s") % {"summary": national.summary}
                if national.summary
                else "",
            )
            if part
        ),
        notes=list(dict.fromkeys([*national.notes, *own.notes])),
    )


@requires(Permission.WATCH)
def municipal(request: HttpRequest) -> HttpResponse:
    municipality = request.user.account.municipality
    today = _today()
    form = _form(request, today)
    homes = municipality_homes(municipality)
    enough = len(homes) >= SUPPRESS_BELOW_HOMES
    shown = []
    if form.is_valid():
        national_filters = form.to_filters()
        own_filters = form.to_filters(facilities=homes)
        for key, wanted in MUNICIPAL_FIGURES:
            if key not in figures.FIGURE_KEYS:
                continue
            national = figures.compute(key, national_filters, today=today)
            own = (
                figures.compute(key, own_filters, today=today)
                if enough
                else _suppressed_like(national)
            )
            if not enough:
                own = replace(own, summary="", notes=[])
            figure = compared(own, national, wanted)
            shown.append({"figure": figure, "chart": charts.render(figure)})
    return render(
        request,
        "stats/municipal.html",
        {
            "form": form,
            "municipality": municipality,
            "enough": enough,
            "home_count": len(homes),
            "figures": shown,
            "selection": _selection(form),
            "municipal_page": True,
            "query": request.GET.urlencode(),
            "municipal_link": True,
            "topics": figures.TOPICS,
        },
        status=200 if form.is_valid() else 400,
    )
