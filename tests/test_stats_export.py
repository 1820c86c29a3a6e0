"""The figures as CSV and JSON (stats/export.py), with figures made by hand: what a machine reading
the files gets, what a suppressed cell leaves out, and that the number of homes behind a cell is
never written."""

import csv
import io
import json

from stats.export import figure_csv, figure_json
from stats.figures import Cell, Chart, Column, Figure, Filters, Row


def inspections_figure() -> Figure:
    return Figure(
        key="inspections-with-deficiencies",
        title="Inspektioner med brister",
        row_heading="År",
        columns=[
            Column("decisions", "Tillsynsbeslut", "count"),
            Column("share", "Andel med brister", "share", base_label="tillsynsbeslut"),
            Column("rate", "Allvarliga beslut per 100 boenden", "rate", base_label="boenden"),
            Column("days", "Dagar till beslut (median)", "days"),
        ],
        rows=[
            Row(
                "2024",
                "2024",
                [
                    Cell(40, 23),
                    Cell(0.34375, 23, base=32),
                    Cell(7.26, 23, base=124),
                    Cell(41.5, 23),
                ],
            ),
            Row(
                "2025",
                "2025",
                [
                    Cell(3, 3, suppressed=True),
                    Cell(None, 3, base=3, suppressed=True),
                    Cell(None, 3, base=3, suppressed=True),
                    Cell(None, 0),
                ],
            ),
        ],
        chart=Chart("line", ("share",)),
        summary="Andelen inspektioner med brister var 34 % 2024.",
        notes=["– : färre än 5 boenden.", "Skyddade boenden ingår inte."],
    )


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv__a_key_column_the_row_heading_and_the_number_behind_each_share_and_rate():
    rows = csv_rows(figure_csv(inspections_figure()))

    assert rows[0] == [
        "Kod",
        "År",
        "Tillsynsbeslut",
        "Andel med brister (%)",
        "Underlag: tillsynsbeslut",
        "Allvarliga beslut per 100 boenden",
        "Underlag: boenden",
        "Dagar till beslut (median)",
    ]
    assert rows[1] == ["2024", "2024", "40", "34.4", "32", "7.3", "124", "41.5"]


def test_csv__a_suppressed_cell_and_the_number_behind_it_are_empty():
    rows = csv_rows(figure_csv(inspections_figure()))

    assert rows[2] == ["2025", "2025", "", "", "", "", "", ""]


def test_csv__rectangular_without_the_notes():
    text = figure_csv(inspections_figure())
    rows = csv_rows(text)

    assert {len(row) for row in rows} == {8}
    assert len(rows) == 3
    assert "färre än 5" not in text and "Skyddade" not in text


def test_csv__a_label_a_spreadsheet_would_take_for_a_formula_is_quoted():
    figure = inspections_figure()
    figure.rows[0].label = "=HYPERLINK(1)"

    assert csv_rows(figure_csv(figure))[1][1] == "'=HYPERLINK(1)"


def test_csv__two_shares_on_the_same_base_get_headers_of_their_own():
    figure = Figure(
        key="decisions-by-outcome",
        title="Beslut",
        row_heading="År",
        columns=[
            Column("a", "Brister", "share", base_label="beslut"),
            Column("b", "Inga brister", "share", base_label="beslut"),
        ],
        rows=[Row("2025", "2025", [Cell(0.5, 8, base=10), Cell(0.5, 8, base=10)])],
        chart=Chart("stacked", ("a", "b")),
    )

    header = csv_rows(figure_csv(figure))[0]

    assert header[3] == "Underlag: beslut (Brister)"
    assert header[5] == "Underlag: beslut (Inga brister)"
    assert len(set(header)) == len(header)


def test_json__the_shape_with_shares_as_fractions_and_the_filters():
    filters = Filters(first_year=2021, last_year=2025, county="08", facility_type="hvb")

    data = figure_json(inspections_figure(), filters)

    assert json.loads(json.dumps(data)) == data
    assert data["key"] == "inspections-with-deficiencies"
    assert data["title"] == "Inspektioner med brister"
    assert data["summary"] == "Andelen inspektioner med brister var 34 % 2024."
    assert data["row_heading"] == "År"
    assert data["columns"][1] == {
        "key": "share",
        "label": "Andel med brister",
        "kind": "share",
        "base_label": "tillsynsbeslut",
    }
    assert data["columns"][0]["base_label"] is None
    assert data["rows"][0]["key"] == "2024"
    assert data["rows"][0]["values"] == {
        "decisions": {"value": 40, "base": None, "suppressed": False},
        "share": {"value": 0.3438, "base": 32, "suppressed": False},
        "rate": {"value": 7.3, "base": 124, "suppressed": False},
        "days": {"value": 41.5, "base": None, "suppressed": False},
    }
    assert data["notes"] == ["– : färre än 5 boenden.", "Skyddade boenden ingår inte."]
    assert data["filters"] == {
        "from_year": 2021,
        "to_year": 2025,
        "county": "08",
        "facility_type": "hvb",
    }


def test_json__a_suppressed_cell_has_no_value_and_no_base():
    values = figure_json(inspections_figure())["rows"][1]["values"]

    assert values["decisions"] == {"value": None, "base": None, "suppressed": True}
    assert values["share"] == {"value": None, "base": None, "suppressed": True}
    # Nothing to compute it from is not a suppression.
    assert values["days"] == {"value": None, "base": None, "suppressed": False}


def test_json__never_the_number_of_homes_nor_a_municipality_s_homes():
    filters = Filters(first_year=2021, last_year=2025, facilities=frozenset({8812, 9931}))

    data = figure_json(inspections_figure(), filters)
    text = json.dumps(data)

    assert "homes" not in text
    assert "23" not in text  # the homes behind the 2024 cells
    assert "8812" not in text and "9931" not in text
    assert data["filters"] == {
        "from_year": 2021,
        "to_year": 2025,
        "county": None,
        "facility_type": None,
    }
