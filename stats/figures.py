"""Statistics over the register: aggregated figures for everyone, summed from the register's
tallies (stats/facts.py), which are kept for one data version and so never go stale.

A figure is a table: rows (years, län, review areas, outcomes), columns (counts, shares, rates,
days), each cell with the number of homes it is built on. Three rules make them fair to show to
anyone:

- a cell built on fewer than 5 homes is suppressed (shown as "–", with a note), and where a
  suppressed cell could be worked out from a total shown beside it, a second cell is suppressed
  too (``suppress_derivable``);
- protected homes (DESIGN.md) count only in the homes and places of a whole län or the country
  (``homes-by-county``); every other figure leaves them out, and says so;
- rates are per home or per 100 homes, with the number behind each rate shown. A count that a
  shown share or rate and its base give away (the homes with a deficiency, of 412 decisions) is
  suppressed with the share, by the homes the share is built on, not by its own.
"""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import (
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from documents.models import DecisionRequest
from register.codes import (
    FacilityType,
    Outcome,
    Ownership,
    ReviewArea,
    Severity,
)
from register.models import County, Facility, protected_condition
from stats.facts import Facts, facts_for, year_end

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


ComputeFunction = Callable[["Facts | None", Filters, datetime.date], Figure]


YEARS_FROM = 2000  # the earliest year a figure may start (the forms and the API check it)
YEARS_SPAN_MAX = 20  # the most years one figure covers


def default_filters(today: datetime.date) -> Filters:
    """The last five years, this one included, for the whole country and every type."""
    return Filters(first_year=today.year - 4, last_year=today.year)


# Cells and suppression ---------------------------------------------------------------------------


def count_cell(value: int, homes: int) -> Cell:
    """A count built on ``homes`` homes: suppressed when they are fewer than five (a count of
    nothing, built on no home, singles out no one and is shown)."""
    if 0 < homes < SUPPRESS_BELOW_HOMES:
        return Cell(None, homes, suppressed=True)
    return Cell(value, homes)


def share_cell(numerator: int, base: int, homes: int) -> Cell:
    """``numerator`` of ``base`` (0–1), built on ``base``'s ``homes`` homes."""
    if homes < SUPPRESS_BELOW_HOMES:
        return Cell(None, homes, suppressed=homes > 0)
    return Cell(numerator / base if base else None, homes, base)


def rate_cell(numerator: int, base: int, homes: int) -> Cell:
    """``numerator`` per 100 of ``base`` (homes), built on ``homes`` homes."""
    cell = share_cell(numerator, base, homes)
    if cell.value is not None:
        cell.value = cell.value * 100
    return cell


def days_cell(days: list[float], homes: int) -> Cell:
    """The median of ``days``, with how many cases it is the median of."""
    if homes < SUPPRESS_BELOW_HOMES or not days:
        return Cell(None, homes, suppressed=homes > 0)
    return Cell(round(statistics.median(days), 1), homes, len(days))


def _hide(cell: Cell) -> None:
    cell.value = None
    cell.base = None
    cell.suppressed = True


def suppress_derivable(
    groups: Iterable[tuple[Cell, list[Cell]]], linked: Iterable[list[Cell]] = ()
) -> None:
    """Secondary suppression: where a shown total is the sum of parts and exactly one part is
    suppressed, that part could be worked out (total minus the others); the shown part built on
    the fewest homes is suppressed too. ``linked``: cells that give each other away (a share and
    the counts it is made of, in one row): when one is suppressed, all are. Repeated until
    nothing gives a suppressed cell away, since hiding a cell in one group can leave a single
    hidden cell in another (a row and a column)."""
    groups, linked = list(groups), list(linked)
    changed = True
    while changed:
        changed = False
        for cells in linked:
            if any(cell.suppressed for cell in cells) and any(cell.shown for cell in cells):
                for cell in cells:
                    if not cell.suppressed:
                        _hide(cell)
                changed = True
        for total, parts in groups:
            if not total.shown:
                continue
            if sum(1 for part in parts if part.suppressed) != 1:
                continue
            candidates = [part for part in parts if part.shown]
            if not candidates:
                continue
            _hide(min(candidates, key=lambda part: (part.homes == 0, part.homes)))
            changed = True


# What the figures are computed over ------------------------------------------------------------


def _years(filters: Filters, today: datetime.date) -> list[int]:
    return list(range(filters.first_year, min(filters.last_year, today.year) + 1))


def _period(filters: Filters, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(filters.first_year, 1, 1), year_end(
        min(filters.last_year, today.year), today
    )


def _where(filters: Filters) -> dict[str, str]:
    """The buckets of stats.facts that ``filters`` choose."""
    return {"county": filters.county, "facility_type": filters.facility_type}


def _may_count_protected(filters: Filters) -> bool:
    """Protected homes count only in a whole län's (or the country's) homes and places: never
    for one type or a municipality's own homes (DESIGN.md: not below the level of a län)."""
    return not filters.facility_type and filters.facilities is None


def homes_counted(filters: Filters) -> QuerySet[Facility]:
    """The primary keys of the homes a figure counts (never a protected one), for
    ``facility_id__in``: the database reads the homes once, not once for every row it counts.
    Only the decision requests, which stats.facts does not tally, are counted this way."""
    condition = ~protected_condition()
    if filters.county:
        condition &= Q(municipality__county_id=filters.county)
    if filters.facility_type:
        condition &= Q(facility_type=filters.facility_type)
    if filters.facilities is not None:
        condition &= Q(pk__in=sorted(filters.facilities))
    return Facility.objects.filter(condition).values("pk")


def _counties(filters: Filters) -> list[County]:
    counties = County.objects.order_by("code")
    return list(counties.filter(code=filters.county) if filters.county else counties)


def _number(value: float | int) -> str:
    return number_format(value, force_grouping=True)


def _date(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _percent(share: float) -> str:
    return _("%(percent)s %%") % {"percent": _number(round(share * 100))}


def _latest_two(figure: Figure, column: str) -> list[tuple[str, Cell]]:
    """The last two rows (years) whose ``column`` is shown, latest first."""
    shown = [
        (row.label, cell)
        for row, cell in zip(figure.rows, figure.cells(column), strict=True)
        if cell.shown
    ]
    return shown[::-1][:2]


def _share_summary(figure: Figure, column: str, text: str) -> str:
    """ "<text> var 31 % 2025, 27 % 2024." from the last two shown years."""
    latest = _latest_two(figure, column)
    if not latest:
        return _("Det finns för få boenden för att visa %(what)s för perioden.") % {"what": text}
    values = ", ".join(
        _("%(share)s %(year)s") % {"share": _percent(cell.value), "year": year}
        for year, cell in latest
    )
    return _("%(what)s var %(values)s.") % {"what": text[:1].upper() + text[1:], "values": values}


PROTECTED_LEFT_OUT = gettext_lazy(
    "Skyddade boenden ingår inte: de räknas bara i antalet boenden och platser för ett helt län "
    "och hela landet."
)
SUPPRESSED_NOTE = gettext_lazy(
    "– : färre än 5 boenden, eller en siffra som annars skulle gå att räkna ut från de andra. "
    "Så går inget enskilt boende att peka ut."
)
THIS_YEAR_NOTE = gettext_lazy("Innevarande år räknas till och med i dag.")


def _notes(filters: Filters, today: datetime.date, *, protected: bool = False) -> list[str]:
    notes = [str(SUPPRESSED_NOTE)]
    if not protected:
        notes.append(str(PROTECTED_LEFT_OUT))
    if filters.last_year >= today.year:
        notes.append(str(THIS_YEAR_NOTE))
    return notes


# Homes and places -----------------------------------------------------------------------------


def _stock_figure(
    key: str,
    title: str,
    facts: Facts,
    filters: Filters,
    today: datetime.date,
    dimension: str,
    choices: list[tuple[str, str]],
) -> Figure:
    codes = [code for code, _label in choices]
    years, where = _years(filters, today), _where(filters)
    columns = [Column(code, str(label), "count") for code, label in choices]
    columns += [
        Column("homes", _("Alla boenden"), "count"),
        Column("places", _("Alla platser"), "places"),
    ]
    rows, groups = [], []
    for year in years:
        parts = []
        for code in codes:
            homes = facts.total(("homes",), [year], **{**where, dimension: code})[1]
            parts.append(count_cell(homes, homes))
        homes = facts.total(("homes",), [year], **where)[1]
        places = facts.total(("places",), [year], **where)[0]
        all_homes = count_cell(homes, homes)
        cells = [*parts, all_homes, count_cell(places, homes)]
        rows.append(Row(str(year), str(year), cells))
        groups.append((all_homes, parts))
    suppress_derivable(groups)
    figure = Figure(
        key=key,
        title=title,
        row_heading=_("År"),
        columns=columns,
        rows=rows,
        chart=Chart("line", tuple(codes)),
        notes=[
            _("Boenden i drift den 31 december (innevarande år: i dag)."),
            *_notes(filters, today),
        ],
    )
    latest = _latest_two(figure, "homes")
    if latest:
        year, cell = latest[0]
        places = figure.cells("places")[[row.label for row in rows].index(year)]
        figure.summary = _("%(year)s fanns %(homes)s boenden med %(places)s platser.") % {
            "year": year,
            "homes": _number(cell.value),
            "places": _number(places.value) if places.shown else "–",
        }
    return figure


def homes_by_type(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    types = [
        (code, label)
        for code, label in FacilityType.choices
        if not filters.facility_type or code == filters.facility_type
    ]
    return _stock_figure(
        "homes-by-type", _("Boenden efter typ"), facts, filters, today, "facility_type", types
    )


def homes_by_ownership(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    return _stock_figure(
        "homes-by-ownership",
        _("Boenden efter regi"),
        facts,
        filters,
        today,
        "ownership",
        list(Ownership.choices),
    )


def _county_stock(
    facts: Facts, year: list[int], county: str, facility_type: str, protected: bool
) -> tuple[int, int]:
    """A län's homes and places, its protected homes with them (when ``protected``) only where
    it has five or more: the difference from the figures without them then never singles one
    protected home out, nor its places."""
    where = {"county": county, "facility_type": facility_type}
    homes = facts.total(("homes",), year, **where)[1]
    places = facts.total(("places",), year, **where)[0]
    if protected:
        with_protected = facts.total(("homes",), year, protected=True, **where)[1]
        if with_protected - homes >= SUPPRESS_BELOW_HOMES:
            return with_protected, facts.total(("places",), year, protected=True, **where)[0]
    return homes, places


def homes_by_county(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    """Homes and places per län on the period's last day. The one figure protected homes count
    in, since it is a whole län's total (not when a type or a municipality's homes are chosen),
    and only in a län with five or more of them."""
    protected = _may_count_protected(filters)
    _first, day = _period(filters, today)
    year = [day.year]
    rows, home_cells, place_cells = [], [], []
    all_homes = all_places = 0
    for county in _counties(filters):
        counted, in_places = _county_stock(
            facts, year, county.code, filters.facility_type, protected
        )
        homes = count_cell(counted, counted)
        places = count_cell(in_places, counted)
        rows.append(Row(county.code, county.name, [homes, places]))
        home_cells.append(homes)
        place_cells.append(places)
        all_homes, all_places = all_homes + counted, all_places + in_places
    if not filters.county:
        total = [count_cell(all_homes, all_homes), count_cell(all_places, all_homes)]
        rows.append(Row("total", _("Hela landet"), total))
        suppress_derivable([(total[0], home_cells), (total[1], place_cells)])
    notes = [_("Boenden i drift den %(day)s.") % {"day": _date(day)}]
    if protected:
        notes.append(
            _(
                "Skyddade boenden ingår i antalen för ett län som har minst 5 av dem, och i hela "
                "landets, men i ingen annan siffra i statistiken."
            )
        )
    figure = Figure(
        key="homes-by-county",
        title=_("Boenden och platser per län"),
        row_heading=_("Län"),
        columns=[Column("homes", _("Boenden"), "count"), Column("places", _("Platser"), "places")],
        rows=rows,
        chart=Chart("hbar", ("homes",)),
        notes=notes + _notes(filters, today, protected=True),
    )
    shown = [row for row in rows if row.key != "total" and row.cells[0].shown]
    if shown:
        most = max(shown, key=lambda row: row.cells[0].value)
        figure.summary = _("Flest boenden finns i %(county)s: %(homes)s.") % {
            "county": most.label,
            "homes": _number(most.cells[0].value),
        }
    return figure


# Decisions --------------------------------------------------------------------------------------

_SEVERITIES = (
    (Severity.OK, gettext_lazy("Inga brister")),
    (Severity.ATTENTION, gettext_lazy("Brister eller föreläggande")),
    (Severity.SERIOUS, gettext_lazy("Allvarliga beslut")),
)


def decisions_by_severity(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    where = _where(filters)
    rows, groups = [], []
    for year in _years(filters, today):
        parts = [
            count_cell(*facts.total(("severity", severity), [year], **where))
            for severity, _label in _SEVERITIES
        ]
        total = count_cell(*facts.total(("supervision",), [year], **where))
        rows.append(Row(str(year), str(year), [*parts, total]))
        groups.append((total, parts))
    suppress_derivable(groups)
    figure = Figure(
        key="decisions-by-severity",
        title=_("Tillsynsbeslut efter allvar"),
        row_heading=_("År"),
        columns=[
            *[Column(s, str(label), "count") for s, label in _SEVERITIES],
            Column("total", _("Alla tillsynsbeslut"), "count"),
        ],
        rows=rows,
        chart=Chart("stacked", tuple(s for s, _label in _SEVERITIES)),
        notes=[
            _(
                "Allvarliga beslut: föreläggande med vite, tillfälligt förbud, förbud, "
                "återkallelse av tillstånd och sanktionsavgift."
            ),
            *_notes(filters, today),
        ],
    )
    latest = _latest_two(figure, "serious")
    if latest:
        year, cell = latest[0]
        figure.summary = _("%(year)s fattade IVO %(serious)s allvarliga tillsynsbeslut.") % {
            "year": year,
            "serious": _number(cell.value),
        }
    return figure


def decisions_by_outcome(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    years, where = _years(filters, today), _where(filters)
    rows, groups = [], []
    for outcome, label in Outcome.choices:
        parts = [count_cell(*facts.total(("outcome", outcome), [year], **where)) for year in years]
        total = count_cell(*facts.total(("outcome", outcome), years, **where))
        rows.append(Row(outcome, str(label), [*parts, total]))
        groups.append((total, parts))
    suppress_derivable(groups)
    figure = Figure(
        key="decisions-by-outcome",
        title=_("Beslut efter utfall"),
        row_heading=_("Utfall"),
        columns=[
            *[Column(str(year), str(year), "count") for year in years],
            Column("total", _("Hela perioden"), "count"),
        ],
        rows=rows,
        chart=Chart("hbar", ("total",)),
        notes=[
            _("Tillsynsbeslut och tillståndsbeslut. Beslut som domstol har upphävt räknas med."),
            *_notes(filters, today),
        ],
    )
    shown = [row for row in rows if row.cells[-1].shown and row.cells[-1].value]
    if shown:
        most = max(shown, key=lambda row: row.cells[-1].value)
        figure.summary = _(
            "Det vanligaste utfallet under perioden var %(outcome)s: %(n)s beslut."
        ) % {
            "outcome": most.label.lower(),
            "n": _number(most.cells[-1].value),
        }
    return figure


def inspections_with_deficiencies(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    """Each inspection counts through its supervision decision (tillsynsbeslut)."""
    where = _where(filters)
    rows = []
    for year in _years(filters, today):
        decisions, homes = facts.total(("supervision",), [year], **where)
        deficient = facts.total(("supervision_deficient",), [year], **where)[0]
        cells = [
            count_cell(decisions, homes),
            count_cell(deficient, homes),
            share_cell(deficient, decisions, homes),
        ]
        rows.append(Row(str(year), str(year), cells))
    figure = Figure(
        key="inspections-with-deficiencies",
        title=_("Andel inspektioner med brister"),
        row_heading=_("År"),
        columns=[
            Column("decisions", _("Tillsynsbeslut"), "count"),
            Column("deficient", _("Med brister"), "count"),
            Column("share", _("Andel med brister"), "share", _("tillsynsbeslut")),
        ],
        rows=rows,
        chart=Chart("line", ("share",)),
        notes=[
            _(
                "En inspektion räknas genom sitt tillsynsbeslut; med brister är varje utfall "
                "utom Inga brister."
            ),
            *_notes(filters, today),
        ],
    )
    figure.summary = _share_summary(figure, "share", _("andelen inspektioner med brister"))
    return figure


def serious_decisions(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    years, where = _years(filters, today), _where(filters)
    rows = []
    for year in years:
        decisions, with_serious = facts.total(("serious",), [year], **where)
        homes = facts.total(("operating_during",), [year], **where)[1]
        # The counts follow the rate's suppression: the rate and its base give them away.
        cells = [
            count_cell(decisions, homes),
            count_cell(with_serious, homes),
            rate_cell(with_serious, homes, homes),
        ]
        rows.append(Row(str(year), str(year), cells))
    figure = Figure(
        key="serious-decisions",
        title=_("Allvarliga beslut"),
        row_heading=_("År"),
        columns=[
            Column("decisions", _("Allvarliga beslut"), "count"),
            Column("homes", _("Boenden med allvarligt beslut"), "count"),
            Column(
                "rate",
                _("Boenden med allvarligt beslut per 100 boenden"),
                "rate",
                _("boenden i drift"),
            ),
        ],
        rows=rows,
        chart=Chart("bar", ("rate",)),
        notes=[
            _(
                "Föreläggande med vite, tillfälligt förbud, förbud, återkallelse av tillstånd och "
                "sanktionsavgift; beslut som domstol har upphävt räknas inte. Per 100 boenden "
                "som var i drift någon gång under året."
            ),
            *_notes(filters, today),
        ],
    )
    latest = _latest_two(figure, "rate")
    if latest:
        figure.summary = _("%(year)s fick %(rate)s av 100 boenden ett allvarligt beslut.") % {
            "year": latest[0][0],
            "rate": _number(round(latest[0][1].value, 1)),
        }
    return figure


# Deficiencies by review area ------------------------------------------------------------------


def _reviews(facts: Facts, area: str, years: list[int], **where) -> dict[str, int]:
    """The reviews of ``area`` over ``years``: how many, at how many homes, how many found a
    deficiency and how many a serious one."""
    reviewed, homes = facts.total(("reviewed", area), years, **where)
    return {
        "reviewed": reviewed,
        "homes": homes,
        "deficient": facts.total(("deficient", area), years, **where)[0],
        "serious": facts.total(("serious_deficiency", area), years, **where)[0],
    }


def deficiencies_by_area(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    years, where = _years(filters, today), _where(filters)
    rows = []
    for area, label in ReviewArea.choices:
        row = _reviews(facts, area, years, **where)
        cells = [
            count_cell(row["reviewed"], row["homes"]),
            count_cell(row["deficient"], row["homes"]),
            share_cell(row["deficient"], row["reviewed"], row["homes"]),
            count_cell(row["serious"], row["homes"]),
        ]
        rows.append(Row(area, str(label), cells))
    figure = Figure(
        key="deficiencies-by-area",
        title=_("Brister efter granskat område"),
        row_heading=_("Område"),
        columns=[
            Column("reviewed", _("Granskningar"), "count"),
            Column("deficient", _("Med brist"), "count"),
            Column("share", _("Andel med brist"), "share", _("granskningar")),
            Column("serious", _("Med allvarlig brist"), "count"),
        ],
        rows=rows,
        chart=Chart("hbar", ("share",)),
        notes=[
            _("En granskning är ett område som ett beslut under perioden har granskat."),
            *_notes(filters, today),
        ],
    )
    shown = [row for row in rows if row.cells[2].shown]
    if shown:
        most = max(shown, key=lambda row: row.cells[2].value)
        figure.summary = _(
            "Oftast fann IVO brister inom %(area)s: i %(share)s av granskningarna."
        ) % {"area": most.label.lower(), "share": _percent(most.cells[2].value)}
    return figure


def deficiencies_by_ownership(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    years, where = _years(filters, today), _where(filters)
    rows = []
    for area, label in ReviewArea.choices:
        cells = []
        for code, _label in Ownership.choices:
            row = _reviews(facts, area, years, ownership=code, **where)
            cells.append(share_cell(row["deficient"], row["reviewed"], row["homes"]))
        rows.append(Row(area, str(label), cells))
    figure = Figure(
        key="deficiencies-by-ownership",
        title=_("Brister efter regi"),
        row_heading=_("Område"),
        columns=[
            Column(code, str(label), "share", _("granskningar"))
            for code, label in Ownership.choices
        ],
        rows=rows,
        chart=Chart("hbar", tuple(Ownership.values)),
        notes=[
            _("Andelen granskningar av området som fann en brist, för boenden i varje regi."),
            *_notes(filters, today),
        ],
    )
    private = [row for row in rows if row.cells[0].shown and row.cells[1].shown]
    if private:
        widest = max(private, key=lambda row: abs(row.cells[0].value - row.cells[1].value))
        figure.summary = _(
            "Störst skillnad mellan enskild och kommunal regi inom %(area)s: %(private)s mot "
            "%(municipal)s."
        ) % {
            "area": widest.label.lower(),
            "private": _percent(widest.cells[0].value),
            "municipal": _percent(widest.cells[1].value),
        }
    return figure


def _share_by_county(filters: Filters, counted: Callable[[str], tuple[int, int, int]]) -> list[Row]:
    """A share per län, and for the whole country when no län is chosen: the base, the part
    and the share, from ``counted(county)`` -> (base, part, homes) ("" for the country). A län's
    counts give its share away, so they are suppressed together; the country's totals would give
    a single suppressed län away, so one more is suppressed (``suppress_derivable``)."""

    def cells(county: str) -> list[Cell]:
        base, part, homes = counted(county)
        return [count_cell(base, homes), count_cell(part, homes), share_cell(part, base, homes)]

    rows = [Row(county.code, county.name, cells(county.code)) for county in _counties(filters)]
    if not filters.county:
        total = cells("")
        rows.append(Row("total", _("Hela landet"), total))
        suppress_derivable(
            [(total[index], [row.cells[index] for row in rows[:-1]]) for index in (0, 1)],
            [row.cells for row in rows],
        )
    return rows


def deficiencies_by_county(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    years = _years(filters, today)

    def counted(county: str) -> tuple[int, int, int]:
        where = {"county": county, "facility_type": filters.facility_type}
        decisions, homes = facts.total(("supervision",), years, **where)
        return decisions, facts.total(("supervision_deficient",), years, **where)[0], homes

    rows = _share_by_county(filters, counted)
    figure = Figure(
        key="deficiencies-by-county",
        title=_("Andel inspektioner med brister per län"),
        row_heading=_("Län"),
        columns=[
            Column("decisions", _("Tillsynsbeslut"), "count"),
            Column("deficient", _("Med brister"), "count"),
            Column("share", _("Andel med brister"), "share", _("tillsynsbeslut")),
        ],
        rows=rows,
        chart=Chart("map", ("share",)),
        notes=_notes(filters, today),
    )
    shown = [row for row in rows if row.key != "total" and row.cells[2].shown]
    if len(shown) > 1:
        high = max(shown, key=lambda row: row.cells[2].value)
        low = min(shown, key=lambda row: row.cells[2].value)
        figure.summary = _(
            "Andelen inspektioner med brister var högst i %(high)s (%(high_share)s) och lägst i "
            "%(low)s (%(low_share)s)."
        ) % {
            "high": high.label,
            "high_share": _percent(high.cells[2].value),
            "low": low.label,
            "low_share": _percent(low.cells[2].value),
        }
    return figure


# Requirements and their follow-up -------------------------------------------------------------

_REQUIREMENT_STATES = (
    ("met", gettext_lazy("Åtgärdade")),
    ("not_met", gettext_lazy("Inte åtgärdade")),
    ("overdue", gettext_lazy("Försenade")),
    ("open", gettext_lazy("Inte uppföljda ännu")),
)


def requirements(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    """What became of the requirements (krav) IVO set each year, derived as the register
    derives them (register.supervision.requirement_state): met or not met by the latest decision
    that follows the decision up with a finding in the same area; overdue when its day has
    passed without one; open otherwise. Decisions a court overturned set no requirement."""
    where = _where(filters)
    rows, groups, linked = [], [], []
    for year in _years(filters, today):
        required, counted = facts.total(("requirement",), [year], **where)
        states = {
            state: facts.total(("requirement", state), [year], **where)[0]
            for state, _label in _REQUIREMENT_STATES
        }
        parts = [count_cell(states[state], counted) for state, _label in _REQUIREMENT_STATES]
        total = count_cell(required, counted)
        settled_homes = facts.total(("requirement_settled",), [year], **where)[1]
        met = share_cell(states["met"], states["met"] + states["not_met"], settled_homes)
        median = days_cell(facts.values("days_to_follow_up", [year], **where), settled_homes)
        rows.append(Row(str(year), str(year), [total, *parts, met, median]))
        groups.append((total, parts))
        linked.append([parts[0], parts[1], met])
    suppress_derivable(groups, linked)
    figure = Figure(
        key="requirements",
        title=_("Krav och uppföljning"),
        row_heading=_("År"),
        columns=[
            Column("requirements", _("Krav"), "count"),
            *[Column(state, str(label), "count") for state, label in _REQUIREMENT_STATES],
            Column("met_share", _("Andel åtgärdade av uppföljda"), "share", _("uppföljda krav")),
            Column(
                "days_to_follow_up",
                _("Dagar från beslut till uppföljning (median)"),
                "days",
                _("uppföljda krav"),
            ),
        ],
        rows=rows,
        chart=Chart("stacked", tuple(state for state, _label in _REQUIREMENT_STATES)),
        notes=[
            _(
                "Ett krav är vad ett beslut kräver att boendet gör inom ett granskat område med "
                "brist. Det är åtgärdat när ett senare beslut som följer upp det inte fann brist "
                "i samma område, och försenat när dagen har passerat utan uppföljning. Året är "
                "beslutets år."
            ),
            *_notes(filters, today),
        ],
    )
    figure.summary = _share_summary(
        figure, "met_share", _("andelen åtgärdade krav av dem IVO följt upp")
    )
    return figure


def recurring_deficiencies(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    """Homes with a recurring deficiency (återkommande brist, DESIGN.md) found in a year: a
    deficiency in an area that a decision of the same home found within the three years
    before (stats.facts counts them over every year of the register)."""
    where = _where(filters)
    rows = []
    for year in _years(filters, today):
        base = facts.total(("supervision",), [year], **where)[1]
        found = facts.total(("recurring",), [year], **where)[1]
        rows.append(
            Row(
                str(year),
                str(year),
                [count_cell(found, base), count_cell(base, base), rate_cell(found, base, base)],
            )
        )
    figure = Figure(
        key="recurring-deficiencies",
        title=_("Återkommande brister"),
        row_heading=_("År"),
        columns=[
            Column("homes", _("Boenden med återkommande brist"), "count"),
            Column("inspected", _("Boenden med tillsynsbeslut"), "count"),
            Column(
                "rate",
                _("Per 100 boenden med tillsynsbeslut"),
                "rate",
                _("boenden med tillsynsbeslut"),
            ),
        ],
        rows=rows,
        chart=Chart("bar", ("rate",)),
        notes=[
            _(
                "En återkommande brist är en brist inom ett område där ett beslut om samma boende "
                "fann brist också inom de tre åren före."
            ),
            *_notes(filters, today),
        ],
    )
    latest = _latest_two(figure, "rate")
    if latest:
        figure.summary = _(
            "%(year)s hade %(rate)s av 100 boenden med tillsynsbeslut en återkommande brist."
        ) % {"year": latest[0][0], "rate": _number(round(latest[0][1].value, 1))}
    return figure


# Frekvenstillsyn ------------------------------------------------------------------------------


def inspection_frequency(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    """Homes due for inspection at each year's end (3 kap. 19 § SoF: HVB, stödboenden and
    särskilda ungdomshem, 12 § LVU, in operation for a year) and those inspected in the 12
    months before (stats.facts)."""
    years, where = _years(filters, today), _where(filters)
    rows = []
    for year in years:
        due = facts.total(("due",), [year], **where)[1]
        inspected = facts.total(("inspected",), [year], **where)[1]
        cells = [count_cell(due, due), count_cell(inspected, due), share_cell(inspected, due, due)]
        rows.append(Row(str(year), str(year), cells))
    figure = Figure(
        key="inspection-frequency",
        title=_("Frekvenstillsyn: andel boenden inspekterade inom 12 månader"),
        row_heading=_("År"),
        columns=[
            Column("due", _("Boenden som ska inspekteras"), "count"),
            Column("inspected", _("Inspekterade inom 12 månader"), "count"),
            Column("share", _("Andel inspekterade"), "share", _("boenden")),
        ],
        rows=rows,
        chart=Chart("line", ("share",)),
        notes=[
            _(
                "HVB, stödboenden och särskilda ungdomshem ska inspekteras minst en gång om året "
                "(3 kap. 19 § SoF). Räknat den 31 december (innevarande år: i dag), för boenden "
                "som då varit i drift i minst ett år."
            ),
            *_notes(filters, today),
        ],
    )
    figure.summary = _share_summary(
        figure, "share", _("andelen boenden som inspekterats inom 12 månader")
    )
    return figure


def inspection_frequency_by_county(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    _first, day = _period(filters, today)

    def counted(county: str) -> tuple[int, int, int]:
        where = {"county": county, "facility_type": filters.facility_type}
        due = facts.total(("due",), [day.year], **where)[1]
        return due, facts.total(("inspected",), [day.year], **where)[1], due

    rows = _share_by_county(filters, counted)
    figure = Figure(
        key="inspection-frequency-by-county",
        title=_("Frekvenstillsyn per län"),
        row_heading=_("Län"),
        columns=[
            Column("due", _("Boenden som ska inspekteras"), "count"),
            Column("inspected", _("Inspekterade inom 12 månader"), "count"),
            Column("share", _("Andel inspekterade"), "share", _("boenden")),
        ],
        rows=rows,
        chart=Chart("map", ("share",)),
        notes=[_("Räknat den %(day)s.") % {"day": _date(day)}, *_notes(filters, today)],
    )
    shown = [row for row in rows if row.key != "total" and row.cells[2].shown]
    if len(shown) > 1:
        low = min(shown, key=lambda row: row.cells[2].value)
        figure.summary = _(
            "Lägst andel inspekterade inom 12 månader hade %(county)s: %(share)s."
        ) % {"county": low.label, "share": _percent(low.cells[2].value)}
    return figure


# IVO's handling ------------------------------------------------------------------------------


def inspection_to_decision(facts: Facts, filters: Filters, today: datetime.date) -> Figure:
    """Days from an inspection's last day to its decision: the inspection and the decision of a
    supervision case share the case's diarienummer (stats.facts)."""
    where = _where(filters)
    rows = []
    for year in _years(filters, today):
        decisions, counted = facts.total(("inspection_to_decision",), [year], **where)
        days = facts.values("inspection_to_decision", [year], **where)
        rows.append(
            Row(
                str(year),
                str(year),
                [count_cell(decisions, counted), days_cell(days, counted)],
            )
        )
    figure = Figure(
        key="inspection-to-decision",
        title=_("Dagar från inspektion till beslut"),
        row_heading=_("År"),
        columns=[
            Column("decisions", _("Tillsynsbeslut efter inspektion"), "count"),
            Column("days", _("Dagar (median)"), "days", _("tillsynsbeslut")),
        ],
        rows=rows,
        chart=Chart("line", ("days",)),
        notes=[
            _("Från inspektionens sista dag till beslutet, efter beslutets år."),
            *_notes(filters, today),
        ],
    )
    latest = _latest_two(figure, "days")
    if latest:
        figure.summary = _(
            "%(year)s var mediantiden från inspektion till beslut %(days)s dagar."
        ) % {"year": latest[0][0], "days": _number(round(latest[0][1].value))}
    return figure


def decision_requests(facts: "Facts | None", filters: Filters, today: datetime.date) -> Figure:
    """Municipalities' requests for full decisions (begäran om utlämnande) and how long IVO took
    to decide them. Which municipality asked is never part of it."""
    first, last = _period(filters, today)
    found = DecisionRequest.objects.filter(
        decision__facility_id__in=homes_counted(filters),
        created_at__date__gte=first,
        created_at__date__lte=last,
    ).values_list("created_at", "decided_at", "decision__facility_id")
    requested: dict[int, int] = defaultdict(int)
    homes: dict[int, set[int]] = defaultdict(set)
    days: dict[int, list[float]] = defaultdict(list)
    for created_at, decided_at, facility in found:
        year = timezone.localtime(created_at).year
        requested[year] += 1
        homes[year].add(facility)
        if decided_at is not None:
            days[year].append((decided_at - created_at).total_seconds() / 86400)
    rows = []
    for year in _years(filters, today):
        counted = len(homes[year])
        rows.append(
            Row(
                str(year),
                str(year),
                [
                    count_cell(requested[year], counted),
                    count_cell(len(days[year]), counted),
                    days_cell(days[year], counted),
                ],
            )
        )
    figure = Figure(
        key="decision-requests",
        title=_("Begärda beslut och handläggningstid"),
        row_heading=_("År"),
        columns=[
            Column("requests", _("Begäranden"), "count"),
            Column("decided", _("Avgjorda"), "count"),
            Column("days", _("Dagar till avgörande (median)"), "days", _("avgjorda begäranden")),
        ],
        rows=rows,
        chart=Chart("bar", ("days",)),
        notes=[
            _(
                "Socialnämndernas begäranden om fullständiga beslut, efter året de kom in, och "
                "dagarna tills IVO lämnade ut beslutet eller avslog begäran."
            ),
            *_notes(filters, today),
        ],
    )
    latest = _latest_two(figure, "days")
    if latest:
        figure.summary = _(
            "%(year)s var mediantiden för IVO att avgöra en begäran om beslut %(days)s dagar."
        ) % {"year": latest[0][0], "days": _number(latest[0][1].value)}
    return figure


# The figures, by topic ------------------------------------------------------------------------

FIGURES: dict[str, ComputeFunction] = {
    "homes-by-type": homes_by_type,
    "homes-by-ownership": homes_by_ownership,
    "homes-by-county": homes_by_county,
    "decisions-by-severity": decisions_by_severity,
    "decisions-by-outcome": decisions_by_outcome,
    "inspections-with-deficiencies": inspections_with_deficiencies,
    "serious-decisions": serious_decisions,
    "deficiencies-by-area": deficiencies_by_area,
    "deficiencies-by-ownership": deficiencies_by_ownership,
    "deficiencies-by-county": deficiencies_by_county,
    "requirements": requirements,
    "recurring-deficiencies": recurring_deficiencies,
    "inspection-frequency": inspection_frequency,
    "inspection-frequency-by-county": inspection_frequency_by_county,
    "inspection-to-decision": inspection_to_decision,
    "decision-requests": decision_requests,
}
FIGURE_KEYS = tuple(FIGURES)

TOPICS = (
    Topic(
        "boenden",
        gettext_lazy("Boenden och platser"),
        ("homes-by-type", "homes-by-ownership", "homes-by-county"),
    ),
    Topic(
        "beslut",
        pgettext_lazy("statistikens ämne", "Beslut"),
        (
            "decisions-by-severity",
            "inspections-with-deficiencies",
            "serious-decisions",
            "decisions-by-outcome",
        ),
    ),
    Topic(
        "brister",
        gettext_lazy("Brister"),
        ("deficiencies-by-area", "deficiencies-by-ownership", "deficiencies-by-county"),
    ),
    Topic(
        "krav",
        gettext_lazy("Krav och uppföljning"),
        ("requirements", "recurring-deficiencies"),
    ),
    Topic(
        "frekvenstillsyn",
        gettext_lazy("Frekvenstillsyn"),
        ("inspection-frequency", "inspection-frequency-by-county"),
    ),
    Topic(
        "handlaggning",
        gettext_lazy("IVO:s handläggning"),
        ("inspection-to-decision", "decision-requests"),
    ),
)


def topic(slug: str) -> Topic:
    """The topic with this slug; KeyError for none."""
    for candidate in TOPICS:
        if candidate.slug == slug:
            return candidate
    raise KeyError(slug)


def topic_of(key: str) -> Topic:
    return next(candidate for candidate in TOPICS if key in candidate.figures)


def compute(key: str, filters: Filters, *, today: datetime.date | None = None) -> Figure:
    """The figure ``key`` over ``filters``, computed from the register now. KeyError for an
    unknown key."""
    today = today or timezone.localdate()
    compute_figure = FIGURES[key]
    # The decision requests are documents' rows, not the register's: counted from their table.
    facts = None if key == "decision-requests" else facts_for(today, filters.facilities)
    return compute_figure(facts, filters, today)
