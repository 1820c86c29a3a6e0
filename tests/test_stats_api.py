"""The statistics through the API (``/api/v1/statistics``) and as open data (``/oppna-data/``,
the DCAT catalogue): the same figures stats.figures computes, written as stats/export.py writes
them, the filters passed on as asked, and every bad parameter refused with its own message
before anything is computed or logged."""

import csv
import io
import json

import pytest
from django.utils import timezone

from access.models import AccessEvent
from api.opendata import statistics_filters
from stats import figures
from stats.export import figure_csv, figure_json
from stats.figures import Cell, Chart, Column, Figure, Filters, Row, Topic
from tests.api_support import api_client_with_token, bearer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]

FAKE_KEYS = ("homes-by-county", "inspections-with-deficiencies")


def fake_figure(key: str, filters: Filters) -> Figure:
    """A figure as stats.figures makes one: a shown row, a suppressed one, notes."""
    return Figure(
        key=key,
        title=f"Tabell {key}",
        row_heading="År",
        columns=[
            Column("decisions", "Tillsynsbeslut", "count"),
            Column("share", "Andel med brister", "share", base_label="tillsynsbeslut"),
        ],
        rows=[
            Row(
                str(filters.last_year),
                str(filters.last_year),
                [Cell(40, 23), Cell(0.25, 23, base=40)],
            ),
            Row(
                str(filters.first_year),
                str(filters.first_year),
                [Cell(2, 2, suppressed=True), Cell(None, 2, base=2, suppressed=True)],
            ),
        ],
        chart=Chart("line", ("share",)),
        summary="Andelen var 25 %.",
        notes=["– : färre än 5 boenden.", "Skyddade boenden ingår inte."],
    )


class FakeFigures:
    """stats.figures' functions, recording what compute was asked for."""

    def __init__(self):
        self.asked: list[tuple[str, Filters]] = []

    def compute(self, key, filters, *, today=None):
        self.asked.append((key, filters))
        return fake_figure(key, filters)

    @staticmethod
    def default_filters(today):
        return Filters(first_year=today.year - 4, last_year=today.year)


def install_fake(monkeypatch) -> FakeFigures:
    fake = FakeFigures()
    monkeypatch.setattr(figures, "compute", fake.compute, raising=False)
    monkeypatch.setattr(figures, "default_filters", fake.default_filters, raising=False)
    monkeypatch.setattr(figures, "FIGURE_KEYS", FAKE_KEYS, raising=False)
    monkeypatch.setattr(
        figures,
        "TOPICS",
        (
            Topic("boenden", "Boenden", ("homes-by-county",)),
            Topic("brister", "Brister", ("inspections-with-deficiencies",)),
        ),
        raising=False,
    )
    return fake


@pytest.fixture
def fake(monkeypatch):
    from django.core.cache import cache

    yield install_fake(monkeypatch)
    cache.clear()  # the fake figures' titles, kept for the day (api.opendata.statistics_files)


def this_year() -> int:
    return timezone.localdate().year


def api_reads() -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(action=AccessEvent.Action.API_READ))


# --- the list ---


def test_list__every_figure_in_order_with_its_title_topic_and_links(client, fake):
    response = client.get("/api/v1/statistics")

    assert response.status_code == 200
    items = response.json()
    assert [item["key"] for item in items] == list(FAKE_KEYS)
    assert items[1] == {
        "key": "inspections-with-deficiencies",
        "title": "Tabell inspections-with-deficiencies",
        "topic": {"slug": "brister", "title": "Brister"},
        "links": {
            "api": "http://testserver/api/v1/statistics/inspections-with-deficiencies",
            "page": "http://testserver/statistik/brister/",
            "open_data_csv": "http://testserver/oppna-data/statistik-inspections-with-deficiencies.csv",
            "open_data_json": "http://testserver/oppna-data/statistik-inspections-with-deficiencies.json",
        },
    }


# --- one figure ---


def test_figure__the_figure_compute_makes_as_figure_json_writes_it(client, fake):
    response = client.get(
        "/api/v1/statistics/inspections-with-deficiencies"
        "?from_year=2019&to_year=2022&county=08&facility_type=hvb"
    )

    assert response.status_code == 200
    filters = Filters(first_year=2019, last_year=2022, county="08", facility_type="hvb")
    assert fake.asked == [("inspections-with-deficiencies", filters)]
    expected = figure_json(fake_figure("inspections-with-deficiencies", filters), filters)
    assert response.json() == expected
    assert response.json()["rows"][1]["values"]["share"] == {
        "value": None,
        "base": None,
        "suppressed": True,
    }


def test_figure__never_the_number_of_homes_behind_a_cell(client, fake):
    response = client.get("/api/v1/statistics/homes-by-county")

    assert "homes" not in json.dumps(response.json()["rows"])
    assert '"23"' not in response.content.decode() and ":23" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "first", "last"),
    [
        ("", None, None),  # the pages' defaults
        ("?to_year=2015", 2011, 2015),  # the default's length, ending there
        ("?from_year=2018", 2018, "this year"),
        ("?to_year=2003", 2000, 2003),  # not before 2000
    ],
)
def test_figure__years_not_given__the_defaults(client, fake, query, first, last):
    response = client.get(f"/api/v1/statistics/homes-by-county{query}")

    assert response.status_code == 200
    default = fake.default_filters(timezone.localdate())
    first = default.first_year if first is None else first
    last = {None: default.last_year, "this year": this_year()}.get(last, last)
    assert fake.asked == [("homes-by-county", Filters(first_year=first, last_year=last))]


def test_figure__without_a_key_with_a_key_and_logged_as_a_read(client, fake):
    token = api_client_with_token("0880")[1]

    anonymous = client.get("/api/v1/statistics/homes-by-county")
    with_key = client.get("/api/v1/statistics/homes-by-county", **bearer(token))

    assert anonymous.status_code == with_key.status_code == 200
    assert anonymous.json() == with_key.json()
    assert [(e.object_type, e.object_id) for e in api_reads()] == [
        ("statistics", "homes-by-county"),
        ("statistics", "homes-by-county"),
    ]


def test_figure__open_data_off__needs_a_key(client, fake, settings):
    settings.API_OPEN_DATA = False

    response = client.get("/api/v1/statistics/homes-by-county")

    assert response.status_code == 401
    assert fake.asked == []


def year_error(parameter: str) -> dict:
    return {
        "parameter": parameter,
        "detail": f"Ange ett år från 2000 till och med {this_year()}.",
    }


BAD_QUERIES = {
    "from_year_after_to_year": (
        "?from_year=2024&to_year=2020",
        [
            {
                "parameter": "from_year",
                "detail": "Första året får inte vara senare än det sista (2020).",
            }
        ],
    ),
    "before_2000": ("?from_year=1999&to_year=2005", [year_error("from_year")]),
    "after_this_year": ("?to_year={next_year}", [year_error("to_year")]),
    "both_out_of_range": (
        "?from_year=1990&to_year={next_year}",
        [year_error("from_year"), year_error("to_year")],
    ),
    "over_20_years": (
        "?from_year=2001&to_year=2021",
        [{"parameter": "from_year", "detail": "Perioden får vara högst 20 år."}],
    ),
    "unknown_county": (
        "?county=99",
        [
            {
                "parameter": "county",
                "detail": "Okänt län. Ange en länskod, som 08; /api/v1/counties listar dem.",
            }
        ],
    ),
    "county_a_name": (
        "?county=Stockholm",
        [
            {
                "parameter": "county",
                "detail": "Okänt län. Ange en länskod, som 08; /api/v1/counties listar dem.",
            }
        ],
    ),
    "unknown_facility_type": (
        "?facility_type=familjehem",
        [
            {
                "parameter": "facility_type",
                "detail": "Okänt värde. Tillåtna värden: 'hvb', 'stodboende' or "
                "'sarskilt_ungdomshem'.",
            }
        ],
    ),
    "year_not_a_number": (
        "?from_year=tjugo",
        [{"parameter": "from_year", "detail": "Ange ett heltal."}],
    ),
}


@pytest.mark.parametrize("case", BAD_QUERIES)
def test_figure__bad_parameter__422_with_its_message_nothing_computed_or_logged(client, fake, case):
    query, errors = BAD_QUERIES[case]
    query = query.format(next_year=this_year() + 1)

    response = client.get(f"/api/v1/statistics/homes-by-county{query}")

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "ogiltig-parameter"
    assert problem["title"] == "Ogiltig parameter"
    assert problem["errors"] == errors
    assert problem["detail"] == "; ".join(f"{e['parameter']}: {e['detail']}" for e in errors)
    assert fake.asked == []
    assert api_reads() == []


def test_figure__a_20_year_period_is_answered(client, fake):
    response = client.get("/api/v1/statistics/homes-by-county?from_year=2002&to_year=2021")

    assert response.status_code == 200


def test_figure__unknown_key__404_with_its_message(client, fake):
    response = client.get("/api/v1/statistics/andel-glada-barn")

    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "finns-inte"
    assert problem["detail"] == (
        "Det finns ingen sådan statistik. /api/v1/statistics listar den som finns."
    )
    assert fake.asked == []
    assert api_reads() == []


def test_figure__accept_language_en__the_messages_in_english(client, fake):
    response = client.get(
        "/api/v1/statistics/homes-by-county?from_year=2001&to_year=2021&county=99",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.json()["errors"] == [
        {"parameter": "from_year", "detail": "The period may be at most 20 years."},
        {
            "parameter": "county",
            "detail": "Unknown county. Give a county code, such as 08; "
            "/api/v1/counties lists them.",
        },
    ]


# --- open data ---


def test_open_data__each_figure_as_csv_and_json_for_the_country_over_ten_years(client, fake):
    today = timezone.localdate()
    filters = statistics_filters(today)
    assert filters == Filters(first_year=today.year - 9, last_year=today.year)

    csv_file = client.get("/oppna-data/statistik-homes-by-county.csv")
    json_file = client.get("/oppna-data/statistik-homes-by-county.json")

    figure = fake_figure("homes-by-county", filters)
    assert csv_file.status_code == json_file.status_code == 200
    assert csv_file["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="hvb-registret-statistik-homes-by-county.csv"'
        in (csv_file["Content-Disposition"])
    )
    assert csv_file.content.decode() == figure_csv(figure)
    rows = list(csv.reader(io.StringIO(csv_file.content.decode())))
    assert rows[1] == [str(today.year), str(today.year), "40", "25.0", "40"]
    assert json.loads(json_file.content) == {
        "dataset": "statistik-homes-by-county",
        "licence": "http://creativecommons.org/licenses/by/4.0/",
        **figure_json(figure, filters),
    }
    assert fake.asked == [("homes-by-county", filters)] * 2
    downloads = AccessEvent.objects.filter(action=AccessEvent.Action.OPEN_DATA_DOWNLOAD)
    assert sorted(downloads.values_list("object_id", flat=True)) == [
        "statistik-homes-by-county.csv",
        "statistik-homes-by-county.json",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/oppna-data/statistik-andel-glada-barn.csv",
        "/oppna-data/statistik-homes-by-county.xlsx",
        "/oppna-data/statistik-.json",
    ],
)
def test_open_data__no_such_statistics_file__404(client, fake, path):
    assert client.get(path).status_code == 404
    assert fake.asked == []


def test_open_data_page__lists_each_figure_with_its_files_and_the_notes(client, fake):
    page = client.get("/oppna-data/").content.decode()

    assert "Statistik över IVO:s tillsyn av HVB, stödboenden och särskilda ungdomshem" in page
    for key in FAKE_KEYS:
        assert f"Tabell {key}" in page
        assert f'href="/oppna-data/statistik-{key}.csv"' in page
        assert f'href="/oppna-data/statistik-{key}.json"' in page
    assert page.index("<h3>Boenden</h3>") < page.index("Tabell homes-by-county")
    assert page.index("<h3>Brister</h3>") < page.index("Tabell inspections-with-deficiencies")
    assert "färre än 5 boenden" in page
    assert "Skyddade boenden räknas bara" in page


def test_dcat__the_statistics_a_dataset_of_their_own_one_distribution_per_file(client, fake):
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import DCAT, DCTERMS

    graph = Graph().parse(data=client.get("/datasets/dcat").content, format="xml")

    dataset = URIRef("http://testserver/oppna-data/#statistik")
    title = "Statistik över IVO:s tillsyn av HVB, stödboenden och särskilda ungdomshem"
    assert (dataset, DCTERMS.title, Literal(title, lang="sv")) in graph
    catalogue = URIRef("http://testserver/datasets/dcat")
    assert (catalogue, DCAT.dataset, dataset) in graph
    downloads = {
        str(next(graph.objects(distribution, DCAT.downloadURL)))
        for distribution in graph.objects(dataset, DCAT.distribution)
    }
    assert downloads == {
        f"http://testserver/oppna-data/statistik-{key}.{file_format}"
        for key in FAKE_KEYS
        for file_format in ("csv", "json")
    }
    for distribution in graph.objects(dataset, DCAT.distribution):
        assert (
            distribution,
            DCTERMS.license,
            URIRef("http://creativecommons.org/licenses/by/4.0/"),
        ) in graph


# --- against the real figures, once stats.figures has them ---


def test_figure__the_answer_is_compute_s_figure_for_a_small_register(client):
    from register.codes import FacilityType
    from tests.factories import DecisionFactory, FacilityFactory

    year = this_year()
    for number in range(6):
        facility = FacilityFactory(facility_type=FacilityType.HVB)
        DecisionFactory(
            facility=facility,
            decision_date=timezone.localdate().replace(month=1, day=10 + number),
        )
    today = timezone.localdate()
    filters = Filters(first_year=year - 2, last_year=year, county="08", facility_type="hvb")

    for key in figures.FIGURE_KEYS:
        response = client.get(
            f"/api/v1/statistics/{key}?from_year={year - 2}&to_year={year}"
            "&county=08&facility_type=hvb"
        )
        assert response.status_code == 200, key
        expected = figure_json(figures.compute(key, filters, today=today), filters)
        assert response.json() == json.loads(json.dumps(expected)), key


def test_list__each_figure_under_the_title_it_has_on_its_own(client):
    from django.core.cache import cache

    cache.clear()
    today = timezone.localdate()
    filters = figures.default_filters(today)

    items = client.get("/api/v1/statistics").json()

    assert [item["key"] for item in items] == [
        key for topic in figures.TOPICS for key in topic.figures
    ]
    assert sorted(item["key"] for item in items) == sorted(figures.FIGURE_KEYS)
    for item in items:
        assert item["title"] == figures.compute(item["key"], filters, today=today).title


def test_figure__the_tallies_counted_after_a_write_under_the_apis_query_deadline(
    client, settings, monkeypatch
):
    """The first figure after a write counts the register's tallies, which on the national
    scale takes longer than the API lets one request's queries run (1 s; here 0.1 s, and the
    counting made to take longer): it is counted all the same, not answered 503 every time
    until a page has counted them."""
    from django.db import connection

    from stats import facts

    counting = facts.Facts._homes

    def slowly(self, facilities):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_sleep(0.3)")
            else:
                cursor.execute(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                    "WHERE x < 3000000) SELECT count(*) FROM c"
                )
        return counting(self, facilities)

    monkeypatch.setattr(facts.Facts, "_homes", slowly)
    facts._kept.clear()
    settings.API_QUERY_TIMEOUT_MS = 100
    response = client.get("/api/v1/statistics/inspections-with-deficiencies")
    assert response.status_code == 200, response.content
