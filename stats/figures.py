"""Statistics over the register: aggregated figures for everyone, computed from the register's
own tables on each request (no precomputed table that could go stale).

A figure is a table: rows (years, län, review areas, outcomes), columns (counts, shares, rates,
days), each cell with the number of homes it is built on. Three rules make them fair to show to
anyone:

- a cell built on fewer than 5 homes is suppressed (shown as "–", with a note), and where a
  suppressed cell could be worked out from a total shown beside it, a second cell is suppressed
  too (``suppress``);
- protected homes (DESIGN.md) count only in the homes and places of a whole län or the country
  (``homes-by-county``); every other figure leaves them out, and says so;
- rates are per home or per 100 homes, with the number behind each rate shown.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

SUPPRESS_BELOW_HOMES = 5

ColumnKind = Literal["count", "places", "share", "rate", "days"]
ChartKind = Literal["line", "bar", "stacked", "hbar", "map"]


@dataclass(frozen=True)
class Filters:
    """What a figure is computed over. ``facilities``: only these homes (primary keys), for a
    municipality's own view; None for the whole register."""

    first_year: int
    last_year: int
    county: str = ""  # SCB länskod, "" for the whole country
    facility_type: str = ""  # FacilityType, "" for every type
    facilities: frozenset[int] | None = None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind
    # For a share or a rate: what the number behind it counts ("tillsynsbeslut", "boenden").
    base_label: str = ""


@dataclass
class Cell:
    """One value. ``value``: a count, a share (0–1), a rate per 100, a number of days; None when
    suppressed or when there is nothing to compute it from (no homes). ``homes``: how many
    different homes it is built on. ``base``: for a share or a rate, the number behind it."""

    value: float | int | None
    homes: int
    base: int | None = None
    suppressed: bool = False

    @property
    def shown(self) -> bool:
        return self.value is not None and not self.suppressed


@dataclass
class Row:
    key: str  # a year ("2025"), a länskod ("08"), a code ("vald_krankningar"), "total"
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class Chart:
    kind: ChartKind
    # The columns drawn as series (a map or a single-series chart: one column).
    columns: tuple[str, ...]


@dataclass
class Figure:
    key: str  # "inspections-with-deficiencies": URL, CSV file and API name
    title: str
    row_heading: str  # the first column's heading: "År", "Län", "Område"
    columns: list[Column]
    rows: list[Row]
    chart: Chart
    summary: str = ""  # one or two sentences that say what the chart shows
    notes: list[str] = field(default_factory=list)

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def cells(self, key: str) -> list[Cell]:
        index = [column.key for column in self.columns].index(key)
        return [row.cells[index] for row in self.rows]


@dataclass(frozen=True)
class Topic:
    slug: str  # /statistik/<slug>/
    title: str
    figures: tuple[str, ...]


ComputeFunction = Callable[[Filters, datetime.date], Figure]
