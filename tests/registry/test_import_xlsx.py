"""Importing XLSX workbooks: typed cells, formulas kept as text, and only the first sheet read."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import translation
from openpyxl import Workbook
from openpyxl.worksheet.formula import ArrayFormula

from registry.models import Entity, Family, Kind
from tests.factories import make_community
from tests.registry.test_import import FAMILY_HEADER, assert_refused, run_import


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def area_a(ward_a):
    return make_community(ward_a, code="TDP01")


def xlsx_bytes(*sheets: list[list[Any]], titles: tuple[str, ...] = ()) -> bytes:
    """A workbook with one worksheet per list of rows, in order."""
    book = Workbook()
    book.remove(book.active)
    for index, rows in enumerate(sheets):
        sheet = book.create_sheet(titles[index] if index < len(titles) else f"Sheet{index + 1}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run_xlsx(kind: str, data: bytes, **kwargs: Any):
    return run_import(kind, data, filename="Danh sách hộ.xlsx", **kwargs)


def test_numbers_come_as_numbers_and_codes_as_text(ward_a, area_a):
    make_community(ward_a, code="7")
    data = xlsx_bytes(
        [
            ["Mã phường/xã", "Mã hộ", "Họ tên chủ hộ", "Số nhân khẩu", "Tổ dân phố"],
            [70, 101, "Nguyễn Văn An", 4.0, "TDP01"],
            ["00070", 102.0, "Lê Thị Hoa", 3, 7],
        ]
    )
    report = run_xlsx("families", data)
    assert report.ok, report.errors
    families = {
        f.entity.code: (f.entity.ward.code, f.members, f.community.entity.code)
        for f in Family.objects.select_related("entity__ward", "community__entity")
    }
    assert families == {"101": ("00070", 4, "TDP01"), "102": ("00070", 3, "7")}


def test_a_fractional_number_in_a_count_is_a_row_error(ward_a, area_a):
    data = xlsx_bytes(
        [
            FAMILY_HEADER,
            ["00070", "H1", "Nguyễn Văn An", 4, "TDP01"],
            ["00070", "H2", "Lê Thị Hoa", 4.5, "TDP01"],
        ]
    )
    report = run_xlsx("families", data)
    assert_refused(report, row=3, column="members", reason="“4.5” is not a whole number")
    assert Entity.objects.filter(kind=Kind.FAMILY).count() == 0


def test_a_date_in_a_count_is_a_row_error(ward_a, area_a):
    data = xlsx_bytes(
        [FAMILY_HEADER, ["00070", "H1", "Nguyễn Văn An", dt.datetime(2024, 1, 4), "TDP01"]]
    )
    report = run_xlsx("families", data)
    assert_refused(report, row=2, column="members", reason="is not a whole number")


def test_formula_cells_are_stored_as_their_text_never_evaluated(ward_a):
    data = xlsx_bytes(
        [
            ["ward", "code", "name", "head_name"],
            ["00070", "DH1", "=1+1", '=HYPERLINK("http://x","y")'],
            ["00070", "DH2", "@Dòng họ", "+84 912"],
            ["00070", "DH3", "-Dòng họ Lê", "=A1"],
        ]
    )
    report = run_xlsx("clans", data)
    assert report.ok, report.errors
    stored = dict(Entity.objects.values_list("code", "name"))
    assert stored == {"DH1": "=1+1", "DH2": "@Dòng họ", "DH3": "-Dòng họ Lê"}
    heads = dict(Entity.objects.values_list("code", "clan__head_name"))
    assert heads == {"DH1": '=HYPERLINK("http://x","y")', "DH2": "+84 912", "DH3": "=A1"}


def test_a_formula_in_a_count_is_a_row_error_not_a_computed_number(ward_a, area_a):
    data = xlsx_bytes([FAMILY_HEADER, ["00070", "H1", "Nguyễn Văn An", "=2+2", "TDP01"]])
    report = run_xlsx("families", data)
    assert_refused(report, row=2, column="members", reason="“=2+2” is not a whole number")


def test_only_the_first_sheet_is_read_and_the_report_says_so(ward_a, area_a):
    data = xlsx_bytes(
        [FAMILY_HEADER, ["00070", "H1", "Nguyễn Văn An", 4, "TDP01"]],
        [FAMILY_HEADER, ["00070", "H2", "Lê Thị Hoa", 3, "TDP01"]],
        [["ghi chú"]],
        titles=("Hộ gia đình", "Năm trước", "Ghi chú"),
    )
    report = run_xlsx("families", data)
    assert report.ok, report.errors
    assert report.rows == 1
    assert list(Entity.objects.filter(kind=Kind.FAMILY).values_list("code", flat=True)) == ["H1"]
    assert report.notes == ["The workbook has 3 sheets; only the first, “Hộ gia đình”, was read."]


def test_a_single_sheet_workbook_has_no_note(ward_a, area_a):
    data = xlsx_bytes([FAMILY_HEADER, ["00070", "H1", "Nguyễn Văn An", 4, "TDP01"]])
    report = run_xlsx("families", data)
    assert report.ok, report.errors
    assert report.notes == []


def test_row_numbers_are_those_of_the_sheet_even_after_blank_rows(ward_a, area_a):
    data = xlsx_bytes(
        [
            FAMILY_HEADER,
            ["00070", "H1", "Nguyễn Văn An", 4, "TDP01"],
            [],
            [None, None, None],
            ["00070", "H2", "Lê Thị Hoa", -3, "TDP01"],
        ]
    )
    report = run_xlsx("families", data)
    assert report.rows == 2
    assert_refused(report, row=5, column="members", reason="must be at least 1, not -3")


def test_a_header_only_workbook_is_refused(ward_a):
    report = run_xlsx("families", xlsx_bytes([FAMILY_HEADER]))
    assert_refused(report, row=0, column="", reason="a header row but no data rows")


def test_an_empty_workbook_is_refused(ward_a):
    report = run_xlsx("families", xlsx_bytes([]))
    assert_refused(report, row=0, column="", reason="The file is empty.")


@pytest.mark.parametrize("data", [b"not a workbook", b"PK\x03\x04broken zip"])
def test_a_file_that_is_not_a_workbook_is_refused(ward_a, data):
    report = run_xlsx("families", data)
    assert_refused(report, row=0, column="", reason="not a valid .xlsx workbook")


def test_a_csv_named_xlsx_is_refused_not_misread(ward_a, area_a):
    csv_data = ",".join(FAMILY_HEADER).encode() + b"\n00070,H1,An,4,TDP01\n"
    report = run_xlsx("families", csv_data)
    assert_refused(report, row=0, column="", reason="not a valid .xlsx workbook")
    assert Entity.objects.filter(kind=Kind.FAMILY).count() == 0


def test_an_array_formula_cell_is_stored_as_its_text(ward_a):
    book = Workbook()
    sheet = book.active
    sheet.append(["ward", "code", "name"])
    sheet.append(["00070", "DH1", None])
    sheet["C2"] = ArrayFormula("C2", "=CONCAT(A1:B1)")
    buffer = io.BytesIO()
    book.save(buffer)
    report = run_xlsx("clans", buffer.getvalue())
    assert report.ok, report.errors
    assert Entity.objects.get(code="DH1").name == "=CONCAT(A1:B1)"
