"""Open data: the public part of the register as CSV, JSON and XLSX at ``/oppna-data/``, and a
DCAT-AP-SE catalogue of it at ``/datasets/dcat`` for dataportal.se to harvest.

Rows come from ``.values().iterator()`` and are written straight out, so an export holds a chunk
of rows at a time whatever the register's size (no model instances, no per-row schema). The
columns are exactly ``DATASETS[name].columns``: public facts only, a provider's name and number
only for legal persons (access.disclosure.public_provider_columns), and nothing of a protected
home (DESIGN.md: never in open data), its decisions or its inspections.

The statistics (stats/figures.py) are files of their own, ``statistik-<figure key>.csv`` and
``.json``: each figure for the whole country over the last ten years (``statistics_filters``),
written as stats/export.py writes every figure. Ten years rather than every year the register
holds: a fixed window keeps a file's meaning the same from one year to the next and its cost
bounded, and the years before the register's own start hold only what was imported; the API
(``/api/v1/statistics/{key}``) takes any period of up to 20 years, a län and a facility type.
"""

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from access import log
from access.decorators import public
from access.disclosure import public_provider_columns
from access.models import AccessEvent
from api.jsonrender import dumps
from register.models import Decision, Facility, Finding, Inspection, protected_condition
from register.selectors import facilities_with_marking, findings_with_state
from register.spreadsheets import csv_cell, xlsx_cell
from stats import figures
from stats.export import figure_csv, figure_json

CHUNK = 2000


def _facility_rows() -> QuerySet:
    return (
        facilities_with_marking(Facility.objects.unprotected())
        .annotate(
            **public_provider_columns(),
            municipality_code=F("municipality_id"),
            municipality_name=F("municipality__name"),
            county_code=F("municipality__county_id"),
            county_name=F("municipality__county__name"),
            ownership=F("provider__ownership"),
            is_sole_trader=F("provider__is_sole_trader"),
        )
        .order_by("facility_id")
        .values(*DATASETS["verksamheter"].columns)
    )


def _decision_rows() -> QuerySet:
    return (
        Decision.objects.exclude(protected_condition("facility__"))
        .annotate(
            facility_code=F("facility__facility_id"),
            follows_up_diarienummer=F("follows_up__diarienummer"),
        )
        .order_by("diarienummer")
        .values(*DATASETS["beslut"].columns)
    )


def _finding_rows() -> QuerySet:
    """Each finding with its decision's diarienummer and its requirement's state today."""
    return (
        findings_with_state(
            Finding.objects.exclude(protected_condition("decision__facility__")),
            today=timezone.localdate(),
        )
        .annotate(
            diarienummer=F("decision__diarienummer"),
            facility_code=F("decision__facility__facility_id"),
        )
        .order_by("decision__diarienummer", "id")
        .values(*DATASETS["iakttagelser"].columns)
    )


def _inspection_rows() -> QuerySet:
    return (
        Inspection.objects.exclude(protected_condition("facility__"))
        .annotate(facility_code=F("facility__facility_id"))
        .order_by("diarienummer")
        .values(*DATASETS["inspektioner"].columns)
    )


# The public facts of a decision and an inspection (the API's resources add updated_at).
DECISION_COLUMNS = (
    "diarienummer",
    "kind",
    "decision_date",
    "outcome",
    "review_areas",
    "summary",
    "legal_reference",
    "follow_up",
    "appeal_status",
    "follows_up_diarienummer",
    "inspection_reason",
    "children_talked_with",
    "prohibition_until",
)
# What IVO found and required in each area a decision reviewed, and the requirement's state.
FINDING_COLUMNS = (
    "area",
    "assessment",
    "observation",
    "requirement",
    "due_date",
    "fine_amount",
    "requirement_state",
)
INSPECTION_COLUMNS = ("diarienummer", "start_date", "end_date", "announced")


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    description: str
    columns: tuple[str, ...]
    rows: Callable[[], QuerySet]

    @property
    def headers(self) -> tuple[str, ...]:
        """The column names in the files: as the API names them (``facility_id`` is the
        verksamhetsid, never the database's own key)."""
        return tuple(
            "facility_id" if column == "facility_code" else column for column in self.columns
        )


DATASETS: dict[str, Dataset] = {
    dataset.slug: dataset
    for dataset in (
        Dataset(
            "verksamheter",
            gettext_lazy("HVB, stödboenden och särskilda ungdomshem"),
            gettext_lazy(
                "Alla verksamheter i registret, aktiva och avslutade: typ, målgrupper, ålder, "
                "platser, kommun, huvudman (juridiska personer), status, senaste beslut och om "
                "inspektion saknas sedan mer än 12 månader."
            ),
            (
                "facility_id",
                "name",
                "facility_type",
                "status",
                "status_date",
                "municipality_code",
                "municipality_name",
                "county_code",
                "county_name",
                "provider_organisation_number",
                "provider_name",
                "ownership",
                "is_sole_trader",
                "target_groups",
                "age_from",
                "age_to",
                "gender",
                "places",
                "start_date",
                "end_date",
                "latest_decision_date",
                "latest_outcome",
                "latest_appeal_status",
                "latest_decision_diarienummer",
                "last_inspection_date",
                "inspection_overdue",
            ),
            _facility_rows,
        ),
        Dataset(
            "beslut",
            gettext_lazy("IVO:s beslut om HVB, stödboenden och särskilda ungdomshem"),
            gettext_lazy(
                "Beslut i tillsyn och tillståndsprövning: diarienummer, datum, granskade "
                "områden, utfall, offentlig sammanfattning, lagrum, om beslutet överklagats, "
                "vilket tidigare beslut det följer upp, varför inspektionen gjordes, hur många "
                "barn IVO talade med och ett tillfälligt förbuds sista dag."
            ),
            ("diarienummer", "facility_code", *DECISION_COLUMNS[1:]),
            _decision_rows,
        ),
        Dataset(
            "iakttagelser",
            gettext_lazy("IVO:s iakttagelser och krav i besluten"),
            gettext_lazy(
                "Per beslut och granskat område: IVO:s bedömning (ingen brist, brist, allvarlig "
                "brist), vad IVO såg, vad verksamheten ska göra och senast när, vite i kronor, "
                "och kravets läge i dag (ska vara åtgärdat, försenat, åtgärdat, inte åtgärdat)."
            ),
            ("diarienummer", "facility_code", *FINDING_COLUMNS),
            _finding_rows,
        ),
        Dataset(
            "inspektioner",
            gettext_lazy("IVO:s inspektioner av HVB, stödboenden och särskilda ungdomshem"),
            gettext_lazy("Inspektioner: diarienummer, verksamhet, datum och om de var anmälda."),
            ("diarienummer", "facility_code", *INSPECTION_COLUMNS[1:]),
            _inspection_rows,
        ),
    )
}

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


STATISTICS_PREFIX = "statistik-"
STATISTICS_FORMATS = ("csv", "json")
STATISTICS_YEARS = 10
STATISTICS_TITLE = gettext_lazy(
    "Statistik över IVO:s tillsyn av HVB, stödboenden och särskilda ungdomshem"
)
STATISTICS_DESCRIPTION = gettext_lazy(
    "Tabellerna bakom statistiksidorna för hela landet de senaste tio åren: boenden och "
    "platser, beslut och deras utfall, brister per granskat område, krav och uppföljning, "
    "frekvenstillsyn och IVO:s handläggningstider. En cell som bygger på färre än 5 boenden är "
    "tom. Skyddade boenden räknas bara i antalet boenden och platser i ett helt län och i hela "
    "landet, i ingen annan siffra."
)


def statistics_filters(today: datetime.date) -> figures.Filters:
    """The open data's statistics: the whole country, every type, the last ten years up to the
    last year the statistics pages show by default."""
    last = figures.default_filters(today).last_year
    return figures.Filters(first_year=last - STATISTICS_YEARS + 1, last_year=last)


@dataclass(frozen=True)
class StatisticsFile:
    key: str
    title: str
    topic: figures.Topic

    @property
    def slug(self) -> str:
        return f"{STATISTICS_PREFIX}{self.key}"


def statistics_files(today: datetime.date) -> list[StatisticsFile]:
    """Every figure, topic by topic in the pages' order, with its title and topic. A figure's
    title is the figure's own, taken from the figure computed over no homes: the same title,
    without reading the register (all sixteen over the whole register would take seconds at the
    national scale), and kept in the cache for the day."""
    key = f"stats-open-data-titles:{get_language()}:{today.isoformat()}"
    titles = cache.get(key)
    if titles is None:
        nothing = figures.Filters(
            first_year=today.year, last_year=today.year, facilities=frozenset()
        )
        titles = {
            figure_key: str(figures.compute(figure_key, nothing, today=today).title)
            for figure_key in figures.FIGURE_KEYS
        }
        cache.set(key, titles, 24 * 60 * 60)
    return [
        StatisticsFile(figure_key, titles[figure_key], topic)
        for topic in figures.TOPICS
        for figure_key in topic.figures
    ]


def _cell(value):
    """Lists (target groups, review areas) as codes separated by |; everything else as is."""
    if isinstance(value, list):
        return "|".join(value)
    return value


def _rows(dataset: Dataset) -> Iterator[tuple]:
    for row in dataset.rows().iterator(chunk_size=CHUNK):
        yield tuple(_cell(row[column]) for column in dataset.columns)


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(dataset: Dataset) -> Iterator[bytes]:
    writer = csv.writer(_Echo())
    yield writer.writerow(dataset.headers).encode()
    batch = []
    for row in _rows(dataset):
        batch.append(writer.writerow(["" if value is None else csv_cell(value) for value in row]))
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()


def stream_json(dataset: Dataset) -> Iterator[bytes]:
    head = {"dataset": dataset.slug, "licence": settings.OPEN_DATA_LICENSE_URL}
    yield dumps(head)[:-1] + b',"items":['
    first = True
    for row in _rows(dataset):
        item = dumps(dict(zip(dataset.headers, row, strict=True)))
        yield item if first else b"," + item
        first = False
    yield b"]}"


def write_xlsx(dataset: Dataset, target) -> None:
    """openpyxl's write-only mode: rows go to a temporary file as they come, not to memory.
    Imported here, not with the module: openpyxl is 13 MB of every worker that never writes a
    workbook (bench/api_load.py measures a worker's memory around the exports)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.slug)
    sheet.append(list(dataset.headers))
    for row in _rows(dataset):
        sheet.append([xlsx_cell(sheet, value) for value in row])
    workbook.save(target)


@public
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "api/open_data.html",
        {
            "datasets": DATASETS.values(),
            "formats": FORMATS,
            "statistics_title": STATISTICS_TITLE,
            "statistics_files": statistics_files(timezone.localdate()),
            "statistics_formats": STATISTICS_FORMATS,
            "statistics_years": statistics_filters(timezone.localdate()),
            "suppress_below": figures.SUPPRESS_BELOW_HOMES,
            "licence_url": settings.OPEN_DATA_LICENSE_URL,
            "licence_name": settings.OPEN_DATA_LICENSE_NAME,
        },
    )


@public
def download(request: HttpRequest, dataset: str, file_format: str) -> HttpResponse:
    if dataset.startswith(STATISTICS_PREFIX):
        return _statistics_download(request, dataset.removeprefix(STATISTICS_PREFIX), file_format)
    chosen = DATASETS.get(dataset)
    if chosen is None or file_format not in FORMATS:
        raise Http404(_("Det finns ingen sådan fil."))
    log.record(
        request,
        AccessEvent.Action.OPEN_DATA_DOWNLOAD,
        object_type="dataset",
        object_id=f"{dataset}.{file_format}",
    )
    filename = f"hvb-registret-{dataset}.{file_format}"
    if file_format == "xlsx":
        # FileResponse closes (and so removes) it when the response is done.
        target = tempfile.TemporaryFile()  # noqa: SIM115
        write_xlsx(chosen, target)
        target.seek(0)
        response = FileResponse(target, content_type=FORMATS["xlsx"], filename=filename)
    else:
        stream = stream_csv(chosen) if file_format == "csv" else stream_json(chosen)
        response = StreamingHttpResponse(stream, content_type=FORMATS[file_format])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Link"] = f'<{settings.OPEN_DATA_LICENSE_URL}>; rel="license"'
    return response


def _statistics_download(request: HttpRequest, key: str, file_format: str) -> HttpResponse:
    if key not in figures.FIGURE_KEYS or file_format not in STATISTICS_FORMATS:
        raise Http404(_("Det finns ingen sådan fil."))
    today = timezone.localdate()
    filters = statistics_filters(today)
    figure = figures.compute(key, filters, today=today)
    log.record(
        request,
        AccessEvent.Action.OPEN_DATA_DOWNLOAD,
        object_type="dataset",
        object_id=f"{STATISTICS_PREFIX}{key}.{file_format}",
    )
    if file_format == "csv":
        content = figure_csv(figure).encode()
    else:
        head = {"dataset": f"{STATISTICS_PREFIX}{key}", "licence": settings.OPEN_DATA_LICENSE_URL}
        content = dumps({**head, **figure_json(figure, filters)})
    response = HttpResponse(content, content_type=FORMATS[file_format])
    filename = f"hvb-registret-{STATISTICS_PREFIX}{key}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Link"] = f'<{settings.OPEN_DATA_LICENSE_URL}>; rel="license"'
    return response


@public
def dcat_catalogue(request: HttpRequest) -> HttpResponse:
    from api.dcat import catalogue_rdfxml

    return HttpResponse(
        catalogue_rdfxml(request), content_type="application/rdf+xml; charset=utf-8"
    )
