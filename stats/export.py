"""The figures as files and API answers: one CSV shape and one JSON shape, shared by the
statistics pages' CSV download, ``/api/v1/statistics/{key}`` and the open data's files.

CSV (UTF-8, comma-separated, one header row, rectangular: the notes are not in it):

- ``Kod``: the row's key, for a machine to join on: a year (``2025``), a länskod (``08``,
  ``total`` for the whole country) or a code (``vald_krankningar``);
- the figure's row heading (``År``, ``Län``, ``Område``): the row's label;
- one column per column of the figure, headed by its label. A share is written as a percentage
  with one decimal and a dot (``31.3``; the header ends in ``(%)``), a rate and a number of days
  with at most one decimal, a count as a whole number;
- after a share or a rate, the number behind it, headed ``Underlag: <what it counts>``;
- a suppressed cell (built on fewer than 5 homes) and a cell with nothing to compute it from are
  empty, and so is the number behind it.

JSON: ``{key, title, summary, row_heading, columns: [{key, label, kind, base_label}],
rows: [{key, label, values: {<column key>: {value, base, suppressed}}}], notes, filters}``. A
share is the fraction (0–1, four decimals), a rate per 100 homes; ``value`` and ``base`` are
null for a suppressed cell. The notes (the suppression rule, protected homes) are here and on
the open-data page.

What is left out: the number of homes each cell is built on (``Cell.homes``). It is the number
the suppression rule is tested against, not a result: for a count of homes it repeats the
value, and elsewhere two overlapping figures (a län with and without a facility type, a period
one year longer) would let a reader work out, by difference, a group of fewer than five homes
that the rule hides. The number behind a share or rate (``base``) is shown instead. The list of
homes a municipality's own view is computed over (``Filters.facilities``) is never written out
either: it would tell which homes the municipality follows.
"""

import csv
import io

from django.utils.translation import gettext as _

from register.spreadsheets import csv_cell
from stats.figures import Cell, Column, Figure, Filters

WITH_BASE = ("share", "rate")


def _number(value: float | int) -> float | int:
    """A whole number as it is, anything else with at most one decimal."""
    if isinstance(value, int) or float(value).is_integer():
        return int(value)
    return round(float(value), 1)


def csv_value(column: Column, cell: Cell) -> str:
    """One cell as the CSV writes it: empty when suppressed or missing, a share in percent."""
    if not cell.shown:
        return ""
    if column.kind == "share":
        return f"{cell.value * 100:.1f}"
    return str(_number(cell.value))


def csv_base(cell: Cell) -> str:
    if not cell.shown or cell.base is None:
        return ""
    return str(cell.base)


def csv_headers(figure: Figure) -> list[str]:
    headers = [_("Kod"), str(figure.row_heading)]
    base_labels = [str(c.base_label) for c in figure.columns if c.kind in WITH_BASE]
    for column in figure.columns:
        label = str(column.label)
        headers.append(f"{label} (%)" if column.kind == "share" else label)
        if column.kind in WITH_BASE:
            base = _("Underlag: %(base)s") % {"base": column.base_label}
            if base_labels.count(str(column.base_label)) > 1:  # one header for one column
                base = _("Underlag: %(base)s (%(column)s)") % {
                    "base": column.base_label,
                    "column": label,
                }
            headers.append(base)
    return headers


def figure_csv(figure: Figure) -> str:
    """The figure as CSV text: a header row, then one row per row of the figure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(header) for header in csv_headers(figure)])
    for row in figure.rows:
        line = [csv_cell(str(row.key)), csv_cell(str(row.label))]
        for column, cell in zip(figure.columns, row.cells, strict=True):
            line.append(csv_value(column, cell))
            if column.kind in WITH_BASE:
                line.append(csv_base(cell))
        writer.writerow(line)
    return out.getvalue()


def json_value(column: Column, cell: Cell) -> dict:
    if not cell.shown:
        return {"value": None, "base": None, "suppressed": cell.suppressed}
    value = cell.value
    if column.kind == "share":
        value = round(float(value), 4)
    elif column.kind != "count" and column.kind != "places":
        value = _number(value)
    return {
        "value": value,
        "base": cell.base if column.kind in WITH_BASE else None,
        "suppressed": False,
    }


def filters_json(filters: Filters) -> dict:
    """What the figure was computed over; never the homes of a municipality's own view."""
    return {
        "from_year": filters.first_year,
        "to_year": filters.last_year,
        "county": filters.county or None,
        "facility_type": filters.facility_type or None,
    }


def figure_json(figure: Figure, filters: Filters | None = None) -> dict:
    """The figure as a JSON-ready dict (the API's and open data's shape)."""
    return {
        "key": figure.key,
        "title": str(figure.title),
        "summary": str(figure.summary),
        "row_heading": str(figure.row_heading),
        "columns": [
            {
                "key": column.key,
                "label": str(column.label),
                "kind": column.kind,
                "base_label": str(column.base_label) if column.base_label else None,
            }
            for column in figure.columns
        ],
        "rows": [
            {
                "key": row.key,
                "label": str(row.label),
                "values": {
                    column.key: json_value(column, cell)
                    for column, cell in zip(figure.columns, row.cells, strict=True)
                },
            }
            for row in figure.rows
        ],
        "notes": [str(note) for note in figure.notes],
        "filters": filters_json(filters) if filters is not None else None,
    }
