"""Cells a spreadsheet must not take for a formula ("CSV injection", OWASP): every CSV file and
workbook the service writes passes its cells through here — the open data (api/opendata.py), the
access-log extracts (access/log_views.py), the quality report (linking/quality.py).

A CSV cell is plain text, and Excel and LibreOffice evaluate one that starts with ``=``, ``+``,
``-`` or ``@`` (and, after a tab or line break, what follows). Such a **text** cell gets a leading
apostrophe, as OWASP advises: the spreadsheet shows the text, and a reader that needs it exact
can drop a leading ``'`` (no text the register holds begins with one). Numbers, dates and
booleans are written as they are: a negative number stays a number, and their text cannot hold
a formula. Identifiers (diarienummer, organisationsnummer, verksamhetsid, codes) begin with a
digit or a letter and are never changed.

In a workbook (XLSX) a cell has a type, and only a formula cell is evaluated: openpyxl makes
every string that starts with ``=`` a formula, so such a string is written as a string cell
instead, unchanged (``xlsx_cell``).
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value):
    """``value`` for a CSV cell: a text that a spreadsheet would read as a formula with a
    leading ``'``; anything that is not text (a number, a date, None) as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def xlsx_cell(sheet, value):
    """``value`` for openpyxl's write-only ``sheet.append``: a text starting with ``=`` as a
    string cell, not the formula openpyxl would make of it."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value
