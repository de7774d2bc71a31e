"""The Programmes tab of the dashboard and the programmes' sheet of the Excel report."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.factories import make_unit
from tests.programmes.factories import make_contribution, make_delivery, make_programme
from titles.reports import COUNT_FORMAT, DATE_FORMAT, FIRST_DATA_ROW, HEADER_ROW, report_workbook


@pytest.fixture
def programme(province, ward_a):
    school = make_unit(ward_a, code="MN1", name="Trường Mầm non Hoa Sen")
    p = make_programme(province, code="=BUA")  # a code that looks like a formula
    make_contribution(p, ref="PT1", amount_vnd=2_000_000)
    make_delivery(p, school, ref="PX1", days=10, amount_vnd=68_000)
    return p


def test_the_titles_dashboard_offers_the_programmes_tab(client, carol, programme):
    client.force_login(carol)
    body = client.get("/titles/dashboard/?year=2025").content.decode()
    assert 'href="/programmes/dashboard/?year=2025"' in body


def test_a_ward_user_sees_their_wards_figures(client, alice, eve, programme):
    client.force_login(alice)
    body = client.get("/programmes/dashboard/").content.decode()
    assert "68,000" in body and "Phường Hoàn Kiếm" in body
    client.force_login(eve)  # the next ward: no deliveries there
    body = client.get("/programmes/dashboard/").content.decode()
    assert "68,000" not in body


def test_the_report_has_a_programmes_sheet(carol, programme):
    book = load_workbook(io.BytesIO(report_workbook(user=carol, unit_code="01", year=2025)))
    sheet = book["Programmes"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    line = next(r for r in rows if r[1] == "Chương trình =BUA")
    assert line[0] == "'=BUA"  # never a formula
    assert line[6:9] == [2_000_000, 68_000, 1_932_000]
    assert line[9] == 10
    # Framed and formatted as the titles' sheets: the header row at HEADER_ROW, the dates
    # dd/mm/yyyy and the amounts and counts in the Vietnamese number format.
    assert sheet.cell(HEADER_ROW, 1).value == "Code"
    row = FIRST_DATA_ROW + rows[FIRST_DATA_ROW - 1 :].index(line)
    assert sheet.cell(row, 5).number_format == DATE_FORMAT
    assert {sheet.cell(row, c).number_format for c in range(7, 13)} == {COUNT_FORMAT}
