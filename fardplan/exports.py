"""Spreadsheet exports: the one CSV writer and the XLSX row helper.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a tab or carriage return) as a formula: ``=HYPERLINK(...)``
in an item's text would become a link in the reader's Excel (CSV injection).
As OWASP recommends, every such text cell gets a leading apostrophe in CSV,
and every text cell of an XLSX is stored as a string, never as a formula.
Every CSV export of the project writes through :func:`csv_writer` or
:func:`csv_response`.
"""

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from django.http import HttpResponse

# Cells that a spreadsheet would run as a formula (OWASP: CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, with a leading
    apostrophe; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeDictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose every row (the header too) is neutralised."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: neutralise(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)


def csv_writer(stream: IO[str] | HttpResponse, fieldnames: Sequence[str]) -> SafeDictWriter:
    """A dict writer on ``stream`` whose cells are never formulas."""
    return SafeDictWriter(stream, fieldnames=fieldnames)


def csv_response(
    filename: str, fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> HttpResponse:
    """A CSV download: a header row, then ``rows``, neutralised."""
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    # The byte order mark tells Excel the file is UTF-8 (å, ä, ö).
    response.write("\ufeff")
    writer = csv_writer(response, fieldnames)
    writer.writeheader()
    writer.writerows(rows)
    return response


def xlsx_append(sheet: Any, values: Sequence[Any]) -> None:
    """Append a row to an openpyxl worksheet; text cells are strings, so that
    none is read as a formula."""
    sheet.append(list(values))
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            sheet.cell(row=row, column=column).data_type = "s"
