"""The public statistics pages (/statistik/): the index, a page per topic with each figure's
chart, summary, table and CSV link, the filter form's rules, the CSV files, and the numbers as
each language writes them."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from access.roles import Role
from stats import figures
from stats.figures import Cell, Column
from stats.templatetags.stats_format import cell_text, number
from tests.factories import make_user, sign_in
from tests.stats_support import ALL_CLEAR, DEFICIENT, figure_tables, homes_with_decisions

pytestmark = pytest.mark.django_db

PERIOD = {"fran": "2024", "till": "2025"}


@pytest.fixture
def register(db):
    """Kalmar: six homes, three with deficiencies in 2025; Stockholm: six without."""
    homes_with_decisions("0880", [DEFICIENT] * 3 + [ALL_CLEAR] * 3)
    homes_with_decisions("0180", [ALL_CLEAR] * 6)


@pytest.fixture
def no_figure_computed(monkeypatch):
    computed = []
    monkeypatch.setattr(figures, "compute", lambda key, *args, **kwargs: computed.append(key))
    return computed


# The pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", [topic.slug for topic in figures.TOPICS])
def test_topic_page__shows_each_figure_with_table_summary_and_csv_link(client, register, topic):
    response = client.get(reverse("stats:topic", args=[topic]), PERIOD)

    assert response.status_code == 200
    text = response.content.decode()
    tables = figure_tables(response)
    chosen = figures.topic(topic)
    filters = figures.Filters(first_year=2024, last_year=2025)
    for key in chosen.figures:
        figure = figures.compute(key, filters)
        assert f'<h2 id="figur-{key}">{figure.title}</h2>' in text
        # The figure's summary, or (for a figure with too little to sum up) a pointer to the table.
        summary = figure.summary or "Diagrammet visar samma siffror som tabellen under det."
        assert f'<figcaption class="stat-chart__summary">{summary}</figcaption>' in text
        # One row in the table per row of the figure, one cell per column.
        assert list(tables[key]) == [figure.row_heading] + [row.label for row in figure.rows]
        assert all(len(cells) == len(figure.columns) for cells in tables[key].values())
        csv_url = reverse("stats:figure_csv", args=[topic, key]) + "?fran=2024&amp;till=2025"
        assert f'href="{csv_url}"' in text


def test_topic_page__table_shows_share_with_the_number_behind_it(client, register):
    response = client.get(reverse("stats:topic", args=["beslut"]), {**PERIOD, "lan": "08"})

    row = figure_tables(response)["inspections-with-deficiencies"]["2025"]
    # Tillsynsbeslut, med brister, andel: three of Kalmar län's six.
    assert row == ["6", "3", "50\xa0% (av 6 tillsynsbeslut)"]


def test_topic_page__in_english_shares_have_no_space_before_the_sign(client, register):
    client.post(reverse("access:language"), {"language": "en", "next": "/"})

    response = client.get(reverse("stats:topic", args=["beslut"]), PERIOD)

    row = figure_tables(response)["inspections-with-deficiencies"]["2025"]
    assert row[2].startswith("25% (")


def test_topic_page__unknown_topic_is_404(client):
    assert client.get(reverse("stats:topic", args=["finns-inte"])).status_code == 404


def test_index__says_what_the_statistics_are_and_links_every_topic(client, register):
    response = client.get(reverse("stats:index"), PERIOD)

    assert response.status_code == 200
    text = response.content.decode()
    assert "färre än 5 boenden" in text
    assert "Skyddade boenden räknas bara in i antalet boenden och platser" in text
    for topic in figures.TOPICS:
        assert f'href="{reverse("stats:topic", args=[topic.slug])}?fran=2024&amp;till=2025"' in text


def test_index__key_figure_is_the_last_year_of_the_period(client, register):
    response = client.get(reverse("stats:index"), PERIOD)

    text = response.content.decode()
    key = re.search(
        r'<li class="stat-key">(?:(?!</li>).)*Andel inspektioner med brister.*?</li>', text, re.S
    ).group(0)
    # 3 of the 12 homes' decisions in 2025.
    assert "25\xa0%" in key
    assert "Andel med brister, 2025" in key


def test_index__without_filters_shows_the_default_period(client, register):
    response = client.get(reverse("stats:index"))

    default = figures.default_filters(timezone.localdate())
    assert response.status_code == 200
    assert f'value="{default.first_year}"' in response.content.decode()
    assert f'value="{default.last_year}"' in response.content.decode()


def test_header__links_to_the_statistics_for_everyone(client):
    response = client.get(reverse("access:login"))

    assert f'<a class="site-header__link" href="{reverse("stats:index")}">Statistik</a>' in (
        response.content.decode()
    )


def test_menu__signed_in_the_statistics_are_a_section_marked_where_you_are(client):
    sign_in(client, make_user(Role.MUNICIPAL_USER, municipality="0880"))

    html = client.get(reverse("stats:topic", args=["beslut"])).content.decode()

    # In the menu, not the header, so the header stays one line on a phone.
    assert 'class="site-header__link"' not in html
    assert f'<a href="{reverse("stats:index")}" aria-current="true">Statistik</a>' in html
    assert (
        f'<a href="{reverse("stats:index")}" aria-current="true">Statistik för hela landet</a>'
        in html
    )
    assert f'<a href="{reverse("stats:municipal")}">Kommunens jämförelse</a>' in html


def test_index__links_a_municipal_user_to_the_municipal_view(client):
    sign_in(client, make_user(Role.MUNICIPAL_USER, municipality="0880"))

    response = client.get(reverse("stats:index"))

    assert f'href="{reverse("stats:municipal")}"' in response.content.decode()


def test_index__no_municipal_link_for_others(client):
    response = client.get(reverse("stats:index"))

    assert reverse("stats:municipal") not in response.content.decode()


# The filter's rules -----------------------------------------------------------------------------


THIS_YEAR = timezone.localdate().year


@pytest.mark.parametrize(
    ("query", "field", "error"),
    [
        (
            {"fran": "tjugo", "till": "2025"},
            "fran",
            "Ange året med fyra siffror, till exempel 2021.",
        ),
        (
            {"fran": "2020", "till": "2025x"},
            "till",
            "Ange året med fyra siffror, till exempel 2021.",
        ),
        (
            {"fran": "2025", "till": "2024"},
            "fran",
            "Första året kan inte vara senare än det sista.",
        ),
        (
            {"fran": "1999", "till": "2005"},
            "fran",
            f"Välj ett år från 2000 till och med {THIS_YEAR}.",
        ),
        (
            {"fran": "2020", "till": str(THIS_YEAR + 1)},
            "till",
            f"Välj ett år från 2000 till och med {THIS_YEAR}.",
        ),
        ({"fran": "2000", "till": "2020"}, "fran", "Välj högst 20 år åt gången."),
        ({"lan": "99"}, "lan", "Välj ett län i listan."),
        ({"typ": "hemlig"}, "typ", "Välj en typ av verksamhet i listan."),
    ],
)
@pytest.mark.parametrize("page", ["index", "topic"])
def test_filter__bad_input_shows_the_error_by_the_field_and_computes_nothing(
    client, no_figure_computed, query, field, error, page
):
    url = reverse("stats:index") if page == "index" else reverse("stats:topic", args=["beslut"])

    response = client.get(url, query)

    text = response.content.decode()
    assert response.status_code == 400
    assert no_figure_computed == []
    # Beside the field, tied to it for a screen reader, and in the summary linked to it.
    assert re.search(rf'<p class="field__error" id="{field}-error">.*{re.escape(error)}', text)
    assert re.search(rf'<[a-z]+ [^>]*aria-describedby="{field}-error"[^>]*id="id_{field}"', text)
    assert re.search(rf'<a href="#id_{field}">[^<]*: {re.escape(error)}</a>', text)
    assert "<table" not in text


def test_filter__twenty_years_are_allowed(client, register):
    response = client.get(reverse("stats:topic", args=["beslut"]), {"fran": "2006", "till": "2025"})

    assert response.status_code == 200


def test_filter__county_and_type_narrow_the_figures(client, register):
    response = client.get(
        reverse("stats:topic", args=["beslut"]), {**PERIOD, "lan": "01", "typ": "hvb"}
    )

    # Stockholms län: six homes, none with deficiencies.
    row = figure_tables(response)["inspections-with-deficiencies"]["2025"]
    assert row == ["6", "0", "0\xa0% (av 6 tillsynsbeslut)"]
    assert "2024–2025, Stockholms län, HVB för barn och unga" in response.content.decode()


# The CSV files ----------------------------------------------------------------------------------


def test_csv__is_the_figure_for_the_same_filters(client, register):
    response = client.get(
        reverse("stats:figure_csv", args=["beslut", "inspections-with-deficiencies"]),
        {**PERIOD, "lan": "08"},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="hvb-statistik-inspections-with-deficiencies-2024-2025-lan-08.csv"'
    )
    figure = figures.compute(
        "inspections-with-deficiencies",
        figures.Filters(first_year=2024, last_year=2025, county="08"),
    )
    lines = response.content.decode().splitlines()
    header = lines[0]
    assert figure.row_heading in header
    assert all(column.label in header for column in figure.columns)
    assert lines[-1].startswith("2025,2025,6,3,")


def test_csv__bad_filters_are_400_and_compute_nothing(client, no_figure_computed):
    response = client.get(
        reverse("stats:figure_csv", args=["beslut", "inspections-with-deficiencies"]),
        {"fran": "1999"},
    )

    assert response.status_code == 400
    assert no_figure_computed == []


@pytest.mark.parametrize(
    ("topic", "key"),
    [
        ("beslut", "finns-inte"),
        # A figure of another topic is not this topic's file.
        ("beslut", "homes-by-type"),
        ("finns-inte", "homes-by-type"),
    ],
)
def test_csv__unknown_topic_or_figure_is_404(client, topic, key):
    assert client.get(reverse("stats:figure_csv", args=[topic, key])).status_code == 404


# How the numbers are written --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "kind", "value", "expected"),
    [
        ("sv", "share", 0.3125, "31\xa0%"),
        ("en", "share", 0.3125, "31%"),
        ("sv", "rate", 4.29, "4,3"),
        ("en", "rate", 4.29, "4.3"),
        ("sv", "rate", 3.0, "3,0"),
        ("sv", "days", 40.5, "40"),
        ("sv", "count", 12345, "12\xa0345"),
        ("en", "count", 12345, "12,345"),
        ("sv", "places", 8517, "8\xa0517"),
    ],
)
def test_number__as_the_language_writes_it(language, kind, value, expected):
    with translation.override(language):
        assert number(value, kind) == expected


def test_cell__share_has_the_number_behind_it():
    column = Column("share", "Andel", "share", "tillsynsbeslut")

    with translation.override("sv"):
        text = cell_text(Cell(0.31, 12, base=412), column)

    assert text == '31\xa0% <span class="stat-base">(av 412 tillsynsbeslut)</span>'


def test_cell__suppressed_is_a_dash_that_says_why():
    with translation.override("sv"):
        text = cell_text(Cell(None, 3, suppressed=True), Column("n", "Antal", "count"))

    assert '<span aria-hidden="true">–</span>' in text
    assert '<span class="visually-hidden">visas inte, se noten under tabellen</span>' in text


def test_topic_page__suppressed_cells_and_the_note(client):
    # Four homes in Kalmar län only: too few to show.
    homes_with_decisions("0880", [DEFICIENT] * 4)

    response = client.get(reverse("stats:topic", args=["beslut"]), {**PERIOD, "lan": "08"})

    row = figure_tables(response)["inspections-with-deficiencies"]["2025"]
    assert row == ["–visas inte, se noten under tabellen"] * 3
    assert "färre än 5 boenden" in response.content.decode()


def test_index__this_year_is_allowed(client, register):
    today = timezone.localdate()
    response = client.get(reverse("stats:index"), {"fran": today.year - 1, "till": today.year})

    assert response.status_code == 200
