"""fardplan.exports: the one CSV writer, and XLSX rows without formulas."""

import csv
import io

import openpyxl
import pytest

from fardplan.exports import csv_response, csv_writer, neutralise, xlsx_append


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+46 8 123", "'+46 8 123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Text = ok", "Text = ok"),
        ("", ""),
        (-2, -2),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_writer_neutralises_every_row_the_header_too():
    buffer = io.StringIO()
    writer = csv_writer(buffer, ["=a", "b"])
    writer.writeheader()
    writer.writerow({"=a": "=1", "b": "x"})
    writer.writerows([{"=a": "@2", "b": "-3"}])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["'=a", "b"],
        ["'=1", "x"],
        ["'@2", "'-3"],
    ]


def test_csv_response_is_a_utf8_download_with_a_byte_order_mark():
    response = csv_response("x.csv", ["a"], [{"a": "=HYPERLINK(1)"}, {"a": "å"}])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == [
        ["a"],
        ["'=HYPERLINK(1)"],
        ["å"],
    ]


def test_xlsx_append_writes_text_as_strings():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    xlsx_append(sheet, ["header", "b"])
    xlsx_append(sheet, ["=1+1", 3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    reloaded = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert reloaded["A2"].value == "=1+1"
    assert reloaded["A2"].data_type == "s"
    assert reloaded["B2"].value == 3
