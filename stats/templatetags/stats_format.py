"""How a figure's numbers are written, in the page's language: shares "31 %" (Swedish) and "31%"
(English), rates with one decimal, days as whole days, counts grouped in thousands as the site
writes amounts (portal's ``kronor``: 12 345 in Swedish, 12,345 in English). The number behind a
share or a rate stands beside it: "31 % (av 412 tillsynsbeslut)"."""

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from stats.figures import Cell, Column

register = template.Library()


def _count(number: float | int) -> str:
    return formats.number_format(round(number), force_grouping=True)


def number(value: float | int, kind: str) -> str:
    """A value of a column of ``kind`` as text, without the number behind it."""
    if kind == "share":
        percent = formats.number_format(round(value * 100))
        # Swedish puts a (no-break) space before the per cent sign, English none.
        return f"{percent}%" if (get_language() or "sv").startswith("en") else f"{percent}\xa0%"
    if kind == "rate":
        # Django's number_format cuts the decimals off; the rate is rounded first.
        return formats.number_format(round(value, 1), 1, force_grouping=True)
    return _count(value)


@register.simple_tag
def cell_text(cell: Cell, column: Column) -> SafeString:
    """A cell as the table shows it: the value and the number behind it, or a dash that says to
    a screen reader why there is no value."""
    if cell.suppressed:
        return format_html(
            '<abbr class="stat-missing" title="{}"><span aria-hidden="true">–</span>'
            '<span class="visually-hidden">{}</span></abbr>',
            _("Visas inte: se noten under tabellen"),
            _("visas inte, se noten under tabellen"),
        )
    if cell.value is None:
        return format_html(
            '<abbr class="stat-missing" title="{}"><span aria-hidden="true">–</span>'
            '<span class="visually-hidden">{}</span></abbr>',
            _("Inget att räkna på"),
            _("inget att räkna på"),
        )
    text = number(cell.value, column.kind)
    if column.kind in ("share", "rate") and cell.base is not None:
        if column.base_label:
            behind = _("(av %(base)s %(what)s)") % {
                "base": _count(cell.base),
                "what": column.base_label,
            }
        else:
            behind = _("(av %(base)s)") % {"base": _count(cell.base)}
        return format_html('{} <span class="stat-base">{}</span>', text, behind)
    return format_html("{}", text)


@register.filter
def has_suppressed(figure) -> bool:
    return any(cell.suppressed for row in figure.rows for cell in row.cells)


@register.filter
def notes_explain_dash(figure) -> bool:
    """Whether the figure's own notes already say what a dash means."""
    return any(str(note).startswith("–") for note in figure.notes)


@register.filter
def has_missing(figure) -> bool:
    return any(
        cell.value is None and not cell.suppressed for row in figure.rows for cell in row.cells
    )


@register.simple_tag
def row_cells(row, figure) -> list:
    """(column, cell) pairs of a row, for the table."""
    return list(zip(figure.columns, row.cells, strict=False))
