"""What the statistics pages' tests share: a page's figure tables read back as text, and a small
register with decisions in two municipalities."""

import datetime
import re
from html.parser import HTMLParser

from register.codes import Outcome
from register.models import Municipality
from tests.factories import DecisionFactory, FacilityFactory


class _Tables(HTMLParser):
    """Each figure's table: {figure key: {row label: [cell text, ...]}}, from the sections
    ``<section aria-labelledby="figur-<key>">``."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.figure = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and (attributes.get("aria-labelledby") or "").startswith("figur-"):
            self.figure = attributes["aria-labelledby"].removeprefix("figur-")
            self.tables[self.figure] = {}
        elif tag == "tr" and self.figure:
            self.row = []
        elif tag in ("th", "td") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self.cell is not None:
            # Spaces and line breaks of the markup as one space; a no-break space is kept.
            self.row.append(re.sub(r"[ \t\n]+", " ", "".join(self.cell)).strip(" "))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row:
                self.tables[self.figure][self.row[0]] = self.row[1:]
            self.row = None
        elif tag == "section":
            self.figure = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def figure_tables(response) -> dict[str, dict[str, list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def homes_with_decisions(
    municipality: str, outcomes: list[str], *, year: int = 2025, **facility
) -> list:
    """One home in ``municipality`` per outcome, each with a supervision decision in ``year``."""
    place = Municipality.objects.get(code=municipality)
    homes = []
    for outcome in outcomes:
        home = FacilityFactory(municipality=place, **facility)
        DecisionFactory(facility=home, decision_date=datetime.date(year, 3, 1), outcome=outcome)
        homes.append(home)
    return homes


ALL_CLEAR = Outcome.INGA_BRISTER
DEFICIENT = Outcome.BRISTER
